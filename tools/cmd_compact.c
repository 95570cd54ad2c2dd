/* cmd_compact.c — `lactl compact DB [--all]`: seal the days that are due (or every day) into
 * their sorted zstd form, and say what it saved. */
#include <stdio.h>
#include <string.h>

#include "la.h"
#include "lactl.h"

static double mib(uint64_t b) { return (double)b / (1024.0 * 1024.0); }

int lactl_compact(int argc, char **argv)
{
    const char *path = NULL;
    unsigned flags = 0;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: lactl compact DB [--all] [--quiet]\n"
                   "  Seal the days that are due: those that ended seal_after_days (2) days before\n"
                   "  the newest event's day, or sealed days whose late events reached 1/8 of their\n"
                   "  rows. A sealed day's rows are sorted by (workspace, link, ts) and compressed\n"
                   "  with zstd; readers keep working meanwhile. The writing application does this\n"
                   "  itself at la_flush(); this command is for databases no process has open.\n"
                   "  --all   seal every day now, the newest ones too, and re-seal any day with late\n"
                   "          events.\n"
                   "  --quiet no progress line (shown on stderr when it is a terminal).\n"
                   "  Exit status: 0 done, 1 damage found, 2 bad usage or an error that stopped it\n"
                   "  (the day being sealed then keeps its old file).\n");
            return LACTL_OK;
        }
        if (strcmp(argv[i], "--all") == 0) {
            flags |= LA_COMPACT_ALL;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "lactl compact: unexpected argument '%s'\n", argv[i]);
            return LACTL_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "usage: lactl compact DB [--all] [--quiet]\n");
        return LACTL_USAGE;
    }
    la_options o = LA_OPTIONS_INIT;
    o.no_auto_seal = 1; /* this command decides what to seal */
    la_db *db;
    int rc = la_open(&db, path, 0, &o);
    if (rc != LA_OK)
        return lactl_report("compact", path, rc);
    lactl_progress progress;
    lactl_progress_init(&progress, "compact", "days", quiet);
    la_set_progress(db, lactl_progress_step, &progress);
    la_compact_stats st;
    rc = la_compact(db, flags, &st);
    if (rc != LA_OK) {
        int status = lactl_report("compact", path, rc);
        la_close(db);
        return status;
    }
    la_close(db);
    if (st.days == 0)
        printf("nothing to seal\n");
    else
        printf("sealed %u day%s, %llu rows: %.1f MiB -> %.1f MiB (%.1f bytes/row)\n", st.days,
               st.days == 1 ? "" : "s", (unsigned long long)st.rows, mib(st.bytes_before), mib(st.bytes_after),
               (double)st.bytes_after / (double)st.rows);
    return LACTL_OK;
}
