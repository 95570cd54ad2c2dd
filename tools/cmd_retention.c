/* cmd_retention.c — `lactl retention DB`: list the days whose raw events have expired and
 * delete them (or, with --dry-run, only list them), with the bytes each frees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "la.h"
#include "lactl.h"
#include "timefmt.h"

enum { FMT_TABLE, FMT_TSV, FMT_JSON };

typedef struct expired {
    int64_t *day;
    uint64_t *bytes;
    size_t n, cap;
    int oom;
} expired;

static void on_expired(void *ctx, int64_t day_ms, uint64_t bytes, int ready)
{
    expired *e = ctx;
    (void)ready;
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 64;
        int64_t *d = realloc(e->day, cap * sizeof *d);
        if (d)
            e->day = d;
        uint64_t *b = d ? realloc(e->bytes, cap * sizeof *b) : NULL;
        if (b)
            e->bytes = b;
        if (!d || !b) {
            e->oom = 1;
            return;
        }
        e->cap = cap;
    }
    e->day[e->n] = day_ms;
    e->bytes[e->n++] = bytes;
}

static int usage(FILE *to)
{
    fprintf(to,
            "usage: lactl retention DB [--days N] [--dry-run] [--format table|tsv|json]\n"
            "  Delete the raw events (segment and hourly rollup files) of every UTC day that\n"
            "  ended more than N days before the reference time, min(clock, newest event).\n"
            "  Daily and coarser rollups stay: those days remain in day/week/month/year\n"
            "  queries. Prints each day deleted with the bytes freed, then the totals.\n"
            "  --days N     retention in days (default: the database's, set at creation, 30)\n"
            "  --dry-run    only list what would be deleted (read-only: runs beside a writer)\n"
            "  --format     table (default on a terminal), tsv (day, bytes) or json\n"
            "Deleting needs the writer lock (exit 2 while an application writes) and no free\n"
            "space. Exit status: 0 done, 1 damage found, 2 bad usage or an error that stopped it.\n");
    return to == stdout ? LACTL_OK : LACTL_USAGE;
}

static void date_of(int64_t ms, char *buf)
{
    timefmt_format(ms, buf);
    buf[10] = '\0';
}

static void print(const expired *e, size_t ndel, const la_retention_stats *st, int dry, int fmt)
{
    char d[TIMEFMT_MAX], ref[TIMEFMT_MAX], cut[TIMEFMT_MAX];
    uint64_t total = 0;
    for (size_t i = 0; i < ndel; i++)
        total += e->bytes[i];
    if (st->ref_ms == INT64_MIN)
        strcpy(ref, "none");
    else
        timefmt_format(st->ref_ms, ref);
    if (st->cutoff_ms == INT64_MIN)
        strcpy(cut, "none");
    else
        date_of(st->cutoff_ms, cut);
    if (fmt == FMT_JSON) {
        printf("{\"dry_run\":%s,\"reference\":\"%s\",\"first_day_kept\":\"%s\",\"days\":[", dry ? "true" : "false",
               ref, cut);
        for (size_t i = 0; i < ndel; i++) {
            date_of(e->day[i], d);
            printf("%s\n{\"day\":\"%s\",\"bytes\":%llu}", i ? "," : "", d, (unsigned long long)e->bytes[i]);
        }
        printf("],\"deleted_days\":%zu,\"bytes_freed\":%llu,\"days_left\":%llu}\n", dry ? 0 : ndel,
               (unsigned long long)(dry ? 0 : total), (unsigned long long)(e->n - ndel));
        return;
    }
    if (fmt == FMT_TSV)
        printf("day\tbytes\n");
    else if (ndel)
        printf("%-10s  %14s\n", "day", "bytes");
    for (size_t i = 0; i < ndel; i++) {
        date_of(e->day[i], d);
        printf(fmt == FMT_TSV ? "%s\t%llu\n" : "%-10s  %14llu\n", d, (unsigned long long)e->bytes[i]);
    }
    if (fmt == FMT_TABLE)
        printf("%s %zu day%s, %llu bytes (reference %s, first day kept %s)\n", dry ? "would delete" : "deleted",
               ndel, ndel == 1 ? "" : "s", (unsigned long long)total, ref, cut);
}

int lactl_retention(int argc, char **argv)
{
    const char *path = NULL;
    int dry = 0, fmt = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_TSV;
    la_options o = LA_OPTIONS_INIT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return usage(stdout);
        if (strcmp(a, "--dry-run") == 0) {
            dry = 1;
        } else if (strcmp(a, "--days") == 0 && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || end == argv[i] || argv[i][0] == '-' || v < 1 || v > 1000000) {
                fprintf(stderr, "lactl retention: --days wants 1..1000000, not '%s'\n", argv[i]);
                return LACTL_USAGE;
            }
            o.retention_days = (uint32_t)v;
        } else if (strcmp(a, "--format") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            fmt = strcmp(f, "table") == 0 ? FMT_TABLE : strcmp(f, "tsv") == 0 ? FMT_TSV
                  : strcmp(f, "json") == 0                              ? FMT_JSON
                                                                        : -1;
            if (fmt < 0) {
                fprintf(stderr, "lactl retention: --format wants table, tsv or json, not '%s'\n", f);
                return LACTL_USAGE;
            }
        } else if (a[0] == '-' || path) {
            fprintf(stderr, "lactl retention: unexpected argument '%s'\n", a);
            return usage(stderr);
        } else {
            path = a;
        }
    }
    if (!path)
        return usage(stderr);
    o.no_auto_retention = 1;
    la_db *db;
    int rc = la_open(&db, path, dry ? LA_OPEN_READONLY : 0, &o);
    if (rc != LA_OK)
        return lactl_report("retention", path, rc);
    expired e = {NULL, NULL, 0, 0, 0};
    la_retention_stats st, left;
    rc = la_retention_list(db, on_expired, &e, &st);
    int listed = rc == LA_OK; /* else nothing is known to print: only the error */
    size_t ndel = e.n;
    if (rc == LA_OK && !e.oom && !dry) {
        rc = la_retention(db, &st);
        /* the days an error left are listed again: report only those that went */
        expired again = {NULL, NULL, 0, 0, 0};
        if (la_retention_list(db, on_expired, &again, &left) == LA_OK && !again.oom) {
            size_t k = 0;
            for (size_t i = 0, j = 0; i < e.n; i++) {
                if (j < again.n && again.day[j] == e.day[i]) {
                    j++;
                    continue;
                }
                e.day[k] = e.day[i];
                e.bytes[k++] = e.bytes[i];
            }
            ndel = k;
        }
        free(again.day);
        free(again.bytes);
    }
    int status = LACTL_OK;
    if (e.oom) {
        fprintf(stderr, "lactl retention: out of memory\n");
        status = LACTL_ERROR;
    } else {
        if (listed)
            print(&e, ndel, &st, dry, fmt);
        if (rc != LA_OK)
            status = lactl_report("retention", path, rc);
    }
    free(e.day);
    free(e.bytes);
    la_close(db);
    return status;
}
