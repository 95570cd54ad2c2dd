/* cli.c — what every lactl command shares: reporting a failed la_* call the same way, and a
 * clock for progress lines. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

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

void lactl_progress_init(lactl_progress *p, const char *cmd, const char *unit, int quiet)
{
    p->cmd = cmd;
    p->unit = unit;
    p->on = !quiet && isatty(STDERR_FILENO);
    p->last = 0;
}

void lactl_progress_step(void *ctx, uint64_t done, uint64_t total)
{
    lactl_progress *p = ctx;
    double t = lactl_now_s();
    int final = done >= total;
    if (!p->on || (!final && t - p->last < 0.2))
        return;
    p->last = t;
    fprintf(stderr, "\r%s: %llu/%llu %s%s", p->cmd, (unsigned long long)done, (unsigned long long)total,
            p->unit, final ? "\n" : "");
}

char *lactl_human_bytes(uint64_t n, char buf[LACTL_HUMAN_MAX])
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (n < 1024) {
        snprintf(buf, LACTL_HUMAN_MAX, "%u B", (unsigned)n);
        return buf;
    }
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 6)
        v /= 1024, u++;
    snprintf(buf, LACTL_HUMAN_MAX, "%.1f %s", v, units[u]);
    return buf;
}

char *lactl_group_digits(uint64_t n, char buf[LACTL_COUNT_MAX])
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n), k = 0;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
    return buf;
}
