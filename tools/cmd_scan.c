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
            "                     [--format table|tsv|json]\n"
            "  Print the matching events as TSV: ts (epoch ms), workspace_id, link_id,\n"
            "  event_type, visitor_id and session_id (16 hex digits), value, then every\n"
            "  dimension; absent values are \\N. T is epoch ms or ISO-8601 (UTC if no zone);\n"
            "  the range is [from, to). --where DIM=\\N matches events without that dimension.\n"
            "  --format json (or jsonl) prints one JSON object per line instead (keys the\n"
            "  column names, absent values null), which `lactl ingest --format jsonl` reads\n"
            "  back; --format table aligns the columns for people, with ts in ISO-8601.\n"
            "  Opens the database read-only: works while a writer runs and sees what it flushed.\n"
            "  Exit status: 0 done, 1 damage found while reading, 2 usage or I/O error.\n");
    return to == stdout ? LACTL_OK : LACTL_USAGE;
}

/* --format table: rows are written as TSV (escaped, so no field holds a TAB or LF) into memory
 * TABLE_ROWS at a time, then shown with each column padded to the widest cell seen so far and
 * ts as ISO-8601. */
#define TABLE_ROWS 1000
#define TABLE_COLS (7 + LA_MAX_DIMS)

typedef struct table {
    FILE *out;
    size_t width[TABLE_COLS];
    char *text; /* the pending rows, once mem is closed */
    size_t len;
    FILE *mem;
    tsv_writer w; /* writes into mem */
    size_t rows;  /* pending */
    int header;   /* the first pending line is the header */
} table;

static int table_open(table *t)
{
    t->mem = open_memstream(&t->text, &t->len);
    if (!t->mem)
        return -1;
    tsv_writer_init(&t->w, t->mem);
    t->rows = 0;
    return 0;
}

/* Columns a terminal uses for UTF-8 text: one per byte that is not a continuation byte. */
static size_t shown_width(const char *s, size_t n)
{
    size_t wd = 0;
    for (size_t i = 0; i < n; i++)
        wd += ((unsigned char)s[i] & 0xc0) != 0x80;
    return wd;
}

/* Field c of a TSV line as shown: ts (column 0 of a row, not of the header) in ISO-8601. */
static size_t cell(const char *f, size_t n, int c, int is_header, char iso[TIMEFMT_MAX],
                   const char **shown)
{
    *shown = f;
    if (c != 0 || is_header)
        return n;
    *shown = iso;
    return timefmt_format(strtoll(f, NULL, 10), iso);
}

/* Show the pending lines and free them; -1 if they could not be gathered. */
static int table_show(table *t)
{
    int bad = tsv_writer_finish(&t->w) != 0;
    bad |= fclose(t->mem) != 0;
    char iso[TIMEFMT_MAX];
    int first_is_header = t->header;
    t->header = 0;
    for (int pass = 0; pass < 2; pass++) {
        int is_header = first_is_header;
        for (char *line = t->text; line < t->text + t->len; is_header = 0) {
            char *end = memchr(line, '\n', (size_t)(t->text + t->len - line));
            int c = 0;
            for (char *f = line; c < TABLE_COLS; c++) {
                char *tab = memchr(f, '\t', (size_t)(end - f));
                const char *shown;
                size_t n = cell(f, (size_t)((tab ? tab : end) - f), c, is_header, iso, &shown);
                size_t wd = shown_width(shown, n);
                if (pass == 0 && wd > t->width[c])
                    t->width[c] = wd;
                if (pass == 1) {
                    fwrite(shown, 1, n, t->out);
                    if (tab)
                        fprintf(t->out, "%*s", (int)(t->width[c] - wd + 2), "");
                }
                if (!tab)
                    break;
                f = tab + 1;
            }
            if (pass == 1)
                fputc('\n', t->out);
            line = end + 1;
        }
    }
    free(t->text);
    return bad ? -1 : 0;
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
    int header = 1, json = 0, as_table = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return usage(stdout);
        if (strcmp(a, "--no-header") == 0)
            header = 0;
        else if (strcmp(a, "--format") == 0 && has_val) {
            json = strcmp(argv[++i], "json") == 0 || strcmp(argv[i], "jsonl") == 0;
            as_table = strcmp(argv[i], "table") == 0;
            if (!json && !as_table && strcmp(argv[i], "tsv") != 0) {
                fprintf(stderr, "lactl scan: --format wants table, tsv or json, not '%s'\n",
                        argv[i]);
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
    table t = {stdout, {0}, NULL, 0, NULL, {0}, 0, header};
    int terr = as_table ? table_open(&t) : 0;
    tsv_writer *to = as_table ? &t.w : &w;
    if (header && !json && !terr)
        textout_event_header(to, db);
    la_batch b;
    uint64_t printed = 0;
    while (printed < limit && !terr && !to->error && (rc = la_cursor_next(cur, &b)) == 1)
        for (size_t r = 0; r < b.nrows && printed < limit && !terr; r++, printed++) {
            textout_event(to, json, db, &b, r);
            if (as_table && ++t.rows == TABLE_ROWS)
                terr = table_show(&t) || table_open(&t);
        }
    if (as_table && !terr)
        terr = table_show(&t);
    int status = LACTL_OK;
    if (rc < 0)
        status = lactl_report("scan", dbpath, rc);
    if (tsv_writer_finish(&w) != 0 || terr || ferror(stdout)) {
        fprintf(stderr, "lactl scan: write error: %s\n", strerror(errno));
        status = LACTL_ERROR;
    }
    la_cursor_close(cur);
    la_close(db);
    return status;
}
