/* cli.c — what every lactl command shares: reporting a failed la_* call the same way. */
#include <stdio.h>

#include "la.h"
#include "lactl.h"

int lactl_report(const char *cmd, const char *what, int rc)
{
    const char *detail = la_errmsg();
    fprintf(stderr, "lactl %s: %s: %s%s%s\n", cmd, what, la_strerror(rc), detail[0] ? ": " : "",
            detail);
    return LACTL_FAIL;
}
