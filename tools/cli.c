/* cli.c — what every lactl command shares: reporting a failed la_* call the same way, and a
 * clock for progress lines. */
#include <stdio.h>
#include <time.h>

#include "la.h"
#include "lactl.h"

int lactl_report(const char *cmd, const char *what, int rc)
{
    const char *detail = la_errmsg();
    fprintf(stderr, "lactl %s: %s: %s%s%s\n", cmd, what, la_strerror(rc), detail[0] ? ": " : "",
            detail);
    return rc == LA_ECORRUPT ? LACTL_FAIL : LACTL_ERROR;
}

double lactl_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
