/* cmd_ingest.c — `lactl ingest DB FILE`: TSV with a header row, or JSON lines in the app's
 * event shape, into the database, in batches, reporting each bad line by number and ingesting
 * the rest. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonl.h"
#include "la.h"
#include "lactl.h"
#include "textid.h"
#include "timefmt.h"
#include "tsv.h"

#define BATCH 8192
#define MAX_COLS (7 + LA_MAX_DIMS)
#define MAX_REPORTED 100 /* bad lines printed one by one; the rest are counted */

/* Built-in columns; dimension columns follow the database's schema. */
enum { COL_TS, COL_WORKSPACE, COL_LINK, COL_TYPE, COL_VISITOR, COL_SESSION, COL_VALUE, NBUILTIN };
static const char *const builtin_names[NBUILTIN] = {
    "ts", "workspace_id", "link_id", "event_type", "visitor_id", "session_id", "value"};

typedef struct ingest {
    la_db *db;
    const char *file;
    int col_of[NBUILTIN];       /* field index of each built-in column, or -1 */
    int dim_field[LA_MAX_DIMS]; /* field index of each dimension, or -1 */
    uint32_t ndims;
    int nfields;                /* fields per row (header width) */
    la_event ev[BATCH];
    la_str dims[BATCH][LA_MAX_DIMS];
    void *docs[BATCH];          /* JSON documents the batch's strings point into */
    int jsonl;                  /* input is JSON lines, not TSV */
    const char *dim_names[LA_MAX_DIMS];
    uint64_t line[BATCH];
    size_t n;
    uint64_t ingested, rejected;
    int fatal;                  /* an error that is not about one line (disk full, I/O) */
    double t0, last_progress;
    int progress;
    uint64_t flushed_at;        /* ingested at the last la_flush */
} ingest;

/* Rows between flushes: each flush lets the engine fold the rows it holds for the rollups
 * (about 300 bytes each) into the rollup files, so memory stays bounded however long the input
 * (the default checkpoint_rows). */
#define FLUSH_ROWS 1048576

__attribute__((format(printf, 3, 4))) static void bad_line(ingest *g, uint64_t line,
                                                             const char *fmt, ...)
{
    if (g->rejected++ < MAX_REPORTED) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s:%llu: ", g->file, (unsigned long long)line);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
}

static int parse_i64(const tsv_field *f, int64_t *out)
{
    if (f->len == 0 || f->len > 20)
        return -1;
    char buf[24];
    memcpy(buf, f->data, f->len);
    buf[f->len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end || end == buf || buf[0] == ' ' || buf[0] == '+')
        return -1;
    *out = v;
    return 0;
}

static la_str str_of(const tsv_field *f) { return (la_str){f->data, f->len}; }

static uint64_t id_of(const tsv_field *f) { return textid_parse(f->data, f->len); }

/* Store the lines of the current batch; report the ones the engine refuses. */
static void append_pending(ingest *g)
{
    size_t done = 0;
    while (done < g->n && !g->fatal) {
        size_t k = 0;
        int rc = la_append_batch(g->db, g->ev + done, g->n - done, &k);
        g->ingested += k;
        done += k;
        if (rc == LA_OK)
            break;
        if (rc == LA_EINVAL || rc == LA_ERANGE || rc == LA_ETOOOLD || rc == LA_EFUTURE) {
            bad_line(g, g->line[done], "%s", la_errmsg()[0] ? la_errmsg() : la_strerror(rc));
            done++;
        } else {
            lactl_report("ingest", g->file, rc);
            g->fatal = 1;
        }
    }
    for (size_t i = 0; i < g->n; i++) {
        jsonl_free(g->docs[i]);
        g->docs[i] = NULL;
    }
    g->n = 0;
    if (!g->fatal && g->ingested - g->flushed_at >= FLUSH_ROWS) {
        int rc = la_flush(g->db);
        if (rc != LA_OK) {
            lactl_report("ingest", g->file, rc);
            g->fatal = 1;
        }
        g->flushed_at = g->ingested;
    }
}

static void parse_json_row(ingest *g, const char *text, size_t len, uint64_t lineno)
{
    char why[JSONL_WHY_MAX];
    if (jsonl_parse(text, len, g->dim_names, g->ndims, &g->ev[g->n], g->dims[g->n],
                    &g->docs[g->n], why) != 0) {
        bad_line(g, lineno, "%s", why);
        return;
    }
    g->line[g->n++] = lineno;
}

static void parse_row(ingest *g, char *text, size_t len, uint64_t lineno)
{
    tsv_field f[MAX_COLS + 1];
    const char *why;
    int nf = tsv_split(text, len, f, MAX_COLS + 1, &why);
    if (nf < 0) {
        bad_line(g, lineno, "%s", why);
        return;
    }
    if (nf != g->nfields) {
        bad_line(g, lineno, "%d fields, the header has %d", nf, g->nfields);
        return;
    }
    la_event *e = &g->ev[g->n];
    memset(e, 0, sizeof *e);
    const tsv_field *ts = &f[g->col_of[COL_TS]];
    if (!ts->data || timefmt_parse(ts->data, ts->len, &e->ts, &why) != 0) {
        bad_line(g, lineno, "ts: %s", ts->data ? why : "absent");
        return;
    }
    static const int required[] = {COL_WORKSPACE, COL_LINK};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!f[g->col_of[required[i]]].data) {
            bad_line(g, lineno, "%s is absent", builtin_names[required[i]]);
            return;
        }
    e->workspace = str_of(&f[g->col_of[COL_WORKSPACE]]);
    e->link = str_of(&f[g->col_of[COL_LINK]]);
    if (g->col_of[COL_TYPE] >= 0) {
        e->event_type = str_of(&f[g->col_of[COL_TYPE]]);
        if (!e->event_type.data) {
            bad_line(g, lineno, "%s is absent", "event_type");
            return;
        }
    } else {
        e->event_type = (la_str){"click", 5};
    }
    if (g->col_of[COL_VISITOR] >= 0)
        e->visitor_id = id_of(&f[g->col_of[COL_VISITOR]]);
    if (g->col_of[COL_SESSION] >= 0)
        e->session_id = id_of(&f[g->col_of[COL_SESSION]]);
    if (g->col_of[COL_VALUE] >= 0) {
        const tsv_field *v = &f[g->col_of[COL_VALUE]];
        if (v->data && v->len) {
            if (parse_i64(v, &e->value) != 0) {
                bad_line(g, lineno, "value: not an integer: '%.*s'", (int)v->len, v->data);
                return;
            }
            e->has_value = 1;
        }
    }
    la_str *dims = g->dims[g->n];
    for (uint32_t d = 0; d < g->ndims; d++)
        dims[d] = g->dim_field[d] >= 0 ? str_of(&f[g->dim_field[d]]) : (la_str){NULL, 0};
    e->dims = dims;
    e->ndims = g->ndims;
    g->line[g->n++] = lineno;
}

/* Map the header's names to built-in columns and dimensions. */
static int parse_header(ingest *g, char *text, size_t len)
{
    tsv_field f[MAX_COLS + 1];
    const char *why;
    int nf = tsv_split(text, len, f, MAX_COLS + 1, &why);
    if (nf < 0 || nf > MAX_COLS) {
        fprintf(stderr, "lactl ingest: %s:1: bad header: %s\n", g->file,
                nf < 0 ? why : "too many columns");
        return -1;
    }
    for (int i = 0; i < NBUILTIN; i++)
        g->col_of[i] = -1;
    for (uint32_t d = 0; d < g->ndims; d++)
        g->dim_field[d] = -1;
    for (int i = 0; i < nf; i++) {
        char name[LA_MAX_DIM_NAME + 2] = "";
        if (f[i].data && f[i].len < sizeof name)
            memcpy(name, f[i].data, f[i].len), name[f[i].len] = '\0';
        int *slot = NULL;
        for (int b = 0; b < NBUILTIN; b++)
            if (strcmp(name, builtin_names[b]) == 0)
                slot = &g->col_of[b];
        int d = slot ? -1 : la_db_dim_index(g->db, name);
        if (d >= 0)
            slot = &g->dim_field[d];
        if (!slot) {
            fprintf(stderr, "lactl ingest: %s:1: unknown column '%.*s' (columns: ts, workspace_id, "
                            "link_id, event_type, visitor_id, session_id, value",
                    g->file, (int)f[i].len, f[i].data ? f[i].data : "\\N");
            for (uint32_t k = 0; k < g->ndims; k++)
                fprintf(stderr, ", %s", la_db_dim_name(g->db, k));
            fprintf(stderr, ")\n");
            return -1;
        }
        if (*slot >= 0) {
            fprintf(stderr, "lactl ingest: %s:1: column '%s' appears twice\n", g->file, name);
            return -1;
        }
        *slot = i;
    }
    static const int required[] = {COL_TS, COL_WORKSPACE, COL_LINK};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (g->col_of[required[i]] < 0) {
            fprintf(stderr, "lactl ingest: %s:1: the header has no '%s' column\n", g->file,
                    builtin_names[required[i]]);
            return -1;
        }
    g->nfields = nf;
    return 0;
}

static void show_progress(ingest *g, int final)
{
    double t = lactl_now_s();
    if (!g->progress || (!final && t - g->last_progress < 0.5))
        return;
    g->last_progress = t;
    fprintf(stderr, "\r%llu rows, %llu rejected, %.0f rows/s%s", (unsigned long long)g->ingested,
            (unsigned long long)g->rejected, (double)g->ingested / (t - g->t0 + 1e-9),
            final ? "\n" : "");
}

static int usage(FILE *to)
{
    fprintf(to,
            "usage: lactl ingest DB FILE|- [--format tsv|jsonl] [--extra-dims NAME,...]\n"
            "                   [--quiet]\n"
            "  Append the events of a TSV file (- for stdin) with a header row naming its\n"
            "  columns, in any order: ts (epoch ms or ISO-8601, UTC if no zone), workspace_id,\n"
            "  link_id, event_type (default click), visitor_id, session_id, value (integer;\n"
            "  empty or \\N = none) and dimension columns by name. Absent values are \\N;\n"
            "  escapes as in ClickHouse TSV. A visitor or session of exactly 16 hex digits is\n"
            "  taken as the id itself (what `lactl scan` prints); any other string is hashed\n"
            "  with la_hash_id(). The database is created if missing, with --extra-dims added\n"
            "  to the default dimensions. Bad lines are reported by number and skipped.\n"
            "  --format jsonl (or json; the default for FILE named *.jsonl or *.ndjson) reads\n"
            "  one JSON object per line in the app's shape: \"timestamp\", \"workspaceId\",\n"
            "  \"linkId\", \"eventType\", \"visitorId\", \"sessionId\", \"value\" (or \"amount\";\n"
            "  an integer), \"metadata\": {\"country\", \"city\", \"device\", \"browser\",\n"
            "  \"referrer\", any extra dimension}; the column names above work too (what\n"
            "  `lactl export --format jsonl` writes), null is absent, other keys are ignored.\n"
            "  Values map as in TSV, so both formats of the same events store the same rows.\n"
            "  Exit status: 0 all rows stored, 1 some rows rejected, 2 usage or I/O error.\n");
    return to == stdout ? LACTL_OK : LACTL_USAGE;
}

/* Split "a,b,c" in place into names. */
static uint32_t split_names(char *s, const char **names, uint32_t max)
{
    uint32_t n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
        names[n++] = tok;
    return n;
}

static int run(ingest *g, FILE *in)
{
    tsv_reader *r = tsv_reader_new(in);
    if (!r) {
        fprintf(stderr, "lactl ingest: out of memory\n");
        return LACTL_ERROR;
    }
    char *text;
    size_t len;
    int rc = tsv_reader_next(r, &text, &len);
    if (rc == 0 && g->jsonl) { /* no lines, no events: nothing to do */
        tsv_reader_free(r);
        return 0;
    }
    if (rc != 1) {
        fprintf(stderr, "lactl ingest: %s: %s\n", g->file,
                rc == 0 ? "empty input, a header row is required" : strerror(errno));
        tsv_reader_free(r);
        return LACTL_ERROR;
    }
    if (g->jsonl) {
        if (len != 0) /* the first line is an event, like any other */
            parse_json_row(g, text, len, 1);
    } else if (parse_header(g, text, len) != 0) {
        tsv_reader_free(r);
        return LACTL_USAGE;
    }
    while (!g->fatal) {
        rc = tsv_reader_next(r, &text, &len);
        if (rc == 1) {
            if (len == 0)
                continue; /* blank lines carry nothing */
            if (g->jsonl)
                parse_json_row(g, text, len, tsv_reader_lineno(r));
            else
                parse_row(g, text, len, tsv_reader_lineno(r));
            if (g->n < BATCH)
                continue;
        }
        if (rc < 0) {
            fprintf(stderr, "lactl ingest: %s: read error: %s\n", g->file, strerror(errno));
            g->fatal = 1;
        }
        append_pending(g);
        tsv_reader_release(r);
        show_progress(g, 0);
        if (rc == 0)
            break;
    }
    tsv_reader_free(r);
    return 0;
}

int lactl_ingest(int argc, char **argv)
{
    const char *dbpath = NULL, *file = NULL, *format = NULL;
    char *extra = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout);
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
            quiet = 1;
        else if (strcmp(argv[i], "--extra-dims") == 0 && i + 1 < argc)
            extra = argv[++i];
        else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            format = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "lactl ingest: unknown option '%s'\n", argv[i]);
            return usage(stderr);
        } else if (!dbpath)
            dbpath = argv[i];
        else if (!file)
            file = argv[i];
        else {
            fprintf(stderr, "lactl ingest: unexpected argument '%s'\n", argv[i]);
            return usage(stderr);
        }
    }
    if (!dbpath || !file)
        return usage(stderr);
    size_t flen = strlen(file);
    int jsonl = format ? strcmp(format, "jsonl") == 0 || strcmp(format, "json") == 0
                       : (flen > 6 && strcmp(file + flen - 6, ".jsonl") == 0) ||
                             (flen > 7 && strcmp(file + flen - 7, ".ndjson") == 0);
    if (format && !jsonl && strcmp(format, "tsv") != 0) {
        fprintf(stderr, "lactl ingest: --format wants tsv or jsonl, not '%s'\n", format);
        return LACTL_USAGE;
    }

    ingest *g = calloc(1, sizeof *g);
    if (!g) {
        fprintf(stderr, "lactl ingest: out of memory\n");
        return LACTL_ERROR;
    }
    const char *names[LA_MAX_DIMS];
    la_options o = LA_OPTIONS_INIT;
    char *extra_copy = extra ? strdup(extra) : NULL;
    if (extra_copy) {
        o.n_extra_dims = split_names(extra_copy, names, LA_MAX_DIMS);
        o.extra_dims = names;
    }
    int rc = la_open(&g->db, dbpath, LA_OPEN_CREATE, &o);
    free(extra_copy);
    if (rc != LA_OK) {
        free(g);
        return lactl_report("ingest", dbpath, rc);
    }
    g->ndims = la_db_ndims(g->db);
    g->jsonl = jsonl;
    for (uint32_t d = 0; d < g->ndims; d++)
        g->dim_names[d] = la_db_dim_name(g->db, d);
    FILE *in = stdin;
    g->file = "stdin";
    if (strcmp(file, "-") != 0) {
        in = fopen(file, "rb");
        g->file = file;
        if (!in) {
            fprintf(stderr, "lactl ingest: %s: %s\n", file, strerror(errno));
            la_close(g->db);
            free(g);
            return LACTL_ERROR;
        }
    }
    g->progress = !quiet && isatty(STDERR_FILENO);
    g->t0 = g->last_progress = lactl_now_s();
    int status = run(g, in);
    if (in != stdin)
        fclose(in);
    if (status == 0 && !g->fatal) {
        rc = la_flush(g->db);
        if (rc != LA_OK) {
            lactl_report("ingest", dbpath, rc);
            g->fatal = 1;
        }
    }
    la_close(g->db);
    double secs = lactl_now_s() - g->t0;
    show_progress(g, 1);
    if (g->rejected > MAX_REPORTED)
        fprintf(stderr, "%s: %llu more bad lines not shown\n", g->file,
                (unsigned long long)(g->rejected - MAX_REPORTED));
    if (status == 0 && !quiet)
        printf("ingested %llu rows, rejected %llu, %.2f s, %.0f rows/s\n",
               (unsigned long long)g->ingested, (unsigned long long)g->rejected, secs,
               (double)g->ingested / (secs > 0 ? secs : 1e-9));
    if (status == 0)
        status = g->fatal ? LACTL_ERROR : g->rejected ? LACTL_FAIL : LACTL_OK;
    free(g);
    return status;
}
