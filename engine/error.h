/* error.h — setting the calling thread's detailed error message (read by la_errmsg()). */
#ifndef LA_ENGINE_ERROR_H
#define LA_ENGINE_ERROR_H

#include <stdint.h>

#include "la.h"

/* Record a message for `code` and return code: `return la_err(LA_EIO, "open %s: %s", ...)`. */
int la_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Map an errno value from a failed I/O call to LA_ENOSPC / LA_ENOMEM / LA_EIO and record it. */
int la_err_errno(int err, const char *what, const char *path);
/* Report corruption in `path` at byte offset `off` (-1: none applies); returns LA_ECORRUPT.
 * The offset and reason stay readable through la_err_where() for la_verify(). */
int la_err_corrupt(const char *path, int64_t off, const char *why);
/* Offset and reason of the calling thread's last la_err_corrupt(). */
void la_err_where(int64_t *off, const char **why);
/* Clear the calling thread's message (every public entry point starts with it). */
void la_err_clear(void);

#endif
