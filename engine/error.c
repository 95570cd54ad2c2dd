/* error.c — error code names and the per-thread detailed message behind la_errmsg(). */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Thread-local, like libgit2's git_error_last(): a shared handle used from several threads
 * must not hand one thread's message to another. */
static _Thread_local char last_msg[512];

const char *la_strerror(int code)
{
    switch (code) {
    case LA_OK: return "ok";
    case LA_EINVAL: return "invalid argument";
    case LA_ENOMEM: return "out of memory";
    case LA_EIO: return "I/O error";
    case LA_ECORRUPT: return "database file is corrupt";
    case LA_EBUSY: return "database is locked by another writer";
    case LA_ENOTFOUND: return "not found (database or time zone)";
    case LA_EVERSION: return "unsupported format version";
    case LA_ENOSPC: return "no space left on device";
    case LA_EREADONLY: return "database is open read-only";
    case LA_ESCHEMA: return "options conflict with the database schema";
    case LA_ETOOOLD: return "event older than the retention window";
    case LA_EFUTURE: return "event too far in the future";
    case LA_ERANGE: return "timestamp out of range";
    case LA_ENOTKEPT: return "the data this query needs is no longer kept";
    default: return "unknown error";
    }
}

static _Thread_local int64_t last_off = -1;
static _Thread_local const char *last_why = "";

const char *la_errmsg(void) { return last_msg; }

int la_err_corrupt(const char *path, int64_t off, const char *why)
{
    last_off = off;
    last_why = why ? why : "corrupt";
    if (off < 0)
        return la_err(LA_ECORRUPT, "%s: %s", path, last_why);
    return la_err(LA_ECORRUPT, "%s: offset %lld: %s", path, (long long)off, last_why);
}

void la_err_where(int64_t *off, const char **why)
{
    *off = last_off;
    *why = last_why;
}

void la_err_clear(void) { last_msg[0] = 0; }

int la_err(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    return code;
}

int la_err_errno(int err, const char *what, const char *path)
{
    int code = err == ENOSPC || err == EDQUOT ? LA_ENOSPC : err == ENOMEM ? LA_ENOMEM : LA_EIO;
    return la_err(code, "%s %s: %s", what, path ? path : "", strerror(err));
}
