/* test_faults.c — the I/O seam: fail the Nth file operation (ENOSPC, EIO) during append, seal,
 * flush and close; the call must report an error, nothing acknowledged may be lost, verify must
 * stay clean, and writing must work again once the fault clears. */
#include <errno.h>
#include <stdarg.h>

#include "io.h"
#include "la.h"
#include "testutil.h"

#define DAY_MS 86400000LL
#define T0 (20362LL * DAY_MS)

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

static la_str S(const char *s) { return (la_str){s, (uint32_t)strlen(s)}; }

static la_event make(size_t i, char *buf)
{
    la_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = T0 + (int64_t)(i % 3) * DAY_MS + (int64_t)i * 10; /* three days, interleaved */
    snprintf(buf, 32, "lnk_%zu", i % 37);
    ev.workspace = S(i % 2 ? "ws_a" : "ws_b");
    ev.link = S(buf);
    ev.event_type = S("click");
    ev.visitor_id = i % 101;
    ev.session_id = i;
    return ev;
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
        la_event ev = make(i, buf);
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
            ck_assert_uint_lt(i, n);
            ck_assert_msg(!seen[i], "event %zu twice", i);
            ck_assert_msg(acked[i], "event %zu was never acknowledged", i);
            char buf[32];
            la_event ev = make(i, buf);
            ck_assert_int_eq(b.ts[r], ev.ts);
            la_str l = b.link.dict[b.link.ids[r]];
            ck_assert(l.len == ev.link.len && memcmp(l.data, ev.link.data, l.len) == 0);
            seen[i] = 1;
        }
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(rows, nacked);
    la_cursor_close(cur);
    /* rollups (whatever a fault left of their files) count exactly the stored events */
    for (int w = 0; w < 2; w++) {
        uint64_t want[3] = {0, 0, 0};
        for (size_t i = 0; i < n; i++) {
            char buf[32];
            la_event ev = make(i, buf);
            if (acked[i] && (ev.workspace.data[3] == 'a') == (w == 0))
                want[(ev.ts - T0) / DAY_MS]++;
        }
        la_query q = LA_QUERY_INIT;
        q.workspace = S(w == 0 ? "ws_a" : "ws_b");
        q.from = T0;
        q.to = T0 + 3 * DAY_MS;
        la_point *p;
        size_t np;
        ck_assert_int_eq(la_query_series(db, &q, &p, &np), LA_OK);
        ck_assert_uint_eq(np, 3);
        for (size_t d = 0; d < 3; d++)
            ck_assert_msg(p[d].events == want[d] && p[d].clicks == want[d],
                          "workspace %d day %zu: rollups say %llu events, the segments hold %llu", w, d,
                          (unsigned long long)p[d].events, (unsigned long long)want[d]);
        la_series_free(p);
    }
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

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("sweep");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, faults__enospc_at_every_call);
    tcase_add_test(tc, faults__eio_at_every_call);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(faults_suite)
