/* cmd_query.c — `lactl query DB` and `lactl top DB`: the dashboard's two questions, a time series
 * per bucket (la_query_series) and the top values of a dimension (la_query_top), printed as an
 * aligned table, TSV or JSON. Both commands share the option parsing, the reading of --from and
 * --to in the --tz zone, and the writers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "la.h"
#include "lactl.h"
#include "textout.h"
#include "timefmt.h"
#include "tsv.h"
#include "tz.h"

/* Declared here for -Wmissing-prototypes; lactl.c and the tests declare them too. */
int lactl_query(int argc, char **argv);
int lactl_top(int argc, char **argv);

#define MS_PER_DAY 86400000LL
#define TOP_K_MAX 10000u

enum { FMT_TABLE, FMT_TSV, FMT_JSON };

enum { CMD_QUERY, CMD_TOP };

/* The command line of either command, as given (strings are argv's). */
typedef struct args {
    int cmd;                 /* CMD_QUERY or CMD_TOP */
    const char *name;        /* "query" or "top", for messages */
    const char *db;          /* database directory */
    const char *from, *to;   /* --from / --to as typed; read once --tz is known */
    const char *where;       /* --where DIM=VALUE, or NULL */
    const char *dim;         /* top: --dim DIM */
    const char *tz;          /* --tz ZONE, or NULL for UTC */
    la_query q;              /* workspace, link, event type, bucket filled while parsing */
    uint32_t k;              /* top: -k */
    int format;              /* FMT_* */
} args;

static const char *const bucket_names[] = {"hour", "day", "week", "month", "year"};

static int usage(int cmd, FILE *to)
{
    if (cmd == CMD_QUERY)
        fprintf(to,
                "usage: lactl query DB --workspace W [--link L] [--event-type E]\n"
                "                      [--where DIM=VALUE] --from T --to T\n"
                "                      [--bucket hour|day|week|month|year] [--tz ZONE]\n"
                "                      [--format table|tsv|json]\n"
                "  One row per bucket (default day) of the zone's calendar that meets [from, to),\n"
                "  empty buckets included: bucket_start (ISO-8601 with the zone's UTC offset),\n"
                "  clicks, leads, sales, value (sum of values), unique_visitors, unique_sessions.\n"
                "  --event-type counts only that type; --where DIM=\\N selects events without the\n"
                "  dimension. Distinct counts above 256 are estimates: '~' in the table,\n"
                "  \"exact\":false with rel_stderr in JSON, the number alone in TSV.\n");
    else
        fprintf(to,
                "usage: lactl top DB --workspace W [--link L] [--event-type E]\n"
                "                    [--where DIM=VALUE] --dim DIM --from T --to T [-k N]\n"
                "                    [--tz ZONE] [--format table|tsv|json]\n"
                "  The N (1..10000, default 10) most frequent values of dimension DIM among the\n"
                "  selected events of [from, to), by count then value: TSV `value<TAB>count`\n"
                "  (values escaped as lactl scan does); the table adds a footer and JSON the\n"
                "  fields total, absent (events without DIM), other (the rest) and max_error\n"
                "  (0 = exact; otherwise a count may be short by up to that much).\n");
    fprintf(to, "  T is epoch ms, YYYY-MM-DD (midnight in --tz) or ISO-8601 date-time (in --tz\n"
                "  unless it ends in Z or an offset such as +02:00). --tz is an IANA zone name\n"
                "  (Europe/Berlin), default UTC. Default format: table on a terminal (numbers\n"
                "  with their thousands grouped), else TSV.\n"
                "  Opens the database read-only: works while a writer runs.\n"
                "  Exit status: 0 done, 1 damage found, 2 usage or I/O error (also a range the\n"
                "  database no longer keeps raw events or hours for).\n");
    return to == stdout ? LACTL_OK : LACTL_USAGE;
}

__attribute__((format(printf, 2, 3))) static int bad_usage(const args *a, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "lactl %s: ", a->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return LACTL_USAGE;
}

static la_str arg_str(const char *s) { return (la_str){s, (uint32_t)strlen(s)}; }

/* Fills *a from argv; returns -1 to go on, or the exit status (help, bad usage). */
static int parse_args(args *a, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int has_val = i + 1 < argc;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
            return usage(a->cmd, stdout);
        if (strcmp(o, "--workspace") == 0 && has_val)
            a->q.workspace = arg_str(argv[++i]);
        else if (strcmp(o, "--link") == 0 && has_val)
            a->q.link = arg_str(argv[++i]);
        else if (strcmp(o, "--event-type") == 0 && has_val)
            a->q.event_type = arg_str(argv[++i]);
        else if (strcmp(o, "--where") == 0 && has_val)
            a->where = argv[++i];
        else if (strcmp(o, "--from") == 0 && has_val)
            a->from = argv[++i];
        else if (strcmp(o, "--to") == 0 && has_val)
            a->to = argv[++i];
        else if (strcmp(o, "--tz") == 0 && has_val)
            a->tz = argv[++i];
        else if (strcmp(o, "--format") == 0 && has_val) {
            const char *f = argv[++i];
            if (strcmp(f, "table") == 0)
                a->format = FMT_TABLE;
            else if (strcmp(f, "tsv") == 0)
                a->format = FMT_TSV;
            else if (strcmp(f, "json") == 0)
                a->format = FMT_JSON;
            else
                return bad_usage(a, "--format wants table, tsv or json, not '%s'", f);
        } else if (a->cmd == CMD_QUERY && strcmp(o, "--bucket") == 0 && has_val) {
            const char *b = argv[++i];
            a->q.bucket = -1;
            for (int k = 0; k < (int)(sizeof bucket_names / sizeof bucket_names[0]); k++)
                if (strcmp(b, bucket_names[k]) == 0)
                    a->q.bucket = LA_BUCKET_HOUR + k;
            if (a->q.bucket < 0)
                return bad_usage(a, "--bucket wants hour, day, week, month or year, not '%s'", b);
        } else if (a->cmd == CMD_TOP && strcmp(o, "--dim") == 0 && has_val)
            a->dim = argv[++i];
        else if (a->cmd == CMD_TOP && strcmp(o, "-k") == 0 && has_val) {
            const char *s = argv[++i];
            char *end;
            errno = 0;
            unsigned long v = strtoul(s, &end, 10);
            if (errno || *end || s[0] < '0' || s[0] > '9' || v < 1 || v > TOP_K_MAX)
                return bad_usage(a, "-k wants a count from 1 to %u, not '%s'", TOP_K_MAX, s);
            a->k = (uint32_t)v;
        } else if (o[0] == '-')
            return bad_usage(a, "unknown option or missing value '%s' (see lactl %s --help)", o,
                             a->name);
        else if (!a->db)
            a->db = o;
        else
            return bad_usage(a, "unexpected argument '%s'", o);
    }
    if (!a->db)
        return bad_usage(a, "missing DB (see lactl %s --help)", a->name);
    if (!a->q.workspace.data)
        return bad_usage(a, "missing --workspace W");
    if (a->cmd == CMD_TOP && !a->dim)
        return bad_usage(a, "missing --dim DIM");
    if (!a->from)
        return bad_usage(a, "missing --from T");
    if (!a->to)
        return bad_usage(a, "missing --to T");
    return -1;
}

/* The UTC instant at which the clocks of zone z show `wall` (ms, read as if UTC). It tries the
 * offsets in force a day before and a day after: a time shown twice (clocks set back) takes
 * the earlier instant; a time never shown (clocks set forward) takes the offset before the
 * change, so 02:30 in a 02:00 -> 03:00 gap reads as 03:30. */
static int64_t local_to_utc(const la_tz *z, int64_t wall)
{
    int32_t before = la_tz_offset(z, wall - MS_PER_DAY), after = la_tz_offset(z, wall + MS_PER_DAY);
    int64_t t_before = wall - (int64_t)before * 1000, t_after = wall - (int64_t)after * 1000;
    int ok_before = la_tz_offset(z, t_before) == before, ok_after = la_tz_offset(z, t_after) == after;
    if (ok_before && ok_after)
        return t_before < t_after ? t_before : t_after;
    if (ok_after)
        return t_after;
    return t_before;
}

/* --from / --to: epoch ms, a date (its first instant in z) or ISO-8601 (in z without a zone). */
static int parse_time(const args *a, const la_tz *z, const char *opt, const char *s, int64_t *out)
{
    int64_t t;
    int kind;
    const char *why;
    if (timefmt_parse_kind(s, strlen(s), &t, &kind, &why) != 0) {
        bad_usage(a, "%s '%s': %s (want epoch ms, YYYY-MM-DD or ISO-8601)", opt, s, why);
        return -1;
    }
    if (kind == TIMEFMT_DATE) {
        int64_t y;
        unsigned m, d;
        timefmt_civil_from_days(t / MS_PER_DAY, &y, &m, &d);
        t = la_tz_local_date_start(z, (int32_t)y, (int)m, (int)d);
    } else if (kind == TIMEFMT_LOCAL) {
        t = local_to_utc(z, t);
    }
    *out = t;
    return 0;
}

/* Resolves "DIM=VALUE" into the query's dimension filter; -1 if DIM is not a dimension. */
static int parse_where(la_db *db, const char *where, la_query *q)
{
    const char *eq = strchr(where, '=');
    char name[LA_MAX_DIM_NAME + 1];
    size_t nlen = eq ? (size_t)(eq - where) : 0;
    if (!eq || nlen >= sizeof name)
        return -1;
    memcpy(name, where, nlen);
    name[nlen] = '\0';
    q->dim = la_db_dim_index(db, name);
    if (q->dim < 0)
        return -1;
    q->dim_value = strcmp(eq + 1, "\\N") == 0 ? (la_str){NULL, 0} : arg_str(eq + 1);
    return 0;
}

/* ---- output: everything goes through one buffered tsv_writer ---- */

void lactl_outf(tsv_writer *w, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        tsv_raw_out(w, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void spaces(tsv_writer *w, size_t n)
{
    while (n--)
        tsv_char_out(w, ' ');
}

/* Columns the terminal shows for s once TSV-escaped: escapes take two, UTF-8 continuation
 * bytes none. */
size_t lactl_shown_width(const char *s, size_t n)
{
    size_t wd = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t' || c == '\n' || c == '\r' || c == '\\' || c == '\0' || c == '\b' || c == '\f')
            wd += 2;
        else if ((c & 0xc0) != 0x80)
            wd++;
    }
    return wd;
}

/* "2026-10-05T00:00:00+05:45": bucket_start as the zone's wall clock with its offset (Z for 0;
 * seconds in the offset only when it has them). Returns the length. */
static size_t format_local(int64_t t, int32_t off, char *buf, size_t cap)
{
    int64_t local = t + (int64_t)off * 1000;
    int64_t days = local >= 0 ? local / MS_PER_DAY : -((-local + MS_PER_DAY - 1) / MS_PER_DAY);
    int64_t rem = local - days * MS_PER_DAY, y;
    unsigned m, d;
    timefmt_civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, cap, "%04lld-%02u-%02uT%02u:%02u:%02u", (long long)y, m, d,
                     (unsigned)(rem / 3600000), (unsigned)(rem / 60000 % 60),
                     (unsigned)(rem / 1000 % 60));
    if (rem % 1000)
        n += snprintf(buf + n, cap - (size_t)n, ".%03u", (unsigned)(rem % 1000));
    if (off == 0) {
        n += snprintf(buf + n, cap - (size_t)n, "Z");
    } else {
        unsigned a = (unsigned)(off < 0 ? -(int64_t)off : off);
        n += snprintf(buf + n, cap - (size_t)n, "%c%02u:%02u", off < 0 ? '-' : '+', a / 3600,
                      a / 60 % 60);
        if (a % 60)
            n += snprintf(buf + n, cap - (size_t)n, ":%02u", a % 60);
    }
    return (size_t)n;
}

/* ---- lactl query ---- */

#define NCOLS 7
static const char *const series_cols[NCOLS] = {"bucket_start", "clicks", "leads", "sales", "value",
                                               "unique_visitors", "unique_sessions"};

/* Cell `c` of point p as text; for the table (`mark` set) estimates get a '~' and numbers
 * their thousands grouped. */
static size_t series_cell(const la_point *p, int c, int mark, char *buf, size_t cap)
{
    const la_distinct *dd = NULL;
    uint64_t v;
    int neg = 0;
    switch (c) {
    case 0: return format_local(p->bucket_start, p->utc_offset_s, buf, cap);
    case 1: v = p->clicks; break;
    case 2: v = p->leads; break;
    case 3: v = p->sales; break;
    case 4:
        neg = p->value < 0;
        v = neg ? -(uint64_t)p->value : (uint64_t)p->value;
        break;
    case 5: dd = &p->visitors; v = dd->count; break;
    default: dd = &p->sessions; v = dd->count; break;
    }
    char num[LACTL_COUNT_MAX];
    if (mark)
        lactl_group_digits(v, num);
    else
        snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    return (size_t)snprintf(buf, cap, "%s%s%s", mark && dd && !dd->exact ? "~" : "",
                            neg ? "-" : "", num);
}

static void json_distinct(tsv_writer *w, const char *key, const la_distinct *d)
{
    lactl_outf(w, ",\"%s\":{\"count\":%llu,\"exact\":%s,\"rel_stderr\":%.6g}", key,
         (unsigned long long)d->count, d->exact ? "true" : "false", d->exact ? 0.0 : d->rel_stderr);
}

static void print_series(tsv_writer *w, const args *a, const la_point *pts, size_t n)
{
    char cell[64];
    if (a->format == FMT_TSV) {
        for (int c = 0; c < NCOLS; c++) {
            if (c)
                tsv_char_out(w, '\t');
            tsv_raw_out(w, series_cols[c], strlen(series_cols[c]));
        }
        tsv_char_out(w, '\n');
        for (size_t i = 0; i < n; i++) {
            for (int c = 0; c < NCOLS; c++) {
                if (c)
                    tsv_char_out(w, '\t');
                tsv_raw_out(w, cell, series_cell(&pts[i], c, 0, cell, sizeof cell));
            }
            tsv_char_out(w, '\n');
        }
    } else if (a->format == FMT_TABLE) {
        size_t width[NCOLS];
        for (int c = 0; c < NCOLS; c++)
            width[c] = strlen(series_cols[c]);
        for (size_t i = 0; i < n; i++)
            for (int c = 0; c < NCOLS; c++) {
                size_t len = series_cell(&pts[i], c, 1, cell, sizeof cell);
                if (len > width[c])
                    width[c] = len;
            }
        /* the first column left-aligned, numbers right-aligned, two spaces between */
        for (int c = 0; c < NCOLS; c++) {
            size_t len = strlen(series_cols[c]);
            if (c)
                spaces(w, 2 + width[c] - len);
            tsv_raw_out(w, series_cols[c], len);
            if (!c)
                spaces(w, width[c] - len);
        }
        tsv_char_out(w, '\n');
        for (size_t i = 0; i < n; i++) {
            for (int c = 0; c < NCOLS; c++) {
                size_t len = series_cell(&pts[i], c, 1, cell, sizeof cell);
                if (c)
                    spaces(w, 2 + width[c] - len);
                tsv_raw_out(w, cell, len);
                if (!c)
                    spaces(w, width[c] - len);
            }
            tsv_char_out(w, '\n');
        }
    } else {
        lactl_outf(w, "{\"from\":%lld,\"to\":%lld,\"bucket\":\"%s\",\"tz\":", (long long)a->q.from,
             (long long)a->q.to, bucket_names[a->q.bucket]);
        const char *tz = a->tz ? a->tz : "UTC";
        textout_json_str(w, tz, strlen(tz));
        tsv_raw_out(w, ",\"points\":[\n", 12);
        for (size_t i = 0; i < n; i++) {
            const la_point *p = &pts[i];
            tsv_raw_out(w, "{\"bucket_start\":\"", 17);
            tsv_raw_out(w, cell, format_local(p->bucket_start, p->utc_offset_s, cell, sizeof cell));
            lactl_outf(w, "\",\"bucket_start_ms\":%lld,\"utc_offset_s\":%d,\"events\":%llu",
                 (long long)p->bucket_start, (int)p->utc_offset_s, (unsigned long long)p->events);
            lactl_outf(w, ",\"clicks\":%llu,\"leads\":%llu,\"sales\":%llu,\"value\":%lld",
                 (unsigned long long)p->clicks, (unsigned long long)p->leads,
                 (unsigned long long)p->sales, (long long)p->value);
            json_distinct(w, "unique_visitors", &p->visitors);
            json_distinct(w, "unique_sessions", &p->sessions);
            tsv_raw_out(w, i + 1 < n ? "},\n" : "}\n", i + 1 < n ? 3 : 2);
        }
        tsv_raw_out(w, "]}\n", 3);
    }
}

/* ---- lactl top ---- */

static void print_top(tsv_writer *w, const args *a, const la_top *t)
{
    if (a->format == FMT_TSV) {
        tsv_raw_out(w, "value\tcount\n", 12);
        for (size_t i = 0; i < t->n; i++) {
            tsv_field_out(w, t->entries[i].value.data, t->entries[i].value.len);
            lactl_outf(w, "\t%llu\n", (unsigned long long)t->entries[i].count);
        }
    } else if (a->format == FMT_TABLE) {
        char num[LACTL_COUNT_MAX];
        size_t vw = strlen("value"), cw = strlen("count");
        for (size_t i = 0; i < t->n; i++) {
            size_t vlen = lactl_shown_width(t->entries[i].value.data, t->entries[i].value.len);
            size_t clen = strlen(lactl_group_digits(t->entries[i].count, num));
            vw = vlen > vw ? vlen : vw;
            cw = clen > cw ? clen : cw;
        }
        tsv_raw_out(w, "value", 5);
        spaces(w, vw - 5 + 2 + cw - 5);
        tsv_raw_out(w, "count\n", 6);
        for (size_t i = 0; i < t->n; i++) {
            const la_str *v = &t->entries[i].value;
            size_t clen = strlen(lactl_group_digits(t->entries[i].count, num));
            tsv_field_out(w, v->data, v->len);
            spaces(w, vw - lactl_shown_width(v->data, v->len) + 2 + cw - clen);
            tsv_raw_out(w, num, clen);
            tsv_char_out(w, '\n');
        }
        char tot[LACTL_COUNT_MAX], absn[LACTL_COUNT_MAX], oth[LACTL_COUNT_MAX], err[LACTL_COUNT_MAX];
        lactl_outf(w, "total %s, absent %s, other %s, max_error %s%s\n",
             lactl_group_digits(t->total, tot), lactl_group_digits(t->absent, absn),
             lactl_group_digits(t->other, oth), lactl_group_digits(t->max_error, err),
             t->max_error ? " (counts are lower bounds)" : " (exact)");
    } else {
        lactl_outf(w, "{\"total\":%llu,\"absent\":%llu,\"other\":%llu,\"max_error\":%llu,\"entries\":[\n",
             (unsigned long long)t->total, (unsigned long long)t->absent,
             (unsigned long long)t->other, (unsigned long long)t->max_error);
        for (size_t i = 0; i < t->n; i++) {
            tsv_raw_out(w, "{\"value\":", 9);
            textout_json_str(w, t->entries[i].value.data, t->entries[i].value.len);
            lactl_outf(w, ",\"count\":%llu}%s\n", (unsigned long long)t->entries[i].count,
                 i + 1 < t->n ? "," : "");
        }
        tsv_raw_out(w, "]}\n", 3);
    }
}

/* ---- shared driver ---- */

static int run(int cmd, int argc, char **argv)
{
    args a = {0};
    a.cmd = cmd;
    a.name = cmd == CMD_QUERY ? "query" : "top";
    a.q = (la_query)LA_QUERY_INIT;
    a.k = 10;
    a.format = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_TSV;
    int status = parse_args(&a, argc, argv);
    if (status >= 0)
        return status;

    la_tz *z;
    int rc = la_tz_open(&z, a.tz);
    if (rc != LA_OK) {
        char what[300];
        snprintf(what, sizeof what, "--tz '%s'", a.tz ? a.tz : "UTC");
        return lactl_report(a.name, what, rc);
    }
    a.q.tz = a.tz;
    int bad = parse_time(&a, z, "--from", a.from, &a.q.from) ||
              parse_time(&a, z, "--to", a.to, &a.q.to);
    la_tz_free(z);
    if (bad)
        return LACTL_USAGE;
    if (a.q.from >= a.q.to) {
        char f[TIMEFMT_MAX], t[TIMEFMT_MAX];
        timefmt_format(a.q.from, f);
        timefmt_format(a.q.to, t);
        return bad_usage(&a, "--from (%s) must be before --to (%s)", f, t);
    }

    la_db *db;
    rc = la_open(&db, a.db, LA_OPEN_READONLY, NULL);
    if (rc != LA_OK)
        return lactl_report(a.name, a.db, rc);
    int dim = -1;
    if (a.where && parse_where(db, a.where, &a.q) != 0)
        status = bad_usage(&a, "--where wants DIM=VALUE with a dimension of the database, not '%s'",
                           a.where);
    else if (a.dim && (dim = la_db_dim_index(db, a.dim)) < 0)
        status = bad_usage(&a, "--dim '%s': no such dimension in the database", a.dim);
    if (status >= 0) {
        la_close(db);
        return status;
    }

    la_point *pts = NULL;
    size_t n = 0;
    la_top *top = NULL;
    rc = cmd == CMD_QUERY ? la_query_series(db, &a.q, &pts, &n)
                          : la_query_top(db, &a.q, dim, a.k, &top);
    if (rc != LA_OK) {
        /* damage found (LA_ECORRUPT) is 1; a request the engine refuses (too many buckets, a
         * range outside 1970..9999, a zone it cannot find, LA_ENOTKEPT) or I/O is 2 */
        status = lactl_report(a.name, a.db, rc);
        la_close(db);
        return status;
    }
    tsv_writer w;
    tsv_writer_init(&w, stdout);
    if (cmd == CMD_QUERY)
        print_series(&w, &a, pts, n);
    else
        print_top(&w, &a, top);
    status = LACTL_OK;
    if (tsv_writer_finish(&w) != 0) {
        fprintf(stderr, "lactl %s: write error: %s\n", a.name, strerror(errno));
        status = LACTL_ERROR;
    }
    la_series_free(pts);
    la_top_free(top);
    la_close(db);
    return status;
}

int lactl_query(int argc, char **argv) { return run(CMD_QUERY, argc, argv); }

int lactl_top(int argc, char **argv) { return run(CMD_TOP, argc, argv); }
