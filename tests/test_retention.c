/* test_retention.c — event-time policy and retention against a model, with the clock set
 * through the I/O seam: LA_ETOOOLD / LA_EFUTURE at their exact boundaries, the reference-time
 * rule, which days retention deletes, what queries and scans answer afterwards (also through a
 * read-only handle that had the day mapped), a full disk, and SIGKILL during retention. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "la.h"
#include "lactl.h"
#include "segment.h"
#include "testutil.h"

#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL
#define T0_DAY 20697LL /* 2026-09-01 */
#define T0 (T0_DAY * DAY_MS)
#define NDAYS 40
#define PER_DAY 60
#define NWS 3

/* ---- the settable clock, and faults for the full-disk and kill tests ---- */

static int64_t g_now;
static long g_calls, g_fault_at = -1;
static int g_fault_errno, g_kill; /* g_kill: the faulting call kills the process instead */
static la_io g_io;

static int fault(void)
{
    if (g_fault_at < 0 || ++g_calls < g_fault_at)
        return 0;
    if (g_kill)
        raise(SIGKILL);
    if (g_fault_errno != ENOSPC && g_calls > g_fault_at)
        return 0; /* an I/O error is one call's; a full disk stays full */
    errno = g_fault_errno;
    return 1;
}

static int64_t c_now(void) { return g_now; }
/* ENOSPC fails what needs space (creating, writing, allocating); the other calls fail only
 * with EIO or a kill: deleting needs no space. */
static int eio(void) { return g_fault_errno != ENOSPC && fault(); }
static int c_open(const char *p, int fl, int m) { return (fl & 0100 /* O_CREAT */) && fault() ? -1 : la_io_posix()->open(p, fl, m); }
static ssize_t c_pwrite(int fd, const void *b, size_t n, off_t o) { return fault() ? -1 : la_io_posix()->pwrite(fd, b, n, o); }
static int c_allocate(int fd, off_t o, off_t l) { return fault() ? -1 : la_io_posix()->allocate(fd, o, l); }
static int c_truncate(int fd, off_t l) { return fault() ? -1 : la_io_posix()->truncate(fd, l); }
static int c_fsync(int fd) { return eio() ? -1 : la_io_posix()->fsync(fd); }
static int c_sync(void *p, size_t l) { return eio() ? -1 : la_io_posix()->sync(p, l); }
static int c_rename(const char *a, const char *b) { return eio() ? -1 : la_io_posix()->rename(a, b); }
static int c_sync_dir(const char *p) { return eio() ? -1 : la_io_posix()->sync_dir(p); }
static int c_unlink(const char *p) { return eio() ? -1 : la_io_posix()->unlink(p); }

static void install_clock(int64_t now)
{
    g_io = *la_io_posix();
    g_io.now_ms = c_now;
    g_io.open = c_open;
    g_io.pwrite = c_pwrite;
    g_io.allocate = c_allocate;
    g_io.fsync = c_fsync;
    g_io.sync = c_sync;
    g_io.rename = c_rename;
    g_io.sync_dir = c_sync_dir;
    g_io.truncate = c_truncate;
    g_io.unlink = c_unlink;
    g_now = now;
    g_fault_at = -1;
    g_kill = 0;
    la_io_set(&g_io);
}

static void arm(long at, int err)
{
    g_calls = 0;
    g_fault_at = at;
    g_fault_errno = err;
}

/* ---- the model ---- */

typedef struct mev {
    int64_t ts;
    int ws, link, type;
    uint64_t vis;
    int64_t value;
} mev;

static const char *const types[] = {"click", "lead", "sale"};
static char g_ws[NWS][16], g_link[8][16];

static la_str S(const char *s) { return (la_str){s, (uint32_t)strlen(s)}; }

static la_event to_event(const mev *m)
{
    la_event e;
    memset(&e, 0, sizeof e);
    e.ts = m->ts;
    e.workspace = S(g_ws[m->ws]);
    e.link = S(g_link[m->link]);
    e.event_type = S(types[m->type]);
    e.visitor_id = m->vis;
    e.session_id = m->vis * 3;
    e.has_value = m->type == 2;
    e.value = m->value;
    return e;
}

/* NDAYS days of events in arrival order; some arrive late, by up to three days. */
static void init_names(void)
{
    for (int i = 0; i < NWS; i++)
        snprintf(g_ws[i], sizeof g_ws[i], "w%d", i);
    for (int i = 0; i < 8; i++)
        snprintf(g_link[i], sizeof g_link[i], "l%d", i);
}

static mev *gen(size_t *n, uint64_t seed)
{
    init_names();
    *n = (size_t)NDAYS * PER_DAY;
    mev *m = calloc(*n, sizeof *m);
    uint64_t rng = seed;
    for (size_t i = 0; i < *n; i++) {
        m[i].ts = T0 + (int64_t)(i * (uint64_t)DAY_MS / PER_DAY) + (int64_t)(tu_rand(&rng) % 60000);
        if (tu_rand(&rng) % 10 == 0 && m[i].ts - 3 * DAY_MS > T0)
            m[i].ts -= (int64_t)(tu_rand(&rng) % (3 * DAY_MS));
        m[i].ws = (int)(tu_rand(&rng) % NWS);
        m[i].link = (int)(tu_rand(&rng) % 8);
        m[i].type = (int)(tu_rand(&rng) % 3);
        m[i].vis = tu_rand(&rng) % 40;
        m[i].value = m[i].type == 2 ? (int64_t)(tu_rand(&rng) % 10000) : 0;
    }
    return m;
}

static int64_t newest_of(const mev *m, size_t n)
{
    int64_t x = INT64_MIN;
    for (size_t i = 0; i < n; i++)
        x = m[i].ts > x ? m[i].ts : x;
    return x;
}

/* Independent of the engine's formula: walk the days and keep those that ended no more than
 * `keep` days before ref. */
static int64_t first_kept(int64_t ref, uint32_t keep)
{
    int64_t d = ref / DAY_MS - keep - 3;
    while ((d + 1) * DAY_MS + (int64_t)keep * DAY_MS < ref)
        d++;
    return d;
}

static la_db *open_db(const char *dir, unsigned flags, uint32_t keep, int64_t skew, int no_auto)
{
    la_options o = LA_OPTIONS_INIT;
    o.retention_days = keep;
    o.future_skew_ms = skew;
    o.no_auto_retention = no_auto;
    o.block_rows = 64;
    la_db *db = NULL;
    int rc = la_open(&db, dir, flags, &o);
    ck_assert_msg(rc == LA_OK, "open %s: %d %s", dir, rc, la_errmsg());
    return db;
}

static void append_all(la_db *db, const mev *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        la_event e = to_event(&m[i]);
        int rc = la_append(db, &e);
        TU_CHECK(rc == LA_OK, "append %zu: %d %s", i, rc, la_errmsg());
    }
}

static void day_path(const char *dir, int64_t day, const char *suffix, char *buf, size_t cap)
{
    int64_t z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1), mo = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t y = yoe + era * 400 + (mo <= 2);
    snprintf(buf, cap, "%s/%04d-%02d-%02d%s", dir, (int)y, mo, d, suffix);
}

static int exists(const char *dir, int64_t day, const char *suffix, uint64_t *size)
{
    char p[600];
    struct stat st;
    day_path(dir, day, suffix, p, sizeof p);
    if (stat(p, &st) != 0)
        return 0;
    if (size)
        *size += (uint64_t)st.st_size;
    return 1;
}

/* Scan everything: the count and an order-free checksum of (ts, ws, vis) must equal those
 * of the model events whose day is in [lo_day, hi_day). */
static uint64_t mix(int64_t ts, uint64_t ws, uint64_t vis)
{
    uint64_t s = (uint64_t)ts * 0x9E3779B97F4A7C15ull ^ ws * 0xC2B2AE3D27D4EB4Full ^ vis;
    return tu_rand(&s);
}

static int exists(const char *dir, int64_t day, const char *suffix, uint64_t *size);

/* dir != NULL: days before lo_day count too while their segment exists (a crash stopped
 * retention there). */
static void check_scan(la_db *db, const mev *m, size_t n, int64_t lo_day, const char *dir)
{
    uint64_t want_n = 0, want_sum = 0, got_n = 0, got_sum = 0;
    for (size_t i = 0; i < n; i++)
        if (m[i].ts / DAY_MS >= lo_day || (dir && exists(dir, m[i].ts / DAY_MS, ".seg", NULL))) {
            want_n++;
            want_sum += mix(m[i].ts, (uint64_t)m[i].ws, m[i].vis);
        }
    la_cursor *c;
    ck_assert_int_eq(la_scan(db, NULL, &c), LA_OK);
    la_batch b;
    int rc;
    while ((rc = la_cursor_next(c, &b)) == 1)
        for (size_t r = 0; r < b.nrows; r++) {
            got_n++;
            const la_str *w = &b.workspace.dict[b.workspace.ids[r]];
            got_sum += mix(b.ts[r], (uint64_t)(w->data[1] - '0'), b.visitor_id[r]);
        }
    ck_assert_int_eq(rc, 0);
    la_cursor_close(c);
    ck_assert_msg(got_n == want_n && got_sum == want_sum, "scan: %llu events, the model %llu (sums %s)",
                  (unsigned long long)got_n, (unsigned long long)want_n, got_sum == want_sum ? "equal" : "differ");
}

/* Daily UTC series of workspace w over [T0, T0 + NDAYS days) against the model. */
static void check_daily(la_db *db, const mev *m, size_t n, int w)
{
    la_query q = LA_QUERY_INIT;
    q.from = T0;
    q.to = T0 + NDAYS * DAY_MS;
    q.workspace = S(g_ws[w]);
    q.bucket = LA_BUCKET_DAY;
    la_point *p = NULL;
    size_t np = 0;
    int rc = la_query_series(db, &q, &p, &np);
    ck_assert_msg(rc == LA_OK, "daily series: %d %s", rc, la_errmsg());
    ck_assert_uint_eq(np, NDAYS);
    for (int d = 0; d < NDAYS; d++) {
        uint64_t ev = 0, clicks = 0, vis[40] = {0}, nvis = 0;
        int64_t value = 0;
        for (size_t i = 0; i < n; i++)
            if (m[i].ws == w && m[i].ts / DAY_MS == T0_DAY + d) {
                ev++;
                clicks += m[i].type == 0;
                value += m[i].value;
                nvis += !vis[m[i].vis]++;
            }
        TU_CHECK(p[d].events == ev && p[d].clicks == clicks && p[d].value == value &&
                     p[d].visitors.count == nvis && p[d].visitors.exact,
                 "%s day %d: events %llu clicks %llu value %lld visitors %llu; model %llu %llu %lld %llu", g_ws[w],
                 d, (unsigned long long)p[d].events, (unsigned long long)p[d].clicks, (long long)p[d].value,
                 (unsigned long long)p[d].visitors.count, (unsigned long long)ev, (unsigned long long)clicks,
                 (long long)value, (unsigned long long)nvis);
    }
    la_series_free(p);
}

/* Hourly series over one day: LA_ENOTKEPT for a deleted day, the model's counts otherwise. */
static void check_hours(la_db *db, const mev *m, size_t n, int64_t day, int deleted)
{
    la_query q = LA_QUERY_INIT;
    q.from = day * DAY_MS;
    q.to = q.from + DAY_MS;
    q.workspace = S(g_ws[0]);
    q.bucket = LA_BUCKET_HOUR;
    la_point *p = NULL;
    size_t np = 0;
    int rc = la_query_series(db, &q, &p, &np);
    if (deleted) {
        ck_assert_msg(rc == LA_ENOTKEPT, "hours of deleted day %lld: %d", (long long)day, rc);
        la_series_free(p);
        return;
    }
    ck_assert_msg(rc == LA_OK, "hours of day %lld: %d %s", (long long)day, rc, la_errmsg());
    for (size_t h = 0; h < np; h++) {
        uint64_t want = 0;
        for (size_t i = 0; i < n; i++)
            want += m[i].ws == 0 && m[i].ts >= q.from + (int64_t)h * HOUR_MS && m[i].ts < q.from + (int64_t)(h + 1) * HOUR_MS;
        TU_CHECK(p[h].events == want, "day %lld hour %zu: %llu events, model %llu", (long long)day, h,
                 (unsigned long long)p[h].events, (unsigned long long)want);
    }
    la_series_free(p);
}

static void check_verify(const char *dir)
{
    uint64_t problems = 9;
    ck_assert_int_eq(la_verify(dir, NULL, NULL, &problems), LA_OK);
    ck_assert_uint_eq(problems, 0);
}

/* A test's database: the model's events appended with the clock just after the newest, then
 * (closed = 1) closed, so that every day is sealed and checkpointed, and reopened. */
typedef struct fixture {
    mev *m;
    size_t n;
    int64_t newest;
    char *dir;
    la_db *db;
} fixture;

static fixture fx_open(uint64_t seed, uint32_t keep, int closed)
{
    fixture f;
    f.m = gen(&f.n, seed);
    f.newest = newest_of(f.m, f.n);
    install_clock(f.newest + HOUR_MS);
    f.dir = tu_tmpdir();
    f.db = open_db(f.dir, LA_OPEN_CREATE, keep, 0, 1);
    append_all(f.db, f.m, f.n);
    if (closed) {
        la_close(f.db);
        f.db = open_db(f.dir, 0, 0, 0, 1);
    }
    return f;
}

static void check_verify(const char *dir);

static void fx_close(fixture *f)
{
    la_close(f->db);
    check_verify(f->dir);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f->m);
    la_io_set(NULL);
}

/* ---- event times ---- */

static int append_at(la_db *db, int64_t ts)
{
    mev e = {ts, 0, 0, 0, 1, 0};
    la_event ev = to_event(&e);
    return la_append(db, &ev);
}

START_TEST(retention__future_skew_boundaries)
{
    init_names();
    const int64_t now = T0 + 10 * DAY_MS + 12345;
    install_clock(now);
    struct {
        int64_t skew, allowed;
    } cases[] = {{0, HOUR_MS}, {1, 1}, {5000, 5000}, {DAY_MS, DAY_MS}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *dir = tu_tmpdir();
        la_db *db = open_db(dir, LA_OPEN_CREATE, 0, cases[i].skew, 1);
        ck_assert_int_eq(append_at(db, now + cases[i].allowed), LA_OK);
        ck_assert_int_eq(append_at(db, now + cases[i].allowed + 1), LA_EFUTURE);
        ck_assert_msg(strstr(la_errmsg(), "ahead of the clock") != NULL, "message: %s", la_errmsg());
        /* the clock moves: what was too far ahead is now accepted */
        g_now = now + 1;
        ck_assert_int_eq(append_at(db, now + cases[i].allowed + 1), LA_OK);
        g_now = now;
        la_close(db);
        tu_rmrf(dir);
        free(dir);
    }
    char *dir = tu_tmpdir();
    la_db *db = open_db(dir, LA_OPEN_CREATE, 0, -1, 1);
    ck_assert_int_eq(append_at(db, (2932896LL * DAY_MS)), LA_OK); /* 9999-12-31 */
    la_close(db);
    tu_rmrf(dir);
    free(dir);
    la_io_set(NULL);
}
END_TEST

START_TEST(retention__too_old_boundaries)
{
    init_names();
    /* newest events at and around day boundaries, clock ahead of and behind them */
    const int64_t base = T0 + 50 * DAY_MS;
    const int64_t newest_cases[] = {base, base + 1, base - 1, base + 7 * HOUR_MS};
    const uint32_t keeps[] = {30, 1, 7};
    for (size_t k = 0; k < sizeof keeps / sizeof *keeps; k++)
        for (size_t c = 0; c < sizeof newest_cases / sizeof *newest_cases; c++)
            for (int clock_behind = 0; clock_behind < 2; clock_behind++) {
                const int64_t newest = newest_cases[c];
                const int64_t now = clock_behind ? newest - 2 * DAY_MS - 5 : newest + 3 * HOUR_MS;
                install_clock(now);
                char *dir = tu_tmpdir();
                la_db *db = open_db(dir, LA_OPEN_CREATE, keeps[k], -1, 1);
                /* the first event of an empty database is never too old */
                ck_assert_int_eq(append_at(db, newest), LA_OK);
                const int64_t ref = now < newest ? now : newest;
                const int64_t fk = first_kept(ref, keeps[k]);
                for (int reopen = 0; reopen < 2; reopen++) {
                    /* last ms of the last expired day; first ms of the first kept day */
                    ck_assert_int_eq(append_at(db, fk * DAY_MS - 1), LA_ETOOOLD);
                    ck_assert_msg(strstr(la_errmsg(), "retention_days") != NULL, "message: %s", la_errmsg());
                    ck_assert_int_eq(append_at(db, fk * DAY_MS), LA_OK);
                    ck_assert_int_eq(append_at(db, (fk - 5) * DAY_MS + 77), LA_ETOOOLD);
                    /* the newest event is learnt again from the files */
                    la_close(db);
                    db = open_db(dir, 0, keeps[k], -1, 1);
                }
                la_close(db);
                tu_rmrf(dir);
                free(dir);
            }
    la_io_set(NULL);
}
END_TEST

/* Old data (a year before the clock) still goes in: the reference is the newest event. */
START_TEST(retention__old_dataset_ingests)
{
    size_t n;
    mev *m = gen(&n, 2);
    install_clock(T0 + 400 * DAY_MS);
    char *dir = tu_tmpdir();
    la_db *db = open_db(dir, LA_OPEN_CREATE, 30, 0, 0);
    append_all(db, m, n);
    ck_assert_int_eq(la_flush(db), LA_OK);
    check_scan(db, m, n, first_kept(newest_of(m, n), 30), NULL); /* la_flush deleted the rest */
    fixture f = {m, n, 0, dir, db};
    fx_close(&f);
}
END_TEST

/* A late event for an earlier kept day is seen at once by scans and by every rollup level. */
START_TEST(retention__late_event_visible_at_once)
{
    fixture f = fx_open(3, 30, 1); /* checkpointed: the late event lands behind the day files */
    f.m = realloc(f.m, (f.n + 1) * sizeof *f.m);
    f.m[f.n] = (mev){T0 + 20 * DAY_MS + 5 * HOUR_MS + 17, 0, 3, 2, 39, 4242};
    la_event e = to_event(&f.m[f.n]);
    ck_assert_int_eq(la_append(f.db, &e), LA_OK);
    f.n++;
    la_db *r = open_db(f.dir, LA_OPEN_READONLY, 0, 0, 1);
    ck_assert_int_eq(la_flush(f.db), LA_OK); /* readers see flushed events */
    for (int k = 0; k < 2; k++) {
        check_scan(k ? r : f.db, f.m, f.n, 0, NULL);
        check_daily(k ? r : f.db, f.m, f.n, 0);
        check_hours(k ? r : f.db, f.m, f.n, T0_DAY + 20, 0);
    }
    la_close(r);
    fx_close(&f);
}
END_TEST

/* ---- retention ---- */

typedef struct listed {
    int64_t day[NDAYS];
    uint64_t bytes[NDAYS];
    int n;
} listed;

static void on_expired(void *ctx, int64_t day_ms, uint64_t bytes, int ready)
{
    listed *l = ctx;
    (void)ready;
    ck_assert_int_lt(l->n, NDAYS);
    l->day[l->n] = day_ms / DAY_MS;
    l->bytes[l->n++] = bytes;
}

START_TEST(retention__deletes_exactly_the_expired_days)
{
    fixture f = fx_open(4, 30, 0);
    mev *m = f.m;
    const size_t n = f.n;
    const int64_t newest = f.newest;
    const char *dir = f.dir;
    la_db *db = f.db;
    /* the oldest days' rows are still only in memory: retention checkpoints them first */
    const int64_t fk = first_kept(newest, 30);
    ck_assert_int_eq(fk, T0_DAY + NDAYS - 31); /* 40 days, 30 kept after the newest day */
    int want_days = 0;
    for (int64_t d = T0_DAY; d < fk; d++)
        want_days += exists(dir, d, ".seg", NULL);
    ck_assert_int_eq(want_days, fk - T0_DAY);

    listed l = {{0}, {0}, 0};
    la_retention_stats st;
    ck_assert_int_eq(la_retention_list(db, on_expired, &l, &st), LA_OK);
    ck_assert_int_eq(l.n, want_days);
    ck_assert_int_eq(st.days, want_days);
    ck_assert_int_eq(st.ref_ms, newest);
    ck_assert_int_eq(st.cutoff_ms, fk * DAY_MS);
    for (int i = 0; i < l.n; i++)
        ck_assert_int_eq(l.day[i], T0_DAY + i);

    ck_assert_int_eq(la_retention(db, &st), LA_OK);
    ck_assert_int_eq(st.days, want_days);
    ck_assert_int_eq(st.days_left, 0);
    for (int64_t d = T0_DAY; d < T0_DAY + NDAYS; d++) {
        ck_assert_msg(exists(dir, d, ".seg", NULL) == (d >= fk), "day %lld segment", (long long)d);
        ck_assert_msg(d >= fk || !exists(dir, d, ".hr.roll", NULL), "day %lld hour file", (long long)d);
        ck_assert_msg(d >= fk || exists(dir, d, ".roll", NULL), "day %lld day file", (long long)d);
    }
    /* every day: raw scans only the kept days, daily series all 40, hours what is kept */
    for (int round = 0; round < 3; round++) {
        if (round == 1) {
            la_close(db);
            db = open_db(dir, 0, 0, 0, 1);
        } else if (round == 2) {
            la_close(db);
            db = open_db(dir, LA_OPEN_READONLY, 0, 0, 1);
        }
        check_scan(db, m, n, fk, NULL);
        for (int w = 0; w < NWS; w++)
            check_daily(db, m, n, w);
        check_hours(db, m, n, fk - 1, 1);
        check_hours(db, m, n, T0_DAY, 1);
        check_hours(db, m, n, fk, 0);
    }
    /* a second run finds nothing */
    la_close(db);
    db = open_db(dir, 0, 0, 0, 1);
    ck_assert_int_eq(la_retention(db, &st), LA_OK);
    ck_assert_int_eq(st.days, 0);
    ck_assert_int_eq(st.bytes, 0);
    /* a longer retention later does not reopen a deleted day (its day file counts the rows
     * of the deleted segment), but takes days that never had events */
    la_close(db);
    db = open_db(dir, 0, 100, 0, 1);
    ck_assert_int_eq(append_at(db, T0 + 5), LA_ETOOOLD);
    ck_assert_msg(strstr(la_errmsg(), "retention deleted"), "message: %s", la_errmsg());
    ck_assert_int_eq(append_at(db, T0 - 5 * DAY_MS), LA_OK);
    ck_assert_int_eq(append_at(db, fk * DAY_MS), LA_OK);
    m = realloc(m, (n + 2) * sizeof *m);
    m[n] = (mev){T0 - 5 * DAY_MS, 0, 0, 0, 1, 0};
    m[n + 1] = (mev){fk * DAY_MS, 0, 0, 0, 1, 0};
    f.m = m;
    check_scan(db, m, n + 2, fk, dir);
    f.db = db;
    fx_close(&f);
}
END_TEST

/* Bytes reported are the sizes of the files deleted; the directory shrinks by as much. */
START_TEST(retention__bytes_freed)
{
    fixture f = fx_open(5, 10, 1);
    const int64_t fk = first_kept(f.newest, 10);
    uint64_t want = 0;
    for (int64_t d = T0_DAY; d < fk; d++) {
        ck_assert(exists(f.dir, d, ".seg", &want));
        ck_assert(exists(f.dir, d, ".hr.roll", &want));
    }
    listed l = {{0}, {0}, 0};
    la_retention_stats st;
    la_db *r = open_db(f.dir, LA_OPEN_READONLY, 0, 0, 1);
    ck_assert_int_eq(la_retention_list(r, on_expired, &l, &st), LA_OK); /* dry run, read-only */
    ck_assert_int_eq(la_retention(r, &st), LA_EREADONLY);
    la_close(r);
    uint64_t sum = 0;
    for (int i = 0; i < l.n; i++)
        sum += l.bytes[i];
    ck_assert_uint_eq(sum, want);
    ck_assert_int_eq(la_retention(f.db, &st), LA_OK);
    ck_assert_int_eq(st.days, fk - T0_DAY);
    ck_assert_uint_eq(st.bytes, want);
    fx_close(&f);
}
END_TEST

/* la_flush deletes on its own as the days go by; the set of segments always equals the model's
 * kept days. One event far in the future (skew -1) must not delete the history. */
START_TEST(retention__automatic_and_reference_time)
{
    size_t n;
    mev *m = gen(&n, 6);
    char *dir = tu_tmpdir();
    install_clock(T0);
    la_db *db = open_db(dir, LA_OPEN_CREATE, 30, -1, 0);
    size_t i = 0;
    int64_t newest = INT64_MIN;
    for (int d = 0; d < NDAYS; d++) {
        for (; i < n && m[i].ts < T0 + (d + 1) * DAY_MS; i++) {
            g_now = m[i].ts > g_now ? m[i].ts : g_now;
            la_event e = to_event(&m[i]);
            ck_assert_int_eq(la_append(db, &e), LA_OK);
            newest = m[i].ts > newest ? m[i].ts : newest;
        }
        ck_assert_int_eq(la_flush(db), LA_OK);
        const int64_t fk = first_kept(newest, 30);
        for (int64_t x = T0_DAY; x <= T0_DAY + d; x++)
            ck_assert_msg(exists(dir, x, ".seg", NULL) == (x >= fk), "after day %d: day %lld", d, (long long)x);
    }
    /* far in the future: accepted, and the reference stays the clock */
    const int64_t fk = first_kept(newest, 30);
    ck_assert_int_eq(append_at(db, g_now + 3650 * DAY_MS), LA_OK);
    ck_assert_int_eq(la_flush(db), LA_OK);
    la_retention_stats st;
    ck_assert_int_eq(la_retention(db, &st), LA_OK);
    ck_assert_int_eq(st.days, 0);
    ck_assert_int_eq(st.ref_ms, g_now);
    for (int64_t x = fk; x < T0_DAY + NDAYS; x++)
        ck_assert_msg(exists(dir, x, ".seg", NULL), "day %lld deleted by a future event", (long long)x);
    /* the clock goes on: now days expire by the clock */
    g_now += 5 * DAY_MS;
    ck_assert_int_eq(la_retention(db, &st), LA_OK);
    ck_assert_int_eq(st.days, 5);
    ck_assert_int_eq(append_at(db, first_kept(g_now, 30) * DAY_MS - 1), LA_ETOOOLD);
    fixture f = {m, n, 0, dir, db};
    fx_close(&f);
}
END_TEST

/* A reader in "another process" (a read-only handle) with a cursor on a day that is deleted:
 * the cursor finishes with its mapping; a new scan skips the day. */
START_TEST(retention__reader_survives_deletion)
{
    /* sealed and checkpointed: retention then only unlinks (a writer sealing a tail that a
     * reader's cursor is reading is another matter: the cursor reports it) */
    fixture f = fx_open(7, 30, 1);
    la_db *r = open_db(f.dir, LA_OPEN_READONLY, 0, 0, 1);
    check_daily(r, f.m, f.n, 1); /* loads the reader's rollup files and deltas */
    la_cursor *c;
    ck_assert_int_eq(la_scan(r, NULL, &c), LA_OK);
    la_batch b;
    ck_assert_int_eq(la_cursor_next(c, &b), 1);
    uint64_t got = b.nrows;
    la_retention_stats st;
    ck_assert_int_eq(la_retention(f.db, &st), LA_OK);
    ck_assert_int_gt(st.days, 0);
    int rc;
    while ((rc = la_cursor_next(c, &b)) == 1)
        got += b.nrows;
    ck_assert_int_eq(rc, 0);
    la_cursor_close(c);
    ck_assert_uint_eq(got, f.n); /* everything it saw when it started */
    const int64_t fk = first_kept(f.newest, 30);
    check_scan(r, f.m, f.n, fk, NULL);
    check_daily(r, f.m, f.n, 1);
    check_hours(r, f.m, f.n, fk - 1, 1);
    check_hours(r, f.m, f.n, fk, 0);
    la_close(r);
    fx_close(&f);
}
END_TEST

/* A full disk: every write and allocation fails with ENOSPC, retention still deletes. */
START_TEST(retention__full_disk)
{
    fixture f = fx_open(8, 30, 1);
    arm(1, ENOSPC);
    ck_assert_int_ne(append_at(f.db, f.newest), LA_OK); /* the disk is full indeed */
    la_retention_stats st;
    int rc = la_retention(f.db, &st);
    ck_assert_msg(rc == LA_OK, "retention on a full disk: %d %s", rc, la_errmsg());
    const int64_t fk = first_kept(f.newest, 30);
    ck_assert_int_eq(st.days, fk - T0_DAY);
    ck_assert_int_gt(g_calls, 0);
    arm(-1, 0);
    check_scan(f.db, f.m, f.n, fk, NULL);
    check_daily(f.db, f.m, f.n, 2);
    fx_close(&f);
}
END_TEST

/* A writer killed (SIGKILL) at the Nth I/O call of retention: reopening finds
 * each day whole or deleted, verify clean, daily series intact, and retention finishes. */
START_TEST(retention__sigkill_during_retention)
{
    size_t n;
    mev *m = gen(&n, 9);
    const int64_t newest = newest_of(m, n), fk = first_kept(newest, 30);
    int rounds = 0;
    /* every call early on (the seals and checkpoints), then a sample of the later ones */
    for (long at = 1;; at += 1 + at / 8) {
        char *dir = tu_tmpdir();
        install_clock(newest + HOUR_MS);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            la_db *db;
            la_options o = LA_OPTIONS_INIT;
            o.block_rows = 64;
            o.no_auto_retention = 1;
            if (la_open(&db, dir, LA_OPEN_CREATE, &o) != LA_OK)
                _exit(3);
            for (size_t i = 0; i < n; i++) {
                la_event e = to_event(&m[i]);
                if (la_append(db, &e) != LA_OK)
                    _exit(4);
            }
            g_kill = 1;
            arm(at, EIO);
            la_retention(db, NULL); /* pending rows: seals and checkpoints, then unlinks */
            _exit(0);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        int killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        ck_assert_msg(killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0), "child status %d", status);
        check_verify(dir);
        la_db *db = open_db(dir, 0, 30, 0, 1);
        for (int64_t d = T0_DAY; d < fk; d++) /* whole, without its hour file, or gone */
            ck_assert_msg(exists(dir, d, ".seg", NULL) || !exists(dir, d, ".hr.roll", NULL),
                          "kill at %ld: day %lld has an hour file but no segment", at, (long long)d);
        check_scan(db, m, n, fk, dir);
        for (int w = 0; w < NWS; w++)
            check_daily(db, m, n, w);
        la_retention_stats st;
        ck_assert_int_eq(la_retention(db, &st), LA_OK);
        check_scan(db, m, n, fk, NULL);
        check_daily(db, m, n, 0);
        ck_assert_int_eq(append_at(db, newest), LA_OK);
        la_close(db);
        check_verify(dir);
        tu_rmrf(dir);
        free(dir);
        if (!killed)
            break;
        rounds++;
    }
    ck_assert_int_gt(rounds, 10);
    fprintf(stderr, "retention: killed at %d of its I/O calls, all recovered\n", rounds);
    free(m);
    la_io_set(NULL);
}
END_TEST


/* ---- lactl ---- */

static char *slurp(FILE *f)
{
    char *t = calloc(1, 1 << 16);
    rewind(f);
    t[fread(t, 1, (1 << 16) - 1, f)] = '\0';
    fclose(f);
    return t;
}

/* Run a lactl command in this process with its stdout and stderr going to temporary files;
 * returns its exit status and the two texts (caller frees). */
static int run_lactl(int (*cmd)(int, char **), char **argv, char **out, char **err)
{
    FILE *fo = tmpfile(), *fe = tmpfile();
    ck_assert(fo && fe);
    fflush(NULL);
    int so = dup(STDOUT_FILENO), se = dup(STDERR_FILENO);
    ck_assert(dup2(fileno(fo), STDOUT_FILENO) >= 0 && dup2(fileno(fe), STDERR_FILENO) >= 0);
    int argc = 0;
    while (argv[argc])
        argc++;
    int st = cmd(argc, argv);
    fflush(NULL);
    dup2(so, STDOUT_FILENO);
    dup2(se, STDERR_FILENO);
    close(so);
    close(se);
    *out = slurp(fo);
    *err = slurp(fe);
    return st;
}

START_TEST(retention__lactl_ingest_reports_by_line)
{
    const int64_t now = T0 + 45 * DAY_MS + 5 * HOUR_MS;
    install_clock(now);
    char *dir = tu_tmpdir(), db[600], tsv[600];
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(tsv, sizeof tsv, "%s/events.tsv", dir);
    FILE *f = fopen(tsv, "w");
    ck_assert_ptr_nonnull(f);
    const int64_t newest = now - 2 * HOUR_MS;
    const int64_t ts[] = {newest, newest - 40 * DAY_MS, now + HOUR_MS + 1, newest - DAY_MS, now + HOUR_MS};
    fprintf(f, "ts\tworkspace_id\tlink_id\tevent_type\tvisitor_id\tsession_id\tvalue\n");
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++)
        fprintf(f, "%lld\tw\tl\tclick\tv\ts\t\\N\n", (long long)ts[i]);
    fclose(f);
    char *out, *err;
    int st = run_lactl(lactl_ingest, (char *[]){"ingest", db, tsv, NULL}, &out, &err);
    ck_assert_int_eq(st, 1);
    char want[700];
    snprintf(want, sizeof want, "%s:3: ", tsv);
    ck_assert_msg(strstr(err, want) && strstr(err, "retention_days"), "stderr: %s", err);
    snprintf(want, sizeof want, "%s:4: ", tsv);
    ck_assert_msg(strstr(err, want) && strstr(err, "ahead of the clock"), "stderr: %s", err);
    ck_assert_msg(strstr(out, "ingested 3 rows, rejected 2"), "stdout: %s", out);
    free(out);
    free(err);
    tu_rmrf(dir);
    free(dir);
    la_io_set(NULL);
}
END_TEST

/* The reference time needs the newest day's events: when that day cannot be read, listing
 * and deleting fail with its error, report that nothing expires (not a time made up from
 * memory never written), and lactl prints the error alone. */
START_TEST(retention__unreadable_newest_day)
{
    fixture f = fx_open(11, 30, 1);
    la_close(f.db);
    f.db = NULL;
    char path[600];
    day_path(f.dir, f.newest / DAY_MS, ".seg", path, sizeof path);
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    uint8_t junk[1024];
    memset(junk, 0xff, sizeof junk);
    ck_assert_int_eq(pwrite(fd, junk, sizeof junk, LA_SEG_SLOT_OFF), (ssize_t)sizeof junk); /* both slots */
    close(fd);
    la_db *db;
    la_options o = LA_OPTIONS_INIT;
    o.retention_days = 3;
    ck_assert_int_eq(la_open(&db, f.dir, LA_OPEN_READONLY, &o), LA_OK);
    la_retention_stats st;
    memset(&st, 0x5a, sizeof st);
    int rc = la_retention_list(db, NULL, NULL, &st);
    ck_assert_msg(rc == LA_ECORRUPT, "rc %d: %s", rc, la_errmsg());
    ck_assert(st.ref_ms == INT64_MIN && st.cutoff_ms == INT64_MIN && st.days == 0);
    la_close(db);
    char *out, *err;
    int status = run_lactl(lactl_retention, (char *[]){"retention", f.dir, "--days", "3", "--dry-run", NULL}, &out, &err);
    ck_assert_int_ne(status, 0);
    ck_assert_msg(out[0] == '\0', "stdout: %s", out);
    ck_assert_msg(strstr(err, "corrupt") != NULL, "stderr: %s", err);
    free(out);
    free(err);
    tu_rmrf(f.dir);
    free(f.dir);
    free(f.m);
    la_io_set(NULL);
}
END_TEST

START_TEST(retention__lactl_retention)
{
    fixture f = fx_open(10, 30, 1);
    la_close(f.db);
    f.db = NULL;
    const int64_t fk = first_kept(f.newest, 30);
    char *out, *err;
    /* --days 35 first: fewer days, listed in TSV without deleting */
    int st = run_lactl(lactl_retention, (char *[]){"retention", f.dir, "--days", "35", "--dry-run", "--format", "tsv", NULL}, &out, &err);
    ck_assert_msg(st == 0, "status %d: %s", st, err);
    char want[4096] = "day\tbytes\n", line[700];
    for (int64_t d = T0_DAY; d < fk - 5; d++) {
        uint64_t bytes = 0;
        ck_assert(exists(f.dir, d, ".seg", &bytes) && exists(f.dir, d, ".hr.roll", &bytes));
        char p[600];
        day_path("", d, "", p, sizeof p);
        snprintf(line, sizeof line, "%s\t%llu\n", p + 1, (unsigned long long)bytes);
        strcat(want, line);
    }
    ck_assert_str_eq(out, want);
    free(out);
    free(err);
    ck_assert(exists(f.dir, T0_DAY, ".seg", NULL));
    st = run_lactl(lactl_retention, (char *[]){"retention", f.dir, "--format", "json", NULL}, &out, &err);
    ck_assert_msg(st == 0, "status %d: %s", st, err);
    snprintf(want, sizeof want, "\"deleted_days\":%lld,", (long long)(fk - T0_DAY));
    ck_assert_msg(strstr(out, want) && strstr(out, "\"dry_run\":false") && strstr(out, "\"days_left\":0}"), "stdout: %s", out);
    free(out);
    free(err);
    for (int64_t d = T0_DAY; d < T0_DAY + NDAYS; d++)
        ck_assert_int_eq(exists(f.dir, d, ".seg", NULL), d >= fk);
    st = run_lactl(lactl_retention, (char *[]){"retention", f.dir, "--days", "0", NULL}, &out, &err);
    ck_assert_int_eq(st, 2);
    free(out);
    free(err);
    f.db = open_db(f.dir, LA_OPEN_READONLY, 0, 0, 1);
    for (int w = 0; w < NWS; w++)
        check_daily(f.db, f.m, f.n, w);
    fx_close(&f);
}
END_TEST

static Suite *retention_suite(void)
{
    Suite *s = suite_create("retention");
    TCase *tc = tcase_create("time");
    tcase_set_timeout(tc, 300); /* dozens of databases: slow on a loaded machine */
    tcase_add_test(tc, retention__future_skew_boundaries);
    tcase_add_test(tc, retention__too_old_boundaries);
    tcase_add_test(tc, retention__old_dataset_ingests);
    tcase_add_test(tc, retention__late_event_visible_at_once);
    suite_add_tcase(s, tc);
    tc = tcase_create("delete");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, retention__deletes_exactly_the_expired_days);
    tcase_add_test(tc, retention__bytes_freed);
    tcase_add_test(tc, retention__automatic_and_reference_time);
    tcase_add_test(tc, retention__reader_survives_deletion);
    tcase_add_test(tc, retention__full_disk);
    tcase_add_test(tc, retention__sigkill_during_retention);
    tcase_add_test(tc, retention__lactl_ingest_reports_by_line);
    tcase_add_test(tc, retention__lactl_retention);
    tcase_add_test(tc, retention__unreadable_newest_day);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(retention_suite)
