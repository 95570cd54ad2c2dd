/* test_resources.c — resources that must stay bounded however many days a database holds:
 * open file descriptors after writing, scanning and querying hundreds of UTC days, through a
 * writer and through a read-only handle, compared with a count kept by the test. */
#include <dirent.h>
#include <pthread.h>

#include "la.h"
#include "testutil.h"

#define DAY_MS 86400000LL
#define T0_DAY 19000LL /* 2022-01-08: far enough back that 400 days end in the past */
#define NDAYS 400
#define PER_DAY 3
/* Descriptors one handle may hold: the lock file, the rollup files and at most 64 days (the
 * engine's LA_DB_OPEN_DAYS). Far below NDAYS: a handle that kept every day open exceeds it. */
#define FD_BOUND 80

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the DIR's own descriptor */
}

static la_options opts(void)
{
    la_options o = LA_OPTIONS_INIT;
    o.retention_days = 100000;
    o.future_skew_ms = -1;
    return o;
}

/* Scan everything, counting rows; with ws set, only that workspace. */
static uint64_t scan_rows(la_db *db, const char *ws)
{
    la_filter f = LA_FILTER_INIT;
    if (ws)
        f.workspace = (la_str){ws, (uint32_t)strlen(ws)};
    return tu_scan_count(db, &f);
}

/* A day series over every day of workspace "w": each day holds PER_DAY events. */
static void query_all_days(la_db *db)
{
    la_query q = LA_QUERY_INIT;
    q.from = T0_DAY * DAY_MS;
    q.to = (T0_DAY + NDAYS) * DAY_MS;
    q.workspace = (la_str){"w", 1};
    q.bucket = LA_BUCKET_DAY;
    la_point *p;
    size_t n;
    ck_assert_int_eq(la_query_series(db, &q, &p, &n), LA_OK);
    ck_assert_uint_eq(n, NDAYS);
    for (size_t i = 0; i < n; i++)
        TU_CHECK(p[i].events == PER_DAY, "day %zu: %llu events", i, (unsigned long long)p[i].events);
    la_series_free(p);
}

static void check_bound(int base, int handles, const char *when)
{
    int held = count_fds() - base;
    ck_assert_msg(held <= handles * FD_BOUND, "%s: %d descriptors open for %d days", when, held, NDAYS);
}

START_TEST(resources__fds_bounded_with_hundreds_of_days)
{
    char *dir = tu_tmpdir();
    int base = count_fds();
    la_options o = opts();
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    for (int64_t day = 0; day < NDAYS; day++) {
        for (int k = 0; k < PER_DAY; k++) {
            la_event ev = {0};
            ev.ts = (T0_DAY + day) * DAY_MS + k * 1000;
            ev.workspace = (la_str){"w", 1};
            ev.link = (la_str){"l", 1};
            ev.event_type = (la_str){"click", 5};
            ev.visitor_id = (uint64_t)k;
            ck_assert_int_eq(la_append(db, &ev), LA_OK);
        }
        check_bound(base, 1, "appending");
    }
    ck_assert_int_eq(la_flush(db), LA_OK);
    check_bound(base, 1, "after flush");
    ck_assert_uint_eq(scan_rows(db, NULL), (uint64_t)NDAYS * PER_DAY);
    ck_assert_uint_eq(scan_rows(db, "w"), (uint64_t)NDAYS * PER_DAY);
    check_bound(base, 1, "after scans");
    query_all_days(db);
    check_bound(base, 1, "after a query");
    /* a late event for the first day, whose handle was closed long ago: it reopens, the next
     * scan and query see the event, and the bound holds */
    la_event late = {0};
    late.ts = T0_DAY * DAY_MS + 5000;
    late.workspace = (la_str){"late", 4};
    late.link = (la_str){"l", 1};
    late.event_type = (la_str){"click", 5};
    ck_assert_int_eq(la_append(db, &late), LA_OK);
    ck_assert_int_eq(la_flush(db), LA_OK);
    ck_assert_uint_eq(scan_rows(db, "late"), 1);
    ck_assert_uint_eq(scan_rows(db, NULL), (uint64_t)NDAYS * PER_DAY + 1);
    query_all_days(db);
    check_bound(base, 1, "after a late event");

    la_db *ro;
    ck_assert_int_eq(la_open(&ro, dir, LA_OPEN_READONLY, &o), LA_OK);
    ck_assert_uint_eq(scan_rows(ro, NULL), (uint64_t)NDAYS * PER_DAY + 1);
    query_all_days(ro);
    check_bound(base, 2, "writer and reader");
    la_close(ro);

    la_close(db);
    ck_assert_int_eq(count_fds(), base);
    ck_assert_int_eq(la_open(&db, dir, 0, &o), LA_OK);
    check_bound(base, 1, "reopened writer");
    ck_assert_uint_eq(scan_rows(db, NULL), (uint64_t)NDAYS * PER_DAY + 1);
    query_all_days(db);
    check_bound(base, 1, "reopened writer after a scan");
    la_close(db);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* Threads appending to hundreds of days while another scans: day handles are closed and
 * reopened under them (cursors keep theirs), and every event is there at the end. Run under
 * ThreadSanitizer as well (build-tsan). */
#define NTHREADS 2
typedef struct appender {
    la_db *db;
    int id;
} appender;

static void *append_days(void *arg)
{
    appender *a = arg;
    char ws[16];
    snprintf(ws, sizeof ws, "t%d", a->id);
    for (int64_t day = 0; day < NDAYS; day++) {
        la_event ev = {0};
        ev.ts = (T0_DAY + (day * 7 + a->id * 13) % NDAYS) * DAY_MS + a->id;
        ev.workspace = (la_str){ws, (uint32_t)strlen(ws)};
        ev.link = (la_str){"l", 1};
        ev.event_type = (la_str){"click", 5};
        if (la_append(a->db, &ev) != LA_OK || (day % 50 == 0 && la_flush(a->db) != LA_OK))
            return (void *)1;
    }
    return NULL;
}

static void *scan_loop(void *arg)
{
    la_db *db = arg;
    uint64_t last = 0;
    for (int i = 0; i < 20; i++) {
        la_cursor *c;
        if (la_scan(db, NULL, &c) != LA_OK)
            return (void *)1;
        la_batch b;
        uint64_t n = 0;
        int rc;
        while ((rc = la_cursor_next(c, &b)) == 1)
            n += b.nrows;
        la_cursor_close(c);
        if (rc != 0 || n < last) /* views only grow */
            return (void *)1;
        last = n;
    }
    return NULL;
}

START_TEST(resources__days_reopened_under_threads)
{
    char *dir = tu_tmpdir();
    int base = count_fds();
    la_options o = opts();
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    pthread_t th[NTHREADS + 1];
    appender a[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        a[i] = (appender){db, i};
        ck_assert_int_eq(pthread_create(&th[i], NULL, append_days, &a[i]), 0);
    }
    ck_assert_int_eq(pthread_create(&th[NTHREADS], NULL, scan_loop, db), 0);
    for (int i = 0; i <= NTHREADS; i++) {
        void *r;
        ck_assert_int_eq(pthread_join(th[i], &r), 0);
        ck_assert_msg(r == NULL, "thread %d failed: %s", i, la_errmsg());
    }
    ck_assert_int_eq(la_flush(db), LA_OK);
    check_bound(base, 1, "after the threads");
    ck_assert_uint_eq(scan_rows(db, NULL), (uint64_t)NDAYS * NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        char ws[16];
        snprintf(ws, sizeof ws, "t%d", i);
        ck_assert_uint_eq(scan_rows(db, ws), NDAYS);
    }
    la_close(db);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

static Suite *resources_suite(void)
{
    Suite *s = suite_create("resources");
    TCase *tc = tcase_create("fds");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, resources__fds_bounded_with_hundreds_of_days);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, resources__days_reopened_under_threads);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(resources_suite)
