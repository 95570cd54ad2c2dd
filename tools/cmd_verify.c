/* cmd_verify.c — `lactl verify DB`: every checksum and invariant, each problem with its file
 * and offset; exit status 1 if there is any. */
#include <stdio.h>
#include <string.h>

#include "la.h"
#include "lactl.h"

static void print_problem(void *ctx, const char *file, int64_t offset, const char *msg)
{
    (void)ctx;
    if (offset >= 0)
        printf("%s:%lld: %s\n", file, (long long)offset, msg);
    else
        printf("%s: %s\n", file, msg);
}

int lactl_verify(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: lactl verify DB\n"
                   "  Check every checksum and invariant of every file of the database without\n"
                   "  changing anything (safe while a writer runs). Prints FILE:OFFSET: PROBLEM\n"
                   "  for each problem. Exit status: 0 clean, 1 problems found, 2 usage or I/O\n"
                   "  error (no database there, unreadable).\n");
            return LACTL_OK;
        }
        if (path || (argv[i][0] == '-' && argv[i][1])) {
            fprintf(stderr, "lactl verify: unexpected argument '%s'\n", argv[i]);
            return LACTL_USAGE;
        }
        path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: lactl verify DB\n");
        return LACTL_USAGE;
    }
    uint64_t problems = 0;
    int rc = la_verify(path, print_problem, NULL, &problems);
    if (rc != LA_OK)
        return lactl_report("verify", path, rc);
    if (problems) {
        printf("%llu problem%s\n", (unsigned long long)problems, problems == 1 ? "" : "s");
        return LACTL_FAIL;
    }
    printf("ok\n");
    return LACTL_OK;
}
