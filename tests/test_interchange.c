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

static Suite *interchange_suite(void)
{
    Suite *s = suite_create("interchange");
    TCase *tc = tcase_create("jsonl");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, jsonl_ingest__same_scan_as_tsv);
    tcase_add_test(tc, jsonl_ingest__bad_lines_reported_rest_ingested);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(interchange_suite)
