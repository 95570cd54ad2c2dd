/* test_faults.c — the I/O seam: fail the Nth file operation (ENOSPC, EIO) during append, seal,
 * flush, close and retention; the call must report an error, nothing acknowledged may be lost, verify must
 * stay clean, and writing must work again once the fault clears. */
#include <errno.h>
#include <stdarg.h>

#include "io.h"
#include "la.h"
#include "faultload.h"
#include "testutil.h"


static long fault_at = -1, calls;
static int fault_errno;
static const la_io *real;

static int hit(void)
{
    if (++calls != fault_at)
        return 0;
    errno = fault_errno;
    return 1;
}

static int f_open(const char *p, int fl, int m) { return (fl & 0100 /* O_CREAT */) && hit() ? -1 : real->open(p, fl, m); }
static ssize_t f_pwrite(int fd, const void *b, size_t n, off_t o) { return hit() ? -1 : real->pwrite(fd, b, n, o); }
static int f_allocate(int fd, off_t o, off_t l) { return hit() ? -1 : real->allocate(fd, o, l); }
static int f_fsync(int fd) { return hit() ? -1 : real->fsync(fd); }
static int f_sync(void *p, size_t l) { return hit() ? -1 : real->sync(p, l); }
static int f_rename(const char *a, const char *b) { return hit() ? -1 : real->rename(a, b); }
static int f_sync_dir(const char *p) { return hit() ? -1 : real->sync_dir(p); }
static int f_unlink(const char *p) { return hit() ? -1 : real->unlink(p); }
static void *f_map(int fd, size_t l, int w) { return hit() ? NULL : real->map(fd, l, w); }

static la_io faulty;

static void install(long at, int err)
{
    real = la_io_posix();
    faulty = *real;
    faulty.open = f_open;
    faulty.pwrite = f_pwrite;
    faulty.allocate = f_allocate;
    faulty.fsync = f_fsync;
    faulty.sync = f_sync;
    faulty.rename = f_rename;
    faulty.sync_dir = f_sync_dir;
    faulty.map = f_map;
    fault_at = at;
    fault_errno = err;
    calls = 0;
    la_io_set(&faulty);
}

/* Run the workload with fault number `at`; returns 1 if the fault was hit. Records which events
 * were acknowledged (append returned LA_OK). */
static int workload(const char *dir, long at, int err, uint8_t *acked, size_t from, size_t n)
{
    install(at, err);
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 100;
    o.checkpoint_rows = 300; /* flushes write rollup files: faults hit checkpoints too */
    la_db *db = NULL;
    int rc = la_open(&db, dir, LA_OPEN_CREATE, &o);
    for (size_t i = from; rc == LA_OK && i < n; i++) {
        char buf[32];
        la_event ev = fl_event(i, buf);
        int r = la_append(db, &ev);
        if (r == LA_OK)
            acked[i] = 1;
        else
            ck_assert_msg(r == LA_ENOSPC || r == LA_EIO, "append %zu failed with %d", i, r);
        if (i % 97 == 0)
            la_flush(db);
        if (i % 250 == 249) { /* seal every day; later events arrive late for sealed days */
            int c = la_compact(db, LA_COMPACT_ALL, NULL);
            ck_assert_msg(c == LA_OK || c == LA_ENOSPC || c == LA_EIO, "compact failed with %d", c);
        }
    }
    la_close(db);
    int was_hit = calls >= at;
    la_io_set(NULL);
    return was_hit;
}

static void check_db(const char *dir, const uint8_t *acked, size_t n)
{
    la_db *db;
    int rc = la_open(&db, dir, LA_OPEN_READONLY, NULL);
    size_t nacked = 0;
    for (size_t i = 0; i < n; i++)
        nacked += acked[i];
    if (rc == LA_ENOTFOUND) { /* the fault hit the creation of the database itself */
        ck_assert_uint_eq(nacked, 0);
        return;
    }
    ck_assert_int_eq(rc, LA_OK);
    uint8_t *seen = calloc(n, 1);
    la_cursor *cur;
    ck_assert_int_eq(la_scan(db, NULL, &cur), LA_OK);
    la_batch b;
    size_t rows = 0;
    while ((rc = la_cursor_next(cur, &b)) == 1)
        for (size_t r = 0; r < b.nrows; r++, rows++) {
            size_t i = (size_t)b.session_id[r];
            TU_CHECK(i < n, "session id %zu out of range", i);
            TU_CHECK(!seen[i], "event %zu twice", i);
            TU_CHECK(acked[i], "event %zu was never acknowledged", i);
            char buf[32];
            la_event ev = fl_event(i, buf);
            TU_CHECK(b.ts[r] == ev.ts, "event %zu: ts %lld, want %lld", i, (long long)b.ts[r], (long long)ev.ts);
            la_str l = b.link.dict[b.link.ids[r]];
            TU_CHECK(l.len == ev.link.len && memcmp(l.data, ev.link.data, l.len) == 0, "event %zu: wrong link", i);
            seen[i] = 1;
        }
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(rows, nacked);
    la_cursor_close(cur);
    /* rollups (whatever a fault left of their files) count exactly the stored events */
    fl_check_rollups(db, acked, n, "after a fault");
    la_close(db);
    free(seen);
    uint64_t problems = 9;
    ck_assert_int_eq(la_verify(dir, NULL, NULL, &problems), LA_OK);
    ck_assert_uint_eq(problems, 0);
}

static void sweep(int err)
{
    const size_t n = 1400;
    long at;
    int faults = 0;
    for (at = 1;; at++) {
        char *dir = tu_tmpdir();
        uint8_t *acked = calloc(n, 1);
        int was_hit = workload(dir, at, err, acked, 0, n / 2);
        check_db(dir, acked, n);
        /* the fault has cleared: the same database takes writes again and keeps everything */
        workload(dir, -1, 0, acked, n / 2, n);
        for (size_t i = n / 2; i < n; i++)
            ck_assert_msg(acked[i], "append %zu failed after the fault cleared", i);
        check_db(dir, acked, n);
        tu_rmrf(dir);
        free(dir);
        free(acked);
        if (!was_hit)
            break;
        faults++;
    }
    ck_assert_int_gt(faults, 20); /* the workload really went through many I/O calls */
    fprintf(stderr, "faults: %d injected (%s), all recovered\n", faults, strerror(err));
}

START_TEST(faults__enospc_at_every_call)
{
    sweep(ENOSPC);
}
END_TEST

START_TEST(faults__eio_at_every_call)
{
    sweep(EIO);
}
END_TEST


/* Retention with the fault at its Nth I/O call. RDAYS days of events, of which all but the
 * newest two have expired (retention_days 1); their rows are still only in memory, so
 * retention seals and checkpoints them before it unlinks. After the fault: verify is clean,
 * each expired day is whole or gone, the daily rollups count every event, a second run
 * finishes the job and appends work. */
#define RDAYS 5
#define RN 700

static la_event rmake(size_t i, char *buf)
{
    la_event ev = fl_event(i, buf);
    ev.ts = FL_T0 + (int64_t)i * (RDAYS * FL_DAY_MS / RN); /* in time order: none is too old */
    return ev;
}

static void check_after_retention(const char *dir, int finished)
{
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_READONLY, NULL), LA_OK);
    uint64_t per_day[RDAYS] = {0}, want_ws[2][RDAYS] = {{0}};
    for (size_t i = 0; i < RN; i++) {
        char buf[32];
        la_event ev = rmake(i, buf);
        want_ws[ev.workspace.data[3] == 'b'][(ev.ts - FL_T0) / FL_DAY_MS]++;
    }
    la_cursor *cur;
    ck_assert_int_eq(la_scan(db, NULL, &cur), LA_OK);
    la_batch b;
    int rc;
    while ((rc = la_cursor_next(cur, &b)) == 1)
        for (size_t r = 0; r < b.nrows; r++)
            per_day[(b.ts[r] - FL_T0) / FL_DAY_MS]++;
    ck_assert_int_eq(rc, 0);
    la_cursor_close(cur);
    for (int d = 0; d < RDAYS; d++) {
        uint64_t all = want_ws[0][d] + want_ws[1][d];
        int expired = d < RDAYS - 2;
        ck_assert_msg(per_day[d] == all || (expired && per_day[d] == 0 && !(finished && per_day[d])),
                      "day %d: %llu of %llu events", d, (unsigned long long)per_day[d], (unsigned long long)all);
        if (finished)
            ck_assert_uint_eq(per_day[d], expired ? 0 : all);
    }
    for (int w = 0; w < 2; w++) {
        la_query q = LA_QUERY_INIT;
        q.workspace = fl_str(w == 0 ? "ws_a" : "ws_b");
        q.from = FL_T0;
        q.to = FL_T0 + RDAYS * FL_DAY_MS;
        la_point *p;
        size_t np;
        ck_assert_int_eq(la_query_series(db, &q, &p, &np), LA_OK);
        for (int d = 0; d < RDAYS; d++)
            ck_assert_msg(p[d].events == want_ws[w][d], "workspace %d day %d: %llu events, want %llu", w, d,
                          (unsigned long long)p[d].events, (unsigned long long)want_ws[w][d]);
        la_series_free(p);
    }
    la_close(db);
    uint64_t problems = 9;
    ck_assert_int_eq(la_verify(dir, NULL, NULL, &problems), LA_OK);
    ck_assert_uint_eq(problems, 0);
}

static void retention_sweep(int err)
{
    int faults = 0;
    for (long at = 1;; at++) {
        char *dir = tu_tmpdir();
        install(-1, 0);
        faulty.unlink = f_unlink;
        la_options o = LA_OPTIONS_INIT;
        o.block_rows = 100;
        o.retention_days = 1;
        o.no_auto_retention = 1;
        la_db *db;
        ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
        for (size_t i = 0; i < RN; i++) {
            char buf[32];
            la_event ev = rmake(i, buf);
            ck_assert_int_eq(la_append(db, &ev), LA_OK);
        }
        calls = 0;
        fault_at = at;
        fault_errno = err;
        la_retention_stats st;
        int rc = la_retention(db, &st);
        int was_hit = calls >= at;
        ck_assert_msg(rc == LA_OK || (was_hit && (rc == LA_ENOSPC || rc == LA_EIO)), "fault %ld: %d %s", at, rc,
                      la_errmsg());
        fault_at = -1;
        la_close(db);
        la_io_set(NULL);
        check_after_retention(dir, !was_hit);
        /* the fault has cleared: retention finishes, appends work */
        o.block_rows = 0;
        ck_assert_int_eq(la_open(&db, dir, 0, &o), LA_OK);
        ck_assert_int_eq(la_retention(db, &st), LA_OK);
        char buf[32];
        la_event ev = rmake(RN - 1, buf);
        ck_assert_int_eq(la_append(db, &ev), LA_OK);
        ck_assert_int_eq(la_flush(db), LA_OK);
        la_close(db);
        uint64_t problems = 9;
        ck_assert_int_eq(la_verify(dir, NULL, NULL, &problems), LA_OK);
        ck_assert_uint_eq(problems, 0);
        tu_rmrf(dir);
        free(dir);
        if (!was_hit)
            break;
        faults++;
    }
    ck_assert_int_gt(faults, 10);
    fprintf(stderr, "retention faults: %d injected (%s), all recovered\n", faults, strerror(err));
}

START_TEST(faults__retention_enospc_at_every_call)
{
    retention_sweep(ENOSPC);
}
END_TEST

START_TEST(faults__retention_eio_at_every_call)
{
    retention_sweep(EIO);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("sweep");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, faults__enospc_at_every_call);
    tcase_add_test(tc, faults__eio_at_every_call);
    tcase_add_test(tc, faults__retention_enospc_at_every_call);
    tcase_add_test(tc, faults__retention_eio_at_every_call);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(faults_suite)
