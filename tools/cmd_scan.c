/* cmd_scan.c — `lactl scan DB`: matching events as TSV with the header `lactl ingest` reads
 * (or as JSON lines), so that ingest then scan is a round trip. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "la.h"
#include "lactl.h"
#include "textout.h"
#include "timefmt.h"
#include "tsv.h"

static int usage(FILE *to)
{
    fprintf(to,
            "usage: lactl scan DB [--from T] [--to T] [--workspace W] [--link L]\n"
            "                     [--event-type E] [--where DIM=VALUE] [--limit N] [--no-header]\n"
            "                     [--format tsv|json]\n"
            "  Print the matching events as TSV: ts (epoch ms), workspace_id, link_id,\n"
            "  event_type, visitor_id and session_id (16 hex digits), value, then every\n"
            "  dimension; absent values are \\N. T is epoch ms or ISO-8601 (UTC if no zone);\n"
            "  the range is [from, to). --where DIM=\\N matches events without that dimension.\n"
            "  --format json prints one JSON object per line instead (keys the column names,\n"
            "  absent values null), which `lactl ingest --format jsonl` reads back.\n"
            "  Opens the database read-only: works while a writer runs and sees what it flushed.\n"
            "  Exit status: 0 done, 1 damage found while reading, 2 usage or I/O error.\n");
    return to == stdout ? LACTL_OK : LACTL_USAGE;
}

static int parse_time_arg(const char *opt, const char *s, int64_t *out)
{
    const char *why;
    if (timefmt_parse(s, strlen(s), out, &why) != 0) {
        fprintf(stderr, "lactl scan: %s '%s': %s\n", opt, s, why);
        return -1;
    }
    return 0;
}

static la_str arg_str(const char *s) { return (la_str){s, (uint32_t)strlen(s)}; }

int lactl_scan(int argc, char **argv)
{
    const char *dbpath = NULL, *where = NULL;
    la_filter f = LA_FILTER_INIT;
    uint64_t limit = UINT64_MAX;
    int header = 1, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return usage(stdout);
        if (strcmp(a, "--no-header") == 0)
            header = 0;
        else if (strcmp(a, "--format") == 0 && has_val) {
            json = strcmp(argv[++i], "json") == 0;
            if (!json && strcmp(argv[i], "tsv") != 0) {
                fprintf(stderr, "lactl scan: --format wants tsv or json, not '%s'\n", argv[i]);
                return LACTL_USAGE;
            }
        }
        else if (strcmp(a, "--from") == 0 && has_val) {
            if (parse_time_arg(a, argv[++i], &f.from))
                return LACTL_USAGE;
        } else if (strcmp(a, "--to") == 0 && has_val) {
            if (parse_time_arg(a, argv[++i], &f.to))
                return LACTL_USAGE;
        } else if (strcmp(a, "--workspace") == 0 && has_val)
            f.workspace = arg_str(argv[++i]);
        else if (strcmp(a, "--link") == 0 && has_val)
            f.link = arg_str(argv[++i]);
        else if (strcmp(a, "--event-type") == 0 && has_val)
            f.event_type = arg_str(argv[++i]);
        else if (strcmp(a, "--where") == 0 && has_val)
            where = argv[++i];
        else if (strcmp(a, "--limit") == 0 && has_val) {
            char *end;
            errno = 0;
            limit = strtoull(argv[++i], &end, 10);
            if (errno || *end || argv[i][0] == '-' || argv[i][0] == '\0') {
                fprintf(stderr, "lactl scan: --limit wants a count, not '%s'\n", argv[i]);
                return LACTL_USAGE;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "lactl scan: unknown option or missing value '%s'\n", a);
            return usage(stderr);
        } else if (!dbpath)
            dbpath = a;
        else {
            fprintf(stderr, "lactl scan: unexpected argument '%s'\n", a);
            return usage(stderr);
        }
    }
    if (!dbpath)
        return usage(stderr);

    la_db *db;
    int rc = la_open(&db, dbpath, LA_OPEN_READONLY, NULL);
    if (rc != LA_OK)
        return lactl_report("scan", dbpath, rc);
    if (where) {
        const char *eq = strchr(where, '=');
        char name[LA_MAX_DIM_NAME + 1];
        size_t nlen = eq ? (size_t)(eq - where) : 0;
        if (eq && nlen < sizeof name) {
            memcpy(name, where, nlen);
            name[nlen] = '\0';
            f.dim = la_db_dim_index(db, name);
        }
        if (!eq || f.dim < 0) {
            fprintf(stderr, "lactl scan: --where wants DIM=VALUE with a dimension of the "
                            "database, not '%s'\n", where);
            la_close(db);
            return LACTL_USAGE;
        }
        f.dim_value = strcmp(eq + 1, "\\N") == 0 ? (la_str){NULL, 0} : arg_str(eq + 1);
    }
    la_cursor *cur;
    rc = la_scan(db, &f, &cur);
    if (rc != LA_OK) {
        la_close(db);
        return lactl_report("scan", dbpath, rc);
    }
    tsv_writer w;
    tsv_writer_init(&w, stdout);
    if (header && !json)
        textout_event_header(&w, db);
    la_batch b;
    uint64_t printed = 0;
    while (printed < limit && !w.error && (rc = la_cursor_next(cur, &b)) == 1)
        for (size_t r = 0; r < b.nrows && printed < limit; r++, printed++)
            textout_event(&w, json, db, &b, r);
    int status = LACTL_OK;
    if (rc < 0)
        status = lactl_report("scan", dbpath, rc);
    if (tsv_writer_finish(&w) != 0) {
        fprintf(stderr, "lactl scan: write error: %s\n", strerror(errno));
        status = LACTL_ERROR;
    }
    la_cursor_close(cur);
    la_close(db);
    return status;
}
