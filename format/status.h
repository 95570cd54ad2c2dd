/* status.h — how format/ decoders report failure: negative LA_E* codes (la.h) plus a short
 * static reason, so that callers can name the file and offset without format/ knowing either. */
#ifndef LA_FORMAT_STATUS_H
#define LA_FORMAT_STATUS_H

#include "la.h"

/* Set *why (if why != NULL) and return LA_ECORRUPT. Used as: return la_corrupt(why, "..."). */
static inline int la_corrupt(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return LA_ECORRUPT;
}

#endif
