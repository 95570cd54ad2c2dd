/* test_oom.c — running out of memory loses nothing and corrupts nothing: the test binary is
 * linked with malloc, calloc and realloc wrapped (-Wl,--wrap, see the Makefile), and the n-th
 * allocation after a point fails, once, for every n until a run makes fewer allocations. The
 * call that met the failure reports LA_ENOMEM and is retried; afterwards every row reads back
 * with its own strings, the rollups count every row, and la_verify finds nothing.
 *
 * Two partial failures this found: a seal that failed before its dictionaries' sizes were
 * noted emptied them on undo, and a block's dictionary half loaded stayed half loaded, so
 * that the next load added its first columns' entries twice; either way later ids named other
 * strings, on disk. */
#include "la.h"
#include "testutil.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);

static long g_armed, g_count, g_fail_at, g_failed;

/* The allocation to fail: the g_fail_at-th since arming, once. */
static int fail_now(void)
{
    if (!g_armed || g_failed || ++g_count != g_fail_at)
        return 0;
    g_failed = 1;
    return 1;
}

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fail_now() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }

static void arm(long at)
{
    g_count = g_failed = 0;
    g_fail_at = at;
    g_armed = 1;
}

#define DAY_MS 86400000LL
#define T0 (20362LL * DAY_MS) /* 2025-10-01 */
#define NWS 7
#define NROWS 300
#define BEFORE 200 /* rows written before the failures start */

static la_str S(const char *s) { return (la_str){s, (uint32_t)strlen(s)}; }

/* Row i: workspace ws_(i % 7), link lnk_i, session i; on one day or on three. */
static int append_row(la_db *db, size_t i, int days)
{
    char ws[16], link[16];
    snprintf(ws, sizeof ws, "ws_%zu", i % NWS);
    snprintf(link, sizeof link, "lnk_%zu", i);
    la_event ev = {.ts = T0 + (int64_t)(i % (size_t)days) * DAY_MS + (int64_t)i * 1000,
                   .workspace = S(ws), .link = S(link), .event_type = S("click"),
                   .visitor_id = i, .session_id = i};
    return la_append(db, &ev);
}

static la_options options(int rollups)
{
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 64;         /* appends seal blocks */
    o.checkpoint_rows = 50;    /* flushes checkpoint rollups */
    o.no_rollup_thread = 1;    /* every allocation on this thread, in a repeatable order */
    o.no_rollups = !rollups;
    o.no_auto_seal = 1;
    o.no_auto_retention = 1;
    o.future_skew_ms = -1;
    return o;
}

static void count_problem(void *ctx, const char *file, int64_t off, const char *msg)
{
    (void)file, (void)off, (void)msg;
    ++*(int *)ctx;
}

/* Every row once with its own strings, the rollups' daily totals, a clean verify. */
static void check_db(const char *dir, int rollups, const char *who)
{
    la_db *db;
    la_options o = options(rollups);
    int rc = la_open(&db, dir, LA_OPEN_READONLY, &o);
    TU_CHECK(rc == LA_OK, "%s: open: %s", who, la_errmsg());
    uint8_t seen[NROWS] = {0};
    size_t rows = 0, wrong = 0;
    la_cursor *c;
    la_batch b;
    TU_CHECK(la_scan(db, NULL, &c) == LA_OK, "%s: scan: %s", who, la_errmsg());
    while ((rc = la_cursor_next(c, &b)) == 1)
        for (size_t k = 0; k < b.nrows; k++, rows++) {
            uint64_t s = b.session_id[k];
            char link[16], ws[16];
            snprintf(link, sizeof link, "lnk_%llu", (unsigned long long)s);
            snprintf(ws, sizeof ws, "ws_%llu", (unsigned long long)(s % NWS));
            la_str l = b.link.dict[b.link.ids[k]], w = b.workspace.dict[b.workspace.ids[k]];
            wrong += s >= NROWS || seen[s]++ || l.len != strlen(link) || memcmp(l.data, link, l.len) != 0 ||
                     w.len != strlen(ws) || memcmp(w.data, ws, w.len) != 0;
        }
    la_cursor_close(c);
    TU_CHECK(rc == 0 && rows == NROWS && wrong == 0, "%s: scan rc %d, %zu rows, %zu wrong", who, rc, rows, wrong);
    if (rollups) {
        uint64_t total = 0;
        for (int w = 0; w < NWS; w++) {
            char ws[16];
            snprintf(ws, sizeof ws, "ws_%d", w);
            la_query q = LA_QUERY_INIT;
            q.workspace = S(ws);
            q.from = T0;
            q.to = T0 + 3 * DAY_MS;
            q.bucket = LA_BUCKET_DAY;
            la_point *p;
            size_t n;
            TU_CHECK(la_query_series(db, &q, &p, &n) == LA_OK, "%s: query: %s", who, la_errmsg());
            for (size_t k = 0; k < n; k++)
                total += p[k].events;
            la_series_free(p);
        }
        TU_CHECK(total == NROWS, "%s: the rollups count %llu rows", who, (unsigned long long)total);
    }
    la_close(db);
    int problems = 0;
    uint64_t found = 0;
    TU_CHECK(la_verify(dir, count_problem, &problems, &found) == LA_OK && problems == 0 && found == 0,
             "%s: verify: %d problems", who, problems);
}

/* A writer reopens a database whose days have blocks, appends (sealing blocks, loading their
 * dictionaries) and flushes (checkpointing rollups) while the n-th allocation fails. */
static void writer_runs(int rollups, int days)
{
    la_options o = options(rollups);
    for (long at = 1;; at++) {
        char *dir = tu_tmpdir();
        la_db *db;
        ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
        for (size_t i = 0; i < BEFORE; i++)
            ck_assert_int_eq(append_row(db, i, days), LA_OK);
        la_close(db);
        ck_assert_int_eq(la_open(&db, dir, 0, &o), LA_OK);
        arm(at);
        for (size_t i = BEFORE; i < NROWS; i++) {
            int rc = append_row(db, i, days);
            if (rc != LA_OK) {
                TU_CHECK(rc == LA_ENOMEM, "failure %ld: append %zu: %s", at, i, la_errmsg());
                TU_CHECK(append_row(db, i, days) == LA_OK, "failure %ld: append %zu again: %s", at, i, la_errmsg());
            }
            if (i % 40 == 39 || i == NROWS - 1) {
                if ((rc = la_flush(db)) != LA_OK) {
                    TU_CHECK(rc == LA_ENOMEM, "failure %ld: flush: %s", at, la_errmsg());
                    TU_CHECK(la_flush(db) == LA_OK, "failure %ld: flush again: %s", at, la_errmsg());
                }
            }
        }
        g_armed = 0;
        la_close(db);
        char who[64];
        snprintf(who, sizeof who, "rollups %d, days %d, failure %ld", rollups, days, at);
        check_db(dir, rollups, who);
        tu_rmrf(dir);
        free(dir);
        if (!g_failed)
            break; /* the run made fewer than `at` allocations: every one has failed once */
    }
}

START_TEST(oom__writer_one_day) { writer_runs(_i, 1); }
END_TEST

START_TEST(oom__writer_three_days) { writer_runs(_i, 3); }
END_TEST

/* A read-only handle scans and queries while the n-th allocation fails, then again: the
 * second answers are whole and right. */
START_TEST(oom__reader)
{
    la_options o = options(1);
    char *dir = tu_tmpdir();
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    for (size_t i = 0; i < NROWS; i++)
        ck_assert_int_eq(append_row(db, i, 3), LA_OK);
    la_close(db);
    for (long at = 1;; at++) {
        ck_assert_int_eq(la_open(&db, dir, LA_OPEN_READONLY, &o), LA_OK);
        arm(at);
        la_cursor *c;
        la_batch b;
        int rc = la_scan(db, NULL, &c);
        if (rc == LA_OK) {
            while ((rc = la_cursor_next(c, &b)) == 1)
                ;
            la_cursor_close(c);
        }
        TU_CHECK(rc == 0 || rc == LA_ENOMEM, "failure %ld: scan: %s", at, la_errmsg());
        la_query q = LA_QUERY_INIT;
        q.workspace = S("ws_1");
        q.from = T0;
        q.to = T0 + 3 * DAY_MS;
        la_point *p;
        size_t n;
        if ((rc = la_query_series(db, &q, &p, &n)) == LA_OK)
            la_series_free(p);
        TU_CHECK(rc == LA_OK || rc == LA_ENOMEM, "failure %ld: query: %s", at, la_errmsg());
        g_armed = 0;
        /* the same handle again, without failures: the query (a delta half built by the failure
         * must not count twice) and the scan */
        uint64_t events = 0;
        ck_assert_int_eq(la_query_series(db, &q, &p, &n), LA_OK);
        for (size_t k = 0; k < n; k++)
            events += p[k].events;
        la_series_free(p);
        TU_CHECK(events == (NROWS + NWS - 2) / NWS, "failure %ld: ws_1 has %llu events, want %d", at,
                 (unsigned long long)events, (NROWS + NWS - 2) / NWS);
        size_t rows = 0, wrong = 0;
        ck_assert_int_eq(la_scan(db, NULL, &c), LA_OK);
        while ((rc = la_cursor_next(c, &b)) == 1)
            for (size_t k = 0; k < b.nrows; k++, rows++) {
                char link[16];
                snprintf(link, sizeof link, "lnk_%llu", (unsigned long long)b.session_id[k]);
                la_str l = b.link.dict[b.link.ids[k]];
                wrong += l.len != strlen(link) || memcmp(l.data, link, l.len) != 0;
            }
        la_cursor_close(c);
        TU_CHECK(rc == 0 && rows == NROWS && wrong == 0, "failure %ld: scan again: rc %d, %zu rows, %zu wrong", at,
                 rc, rows, wrong);
        la_close(db);
        if (!g_failed)
            break;
    }
    tu_rmrf(dir);
    free(dir);
}
END_TEST

static Suite *oom_suite(void)
{
    Suite *s = suite_create("oom");
    TCase *tc = tcase_create("oom");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, oom__writer_one_day, 0, 2); /* rollups off, on */
    tcase_add_loop_test(tc, oom__writer_three_days, 0, 2);
    tcase_add_test(tc, oom__reader);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(oom_suite)
