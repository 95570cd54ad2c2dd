/* cmd_verify.c — `lactl verify DB`: every checksum and invariant, each problem with its file
 * and offset; exit status 1 if there is any. */
#include <stdio.h>
#include <string.h>

#include "la.h"
#include "lactl.h"
#include "textout.h"

#define LIT(w, s) tsv_raw_out((w), (s), sizeof(s) - 1)

/* Where problems go: lines for people, or the items of a JSON array (opened with the first). */
typedef struct report {
    tsv_writer *json; /* NULL: lines on stdout */
    uint64_t n;
} report;

static void print_problem(void *ctx, const char *file, int64_t offset, const char *msg)
{
    report *r = ctx;
    if (!r->json) {
        if (offset >= 0)
            printf("%s:%lld: %s\n", file, (long long)offset, msg);
        else
            printf("%s: %s\n", file, msg);
        return;
    }
    tsv_writer *w = r->json;
    if (r->n++)
        tsv_char_out(w, ',');
    else
        LIT(w, "{\"problems\":[");
    LIT(w, "\n{\"file\":");
    textout_json_str(w, file, strlen(file));
    LIT(w, ",\"offset\":");
    if (offset >= 0)
        textout_i64(w, offset);
    else
        LIT(w, "null");
    LIT(w, ",\"message\":");
    textout_json_str(w, msg, strlen(msg));
    tsv_char_out(w, '}');
}

static int usage(FILE *to)
{
    fprintf(to, "usage: lactl verify DB [--format table|json] [--quiet]\n"
                "  Check every checksum and invariant of every file of the database without\n"
                "  changing anything (safe while a writer runs). Prints FILE:OFFSET: PROBLEM\n"
                "  for each problem and a count (or \"ok\"); --format json prints\n"
                "  {\"problems\":[{\"file\",\"offset\" (null if none),\"message\"}],\"count\":N}.\n"
                "  Files checked so far are shown on stderr when it is a terminal (--quiet: not).\n"
                "  Exit status: 0 clean, 1 problems found, 2 usage or I/O error (no database\n"
                "  there, unreadable).\n");
    return to == stdout ? LACTL_OK : LACTL_USAGE;
}

int lactl_verify(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout);
        if (strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
            continue;
        }
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            json = strcmp(argv[++i], "json") == 0;
            if (!json && strcmp(argv[i], "table") != 0) {
                fprintf(stderr, "lactl verify: --format wants table or json, not '%s'\n", argv[i]);
                return LACTL_USAGE;
            }
        } else if (path || (argv[i][0] == '-' && argv[i][1])) {
            fprintf(stderr, "lactl verify: unexpected argument '%s'\n", argv[i]);
            return LACTL_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path)
        return usage(stderr);
    tsv_writer w;
    tsv_writer_init(&w, stdout);
    report r = {json ? &w : NULL, 0};
    uint64_t problems = 0;
    lactl_progress progress;
    lactl_progress_init(&progress, "verify", "files", quiet);
    int rc = la_verify_ex(path, print_problem, &r, lactl_progress_step, &progress, &problems);
    if (rc == LA_OK && json) {
        if (problems)
            LIT(&w, "\n],\"count\":");
        else
            LIT(&w, "{\"problems\":[],\"count\":");
        textout_u64(&w, problems);
        LIT(&w, "}\n");
    } else if (rc == LA_OK) {
        if (problems)
            printf("%llu problem%s\n", (unsigned long long)problems, problems == 1 ? "" : "s");
        else
            printf("ok\n");
    }
    if (tsv_writer_finish(&w) != 0 && rc == LA_OK) {
        fprintf(stderr, "lactl verify: write error\n");
        return LACTL_ERROR;
    }
    if (rc != LA_OK)
        return lactl_report("verify", path, rc);
    return problems ? LACTL_FAIL : LACTL_OK;
}
