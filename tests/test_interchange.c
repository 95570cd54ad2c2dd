/* test_interchange.c — moving events in and out as text: JSON lines in the app's shape ingest
 * to exactly what the same events as TSV ingest to (compared through `lactl scan`), bad JSON
 * lines are reported by number, and `lactl export` writes TSVWithNames / JSONEachRow that
 * follow their rules and read back to the same events. The JSON side is written and read with
 * jansson's own encoder and decoder, independently of tools/jsonl.c. */
#include <jansson.h>

#include "gen.h"
#include "la.h"
#include "lactl.h"
#include "runcmd.h"
#include "testutil.h"
#include "timefmt.h"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static json_t *jstr(la_str s) { return s.data ? json_stringn(s.data, s.len) : json_null(); }

/* Event i of the stream in the app's shape, varying every optional way of saying the same
 * thing: timestamp as integer / ISO-8601 / digits, value or amount, absent as null or
 * missing, dimensions in metadata or at the top level, keys the database does not keep. */
static json_t *app_event(const la_event *e, const char *visitor, const char *session, uint64_t i)
{
    static const char *const dim_names[GEN_NDIMS] = {"country", "city", "device", "browser",
                                                     "referrer"};
    json_t *o = json_object(), *meta = json_object();
    char ts[TIMEFMT_MAX + 8];
    if (i % 3 == 0)
        json_object_set_new(o, "timestamp", json_integer(e->ts));
    else if (i % 3 == 1)
        json_object_set_new(o, "timestamp", json_stringn(ts, timefmt_format(e->ts, ts)));
    else
        json_object_set_new(o, "timestamp", json_stringn(ts, (size_t)sprintf(ts, "%lld", (long long)e->ts)));
    json_object_set_new(o, i % 7 ? "workspaceId" : "workspace_id", jstr(e->workspace));
    json_object_set_new(o, "linkId", jstr(e->link));
    if (!(i % 2 && e->event_type.len == 5 && memcmp(e->event_type.data, "click", 5) == 0))
        json_object_set_new(o, "eventType", jstr(e->event_type));
    json_object_set_new(o, "visitorId", json_string(visitor));
    json_object_set_new(o, "sessionId", json_string(session));
    if (e->has_value)
        json_object_set_new(o, i % 2 ? "amount" : "value", json_integer(e->value));
    else if (i % 4 == 0)
        json_object_set_new(o, "value", json_null());
    for (uint32_t d = 0; d < GEN_NDIMS; d++) {
        la_str v = d < e->ndims ? e->dims[d] : (la_str){NULL, 0};
        if (!v.data && i % 2)
            continue; /* missing instead of null */
        json_object_set_new(i % 5 == 0 && d == 0 ? o : meta, dim_names[d], jstr(v));
    }
    json_object_set_new(meta, "userAgent", json_string("Mozilla/5.0"));
    json_object_set_new(o, "metadata", meta);
    json_object_set_new(o, "id", json_integer((json_int_t)i));
    return o;
}

/* The stream of `go` in the app's shape, one object per line. */
static void write_generated_jsonl(const char *jsonl, const gen_options *go)
{
    gen *g;
    ck_assert_int_eq(gen_create(&g, go), 0);
    FILE *f = fopen(jsonl, "w");
    ck_assert_ptr_nonnull(f);
    la_event e;
    for (uint64_t i = 0; gen_next(g, &e) == 1; i++) {
        json_t *o = app_event(&e, gen_visitor(g), gen_session(g), i);
        ck_assert_int_eq(json_dumpf(o, f, JSON_COMPACT), 0);
        fputc('\n', f);
        json_decref(o);
    }
    ck_assert_int_eq(fclose(f), 0);
    gen_free(g);
}

START_TEST(jsonl_ingest__same_scan_as_tsv)
{
    char *dir = tu_tmpdir(), tsv[600], jsonl[600], db_t[600], db_j[600];
    snprintf(tsv, sizeof tsv, "%s/events.tsv", dir);
    snprintf(jsonl, sizeof jsonl, "%s/events.jsonl", dir);
    snprintf(db_t, sizeof db_t, "%s/from-tsv", dir);
    snprintf(db_j, sizeof db_j, "%s/from-jsonl", dir);
    gen_options go;
    gen_options_default(&go);
    go.events = 30000;
    go.days = 3;
    go.seed = 11;
    write_generated(tsv, &go);
    write_generated_jsonl(jsonl, &go);

    run_out r = run(dir, lactl_ingest, (char *[]){"ingest", db_t, tsv, "--quiet", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    run_free(&r);
    /* the .jsonl name picks the format; saying it is the same */
    r = run(dir, lactl_ingest, (char *[]){"ingest", db_j, jsonl, "--format", "jsonl", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "ingested 30000 rows, rejected 0"));
    run_free(&r);

    run_out st = run(dir, lactl_scan, (char *[]){"scan", db_t, NULL});
    run_out sj = run(dir, lactl_scan, (char *[]){"scan", db_j, NULL});
    ck_assert_int_eq(st.status, 0);
    ck_assert_int_eq(sj.status, 0);
    size_t lines = 0;
    for (size_t i = 0; i < st.out_len; i++)
        lines += st.out[i] == '\n';
    ck_assert_uint_eq(lines, 30001);
    ck_assert_uint_eq(st.out_len, sj.out_len);
    ck_assert_msg(memcmp(st.out, sj.out, st.out_len) == 0, "scans differ");
    run_free(&st);
    run_free(&sj);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(jsonl_ingest__bad_lines_reported_rest_ingested)
{
    char *dir = tu_tmpdir(), in[600], db[600];
    snprintf(in, sizeof in, "%s/in.json", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    write_text(in,
               "{\"timestamp\":\"2026-11-01T10:00:00Z\",\"workspaceId\":\"w\",\"linkId\":\"l\"}\n"
               "{\"timestamp\":\"2026-11-01T10:00:00Z\",\"workspaceId\":\"w\"}\n"          /* 2 */
               "{\"timestamp\":\"soon\",\"workspaceId\":\"w\",\"linkId\":\"l\"}\n"         /* 3 */
               "{\"timestamp\":1793500000000,\"workspaceId\":\"w\",\"linkId\":\"l\",\"value\":1.5}\n"
               "\n"
               "{\"timestamp\":1793500000000,\"workspaceId\":\"w\",\"linkId\":\"l\"} x\n" /* 6 */
               "{\"timestamp\":1793500000000,\"workspaceId\":\"w\",\"linkId\":\"l\",\"metadata\":{\"country\":7}}\n"
               "{\"timestamp\":1793500000000,\"workspaceId\":\"w\",\"workspaceId\":\"v\",\"linkId\":\"l\"}\n"
               "[]\n"                                                                       /* 9 */
               "{\"timestamp\":1793500000000,\"workspaceId\":\"\\u00e9\\u0000\",\"linkId\":\"l\","
               "\"metadata\":{\"country\":\"FR\"}}\n");
    run_out r = run(dir, lactl_ingest, (char *[]){"ingest", db, in, "--format", "jsonl", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.out, "ingested 2 rows, rejected 7") != NULL, "%s", r.out);
    static const char *const want[] = {
        ":2: linkId is missing", ":3: timestamp: ", ":4: value: not an integer", ":6: column ",
        ":7: metadata.country: not a string", ":8: column ", ":9: not a JSON object"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char line[700];
        snprintf(line, sizeof line, "%s%s", in, want[i]);
        ck_assert_msg(strstr(r.err, line) != NULL, "'%s' not in:\n%s", line, r.err);
    }
    run_free(&r);
    r = run(dir, lactl_scan, (char *[]){"scan", db, "--no-header", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out,
                     "1793527200000\tw\tl\tclick\t0000000000000000\t0000000000000000\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"
                     "1793500000000\t\xc3\xa9\\0\tl\tclick\t0000000000000000\t0000000000000000\t\\N\tFR\t\\N\t\\N\t\\N\t\\N\n");
    run_free(&r);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* ---- export ---- */

/* Strings that TSV and JSON must escape, an empty one, and bytes that are not UTF-8. */
static const char *const nasty[] = {"plain", "tab\there", "new\nline", "back\\slash", "cr\r",
                                    "quote\"d", "\\N", "", "caf\xc3\xa9", "bad\xff\xfe"};
#define NNASTY (sizeof nasty / sizeof nasty[0])
#define NASTY_EVENTS 200
#define T0 1793577600000LL /* 2026-11-02 00:00 UTC */

static la_str nasty_str(uint64_t i) { return (la_str){nasty[i % NNASTY], (uint32_t)strlen(nasty[i % NNASTY])}; }

/* Event i of the escaping model: every string field cycles through nasty[], shifted per field;
 * the value and the country are absent for some. */
static void nasty_event(uint64_t i, la_event *e, la_str *dims)
{
    memset(e, 0, sizeof *e);
    e->ts = T0 + (int64_t)i * 1000003;
    e->workspace = nasty_str(i);
    e->link = nasty_str(i / 3 + 1);
    e->event_type = nasty_str(i / 7 + 2);
    e->visitor_id = i * 0x9E3779B97F4A7C15ull;
    e->session_id = i;
    e->has_value = i % 4 != 0;
    e->value = (int64_t)i * 37 - 2000;
    dims[0] = i % 5 ? nasty_str(i + 3) : (la_str){NULL, 0};
    for (uint32_t d = 1; d < GEN_NDIMS; d++)
        dims[d] = nasty_str(i * d + 4);
    e->dims = dims;
    e->ndims = GEN_NDIMS;
}

static void build_nasty_db(const char *path)
{
    la_db *db;
    ck_assert_int_eq(la_open(&db, path, LA_OPEN_CREATE, NULL), LA_OK);
    for (uint64_t i = 0; i < NASTY_EVENTS; i++) {
        la_event e;
        la_str dims[GEN_NDIMS];
        nasty_event(i, &e, dims);
        ck_assert_int_eq(la_append(db, &e), LA_OK);
    }
    ck_assert_int_eq(la_flush(db), LA_OK);
    la_close(db);
}

/* ClickHouse's TabSeparated unescaping, written here from its rules, not with tools/tsv.c:
 * a field \N alone is NULL; \t \n \r \\ \0 \b \f \' stand for the character. */
static int tsv_field_is(const char *f, size_t n, la_str want)
{
    if (n == 2 && f[0] == '\\' && f[1] == 'N')
        return want.data == NULL;
    if (!want.data)
        return 0;
    char buf[600];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = f[i];
        ck_assert_msg(c != '\t' && c != '\n', "raw TAB or LF inside a field");
        if (c == '\\') {
            ck_assert_msg(i + 1 < n, "backslash at the end of a field");
            switch (f[++i]) {
            case 't': c = '\t'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case '0': c = '\0'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case '\\': c = '\\'; break;
            case '\'': c = '\''; break;
            default: ck_abort_msg("escape \\%c is not one ClickHouse writes", f[i]);
            }
        }
        buf[k++] = c;
    }
    return k == want.len && memcmp(buf, want.data, k) == 0;
}

static const char *const columns[] = {"ts", "workspace_id", "link_id", "event_type", "visitor_id",
                                      "session_id", "value", "country", "city", "device",
                                      "browser", "referrer"};
#define NCOLS (sizeof columns / sizeof columns[0])

START_TEST(export__tsv_follows_tsvwithnames_and_reingests)
{
    char *dir = tu_tmpdir(), db[600], db2[600], out[600];
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(db2, sizeof db2, "%s/again", dir);
    snprintf(out, sizeof out, "%s/events.tsv", dir);
    build_nasty_db(db);
    /* a range that cuts the stream: events 10..149 */
    char from[32], to[32];
    snprintf(from, sizeof from, "%lld", T0 + 10 * 1000003LL);
    snprintf(to, sizeof to, "%lld", T0 + 150 * 1000003LL);
    run_out r = run(dir, lactl_export, (char *[]){"export", db, "--from", from, "--to", to, "-o", out, NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    run_free(&r);

    size_t len;
    char *text = slurp(out, &len);
    ck_assert(len > 0 && text[len - 1] == '\n');
    uint64_t i = 10;
    int header = 1;
    for (char *line = text; *line; line = strchr(line, '\n') + 1) {
        char *end = strchr(line, '\n');
        const char *f[NCOLS + 1];
        size_t flen[NCOLS + 1], nf = 0;
        for (char *p = line;; p++) {
            if (p == end || *p == '\t') {
                ck_assert_uint_lt(nf, NCOLS);
                f[nf] = nf ? f[nf - 1] + flen[nf - 1] + 1 : line;
                flen[nf] = (size_t)(p - f[nf]);
                nf++;
                if (p == end)
                    break;
            }
        }
        ck_assert_uint_eq(nf, NCOLS);
        if (header) {
            for (size_t c = 0; c < NCOLS; c++)
                ck_assert(flen[c] == strlen(columns[c]) && memcmp(f[c], columns[c], flen[c]) == 0);
            header = 0;
            continue;
        }
        la_event e;
        la_str dims[GEN_NDIMS];
        nasty_event(i++, &e, dims);
        char num[64];
        ck_assert_int_eq(snprintf(num, sizeof num, "%lld", (long long)e.ts), (int)flen[0]);
        ck_assert(memcmp(f[0], num, flen[0]) == 0);
        ck_assert(tsv_field_is(f[1], flen[1], e.workspace));
        ck_assert(tsv_field_is(f[2], flen[2], e.link));
        ck_assert(tsv_field_is(f[3], flen[3], e.event_type));
        snprintf(num, sizeof num, "%016llx\t%016llx", (unsigned long long)e.visitor_id,
                 (unsigned long long)e.session_id);
        ck_assert(memcmp(f[4], num, 33) == 0 && flen[4] == 16 && flen[5] == 16);
        if (e.has_value)
            snprintf(num, sizeof num, "%lld", (long long)e.value);
        ck_assert(e.has_value ? flen[6] == strlen(num) && memcmp(f[6], num, flen[6]) == 0
                              : flen[6] == 2 && memcmp(f[6], "\\N", 2) == 0);
        for (size_t d = 0; d < GEN_NDIMS; d++)
            ck_assert_msg(tsv_field_is(f[7 + d], flen[7 + d], dims[d]), "row %llu dim %zu",
                          (unsigned long long)i - 1, d);
    }
    ck_assert_uint_eq(i, 150);
    free(text);

    /* the export ingests back to the same events */
    r = run(dir, lactl_ingest, (char *[]){"ingest", db2, out, "--quiet", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    run_free(&r);
    run_out a = run(dir, lactl_scan, (char *[]){"scan", db, "--from", from, "--to", to, NULL});
    run_out b = run(dir, lactl_scan, (char *[]){"scan", db2, NULL});
    ck_assert(a.out_len == b.out_len && memcmp(a.out, b.out, a.out_len) == 0);
    run_free(&a);
    run_free(&b);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* What a strict JSON reader must get for s: the bytes, with each byte that is not part of
 * valid UTF-8 read as U+FFFD (only "bad\xff\xfe" has such bytes here). */
static int json_str_is(json_t *v, la_str want)
{
    if (!want.data)
        return json_is_null(v);
    if (!json_is_string(v))
        return 0;
    const char *got = json_string_value(v);
    size_t n = json_string_length(v);
    if (want.len == 5 && memcmp(want.data, "bad\xff\xfe", 5) == 0)
        return n == 9 && memcmp(got, "bad\xef\xbf\xbd\xef\xbf\xbd", 9) == 0;
    return n == want.len && memcmp(got, want.data, n) == 0;
}

START_TEST(export__jsonl_follows_jsoneachrow)
{
    char *dir = tu_tmpdir(), db[600], out[600];
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(out, sizeof out, "%s/events.jsonl", dir);
    build_nasty_db(db);
    run_out r = run(dir, lactl_export, (char *[]){"export", db, "--format", "jsonl", "-o", out, NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    run_free(&r);
    FILE *f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    char *line = NULL;
    size_t cap = 0;
    uint64_t i = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        ck_assert(line[n - 1] == '\n');
        json_error_t err;
        json_t *o = json_loadb(line, (size_t)n - 1, JSON_REJECT_DUPLICATES, &err);
        ck_assert_msg(o != NULL, "line %llu: %s", (unsigned long long)i + 1, err.text);
        ck_assert(json_is_object(o) && json_object_size(o) == NCOLS);
        /* keys in column order */
        size_t c = 0;
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v) ck_assert_str_eq(key, columns[c++]);
        la_event e;
        la_str dims[GEN_NDIMS];
        nasty_event(i++, &e, dims);
        ck_assert(json_integer_value(json_object_get(o, "ts")) == e.ts);
        ck_assert(json_str_is(json_object_get(o, "workspace_id"), e.workspace));
        ck_assert(json_str_is(json_object_get(o, "link_id"), e.link));
        ck_assert(json_str_is(json_object_get(o, "event_type"), e.event_type));
        char id[17];
        snprintf(id, sizeof id, "%016llx", (unsigned long long)e.visitor_id);
        ck_assert_str_eq(json_string_value(json_object_get(o, "visitor_id")), id);
        json_t *val = json_object_get(o, "value");
        ck_assert(e.has_value ? json_is_integer(val) && json_integer_value(val) == e.value
                              : json_is_null(val));
        for (size_t d = 0; d < GEN_NDIMS; d++)
            ck_assert(json_str_is(json_object_get(o, columns[7 + d]), dims[d]));
        json_decref(o);
    }
    ck_assert_uint_eq(i, NASTY_EVENTS);
    free(line);
    fclose(f);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(export__jsonl_of_generated_stream_reingests)
{
    char *dir = tu_tmpdir(), tsv[600], db[600], db2[600], out[600];
    snprintf(tsv, sizeof tsv, "%s/events.tsv", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(db2, sizeof db2, "%s/again", dir);
    snprintf(out, sizeof out, "%s/events.jsonl", dir);
    gen_options go;
    gen_options_default(&go);
    go.events = 20000;
    go.days = 2;
    write_generated(tsv, &go);
    run_out r = run(dir, lactl_ingest, (char *[]){"ingest", db, tsv, "--quiet", NULL});
    ck_assert_int_eq(r.status, 0);
    run_free(&r);
    r = run(dir, lactl_export, (char *[]){"export", db, "--format", "jsonl", "-o", out, NULL});
    ck_assert_int_eq(r.status, 0);
    run_free(&r);
    r = run(dir, lactl_ingest, (char *[]){"ingest", db2, out, "--quiet", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    run_free(&r);
    run_out a = run(dir, lactl_scan, (char *[]){"scan", db, NULL});
    run_out b = run(dir, lactl_scan, (char *[]){"scan", db2, NULL});
    ck_assert(a.out_len > 1000000 && a.out_len == b.out_len && memcmp(a.out, b.out, a.out_len) == 0);
    run_free(&a);
    run_free(&b);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* ---- rollups: checked against a brute-force count of the generated events ---- */

typedef struct agg_rec {
    char key[300]; /* day TAB workspace TAB link-or-\N */
    int type;      /* 0 click, 1 lead, 2 sale, 3 other */
    uint64_t visitor, session;
    int64_t value;
} agg_rec;

static int cmp_rec(const void *a, const void *b)
{
    return strcmp(((const agg_rec *)a)->key, ((const agg_rec *)b)->key);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t distinct(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_u64);
    uint64_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += i == 0 || v[i] != v[i - 1];
    return d;
}

START_TEST(export__rollups_match_brute_force)
{
    char *dir = tu_tmpdir(), tsv[600], db[600], out[600];
    snprintf(tsv, sizeof tsv, "%s/events.tsv", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(out, sizeof out, "%s/rollups.tsv", dir);
    gen_options go;
    gen_options_default(&go);
    go.events = 20000;
    go.days = 3;
    go.workspaces = 40;
    go.links = 400;
    write_generated(tsv, &go);
    run_out r = run(dir, lactl_ingest, (char *[]){"ingest", db, tsv, "--quiet", NULL});
    ck_assert_int_eq(r.status, 0);
    run_free(&r);
    r = run(dir, lactl_export, (char *[]){"export", db, "--rollups", "-o", out, NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    run_free(&r);
    /* a range wider than the events, with empty days on both sides, gives the same rows */
    r = run(dir, lactl_export, (char *[]){"export", db, "--rollups", "--from", "2026-10-20",
                                          "--to", "2026-11-10", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    size_t len0;
    char *first = slurp(out, &len0);
    ck_assert(r.out_len == len0 && memcmp(r.out, first, len0) == 0);
    free(first);
    run_free(&r);

    agg_rec *recs = malloc(2 * go.events * sizeof *recs);
    size_t nrec = 0;
    gen *g;
    ck_assert_int_eq(gen_create(&g, &go), 0);
    la_event e;
    while (gen_next(g, &e) == 1) {
        char day[TIMEFMT_MAX];
        timefmt_format(e.ts, day);
        for (int all = 0; all < 2; all++) {
            agg_rec *a = &recs[nrec++];
            if (all)
                snprintf(a->key, sizeof a->key, "%.10s\t%.*s\t\\N", day, (int)e.workspace.len,
                         e.workspace.data);
            else
                snprintf(a->key, sizeof a->key, "%.10s\t%.*s\t%.*s", day, (int)e.workspace.len,
                         e.workspace.data, (int)e.link.len, e.link.data);
            static const char *const types[] = {"click", "lead", "sale"};
            a->type = 3;
            for (int t = 0; t < 3; t++)
                if (e.event_type.len == strlen(types[t]) && !memcmp(e.event_type.data, types[t], e.event_type.len))
                    a->type = t;
            a->visitor = e.visitor_id;
            a->session = e.session_id;
            a->value = e.has_value ? e.value : 0;
        }
    }
    gen_free(g);
    qsort(recs, nrec, sizeof *recs, cmp_rec);

    /* the expected rows, sorted as text; the export is sorted the same way below */
    size_t nexp = 0;
    char **exp = malloc(nrec * sizeof *exp);
    uint64_t *vis = malloc(nrec * sizeof *vis), *ses = malloc(nrec * sizeof *ses);
    for (size_t i = 0; i < nrec;) {
        size_t j = i;
        uint64_t cnt[4] = {0};
        int64_t value = 0;
        for (; j < nrec && strcmp(recs[j].key, recs[i].key) == 0; j++) {
            cnt[recs[j].type]++;
            value += recs[j].value;
            vis[j - i] = recs[j].visitor;
            ses[j - i] = recs[j].session;
        }
        uint64_t dv = distinct(vis, j - i), ds = distinct(ses, j - i);
        exp[nexp] = malloc(400);
        snprintf(exp[nexp++], 400, "%s\t%zu\t%llu\t%llu\t%llu\t%lld\t%llu\t%llu", recs[i].key, j - i,
                 (unsigned long long)cnt[0], (unsigned long long)cnt[1], (unsigned long long)cnt[2],
                 (long long)value, (unsigned long long)dv, (unsigned long long)ds);
        i = j;
    }

    size_t len;
    char *text = slurp(out, &len);
    char *body = strchr(text, '\n') + 1;
    ck_assert(strncmp(text, "day\tworkspace_id\tlink_id\tevents\tclicks\tleads\tsales\tvalue\t"
                            "unique_visitors\tunique_sessions\tuniques_exact\n", (size_t)(body - text)) == 0);
    size_t ngot = 0, estimated = 0;
    char **got = malloc((len / 10 + 1) * sizeof *got);
    for (char *p = body; *p;) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        got[ngot++] = p;
        p = nl + 1;
    }
    qsort(exp, nexp, sizeof *exp, cmp_str);
    qsort(got, ngot, sizeof *got, cmp_str);
    ck_assert_uint_eq(ngot, nexp);
    for (size_t i = 0; i < ngot; i++) {
        /* exact rows must match to the byte; estimated ones in every column but the distinct
         * counts, which must be within 5 standard errors */
        char *flag = strrchr(got[i], '\t');
        if (strcmp(flag, "\t1") == 0) {
            *flag = '\0';
            ck_assert_str_eq(got[i], exp[i]);
            continue;
        }
        estimated++;
        ck_assert_str_eq(flag, "\t0");
        *flag = '\0';
        char *gs = strrchr(got[i], '\t'), *es = strrchr(exp[i], '\t');
        *gs = *es = '\0';
        char *gv = strrchr(got[i], '\t'), *ev = strrchr(exp[i], '\t');
        *gv = *ev = '\0';
        ck_assert_str_eq(got[i], exp[i]);
        double rv = strtod(gv + 1, NULL), xv = strtod(ev + 1, NULL);
        double rs = strtod(gs + 1, NULL), xs = strtod(es + 1, NULL);
        ck_assert(rv > xv * 0.96 && rv < xv * 1.04 && rs > xs * 0.96 && rs < xs * 1.04);
    }
    ck_assert_uint_lt(estimated, ngot / 10);
    for (size_t i = 0; i < nexp; i++)
        free(exp[i]);
    free(exp);
    free(got);
    free(vis);
    free(ses);
    free(recs);
    free(text);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* `lactl scan --format table`: the TSV cells (ts as ISO-8601), each column padded with spaces
 * to two more than its widest cell, counting UTF-8 characters, the last one not padded. */
START_TEST(scan__table_aligns_the_tsv_cells)
{
    char *dir = tu_tmpdir(), db[600];
    snprintf(db, sizeof db, "%s/db", dir);
    build_nasty_db(db);
    run_out tsv = run(dir, lactl_scan, (char *[]){"scan", db, NULL});
    run_out tab = run(dir, lactl_scan, (char *[]){"scan", db, "--format", "table", NULL});
    ck_assert_int_eq(tsv.status, 0);
    ck_assert_int_eq(tab.status, 0);
    /* cells of every line, ts converted */
    enum { MAXL = NASTY_EVENTS + 1 };
    char *cells[MAXL][NCOLS];
    char iso[MAXL][TIMEFMT_MAX];
    size_t width[NCOLS] = {0}, nl = 0;
    for (char *line = tsv.out; *line; nl++) {
        char *end = strchr(line, '\n');
        *end = '\0';
        for (size_t c = 0; c < NCOLS; c++) {
            char *sep = strchr(line, '\t');
            if (sep)
                *sep = '\0';
            cells[nl][c] = line;
            if (c == 0 && nl > 0) {
                timefmt_format(strtoll(line, NULL, 10), iso[nl]);
                cells[nl][c] = iso[nl];
            }
            size_t wd = 0;
            for (const char *p = cells[nl][c]; *p; p++)
                wd += ((unsigned char)*p & 0xc0) != 0x80;
            width[c] = wd > width[c] ? wd : width[c];
            line = sep ? sep + 1 : line;
        }
        line = end + 1;
    }
    ck_assert_uint_eq(nl, MAXL);
    char *want = malloc(tab.out_len + 1), *p = want;
    for (size_t l = 0; l < nl; l++) {
        for (size_t c = 0; c < NCOLS; c++) {
            size_t wd = 0;
            for (const char *q = cells[l][c]; *q; q++)
                wd += ((unsigned char)*q & 0xc0) != 0x80;
            p += sprintf(p, "%s", cells[l][c]);
            if (c + 1 < NCOLS)
                p += sprintf(p, "%*s", (int)(width[c] - wd + 2), "");
        }
        *p++ = '\n';
        ck_assert((size_t)(p - want) <= tab.out_len);
    }
    *p = '\0';
    ck_assert_str_eq(tab.out, want);
    free(want);
    run_free(&tsv);
    run_free(&tab);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

static Suite *interchange_suite(void)
{
    Suite *s = suite_create("interchange");
    TCase *tc = tcase_create("jsonl");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, jsonl_ingest__same_scan_as_tsv);
    tcase_add_test(tc, jsonl_ingest__bad_lines_reported_rest_ingested);
    suite_add_tcase(s, tc);
    tc = tcase_create("export");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, export__tsv_follows_tsvwithnames_and_reingests);
    tcase_add_test(tc, export__jsonl_follows_jsoneachrow);
    tcase_add_test(tc, export__jsonl_of_generated_stream_reingests);
    tcase_add_test(tc, export__rollups_match_brute_force);
    tcase_add_test(tc, scan__table_aligns_the_tsv_cells);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(interchange_suite)
