/* test_live.c — the realtime layer (la_live, la_live_top) against a brute-force model that keeps
 * every event and recomputes the windows from scratch at each clock reading, the clock being
 * set through the I/O seam: random events around an advancing clock (late ones, ones a day
 * old, ones ahead within the skew), windows sliding minute by minute, active visitors, top
 * links, eviction keeping memory to what the window holds, close and reopen, a read-only
 * handle in the same process, and the output of lactl live. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "io.h"
#include "la.h"
#include "lactl.h"
#include "live.h"
#include "testutil.h"

int lactl_live(int argc, char **argv);

#define MIN 60000LL
#define DAY_MS 86400000LL
#define T0 1793527230000LL /* 2026-11-01T10:00:30Z */

static int64_t clock_ms;
static int64_t fake_now(void) { return clock_ms; }
static la_io clock_io;

static void install_clock(int64_t t)
{
    clock_io = *la_io_posix();
    clock_io.now_ms = fake_now;
    clock_ms = t;
    la_io_set(&clock_io);
}

/* The end of every test: the real clock back, the directory gone. */
static void finish(char *dir)
{
    la_io_set(NULL);
    tu_rmrf(dir);
    free(dir);
}

static la_str S(const char *s) { return (la_str){s, (uint32_t)strlen(s)}; }

/* ---- the model ---- */

#define NWS 3
#define NLINK 12
static const char *const ws_names[NWS] = {"w0", "w1", "ws_two"};
static const char *const link_names[NLINK] = {"a", "b", "ab", "lnk_1", "lnk_10", "lnk_2", "",
                                              "x\ty", "zz", "l9", "a\xff", "last"};

typedef struct mev {
    int ws, link;
    int64_t ts;
    uint64_t vis;
} mev;

typedef struct model {
    mev *ev;
    size_t n, cap;
    int64_t window, active, horizon; /* minutes */
} model;

static void model_add(model *m, mev e)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 1024;
        m->ev = realloc(m->ev, m->cap * sizeof *m->ev);
        ck_assert_ptr_nonnull(m->ev);
    }
    m->ev[m->n++] = e;
}


static la_event event_of(const mev *e)
{
    la_event ev = {.ts = e->ts, .workspace = S(ws_names[e->ws]), .link = S(link_names[e->link]),
                   .event_type = S("click"), .visitor_id = e->vis};
    return ev;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct mstats {
    uint64_t events, active;
    int64_t last;
} mstats;

/* The figures of workspace ws (link -1: all its links) at clock `now`, from scratch. */
static mstats model_stats(const model *m, int ws, int link, int64_t now)
{
    int64_t nm = la_floor_div(now, MIN), lo = nm - m->window + 1, hi = nm + m->horizon, alo = nm - m->active + 1;
    mstats s = {0, 0, -1};
    uint64_t *vis = malloc((m->n + 1) * sizeof *vis);
    size_t nv = 0;
    for (size_t i = 0; i < m->n; i++) {
        const mev *e = &m->ev[i];
        int64_t mi = la_floor_div(e->ts, MIN);
        if (e->ws != ws || (link >= 0 && e->link != link) || mi < lo || mi > hi)
            continue;
        s.events++;
        s.last = e->ts > s.last ? e->ts : s.last;
        if (mi >= alo)
            vis[nv++] = e->vis;
    }
    qsort(vis, nv, sizeof *vis, cmp_u64);
    for (size_t i = 0; i < nv; i++)
        s.active += i == 0 || vis[i] != vis[i - 1];
    free(vis);
    return s;
}

typedef struct mrank {
    int link;
    uint64_t events;
} mrank;

static int by_rank(const void *pa, const void *pb)
{
    const mrank *a = pa, *b = pb;
    if (a->events != b->events)
        return a->events > b->events ? -1 : 1;
    const char *x = link_names[a->link], *y = link_names[b->link];
    size_t nx = strlen(x), ny = strlen(y), n = nx < ny ? nx : ny;
    int c = memcmp(x, y, n);
    return c ? c : (nx > ny) - (nx < ny);
}

static void check_stats(la_db *db, const model *m, int ws, int link, const char *who)
{
    la_live_stats st = LA_LIVE_STATS_INIT;
    la_str l = link >= 0 ? S(link_names[link]) : (la_str){NULL, 0};
    int rc = la_live(db, S(ws_names[ws]), l, &st);
    TU_CHECK(rc == LA_OK, "%s: la_live: %s", who, la_errmsg());
    mstats want = model_stats(m, ws, link, clock_ms);
    TU_CHECK(st.events == want.events && st.active_visitors == want.active && st.last_ts == want.last,
             "%s: clock %lld ws %d link %d: got %llu events, %llu active, last %lld; want %llu, %llu, %lld",
             who, (long long)clock_ms, ws, link, (unsigned long long)st.events,
             (unsigned long long)st.active_visitors, (long long)st.last_ts,
             (unsigned long long)want.events, (unsigned long long)want.active, (long long)want.last);
    TU_CHECK(st.now == la_floor_div(clock_ms, MIN) * MIN && st.window_min == m->window && st.active_min == m->active,
             "%s: now/window/active", who);
    /* per minute, over the whole window and over its last minute */
    uint64_t counts[64]; /* the tests' windows are shorter */
    int64_t first = 0, nm = la_floor_div(clock_ms, MIN);
    const uint32_t spans[2] = {1, (uint32_t)m->window};
    for (int j = 0; j < 2; j++) {
        uint32_t n = spans[j];
        rc = la_live_minutes(db, S(ws_names[ws]), l, counts, n, &first);
        TU_CHECK(rc == LA_OK && first == (nm - n + 1) * MIN, "%s: la_live_minutes: %s", who, la_errmsg());
        for (uint32_t i = 0; i < n; i++) {
            uint64_t in_minute = 0;
            for (size_t k = 0; k < m->n; k++)
                in_minute += m->ev[k].ws == ws && (link < 0 || m->ev[k].link == link) &&
                        la_floor_div(m->ev[k].ts, MIN) == nm - n + 1 + i;
            TU_CHECK(counts[i] == in_minute, "%s: minute %u of %u: %llu events, want %llu", who, i, n,
                     (unsigned long long)counts[i], (unsigned long long)in_minute);
        }
    }
}

static void check_top(la_db *db, const model *m, int ws, uint32_t k, const char *who)
{
    la_live_board *b;
    int rc = la_live_top(db, S(ws_names[ws]), k, &b);
    TU_CHECK(rc == LA_OK, "%s: la_live_top: %s", who, la_errmsg());
    mrank r[NLINK];
    size_t n = 0;
    for (int l = 0; l < NLINK; l++) {
        mstats s = model_stats(m, ws, l, clock_ms);
        if (s.events)
            r[n++] = (mrank){l, s.events};
    }
    qsort(r, n, sizeof *r, by_rank);
    mstats all = model_stats(m, ws, -1, clock_ms);
    TU_CHECK(b->links == n && b->n == (n < k ? n : k), "%s: %zu of %llu links, want %zu", who, b->n,
             (unsigned long long)b->links, n);
    TU_CHECK(b->events == all.events && b->active_visitors == all.active && b->last_ts == all.last,
             "%s: workspace figures", who);
    for (size_t i = 0; i < b->n; i++) {
        const la_live_link *e = &b->entries[i];
        mstats s = model_stats(m, ws, r[i].link, clock_ms);
        TU_CHECK(e->link.len == strlen(link_names[r[i].link]) &&
                     memcmp(e->link.data, link_names[r[i].link], e->link.len) == 0,
                 "%s: rank %zu is '%.*s', want '%s'", who, i, (int)e->link.len, e->link.data,
                 link_names[r[i].link]);
        TU_CHECK(e->events == s.events && e->active_visitors == s.active && e->last_ts == s.last,
                 "%s: rank %zu figures", who, i);
    }
    la_live_board_free(b);
}

/* Memory holds exactly the entries with an event in the window and the visitors active now
 * (right after a call, which evicts at each new minute). */
static void check_usage(la_db *db, const model *m, const char *who)
{
    size_t want_entries = 0, want_vis = 0;
    for (int w = 0; w < NWS; w++) {
        mstats s = model_stats(m, w, -1, clock_ms);
        want_entries += s.events != 0;
        want_vis += s.active;
        for (int l = 0; l < NLINK; l++) {
            mstats t = model_stats(m, w, l, clock_ms);
            want_entries += t.events != 0;
            want_vis += t.active;
        }
    }
    size_t entries, vis;
    pthread_mutex_lock(&db->mu);
    la_live_usage(db->live, &entries, &vis);
    pthread_mutex_unlock(&db->mu);
    TU_CHECK(entries == want_entries && vis == want_vis, "%s: %zu entries, %zu visitors; want %zu, %zu",
             who, entries, vis, want_entries, want_vis);
}

static void check_all(la_db *db, const model *m, const char *who)
{
    for (int w = 0; w < NWS; w++) {
        check_stats(db, m, w, -1, who);
        for (int l = 0; l < NLINK; l++)
            check_stats(db, m, w, l, who);
        check_top(db, m, w, 1, who);
        check_top(db, m, w, 3, who);
        check_top(db, m, w, NLINK + 1, who);
    }
    check_usage(db, m, who);
}

static la_options live_options(const model *m, int64_t skew_ms)
{
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 64; /* rebuilds read sealed blocks and the tail */
    o.live_window_min = (uint32_t)m->window;
    o.live_active_min = (uint32_t)m->active;
    o.future_skew_ms = skew_ms;
    return o;
}

/* Random events around an advancing clock; every answer of the writer (reopened now and then)
 * and of a long-lived read-only handle compared with the model. */
static void random_run(uint64_t seed, model *m, int64_t skew_ms, int steps)
{
    char *dir = tu_tmpdir();
    install_clock(T0);
    la_options o = live_options(m, skew_ms);
    la_db *db, *ro;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    ck_assert_int_eq(la_open(&ro, dir, LA_OPEN_READONLY, &o), LA_OK);
    uint64_t s = seed;
    la_event batch[40];
    for (int step = 0; step < steps; step++) {
        uint64_t r = tu_rand(&s) % 20;
        clock_ms += r < 10 ? (int64_t)(tu_rand(&s) % 90000) : r < 17 ? (int64_t)(1 + tu_rand(&s) % 3) * MIN
                  : r < 19 ? 0 : (int64_t)(2 * 60 + tu_rand(&s) % 60) * MIN; /* an idle gap */
        size_t n = tu_rand(&s) % 40;
        for (size_t i = 0; i < n; i++) {
            mev e;
            e.ws = tu_rand(&s) % 5 == 0 ? 2 : (int)(tu_rand(&s) % 2);
            uint64_t a = tu_rand(&s) % NLINK, b = tu_rand(&s) % NLINK;
            e.link = (int)(a < b ? a : b); /* small links more often: ties and a real ranking */
            uint64_t kind = tu_rand(&s) % 10;
            e.ts = kind < 8 ? clock_ms - (int64_t)(tu_rand(&s) % (uint64_t)((m->window + 5) * MIN))
                 : kind < 9 ? clock_ms + (int64_t)(tu_rand(&s) % (uint64_t)(skew_ms + 1))
                            : clock_ms - (int64_t)(1 + tu_rand(&s) % 3) * DAY_MS; /* late */
            e.vis = tu_rand(&s) % 25;
            model_add(m, e);
            batch[i] = event_of(&e);
            batch[i].session_id = step;
        }
        ck_assert_int_eq(la_append_batch(db, batch, n, NULL), LA_OK);
        char who[64];
        snprintf(who, sizeof who, "seed %llu step %d writer", (unsigned long long)seed, step);
        check_all(db, m, who);
        if (step % 7 == 3) {
            ck_assert_int_eq(la_flush(db), LA_OK);
            snprintf(who, sizeof who, "seed %llu step %d read-only", (unsigned long long)seed, step);
            check_all(ro, m, who);
        }
        if (step % 23 == 11) { /* a restart loses nothing */
            la_close(db);
            ck_assert_int_eq(la_open(&db, dir, 0, &o), LA_OK);
            snprintf(who, sizeof who, "seed %llu step %d reopened", (unsigned long long)seed, step);
            check_all(db, m, who);
        }
    }
    la_close(ro);
    la_close(db);
    finish(dir);
    free(m->ev);
}

START_TEST(live__model_defaults)
{
    model m = {NULL, 0, 0, 30, 5, 60};
    random_run(1 + (uint64_t)_i, &m, 3600000, 150);
}
END_TEST

START_TEST(live__model_small_windows)
{
    /* a 7-minute window, 3 active minutes, 150 s of skew (the horizon rounds up to 3 minutes) */
    model m = {NULL, 0, 0, 7, 3, 3};
    random_run(100 + (uint64_t)_i, &m, 150000, 200);
}
END_TEST

/* One event a minute for 40 minutes, then the clock alone moves on: the count falls by one a
 * minute (the window slides, it never resets) until the last event leaves it. */
START_TEST(live__slides_minute_by_minute)
{
    char *dir = tu_tmpdir();
    int64_t base = la_floor_div(T0, MIN) * MIN;
    install_clock(base);
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, NULL), LA_OK);
    for (int64_t k = 0; k < 40; k++) {
        clock_ms = base + k * MIN + 1000;
        la_event ev = {.ts = clock_ms, .workspace = S("w"), .link = S("a"), .event_type = S("click"),
                       .visitor_id = (uint64_t)k};
        ck_assert_int_eq(la_append(db, &ev), LA_OK);
    }
    for (int64_t now = 39; now <= 75; now++) {
        clock_ms = base + now * MIN + 59999;
        la_live_stats st = LA_LIVE_STATS_INIT;
        ck_assert_int_eq(la_live(db, S("w"), S("a"), &st), LA_OK);
        int64_t first = now - 29 > 0 ? now - 29 : 0, last = now < 39 ? now : 39;
        uint64_t want = last >= first ? (uint64_t)(last - first + 1) : 0;
        ck_assert_uint_eq(st.events, want);
        ck_assert_uint_eq(st.active_visitors, now - 4 <= 39 ? (uint64_t)(39 - (now - 4 > 0 ? now - 4 : 0) + 1) : 0);
        ck_assert_int_eq(st.last_ts, want ? base + 39 * MIN + 1000 : -1);
    }
    la_close(db);
    finish(dir);
}
END_TEST

/* Thousands of links and visitors, then an hour of silence: everything is freed. */
START_TEST(live__evicts_idle_entries)
{
    char *dir = tu_tmpdir();
    install_clock(T0);
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, NULL), LA_OK);
    size_t entries, vis;
    la_live_stats st = LA_LIVE_STATS_INIT;
    la_live_usage(db->live, &entries, &vis);
    ck_assert_uint_eq(entries, 0);
    ck_assert_int_eq(la_live(db, S("w1"), (la_str){NULL, 0}, &st), LA_OK); /* the first call starts the layer */
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "link_%d", i);
        la_event ev = {.ts = T0 - (i % 20) * MIN, .workspace = S(i % 2 ? "w1" : "w2"), .link = S(name),
                       .event_type = S("click"), .visitor_id = (uint64_t)i};
        ck_assert_int_eq(la_append(db, &ev), LA_OK);
    }
    la_live_usage(db->live, &entries, &vis);
    ck_assert_uint_eq(entries, 5002);
    la_live_board *b;
    clock_ms += 31 * MIN;
    ck_assert_int_eq(la_live_top(db, S("w1"), 10, &b), LA_OK);
    ck_assert_uint_eq(b->n, 0);
    ck_assert_uint_eq(b->links, 0);
    la_live_board_free(b);
    la_live_usage(db->live, &entries, &vis);
    ck_assert_uint_eq(entries, 0);
    ck_assert_uint_eq(vis, 0);
    la_close(db);
    finish(dir);
}
END_TEST

/* A writer killed without closing (its appends are in the mapped segments): the next open
 * rebuilds the same figures from the raw events. */
START_TEST(live__rebuilt_after_kill)
{
    char *dir = tu_tmpdir();
    install_clock(T0);
    model m = {NULL, 0, 0, 30, 5, 60};
    uint64_t s = 42;
    for (int i = 0; i < 3000; i++) {
        mev e = {(int)(tu_rand(&s) % NWS), (int)(tu_rand(&s) % NLINK),
                 T0 - 40 * MIN + (int64_t)(tu_rand(&s) % (uint64_t)(100 * MIN)), tu_rand(&s) % 300};
        model_add(&m, e);
    }
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        la_db *db;
        if (la_open(&db, dir, LA_OPEN_CREATE, NULL) != LA_OK)
            _exit(1);
        for (size_t i = 0; i < m.n; i++) {
            la_event ev = event_of(&m.ev[i]);
            if (la_append(db, &ev) != LA_OK)
                _exit(1);
        }
        kill(getpid(), SIGKILL);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, 0, NULL), LA_OK);
    check_all(db, &m, "after SIGKILL");
    clock_ms += 17 * MIN; /* and the window slides on from there */
    check_all(db, &m, "after SIGKILL, 17 minutes later");
    la_close(db);
    finish(dir);
    free(m.ev);
}
END_TEST

/* A read-only handle counts a writer's rows by row number; when the writer seals a day of the
 * window (rewrites it sorted, late rows merged in) the reader must count again, not read on. */
START_TEST(live__read_only_across_sealing)
{
    char *dir = tu_tmpdir();
    int64_t t = (T0 / DAY_MS + 1) * DAY_MS + 10 * MIN + 30000; /* 00:10:30: the window starts the day before */
    install_clock(t);
    model m = {NULL, 0, 0, 30, 5, 60};
    la_options o = live_options(&m, 3600000);
    o.no_auto_seal = 1;
    la_db *db, *ro;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    ck_assert_int_eq(la_open(&ro, dir, LA_OPEN_READONLY, &o), LA_OK);
    uint64_t s = 7;
    for (int half = 0; half < 8; half++) {
        int round = half / 2;
        for (int i = 0; i < 300; i++) {
            mev e = {(int)(tu_rand(&s) % NWS), (int)(tu_rand(&s) % NLINK),
                     clock_ms - 35 * MIN + (int64_t)(tu_rand(&s) % (uint64_t)(40 * MIN)), tu_rand(&s) % 50};
            model_add(&m, e);
            la_event ev = event_of(&e);
            ck_assert_int_eq(la_append(db, &ev), LA_OK);
        }
        ck_assert_int_eq(la_flush(db), LA_OK);
        char who[64];
        if (half % 2 == 0) { /* the reader counts these rows, then the next ones after a seal */
            snprintf(who, sizeof who, "round %d, read-only", round);
            check_all(ro, &m, who);
            continue;
        }
        la_compact_stats cs;
        ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, &cs), LA_OK);
        ck_assert_uint_ge(cs.days, 1);
        ck_assert_int_eq(la_flush(db), LA_OK);
        if (round % 2) { /* a scan first opens the sealed files on the reader */
            la_cursor *c;
            la_batch b;
            ck_assert_int_eq(la_scan(ro, NULL, &c), LA_OK);
            while (la_cursor_next(c, &b) == 1)
                ;
            la_cursor_close(c);
        }
        snprintf(who, sizeof who, "round %d, read-only after sealing", round);
        check_all(ro, &m, who);
        snprintf(who, sizeof who, "round %d, writer", round);
        check_all(db, &m, who);
        clock_ms += 2 * MIN;
    }
    la_close(ro);
    la_close(db);
    finish(dir);
    free(m.ev);
}
END_TEST


/* With a future skew above the horizon's cap of a day, an event further ahead is stored but
 * not yet in the window; it counts once the clock comes within the horizon of it, on the
 * writer and on a reader that read it before. */
START_TEST(live__far_future_events_enter_the_window)
{
    char *dir = tu_tmpdir();
    install_clock(T0);
    la_options o = LA_OPTIONS_INIT;
    o.future_skew_ms = 3 * DAY_MS;
    la_db *db, *ro;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    ck_assert_int_eq(la_open(&ro, dir, LA_OPEN_READONLY, &o), LA_OK);
    la_live_stats st = LA_LIVE_STATS_INIT;
    ck_assert_int_eq(la_live(db, S("w"), (la_str){NULL, 0}, &st), LA_OK); /* the layer starts */
    la_event ev = {.ts = T0 + 2000 * MIN, .workspace = S("w"), .link = S("l"), .event_type = S("click"),
                   .visitor_id = 1};
    ck_assert_int_eq(la_append(db, &ev), LA_OK);
    ck_assert_int_eq(la_flush(db), LA_OK);
    la_db *h[2] = {db, ro};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(la_live(h[i], S("w"), (la_str){NULL, 0}, &st), LA_OK);
        ck_assert_uint_eq(st.events, 0); /* 2000 minutes ahead: beyond the horizon */
    }
    clock_ms += 600 * MIN; /* now 1400 minutes ahead: within the horizon (1440) */
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(la_live(h[i], S("w"), (la_str){NULL, 0}, &st), LA_OK);
        ck_assert_msg(st.events == 1, "handle %d: %llu events", i, (unsigned long long)st.events);
        st = (la_live_stats)LA_LIVE_STATS_INIT;
        ck_assert_int_eq(la_live(h[i], S("w"), S("l"), &st), LA_OK);
        ck_assert_uint_eq(st.events, 1);
        la_live_board *b;
        ck_assert_int_eq(la_live_top(h[i], S("w"), 3, &b), LA_OK);
        ck_assert_uint_eq(b->n, 1);
        ck_assert_uint_eq(b->entries[0].events, 1);
        la_live_board_free(b);
    }
    la_close(ro);
    la_close(db);
    finish(dir);
}
END_TEST

/* An event stored days ahead (the skew allows any time), then a restart: the writer's layer
 * counts the window's days when it starts and later rows from its appends, so the day of that
 * event must be read once the window reaches it. */
START_TEST(live__restart_with_an_event_days_ahead)
{
    char *dir = tu_tmpdir();
    install_clock(T0);
    la_options o = LA_OPTIONS_INIT;
    o.future_skew_ms = -1;
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    la_event ev = {.ts = T0 + 3 * DAY_MS, .workspace = S("w"), .link = S("l"), .event_type = S("click"),
                   .visitor_id = 1};
    ck_assert_int_eq(la_append(db, &ev), LA_OK);
    la_close(db);
    ck_assert_int_eq(la_open(&db, dir, 0, &o), LA_OK);
    la_live_stats st = LA_LIVE_STATS_INIT;
    ck_assert_int_eq(la_live(db, S("w"), (la_str){NULL, 0}, &st), LA_OK);
    ck_assert_uint_eq(st.events, 0); /* three days ahead: beyond the horizon (a day) */
    clock_ms += 3 * DAY_MS;
    ck_assert_int_eq(la_live(db, S("w"), (la_str){NULL, 0}, &st), LA_OK);
    ck_assert_msg(st.events == 1, "%llu events at the event's minute, want 1", (unsigned long long)st.events);
    la_close(db);
    finish(dir);
}
END_TEST

/* A clock before 1970 (events cannot be: ts >= 0): the window's minutes are negative, the
 * events' are not, and nothing reads outside a ring (ASan checks). */
START_TEST(live__clock_before_1970)
{
    char *dir = tu_tmpdir();
    install_clock(-100 * MIN);
    la_options o = LA_OPTIONS_INIT;
    o.future_skew_ms = -1; /* the horizon: a day */
    o.no_auto_retention = 1;
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    la_live_board *b;
    ck_assert_int_eq(la_live_top(db, S("w"), 3, &b), LA_OK);
    la_live_board_free(b);
    la_event ev = {.ts = 0, .workspace = S("w"), .link = S("l"), .event_type = S("click"), .visitor_id = 1};
    ck_assert_int_eq(la_append(db, &ev), LA_OK);
    for (int k = 0; k < 3; k++, clock_ms += MIN) {
        ck_assert_int_eq(la_live_top(db, S("w"), 3, &b), LA_OK);
        ck_assert_uint_eq(b->n, 1);
        ck_assert_uint_eq(b->entries[0].events, 1);
        la_live_board_free(b);
        uint64_t counts[30];
        ck_assert_int_eq(la_live_minutes(db, S("w"), S("l"), counts, 30, NULL), LA_OK);
        for (int i = 0; i < 30; i++)
            ck_assert_uint_eq(counts[i], 0); /* minute 0 is ahead of the clock */
    }
    la_close(db);
    finish(dir);
}
END_TEST

/* The system clock set back: events the sweep had dropped are in the window again, and the
 * rings held minutes beyond its new end. Writer and read-only handle count the window again
 * and agree with the model at every step, forward and back, by minutes and by a day. */
START_TEST(live__clock_set_back)
{
    char *dir = tu_tmpdir();
    install_clock(T0);
    model m = {NULL, 0, 0, 30, 5, 60};
    la_options o = live_options(&m, 3600000);
    la_db *db, *ro;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    ck_assert_int_eq(la_open(&ro, dir, LA_OPEN_READONLY, &o), LA_OK);
    const int64_t moves[] = {0, 45 * MIN, -40 * MIN, 3 * MIN, -DAY_MS, DAY_MS + 50 * MIN, -2 * MIN};
    for (int step = 0; step < (int)(sizeof moves / sizeof *moves); step++) {
        clock_ms += moves[step];
        for (int i = 0; i < 12; i++) { /* the last 20 minutes, and a few ahead */
            mev e = {i % 2, i % NLINK, clock_ms - (int64_t)(i * 97 % 20) * MIN + (i % 5 == 0 ? 30 * MIN : 0),
                     (uint64_t)(step * 5 + i % 5)};
            model_add(&m, e);
            la_event ev = event_of(&e);
            ck_assert_int_eq(la_append(db, &ev), LA_OK);
        }
        ck_assert_int_eq(la_flush(db), LA_OK);
        char who[64];
        snprintf(who, sizeof who, "step %d writer", step);
        check_all(db, &m, who);
        snprintf(who, sizeof who, "step %d read-only", step);
        check_all(ro, &m, who);
    }
    la_close(ro);
    la_close(db);
    finish(dir);
    free(m.ev);
}
END_TEST

/* A board ranks links by window sums it keeps: the next minute's board slides them (the minute
 * that left out, the one that entered in). An event at the future end of the window makes a
 * ring reuse the slot of its oldest minute, a counted one: the kept sum must drop it then,
 * since the slide no longer finds it. (A board recounts the links it shows, so a wrong sum
 * shows as a wrong ranking.) Window 7, horizon 3: the ring holds 10 minutes. */
START_TEST(live__kept_sums_follow_a_reused_ring)
{
    char *dir = tu_tmpdir();
    int64_t t = la_floor_div(T0, MIN); /* minute of the first board */
    install_clock(t * MIN + 30000);
    la_options o = LA_OPTIONS_INIT;
    o.live_window_min = 7;
    o.live_active_min = 3;
    o.future_skew_ms = 3 * MIN;
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    la_live_board *b;
    ck_assert_int_eq(la_live_top(db, S("w"), 5, &b), LA_OK); /* the layer starts */
    la_live_board_free(b);
    la_event ev = {.workspace = S("w"), .link = S("a"), .event_type = S("click"), .visitor_id = 1};
    int64_t minutes[] = {t - 6, t - 5}; /* a: the window's two oldest minutes */
    for (int i = 0; i < 2; i++) {
        ev.ts = minutes[i] * MIN + 1000;
        ck_assert_int_eq(la_append(db, &ev), LA_OK);
    }
    ev.link = S("b");
    ev.ts = t * MIN;
    for (int i = 0; i < 3; i++) /* b: three events now */
        ck_assert_int_eq(la_append(db, &ev), LA_OK);
    ck_assert_int_eq(la_live_top(db, S("w"), 5, &b), LA_OK);
    ck_assert_uint_eq(b->n, 2);
    ck_assert_uint_eq(b->entries[0].events, 3);
    ck_assert_uint_eq(b->entries[1].events, 2);
    la_live_board_free(b);
    /* a minute later (a's first minute left), a's event 3 minutes ahead: its slot held t - 6 */
    clock_ms += MIN;
    ev.link = S("a");
    ev.ts = (t + 4) * MIN + 1000;
    ck_assert_int_eq(la_append(db, &ev), LA_OK);
    ck_assert_int_eq(la_live_top(db, S("w"), 1, &b), LA_OK); /* b 3, a 2: b leads */
    ck_assert_uint_eq(b->n, 1);
    ck_assert_msg(b->entries[0].link.len == 1 && b->entries[0].link.data[0] == 'b', "'%.*s' leads, want b",
                  (int)b->entries[0].link.len, b->entries[0].link.data);
    ck_assert_uint_eq(b->entries[0].events, 3);
    la_live_board_free(b);
    la_close(db);
    finish(dir);
}
END_TEST

/* A clock that moves a second at every reading: the future-skew check of each append reads a
 * later time than the one the realtime layer read when the batch began. Every event the check
 * accepts must count, on the writer as after a reopen. */
static int64_t ticking_now(void)
{
    clock_ms += 1000;
    return clock_ms;
}

START_TEST(live__clock_turns_during_a_batch)
{
    char *dir = tu_tmpdir();
    install_clock(la_floor_div(T0, MIN) * MIN + 50000);
    model m = {NULL, 0, 0, 30, 5, 3};
    la_options o = live_options(&m, 150000);
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    clock_io.now_ms = ticking_now;
    la_event evs[120];
    int64_t start = clock_ms;
    for (int i = 0; i < 120; i++) { /* each at most the skew ahead of the clock the check reads */
        mev e = {i % NWS, i % NLINK, start + i * 1000 + 149000, (uint64_t)i};
        model_add(&m, e);
        evs[i] = event_of(&e);
    }
    ck_assert_int_eq(la_append_batch(db, evs, 120, NULL), LA_OK);
    clock_io.now_ms = fake_now;
    check_all(db, &m, "writer");
    la_close(db);
    ck_assert_int_eq(la_open(&db, dir, 0, &o), LA_OK);
    check_all(db, &m, "reopened");
    la_close(db);
    finish(dir);
    free(m.ev);
}
END_TEST

START_TEST(live__bad_arguments)
{
    char *dir = tu_tmpdir();
    install_clock(T0);
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, NULL), LA_OK);
    la_live_stats st = LA_LIVE_STATS_INIT;
    ck_assert_int_eq(la_live(NULL, S("w"), S("a"), &st), LA_EINVAL);
    ck_assert_int_eq(la_live(db, (la_str){NULL, 0}, S("a"), &st), LA_EINVAL);
    ck_assert_int_eq(la_live(db, S("w"), S("a"), NULL), LA_EINVAL);
    char big[LA_MAX_STR + 1];
    memset(big, 'x', sizeof big);
    ck_assert_int_eq(la_live(db, (la_str){big, sizeof big}, S("a"), &st), LA_EINVAL);
    st.version = 99;
    ck_assert_int_eq(la_live(db, S("w"), S("a"), &st), LA_EINVAL);
    la_live_board *b = (la_live_board *)&st;
    ck_assert_int_eq(la_live_top(db, S("w"), 0, &b), LA_EINVAL);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(la_live_top(db, S("w"), 10001, &b), LA_EINVAL);
    uint64_t counts[31];
    ck_assert_int_eq(la_live_minutes(db, S("w"), S("a"), counts, 0, NULL), LA_EINVAL);
    ck_assert_int_eq(la_live_minutes(db, S("w"), S("a"), counts, 31, NULL), LA_EINVAL);
    ck_assert_int_eq(la_live_minutes(db, S("w"), S("a"), NULL, 30, NULL), LA_EINVAL);
    /* an empty database: zeros, not errors */
    st.version = LA_LIVE_VERSION;
    ck_assert_int_eq(la_live(db, S("w"), (la_str){NULL, 0}, &st), LA_OK);
    ck_assert_uint_eq(st.events, 0);
    ck_assert_int_eq(st.last_ts, -1);
    la_live_board_free(NULL);
    la_close(db);
    finish(dir);
}
END_TEST

static char *run_live(const char *dir, char **argv, int *status)
{
    char out[600];
    snprintf(out, sizeof out, "%s.out", dir);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (!freopen(out, "w", stdout))
            _exit(99);
        int argc = 0;
        while (argv[argc])
            argc++;
        int st = lactl_live(argc, argv);
        fflush(NULL);
        _exit(st);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    *status = WEXITSTATUS(st);
    FILE *f = fopen(out, "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    unlink(out);
    return buf;
}

/* lactl live --once: the hand-counted top links of a small database (clock T0 = 10:00:30). */
START_TEST(live__lactl_once)
{
    char *dir = tu_tmpdir();
    install_clock(T0);
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, NULL), LA_OK);
    static const struct {
        const char *ws, *link;
        int64_t off;
        uint64_t vis;
    } evs[] = {
        {"w1", "a", -1 * MIN, 1},  {"w1", "a", -2 * MIN, 2},  {"w1", "a", -10 * MIN, 1},
        {"w1", "b", -40 * MIN, 3}, {"w1", "b", 5 * MIN, 3},   {"w1", "c", -20 * MIN, 4},
        {"w1", "c", -20 * MIN, 4}, {"w1", "c", -20 * MIN, 4}, {"w2", "x", 0, 9},
        {"w1", "t\tab", -3 * MIN, 5},
    };
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
        la_event ev = {.ts = T0 + evs[i].off, .workspace = S(evs[i].ws), .link = S(evs[i].link),
                       .event_type = S("click"), .visitor_id = evs[i].vis};
        ck_assert_int_eq(la_append(db, &ev), LA_OK);
    }
    ck_assert_int_eq(la_flush(db), LA_OK);
    int st;
    char *out = run_live(dir, (char *[]){"live", dir, "--workspace", "w1", "--once", "--format", "tsv", NULL}, &st);
    ck_assert_int_eq(st, 0);
    ck_assert_str_eq(out, "link\tevents\tactive_visitors\tlast_event\n"
                          "a\t3\t2\t2026-11-01T09:59:30.000Z\n"
                          "c\t3\t0\t2026-11-01T09:40:30.000Z\n"
                          "b\t1\t1\t2026-11-01T10:05:30.000Z\n"
                          "t\\tab\t1\t1\t2026-11-01T09:57:30.000Z\n");
    free(out);
    out = run_live(dir, (char *[]){"live", dir, "--workspace", "w1", "--once", "--top", "1", "--format", "json", NULL}, &st);
    ck_assert_int_eq(st, 0);
    ck_assert_str_eq(out, "{\"workspace\":\"w1\",\"now\":\"2026-11-01T10:00:00.000Z\",\"now_ms\":1793527200000,"
                          "\"window_min\":30,\"active_min\":5,\"events\":8,\"active_visitors\":4,"
                          "\"last_event_ms\":1793527530000,\"links\":4,\"top\":[\n"
                          "{\"link\":\"a\",\"events\":3,\"active_visitors\":2,\"last_event_ms\":1793527170000}\n"
                          "]}\n");
    free(out);
    out = run_live(dir, (char *[]){"live", dir, "--workspace", "w1", "--once", "--format", "table", NULL}, &st);
    ck_assert_int_eq(st, 0);
    ck_assert_str_eq(out, "workspace w1 at 2026-11-01T10:00:00.000Z: 8 events in 30 min, 4 visitors active in 5 min, "
                          "last 2026-11-01T10:05:30.000Z, 4 links\n"
                          "link   events  active_visitors  last_event\n"
                          "a           3                2  2026-11-01T09:59:30.000Z\n"
                          "c           3                0  2026-11-01T09:40:30.000Z\n"
                          "b           1                1  2026-11-01T10:05:30.000Z\n"
                          "t\\tab       1                1  2026-11-01T09:57:30.000Z\n");
    free(out);
    /* a 15-minute window leaves c out */
    out = run_live(dir, (char *[]){"live", dir, "--workspace", "w1", "--once", "--window", "15", "--format", "tsv", NULL}, &st);
    ck_assert_int_eq(st, 0);
    ck_assert_ptr_null(strstr(out, "\nc\t"));
    ck_assert_ptr_nonnull(strstr(out, "\na\t3\t2\t"));
    free(out);
    out = run_live(dir, (char *[]){"live", dir, "--once", NULL}, &st);
    ck_assert_int_eq(st, 2);
    free(out);
    out = run_live(dir, (char *[]){"live", dir, "--workspace", "w1", "--top", "0", NULL}, &st);
    ck_assert_int_eq(st, 2);
    free(out);
    out = run_live(dir, (char *[]){"live", "--help", NULL}, &st);
    ck_assert_int_eq(st, 0);
    ck_assert_ptr_nonnull(strstr(out, "usage: lactl live DB"));
    free(out);
    /* test_lactl checks that `lactl help` lists it */
    la_close(db);
    finish(dir);
}
END_TEST

static Suite *live_suite(void)
{
    Suite *s = suite_create("live");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, live__model_defaults, 0, 3);
    tcase_add_loop_test(tc, live__model_small_windows, 0, 3);
    suite_add_tcase(s, tc);
    tc = tcase_create("window");
    tcase_add_test(tc, live__slides_minute_by_minute);
    tcase_add_test(tc, live__evicts_idle_entries);
    tcase_add_test(tc, live__rebuilt_after_kill);
    tcase_add_test(tc, live__read_only_across_sealing);
    tcase_add_test(tc, live__clock_turns_during_a_batch);
    tcase_add_test(tc, live__far_future_events_enter_the_window);
    tcase_add_test(tc, live__kept_sums_follow_a_reused_ring);
    tcase_add_test(tc, live__clock_set_back);
    tcase_add_test(tc, live__restart_with_an_event_days_ahead);
    tcase_add_test(tc, live__clock_before_1970);
    tcase_add_test(tc, live__bad_arguments);
    suite_add_tcase(s, tc);
    tc = tcase_create("lactl");
    tcase_add_test(tc, live__lactl_once);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(live_suite)
