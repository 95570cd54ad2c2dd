/* cmd_export.c — `lactl export DB`: the raw events of a time range, or the daily rollups per
 * workspace and per link, as TSVWithNames or JSONEachRow, for loading into a bigger engine
 * (README "Moving to ClickHouse"). Raw TSV is what `lactl ingest` reads back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "la.h"
#include "lactl.h"
#include "textout.h"
#include "timefmt.h"

#define MS_PER_DAY 86400000LL

static int usage(FILE *to)
{
    fprintf(to,
            "usage: lactl export DB [--from T] [--to T] [--format tsv|jsonl] [--rollups]\n"
            "                       [-o|--output FILE] [--quiet]\n"
            "  Write the events of [from, to) (default: all) for another engine, as\n"
            "  TSVWithNames (default: a header of column names, then rows escaped as in\n"
            "  ClickHouse TSV, absent values \\N) or JSONEachRow (--format jsonl, or json:\n"
            "  one JSON object per line, absent values null). Columns as `lactl scan`\n"
            "  prints them: ts (epoch ms), workspace_id, link_id, event_type, visitor_id\n"
            "  and session_id (16 hex digits), value, then every dimension. `lactl ingest`\n"
            "  reads both back.\n"
            "  --rollups writes the daily rollups instead: one row per UTC day with events,\n"
            "  for every workspace (link_id absent) and every link with raw events in the\n"
            "  range (without --from/--to: from the first to the last raw event's day): day,\n"
            "  workspace_id, link_id, events, clicks, leads, sales, value, unique_visitors,\n"
            "  unique_sessions, uniques_exact (0 when a distinct count is an estimate).\n"
            "  T is epoch ms or ISO-8601 (UTC if no zone). -o writes to FILE instead of\n"
            "  stdout. A progress line is shown when stderr is a terminal (--quiet: none).\n"
            "  Opens the database read-only: works while a writer runs.\n"
            "  Exit status: 0 done, 1 damage found while reading, 2 usage or I/O error.\n");
    return to == stdout ? LACTL_OK : LACTL_USAGE;
}

typedef struct exporter {
    la_db *db;
    const char *dbpath;
    tsv_writer w;
    int json, progress;
    uint64_t rows;
    double last_progress;
} exporter;

static void show_progress(exporter *x, const char *what, int final)
{
    double t = lactl_now_s();
    if (!x->progress || (!final && t - x->last_progress < 0.5))
        return;
    x->last_progress = t;
    fprintf(stderr, "\r%llu %s written%s", (unsigned long long)x->rows, what, final ? "\n" : "");
}

/* A (workspace, link) pair seen in the range; link.data == NULL stands for all links. */
typedef struct key {
    la_str ws, link;
} key;

typedef struct keyset {
    key *keys;
    size_t n, cap;
    uint32_t *slot; /* open addressing: index + 1 into keys, 0 = empty */
    size_t nslots;
    int64_t min_ts, max_ts;
} keyset;

static int same(la_str a, la_str b)
{
    return (a.data == NULL) == (b.data == NULL) && a.len == b.len &&
           (!a.len || memcmp(a.data, b.data, a.len) == 0);
}

static uint64_t key_hash(la_str ws, la_str link)
{
    return la_hash_id(ws.data, ws.len) * 0x9E3779B97F4A7C15ull ^
           (link.data ? la_hash_id(link.data, link.len) : 1);
}

static la_str dup_str(la_str s)
{
    if (!s.data)
        return s;
    char *p = malloc(s.len + 1);
    if (p)
        memcpy(p, s.data, s.len);
    return (la_str){p, s.len};
}

/* Add the pair unless present; -1 when out of memory. */
static int keyset_add(keyset *s, la_str ws, la_str link)
{
    if ((s->n + 1) * 2 > s->nslots) {
        size_t nslots = s->nslots ? s->nslots * 2 : 1024;
        uint32_t *slot = calloc(nslots, sizeof *slot);
        if (!slot)
            return -1;
        for (size_t i = 0; i < s->n; i++) {
            size_t h = key_hash(s->keys[i].ws, s->keys[i].link) & (nslots - 1);
            while (slot[h])
                h = (h + 1) & (nslots - 1);
            slot[h] = (uint32_t)(i + 1);
        }
        free(s->slot);
        s->slot = slot;
        s->nslots = nslots;
    }
    size_t h = key_hash(ws, link) & (s->nslots - 1);
    for (; s->slot[h]; h = (h + 1) & (s->nslots - 1)) {
        const key *k = &s->keys[s->slot[h] - 1];
        if (same(k->ws, ws) && same(k->link, link))
            return 0;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        key *keys = realloc(s->keys, cap * sizeof *keys);
        if (!keys)
            return -1;
        s->keys = keys;
        s->cap = cap;
    }
    key k = {dup_str(ws), dup_str(link)};
    if (!k.ws.data || (link.data && !k.link.data)) {
        free((char *)k.ws.data);
        return -1;
    }
    s->keys[s->n++] = k;
    s->slot[h] = (uint32_t)s->n;
    return 0;
}

static void keyset_free(keyset *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free((char *)s->keys[i].ws.data);
        free((char *)s->keys[i].link.data);
    }
    free(s->keys);
    free(s->slot);
}

static int cmp_str(la_str a, la_str b)
{
    if (!a.data || !b.data)
        return (a.data != NULL) - (b.data != NULL);
    int c = memcmp(a.data, b.data, a.len < b.len ? a.len : b.len);
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

static int cmp_key(const void *pa, const void *pb)
{
    const key *a = pa, *b = pb;
    int c = cmp_str(a->ws, b->ws);
    return c ? c : cmp_str(a->link, b->link);
}

static int scan_range(exporter *x, int64_t from, int64_t to, la_cursor **cur)
{
    la_filter f = LA_FILTER_INIT;
    f.from = from;
    f.to = to;
    return la_scan(x->db, &f, cur);
}

/* Every workspace and link with an event in [from, to), and the time span of those events. */
static int collect_keys(exporter *x, int64_t from, int64_t to, keyset *s)
{
    la_cursor *cur;
    int rc = scan_range(x, from, to, &cur);
    if (rc != LA_OK)
        return rc;
    s->min_ts = INT64_MAX;
    s->max_ts = INT64_MIN;
    la_batch b;
    while ((rc = la_cursor_next(cur, &b)) == 1) {
        for (size_t r = 0; r < b.nrows; r++) {
            la_str ws = b.workspace.dict[b.workspace.ids[r]];
            la_str link = b.link.dict[b.link.ids[r]];
            if (keyset_add(s, ws, (la_str){NULL, 0}) != 0 || keyset_add(s, ws, link) != 0) {
                la_cursor_close(cur);
                return LA_ENOMEM;
            }
            s->min_ts = b.ts[r] < s->min_ts ? b.ts[r] : s->min_ts;
            s->max_ts = b.ts[r] > s->max_ts ? b.ts[r] : s->max_ts;
        }
    }
    la_cursor_close(cur);
    return rc < 0 ? rc : LA_OK;
}

static const char *const rollup_cols[] = {
    "day", "workspace_id", "link_id", "events", "clicks", "leads", "sales", "value",
    "unique_visitors", "unique_sessions", "uniques_exact"};
#define NROLLUP_COLS (sizeof rollup_cols / sizeof rollup_cols[0])

static void rollup_header(tsv_writer *w)
{
    for (size_t c = 0; c < NROLLUP_COLS; c++) {
        if (c)
            tsv_char_out(w, '\t');
        tsv_field_out(w, rollup_cols[c], strlen(rollup_cols[c]));
    }
    tsv_char_out(w, '\n');
}

static void rollup_row(exporter *x, const key *k, const la_point *p)
{
    char day[TIMEFMT_MAX];
    timefmt_format(p->bucket_start, day);
    la_str strs[] = {{day, 10}, k->ws, k->link};
    uint64_t nums[] = {p->events, p->clicks, p->leads, p->sales, (uint64_t)p->value,
                       p->visitors.count, p->sessions.count,
                       (uint64_t)(p->visitors.exact && p->sessions.exact)};
    tsv_writer *w = &x->w;
    for (size_t c = 0; c < NROLLUP_COLS; c++) {
        if (x->json) {
            tsv_char_out(w, c ? ',' : '{');
            textout_json_str(w, rollup_cols[c], strlen(rollup_cols[c]));
            tsv_char_out(w, ':');
        } else if (c) {
            tsv_char_out(w, '\t');
        }
        if (c < 3 && x->json)
            textout_json_str(w, strs[c].data, strs[c].len);
        else if (c < 3)
            tsv_field_out(w, strs[c].data, strs[c].len);
        else if (c == 7)
            textout_i64(w, p->value);
        else
            textout_u64(w, nums[c - 3]);
    }
    if (x->json)
        tsv_char_out(w, '}');
    tsv_char_out(w, '\n');
    x->rows++;
}

static int export_rollups(exporter *x, int64_t from, int64_t to)
{
    keyset s = {0};
    int rc = collect_keys(x, from, to, &s);
    if (rc == LA_OK && s.n) {
        qsort(s.keys, s.n, sizeof *s.keys, cmp_key);
        /* an open end of the range stops at the whole UTC day of the first or last event; a
         * given end is kept, so that days whose raw events are gone still answer */
        la_query q = LA_QUERY_INIT;
        q.from = from != INT64_MIN ? from : s.min_ts - s.min_ts % MS_PER_DAY;
        q.to = to != INT64_MAX ? to : s.max_ts - s.max_ts % MS_PER_DAY + MS_PER_DAY;
        q.bucket = LA_BUCKET_DAY;
        for (size_t i = 0; i < s.n && rc == LA_OK && !x->w.error; i++) {
            q.workspace = s.keys[i].ws;
            q.link = s.keys[i].link;
            la_point *pts;
            size_t n;
            if ((rc = la_query_series(x->db, &q, &pts, &n)) != LA_OK)
                break;
            for (size_t p = 0; p < n; p++)
                if (pts[p].events)
                    rollup_row(x, &s.keys[i], &pts[p]);
            la_series_free(pts);
            show_progress(x, "rollup rows", 0);
        }
    }
    keyset_free(&s);
    return rc;
}

static int export_events(exporter *x, int64_t from, int64_t to)
{
    la_cursor *cur;
    int rc = scan_range(x, from, to, &cur);
    if (rc != LA_OK)
        return rc;
    la_batch b;
    while (!x->w.error && (rc = la_cursor_next(cur, &b)) == 1) {
        for (size_t r = 0; r < b.nrows; r++)
            textout_event(&x->w, x->json, x->db, &b, r);
        x->rows += b.nrows;
        show_progress(x, "events", 0);
    }
    la_cursor_close(cur);
    return rc < 0 ? rc : LA_OK;
}

static int parse_time_arg(const char *opt, const char *s, int64_t *out)
{
    const char *why;
    if (timefmt_parse(s, strlen(s), out, &why) != 0) {
        fprintf(stderr, "lactl export: %s '%s': %s\n", opt, s, why);
        return -1;
    }
    return 0;
}

int lactl_export(int argc, char **argv)
{
    const char *dbpath = NULL, *outpath = NULL;
    int64_t from = INT64_MIN, to = INT64_MAX;
    int rollups = 0, quiet = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return usage(stdout);
        if (strcmp(a, "--rollups") == 0)
            rollups = 1;
        else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0)
            quiet = 1;
        else if (strcmp(a, "--from") == 0 && has_val) {
            if (parse_time_arg(a, argv[++i], &from))
                return LACTL_USAGE;
        } else if (strcmp(a, "--to") == 0 && has_val) {
            if (parse_time_arg(a, argv[++i], &to))
                return LACTL_USAGE;
        } else if (strcmp(a, "--format") == 0 && has_val) {
            /* one object per line either way; scan says json, ingest jsonl */
            json = strcmp(argv[++i], "jsonl") == 0 || strcmp(argv[i], "json") == 0;
            if (!json && strcmp(argv[i], "tsv") != 0) {
                fprintf(stderr, "lactl export: --format wants tsv or jsonl, not '%s'\n", argv[i]);
                return LACTL_USAGE;
            }
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && has_val)
            outpath = argv[++i];
        else if (a[0] == '-') {
            fprintf(stderr, "lactl export: unknown option or missing value '%s'\n", a);
            return usage(stderr);
        } else if (!dbpath)
            dbpath = a;
        else {
            fprintf(stderr, "lactl export: unexpected argument '%s'\n", a);
            return usage(stderr);
        }
    }
    if (!dbpath)
        return usage(stderr);
    if (from >= to) {
        fprintf(stderr, "lactl export: --from must be before --to\n");
        return LACTL_USAGE;
    }
    exporter x = {0};
    x.dbpath = dbpath;
    x.json = json;
    int rc = la_open(&x.db, dbpath, LA_OPEN_READONLY, NULL);
    if (rc != LA_OK)
        return lactl_report("export", dbpath, rc);
    FILE *out = stdout;
    if (outpath && !(out = fopen(outpath, "w"))) {
        fprintf(stderr, "lactl export: %s: %s\n", outpath, strerror(errno));
        la_close(x.db);
        return LACTL_ERROR;
    }
    x.progress = !quiet && isatty(STDERR_FILENO);
    x.last_progress = lactl_now_s();
    tsv_writer_init(&x.w, out);
    if (!json && rollups)
        rollup_header(&x.w);
    else if (!json)
        textout_event_header(&x.w, x.db);
    rc = rollups ? export_rollups(&x, from, to) : export_events(&x, from, to);
    int status = rc == LA_OK ? LACTL_OK : lactl_report("export", dbpath, rc);
    show_progress(&x, rollups ? "rollup rows" : "events", 1);
    int werr = tsv_writer_finish(&x.w) != 0;
    if ((out != stdout && fclose(out) != 0) || werr) {
        fprintf(stderr, "lactl export: write error: %s\n", strerror(errno));
        status = LACTL_ERROR;
    }
    la_close(x.db);
    return status;
}
