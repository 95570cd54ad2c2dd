/* test_engine.c — the engine against an in-memory model: append/reopen/scan round trips with
 * filters, late events, codecs, concurrent readers, errors, SIGKILL crashes and damaged files. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "la.h"
#include "testutil.h"

#define DAY_MS 86400000LL
#define T0 (20362LL * DAY_MS) /* 2025-10-01 */

/* Model events: strings drawn from small pools so that dictionaries and filters get exercised. */
typedef struct mev {
    int64_t ts;
    uint16_t ws, link, type;
    uint64_t vis, ses;
    int has_value;
    int64_t value;
    int16_t dim[5]; /* -1 absent, -2 empty string, else pool index */
} mev;

static const char *const types[] = {"click", "lead", "sale", "signup"};
static char pool_ws[50][16], pool_link[400][24], pool_dim[5][300][32];

static void init_pools(void)
{
    for (int i = 0; i < 50; i++)
        snprintf(pool_ws[i], sizeof pool_ws[i], "ws_%d", i);
    for (int i = 0; i < 400; i++)
        snprintf(pool_link[i], sizeof pool_link[i], "lnk_%d_%c", i * 7919 % 10007, 'a' + i % 26);
    for (int d = 0; d < 5; d++)
        for (int i = 0; i < 300; i++)
            snprintf(pool_dim[d][i], sizeof pool_dim[d][i], "d%d\t%d\xff", d, i); /* tabs, high bytes */
}

static mev gen_event(uint64_t *rng, int64_t now, int ndays_late)
{
    mev e;
    memset(&e, 0, sizeof e);
    uint64_t r = tu_rand(rng);
    e.ts = now;
    if (ndays_late && r % 100 < 4) /* late: minutes to days back, never before T0 */
        e.ts = now - (int64_t)(tu_rand(rng) % ((uint64_t)ndays_late * DAY_MS));
    if (e.ts < T0)
        e.ts = T0;
    e.ws = (uint16_t)(tu_rand(rng) % 50 * (tu_rand(rng) % 50) / 50);
    e.link = (uint16_t)(tu_rand(rng) % 400);
    e.type = (uint16_t)(tu_rand(rng) % 10 < 8 ? 0 : tu_rand(rng) % 4);
    e.vis = tu_rand(rng) % 5000;
    e.ses = e.vis * 7 + tu_rand(rng) % 3;
    if (e.vis == 17)
        e.vis = UINT64_MAX; /* extreme ids round-trip too */
    e.has_value = e.type == 2;
    e.value = e.has_value ? (int64_t)(tu_rand(rng) % 100000) - 500 : 0;
    for (int d = 0; d < 5; d++) {
        uint64_t x = tu_rand(rng) % 100;
        e.dim[d] = x < 10 ? -1 : x < 12 ? -2 : (int16_t)(tu_rand(rng) % (d == 4 ? 300 : 40));
    }
    return e;
}

static la_str S(const char *s) { return (la_str){s, (uint32_t)strlen(s)}; }

static la_event to_event(const mev *m, la_str *dims)
{
    la_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = m->ts;
    ev.workspace = S(pool_ws[m->ws]);
    ev.link = S(pool_link[m->link]);
    ev.event_type = S(types[m->type]);
    ev.visitor_id = m->vis;
    ev.session_id = m->ses;
    ev.has_value = m->has_value;
    ev.value = m->value;
    for (int d = 0; d < 5; d++)
        dims[d] = m->dim[d] == -1 ? (la_str){NULL, 0}
                  : m->dim[d] == -2 ? (la_str){"", 0}
                                    : S(pool_dim[d][m->dim[d]]);
    ev.dims = dims;
    ev.ndims = 5;
    return ev;
}

static int str_eq(la_str a, la_str b)
{
    if (!a.data || !b.data)
        return !a.data && !b.data;
    return a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
}

/* Does scanned row r of batch b equal model event m? */
static int row_eq(const la_batch *b, size_t r, const mev *m)
{
    la_str dims[5];
    la_event ev = to_event(m, dims);
    if (b->ts[r] != ev.ts || b->visitor_id[r] != ev.visitor_id || b->session_id[r] != ev.session_id ||
        b->has_value[r] != (ev.has_value != 0) || (ev.has_value && b->value[r] != ev.value))
        return 0;
    if (!str_eq(b->workspace.dict[b->workspace.ids[r]], ev.workspace) ||
        !str_eq(b->link.dict[b->link.ids[r]], ev.link) ||
        !str_eq(b->event_type.dict[b->event_type.ids[r]], ev.event_type))
        return 0;
    for (int d = 0; d < 5; d++)
        if (!str_eq(b->dims[d].dict[b->dims[d].ids[r]], dims[d]))
            return 0;
    return 1;
}

typedef struct mfilter {
    int64_t from, to;
    int ws, link, type, dim, dimval; /* -1 = no filter; dimval -1 = absent */
} mfilter;

static int model_match(const mev *m, const mfilter *f)
{
    return m->ts >= f->from && m->ts < f->to && (f->ws < 0 || m->ws == f->ws) &&
           (f->link < 0 || m->link == f->link) && (f->type < 0 || m->type == f->type) &&
           (f->dim < 0 || m->dim[f->dim] == f->dimval);
}

/* Stable sort of model indices by day: the engine returns days in order, append order within. */
static int64_t *g_sort_ts;
static int cmp_day(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int64_t dx = g_sort_ts[x] / DAY_MS, dy = g_sort_ts[y] / DAY_MS;
    if (dx != dy)
        return dx < dy ? -1 : 1;
    return x < y ? -1 : x > y;
}

static size_t *day_order(const mev *m, size_t n)
{
    size_t *idx = malloc((n + 1) * sizeof *idx);
    g_sort_ts = malloc((n + 1) * sizeof *g_sort_ts);
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        g_sort_ts[i] = m[i].ts;
    }
    qsort(idx, n, sizeof *idx, cmp_day);
    free(g_sort_ts);
    return idx;
}

/* The order of a sealed day: by workspace, link (their bytes), ts; append order breaks ties
 * (the sort is stable in effect: the engine sorts by row index last). */
static const mev *g_sealed_m;
static int cmp_sealed(const void *a, const void *b)
{
    const mev *x = &g_sealed_m[*(const size_t *)a], *y = &g_sealed_m[*(const size_t *)b];
    int64_t dx = x->ts / DAY_MS, dy = y->ts / DAY_MS;
    if (dx != dy)
        return dx < dy ? -1 : 1;
    int c = strcmp(pool_ws[x->ws], pool_ws[y->ws]);
    if (!c)
        c = strcmp(pool_link[x->link], pool_link[y->link]);
    if (c)
        return c;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : *(const size_t *)a > *(const size_t *)b;
}

static size_t *sealed_order(const mev *m, size_t n)
{
    size_t *idx = malloc((n + 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    g_sealed_m = m;
    qsort(idx, n, sizeof *idx, cmp_sealed);
    return idx;
}

/* Scan with filter f and compare with the model, in order. Returns rows matched. */
static size_t check_scan(la_db *db, const mev *m, size_t n, const size_t *order, const mfilter *f)
{
    la_filter lf = LA_FILTER_INIT;
    lf.from = f->from;
    lf.to = f->to;
    if (f->ws >= 0)
        lf.workspace = S(pool_ws[f->ws]);
    if (f->link >= 0)
        lf.link = S(pool_link[f->link]);
    if (f->type >= 0)
        lf.event_type = S(types[f->type]);
    if (f->dim >= 0) {
        lf.dim = f->dim;
        lf.dim_value = f->dimval == -1 ? (la_str){NULL, 0} : S(pool_dim[f->dim][f->dimval]);
    }
    la_cursor *cur;
    ck_assert_int_eq(la_scan(db, &lf, &cur), LA_OK);
    size_t mi = 0, rows = 0;
    la_batch b;
    int rc;
    while ((rc = la_cursor_next(cur, &b)) == 1) {
        ck_assert_uint_gt(b.nrows, 0);
        for (size_t r = 0; r < b.nrows; r++) {
            while (mi < n && !model_match(&m[order[mi]], f))
                mi++;
            TU_CHECK(mi < n, "scan returned more rows than the model has");
            TU_CHECK(row_eq(&b, r, &m[order[mi]]), "row %zu differs from model event %zu", rows,
                          order[mi]);
            mi++;
            rows++;
        }
    }
    ck_assert_int_eq(rc, 0);
    while (mi < n && !model_match(&m[order[mi]], f))
        mi++;
    ck_assert_msg(mi == n, "scan missed model event %zu", mi < n ? order[mi] : 0);
    la_cursor_close(cur);
    return rows;
}

static const mfilter ALL = {INT64_MIN, INT64_MAX, -1, -1, -1, -1, 0};

static mev *gen_stream(size_t n, uint64_t seed, int days, int late_days)
{
    mev *m = malloc(n * sizeof *m);
    uint64_t rng = seed;
    for (size_t i = 0; i < n; i++)
        m[i] = gen_event(&rng, T0 + (int64_t)((double)i / (double)n * (double)days * DAY_MS), late_days);
    return m;
}

static void append_all(la_db *db, const mev *m, size_t from, size_t to)
{
    for (size_t i = from; i < to;) {
        la_event evs[256];
        la_str dims[256][5];
        size_t k = 0;
        for (; k < 256 && i + k < to; k++)
            evs[k] = to_event(&m[i + k], dims[k]);
        size_t done = 0;
        int arc = la_append_batch(db, evs, k, &done);
        ck_assert_msg(arc == LA_OK, "append: %s", la_errmsg());
        ck_assert_uint_eq(done, k);
        i += k;
    }
}

static void verify_clean(const char *dir)
{
    uint64_t problems = 99;
    ck_assert_int_eq(la_verify(dir, NULL, NULL, &problems), LA_OK);
    ck_assert_uint_eq(problems, 0);
}

START_TEST(engine_roundtrip__million_over_days)
{
    init_pools();
    const size_t n = 1000000;
    mev *m = gen_stream(n, 42, 6, 3);
    size_t *order = day_order(m, n);
    char *dir = tu_tmpdir();
    la_db *db;
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 8192;
    o.no_auto_seal = 1; /* first in append order; sealed below */
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    append_all(db, m, 0, n / 2);
    /* scan mid-way: blocks and tails mixed, in the writing handle */
    size_t *half = day_order(m, n / 2);
    ck_assert_uint_eq(check_scan(db, m, n / 2, half, &ALL), n / 2);
    free(half);
    append_all(db, m, n / 2, n);
    ck_assert_int_eq(la_flush(db), LA_OK);
    la_close(db);
    ck_assert_int_eq(la_open(&db, dir, 0, &o), LA_OK);
    ck_assert_uint_eq(check_scan(db, m, n, order, &ALL), n);
    /* every day sealed: rows come back sorted within each day, filters prune by key range */
    la_compact_stats st;
    ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, &st), LA_OK);
    ck_assert_uint_eq(st.rows, n);
    ck_assert_uint_ge(st.days, 6);
    ck_assert_uint_lt(st.bytes_after, st.bytes_before);
    ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, &st), LA_OK);
    ck_assert_uint_eq(st.days, 0); /* nothing late: nothing to do again */
    free(order);
    order = sealed_order(m, n);
    ck_assert_uint_eq(check_scan(db, m, n, order, &ALL), n);
    la_close(db);
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_READONLY, NULL), LA_OK);
    mfilter f = ALL;
    f.ws = 3;
    check_scan(db, m, n, order, &f);
    f.link = m[500].link;
    f.ws = m[500].ws;
    ck_assert_uint_gt(check_scan(db, m, n, order, &f), 0);
    f = ALL;
    f.type = 2;
    f.from = T0 + DAY_MS / 2;
    f.to = T0 + 3 * DAY_MS + 12345;
    ck_assert_uint_gt(check_scan(db, m, n, order, &f), 0);
    f = ALL;
    f.dim = 4;
    f.dimval = -1;
    ck_assert_uint_gt(check_scan(db, m, n, order, &f), 0);
    f.dim = 0;
    f.dimval = 7;
    f.ws = 0;
    ck_assert_uint_gt(check_scan(db, m, n, order, &f), 0);
    f = ALL;
    f.ws = 0;
    f.from = f.to = T0; /* empty range */
    ck_assert_uint_eq(check_scan(db, m, n, order, &f), 0);
    la_close(db);
    verify_clean(dir);
    tu_rmrf(dir);
    free(dir);
    free(order);
    free(m);
}
END_TEST

START_TEST(engine_roundtrip__codecs_and_reopen_cycles)
{
    init_pools();
    const int codecs[] = {LA_CODEC_NONE, LA_CODEC_LZ4, LA_CODEC_ZSTD};
    for (int ci = 0; ci < 3; ci++) {
        const size_t n = 30000;
        mev *m = gen_stream(n, 7 + (uint64_t)ci, 3, 2);
        char *dir = tu_tmpdir();
        la_options o = LA_OPTIONS_INIT;
        o.codec = codecs[ci];
        o.block_rows = 1000;
        /* many short sessions: each reopen recovers and rotates the tail generation */
        for (size_t part = 0; part < 10; part++) {
            la_db *db;
            ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
            append_all(db, m, part * n / 10, (part + 1) * n / 10);
            if (part % 3 == 0) {
                size_t *ord = day_order(m, (part + 1) * n / 10);
                check_scan(db, m, (part + 1) * n / 10, ord, &ALL);
                free(ord);
            }
            la_close(db);
        }
        la_db *db;
        ck_assert_int_eq(la_open(&db, dir, LA_OPEN_READONLY, NULL), LA_OK);
        size_t *order = day_order(m, n);
        ck_assert_uint_eq(check_scan(db, m, n, order, &ALL), n);
        la_close(db);
        verify_clean(dir);
        tu_rmrf(dir);
        free(dir);
        free(order);
        free(m);
    }
}
END_TEST

START_TEST(engine_readers__see_flushed_and_second_writer_busy)
{
    init_pools();
    const size_t n = 20000;
    mev *m = gen_stream(n, 99, 2, 0);
    /* A reader lists the directory again when its watch saw a change; an I/O backend without
     * watches makes it list at every call. Both must see each flushed day. */
    la_io nowatch = *la_io_posix();
    nowatch.watch_dir = NULL;
    for (int watch = 1; watch >= 0; watch--) {
        la_io_set(watch ? NULL : &nowatch);
        char *dir = tu_tmpdir();
        la_db *w, *r, *w2;
        la_options o = LA_OPTIONS_INIT;
        o.block_rows = 3000;
        ck_assert_int_eq(la_open(&w, dir, LA_OPEN_CREATE, &o), LA_OK);
        ck_assert_int_eq(la_open(&w2, dir, 0, NULL), LA_EBUSY);
        ck_assert_ptr_null(w2);
        ck_assert_int_eq(la_open(&r, dir, LA_OPEN_READONLY, NULL), LA_OK);
        for (size_t k = 1; k <= 4; k++) {
            append_all(w, m, (k - 1) * n / 4, k * n / 4);
            ck_assert_int_eq(la_flush(w), LA_OK);
            size_t *ord = day_order(m, k * n / 4);
            ck_assert_uint_eq(check_scan(r, m, k * n / 4, ord, &ALL), k * n / 4);
            free(ord);
        }
        la_event ev;
        memset(&ev, 0, sizeof ev);
        ck_assert_int_eq(la_append(r, &ev), LA_EREADONLY);
        la_close(w);
        la_close(r);
        tu_rmrf(dir);
        free(dir);
    }
    la_io_set(NULL);
    free(m);
}
END_TEST

/* The rows of [from, to) that a scan of db counts. */
static size_t rows_in(la_db *db, int64_t from, int64_t to)
{
    la_filter f = LA_FILTER_INIT;
    f.from = from;
    f.to = to;
    return tu_scan_count(db, &f);
}

/* A reader sees each row as soon as la_append() returns, without a flush: after every chunk
 * of appends its scans and its daily series count exactly the model's rows of each day (the
 * series from rollup files that checkpoints rename in, and the rows after), whether the chunk ended in
 * the tail the reader had read up to, crossed a seal (a new commit), grew the file past the
 * size the reader knew, or followed a compaction that replaced the day's file; with and
 * without a directory watch (a reader skips work when neither the commit slots nor the
 * directory changed, and must not skip any of these). */
START_TEST(engine_readers__see_every_append_at_once)
{
    init_pools();
    la_io nowatch = *la_io_posix();
    nowatch.watch_dir = NULL;
    const uint32_t block_rows[2] = {300, 60000}; /* seals every chunk, or a tail of megabytes */
    for (int watch = 1; watch >= 0; watch--)
        for (int b = 0; b < 2; b++) {
            la_io_set(watch ? NULL : &nowatch);
            char *dir = tu_tmpdir();
            la_db *w, *r;
            la_options o = LA_OPTIONS_INIT;
            o.block_rows = block_rows[b];
            o.no_auto_seal = 1;
            o.no_auto_retention = 1;
            ck_assert_int_eq(la_open(&w, dir, LA_OPEN_CREATE, &o), LA_OK);
            uint64_t rng = 42 + (uint64_t)b;
            size_t model[3] = {0, 0, 0}, model_ws0[3] = {0, 0, 0}; /* all rows; workspace 0's */
            mev first = gen_event(&rng, T0, 0); /* a reader needs the database to exist */
            la_str dims[5];
            la_event ev = to_event(&first, dims);
            ck_assert_int_eq(la_append(w, &ev), LA_OK);
            model[0]++;
            model_ws0[0] += first.ws == 0;
            ck_assert_int_eq(la_open(&r, dir, LA_OPEN_READONLY, NULL), LA_OK);
            for (int step = 0; step < 40; step++) {
                size_t k = 1 + (size_t)(tu_rand(&rng) % 3000); /* a tail passes 1 MiB by step 20 */
                for (size_t i = 0; i < k; i++) {
                    int day = (int)(tu_rand(&rng) % 3);
                    mev m = gen_event(&rng, T0 + day * DAY_MS + (int64_t)(tu_rand(&rng) % DAY_MS), 0);
                    m.ts = T0 + day * DAY_MS + (int64_t)(tu_rand(&rng) % DAY_MS);
                    ev = to_event(&m, dims);
                    ck_assert_int_eq(la_append(w, &ev), LA_OK);
                    model[day]++;
                    model_ws0[day] += m.ws == 0;
                }
                if (step == 20 || step == 36)
                    ck_assert_int_eq(la_compact(w, LA_COMPACT_ALL, NULL), LA_OK);
                else if (step % 8 == 3)
                    ck_assert_int_eq(la_flush(w), LA_OK); /* checkpoints: rollup files renamed in */
                la_query q = LA_QUERY_INIT;
                q.workspace = S(pool_ws[0]);
                q.from = T0;
                q.to = T0 + 3 * DAY_MS;
                la_point *p;
                size_t np;
                ck_assert_int_eq(la_query_series(r, &q, &p, &np), LA_OK);
                ck_assert_uint_eq(np, 3);
                for (int day = 0; day < 3; day++) {
                    ck_assert_uint_eq(rows_in(r, T0 + day * DAY_MS, T0 + (day + 1) * DAY_MS), model[day]);
                    ck_assert_uint_eq(p[day].events, model_ws0[day]); /* rollup files, rows after */
                }
                la_series_free(p);
            }
            la_close(w);
            la_close(r);
            tu_rmrf(dir);
            free(dir);
        }
    la_io_set(NULL);
}
END_TEST

/* A reader whose directory is moved away and replaced by another database (a restore from a
 * backup) sees the new one: its directory watch ended with the move, so it lists the path at
 * every call again instead of trusting a watch that reports nothing more. */
START_TEST(engine_readers__follow_a_replaced_directory)
{
    init_pools();
    const size_t n = 6000;
    mev *m = gen_stream(n, 7, 3, 0);
    char *dir = tu_tmpdir(), old[1000];
    snprintf(old, sizeof old, "%s.old", dir);
    la_db *w, *r;
    ck_assert_int_eq(la_open(&w, dir, LA_OPEN_CREATE, NULL), LA_OK);
    append_all(w, m, 0, n / 2);
    ck_assert_int_eq(la_flush(w), LA_OK);
    la_close(w);
    ck_assert_int_eq(la_open(&r, dir, LA_OPEN_READONLY, NULL), LA_OK);
    size_t *ord = day_order(m, n / 2);
    ck_assert_uint_eq(check_scan(r, m, n / 2, ord, &ALL), n / 2);
    free(ord);
    ck_assert_int_eq(rename(dir, old), 0);
    ck_assert_int_eq(la_open(&w, dir, LA_OPEN_CREATE, NULL), LA_OK);
    append_all(w, m, 0, n);
    ck_assert_int_eq(la_flush(w), LA_OK);
    ord = day_order(m, n);
    ck_assert_uint_eq(check_scan(r, m, n, ord, &ALL), n);
    free(ord);
    la_close(w);
    la_close(r);
    tu_rmrf(dir);
    tu_rmrf(old);
    free(dir);
    free(m);
}
END_TEST

/* Another process: a writer open is refused while this one holds the database, and a
 * read-only open sees exactly what was flushed (the child checks rows against the model). */
static int child_view(const char *dir, const mev *m, size_t expect)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        la_db *db;
        if (la_open(&db, dir, 0, NULL) != LA_EBUSY)
            _exit(10);
        if (la_open(&db, dir, LA_OPEN_READONLY, NULL) != LA_OK)
            _exit(11);
        la_cursor *cur;
        if (la_scan(db, NULL, &cur) != LA_OK)
            _exit(12);
        size_t *order = day_order(m, expect), i = 0;
        la_batch b;
        int rc;
        while ((rc = la_cursor_next(cur, &b)) == 1)
            for (size_t r = 0; r < b.nrows; r++, i++)
                if (i >= expect || !row_eq(&b, r, &m[order[i]]))
                    _exit(13);
        _exit(rc == 0 && i == expect ? 0 : 14);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

START_TEST(engine_readers__other_process_sees_flushed_writer_refused)
{
    init_pools();
    const size_t n = 30000;
    mev *m = gen_stream(n, 7, 2, 1);
    char *dir = tu_tmpdir();
    la_db *w;
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 4000;
    /* This process forks with the writer open: without the writer's counting thread it stays
     * single-threaded, so the child inherits no lock another thread held (a CI run under ASan
     * timed out in this test after the thread arrived). */
    o.no_rollup_thread = 1;
    ck_assert_int_eq(la_open(&w, dir, LA_OPEN_CREATE, &o), LA_OK);
    for (size_t k = 1; k <= 3; k++) {
        append_all(w, m, (k - 1) * n / 3, k * n / 3);
        ck_assert_int_eq(la_flush(w), LA_OK);
        ck_assert_int_eq(child_view(dir, m, k * n / 3), 0);
    }
    la_close(w);
    tu_rmrf(dir);
    free(dir);
    free(m);
}
END_TEST

START_TEST(engine_errors__bad_events_and_options)
{
    init_pools();
    char *dir = tu_tmpdir();
    char sub[600];
    snprintf(sub, sizeof sub, "%s/db", dir);
    la_db *db;
    ck_assert_int_eq(la_open(&db, sub, 0, NULL), LA_ENOTFOUND);
    ck_assert_int_eq(la_open(&db, sub, LA_OPEN_READONLY, NULL), LA_ENOTFOUND);
    la_options bad = LA_OPTIONS_INIT;
    bad.block_rows = 3;
    ck_assert_int_eq(la_open(&db, sub, LA_OPEN_CREATE, &bad), LA_EINVAL);
    ck_assert_str_ne(la_errmsg(), "");
    la_options o = LA_OPTIONS_INIT;
    const char *extra[] = {"utm_source"};
    o.extra_dims = extra;
    o.n_extra_dims = 1;
    ck_assert_int_eq(la_open(&db, sub, LA_OPEN_CREATE, &o), LA_OK);
    ck_assert_uint_eq(la_db_ndims(db), 6);
    ck_assert_int_eq(la_db_dim_index(db, "utm_source"), 5);
    ck_assert_str_eq(la_db_dim_name(db, 4), "referrer");
    la_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = T0;
    ck_assert_int_eq(la_append(db, &ev), LA_EINVAL); /* no workspace */
    ev.workspace = S("w");
    ev.link = S("l");
    ev.event_type = S("click");
    char big[300];
    memset(big, 'x', sizeof big);
    ev.link = (la_str){big, 256};
    ck_assert_int_eq(la_append(db, &ev), LA_EINVAL);
    ev.link = (la_str){big, 255};
    ck_assert_int_eq(la_append(db, &ev), LA_OK);
    ev.ts = -1;
    ck_assert_int_eq(la_append(db, &ev), LA_ERANGE);
    ev.ts = T0;
    ev.ndims = 7;
    la_str dims[7] = {{0}};
    ev.dims = dims;
    ck_assert_int_eq(la_append(db, &ev), LA_EINVAL);
    la_close(db);
    const char *other[] = {"campaign"};
    o.extra_dims = other;
    ck_assert_int_eq(la_open(&db, sub, 0, &o), LA_ESCHEMA);
    ck_assert_str_eq(la_strerror(LA_EBUSY), "database is locked by another writer");
    ck_assert_str_eq(la_strerror(12345), "unknown error");
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* The crash test: a child appends a deterministic stream and publishes, after each la_flush()
 * returns, how many events it flushed; the parent kills it with SIGKILL at a random moment.
 * Afterwards the database must hold exactly the first K events for some K >= flushed. */
/* Rows a full scan returns (up to a failing batch), or -1 if the scan cannot start. */
static int64_t count_rows(la_db *db)
{
    la_cursor *cur;
    if (la_scan(db, NULL, &cur) != LA_OK)
        return -1;
    la_batch b;
    int64_t k = 0;
    while (la_cursor_next(cur, &b) == 1)
        k += (int64_t)b.nrows;
    la_cursor_close(cur);
    return k;
}

static void crash_child(const char *dir, const mev *m, size_t n, volatile uint64_t *flushed)
{
    la_db *db;
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 500;
    if (la_open(&db, dir, LA_OPEN_CREATE, &o) != LA_OK)
        _exit(3);
    size_t i = 0;
    /* resume after what is already there: K events from earlier rounds */
    int64_t have = count_rows(db);
    if (have < 0)
        _exit(4);
    i = (size_t)have;
    *flushed = i;
    uint64_t rng = i * 31 + 1;
    while (i < n) {
        size_t k = 1 + tu_rand(&rng) % 64;
        if (i + k > n)
            k = n - i;
        append_all(db, m, i, i + k);
        i += k;
        if (tu_rand(&rng) % 4 == 0) {
            if (la_flush(db) != LA_OK)
                _exit(5);
            *flushed = i;
        }
    }
    la_close(db);
    *flushed = n;
    _exit(0);
}

static size_t check_prefix(const char *dir, const mev *m, size_t n)
{
    la_db *db;
    int rc = la_open(&db, dir, LA_OPEN_READONLY, NULL);
    if (rc == LA_ENOTFOUND) /* killed before the database was created */
        return 0;
    ck_assert_int_eq(rc, LA_OK);
    int64_t rows = count_rows(db);
    ck_assert_int_ge(rows, 0);
    size_t k = (size_t)rows;
    ck_assert_uint_le(k, n);
    size_t *order = day_order(m, k);
    ck_assert_uint_eq(check_scan(db, m, k, order, &ALL), k);
    free(order);
    la_close(db);
    return k;
}

START_TEST(engine_crash__sigkill_loses_nothing_flushed)
{
    init_pools();
    const size_t n = 60000;
    mev *m = gen_stream(n, 1234, 3, 1);
    char *dir = tu_tmpdir();
    volatile uint64_t *flushed =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne((void *)flushed, MAP_FAILED);
    uint64_t rng = 77;
    int iterations = 0;
    size_t have = 0;
    const int rounds = tu_long() ? 2000 : 60;
    while (iterations < rounds) {
        if (have >= n) { /* start over with an empty database */
            tu_rmrf(dir);
            ck_assert_int_eq(mkdir(dir, 0700), 0);
            have = 0;
        }
        *flushed = 0;
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            crash_child(dir, m, n, flushed);
        struct timespec ts = {0, (long)(tu_rand(&rng) % 40000000)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        ck_assert_msg(WIFSIGNALED(st) || WEXITSTATUS(st) == 0, "child failed with status %d",
                      WEXITSTATUS(st));
        uint64_t f = *flushed;
        size_t k = check_prefix(dir, m, n);
        ck_assert_msg(k >= f, "iteration %d: %zu events recovered, %llu were flushed", iterations, k,
                      (unsigned long long)f);
        char meta[700];
        snprintf(meta, sizeof meta, "%s/la.meta", dir);
        if (access(meta, F_OK) == 0) /* else killed before the database existed */
            verify_clean(dir);
        have = k;
        iterations++;
    }
    munmap((void *)flushed, 4096);
    tu_rmrf(dir);
    free(dir);
    free(m);
}
END_TEST

static char *only_segment(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls %s/*.seg | head -1", dir);
    FILE *p = popen(cmd, "r");
    static char path[700];
    ck_assert_ptr_nonnull(fgets(path, sizeof path, p));
    pclose(p);
    path[strcspn(path, "\n")] = 0;
    return path;
}

static void copy_dir(const char *from, const char *to)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
    ck_assert_int_eq(system(cmd), 0);
}

/* Scanning a damaged database must give an error or the right rows, never a crash. */
static int scan_ok_or_error(const char *dir, const mev *m, size_t n)
{
    la_db *db;
    int rc = la_open(&db, dir, LA_OPEN_READONLY, NULL);
    if (rc != LA_OK)
        return rc;
    la_cursor *cur = NULL;
    rc = la_scan(db, NULL, &cur);
    size_t *order = day_order(m, n), mi = 0;
    la_batch b;
    while (rc == LA_OK && (rc = la_cursor_next(cur, &b)) == 1) {
        for (size_t r = 0; r < b.nrows; r++, mi++) {
            TU_CHECK(mi < n, "damaged file gave more rows than were written");
            TU_CHECK(row_eq(&b, r, &m[order[mi]]), "damaged file gave a wrong row");
        }
        rc = LA_OK;
    }
    la_cursor_close(cur);
    free(order);
    la_close(db);
    return rc;
}

/* Every bit of la.meta flipped in turn: the database refuses to open (no guessing at a
 * schema), and verify reports the file. */
START_TEST(engine_damage__every_bit_of_la_meta)
{
    init_pools();
    char *dir = tu_tmpdir(), work[700], meta[800];
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, NULL), LA_OK);
    mev *m = gen_stream(50, 3, 1, 0);
    append_all(db, m, 0, 50);
    la_close(db);
    snprintf(work, sizeof work, "%s.work", dir);
    snprintf(meta, sizeof meta, "%s/la.meta", work);
    copy_dir(dir, work);
    FILE *f = fopen(meta, "rb");
    uint8_t orig[512];
    size_t len = fread(orig, 1, sizeof orig, f);
    fclose(f);
    ck_assert_uint_gt(len, 16);
    for (size_t bit = 0; bit < len * 8; bit++) {
        uint8_t b[512];
        memcpy(b, orig, len);
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        f = fopen(meta, "wb");
        ck_assert_uint_eq(fwrite(b, 1, len, f), len);
        fclose(f);
        int rc = la_open(&db, work, LA_OPEN_READONLY, NULL);
        TU_CHECK(rc == LA_ECORRUPT || rc == LA_EVERSION, "la.meta bit %zu flipped: open gave %d", bit, rc);
        if (rc == LA_OK)
            la_close(db);
        uint64_t problems = 0;
        rc = la_verify(work, NULL, NULL, &problems);
        TU_CHECK(rc != LA_OK || problems > 0, "la.meta bit %zu flipped: verify saw nothing", bit);
    }
    tu_rmrf(work);
    tu_rmrf(dir);
    free(dir);
    free(m);
}
END_TEST

START_TEST(engine_damage__flips_in_blocks_detected_truncation_safe)
{
    init_pools();
    const size_t n = 5000;
    mev *m = gen_stream(n, 5, 1, 0);
    for (size_t i = 0; i < n; i++)
        m[i].ts = T0 + (int64_t)i * 1000; /* one day, so one segment */
    char *dir = tu_tmpdir(), work[700];
    snprintf(work, sizeof work, "%s.work", dir);
    la_db *db;
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 1000;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    append_all(db, m, 0, n);
    la_close(db); /* everything sealed into 5 blocks */
    char *seg = only_segment(dir);
    struct stat st;
    ck_assert_int_eq(stat(seg, &st), 0);
    /* blocks occupy [4096, blocks_end): find blocks_end from the verify-clean file's size of
     * live data: flip bytes only inside blocks, every one must be reported */
    uint64_t rng = 3;
    char wseg[800];
    snprintf(wseg, sizeof wseg, "%s/%s", work, strrchr(seg, '/') + 1);
    int flips = 0;
    for (int t = 0; t < 120; t++) {
        copy_dir(dir, work);
        int fd = open(wseg, O_RDWR);
        uint8_t hdr[4096];
        ck_assert_int_eq(pread(fd, hdr, sizeof hdr, 0), 4096);
        /* blocks_end of the newest slot */
        uint64_t g0 = 0, g1 = 0, be0 = 0, be1 = 0;
        memcpy(&g0, hdr + 3072, 8);
        memcpy(&g1, hdr + 3136, 8);
        memcpy(&be0, hdr + 3072 + 8, 8);
        memcpy(&be1, hdr + 3136 + 8, 8);
        uint64_t be = g1 > g0 ? be1 : be0;
        ck_assert_uint_gt(be, 4096);
        uint64_t off = t < 40 ? tu_rand(&rng) % 4096 : 4096 + tu_rand(&rng) % (be - 4096);
        uint8_t byte;
        ck_assert_int_eq(pread(fd, &byte, 1, (off_t)off), 1);
        byte ^= (uint8_t)(1u << (tu_rand(&rng) % 8));
        ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)off), 1);
        close(fd);
        uint64_t problems = 0;
        ck_assert_int_eq(la_verify(work, NULL, NULL, &problems), LA_OK);
        ck_assert_msg(problems > 0, "flip at offset %llu not detected", (unsigned long long)off);
        scan_ok_or_error(work, m, n);
        flips++;
    }
    ck_assert_int_eq(flips, 120);
    /* truncation at any length: an error or a prefix-consistent answer, never a crash */
    for (int t = 0; t < 40; t++) {
        copy_dir(dir, work);
        off_t len = t == 0 ? 0 : (off_t)(tu_rand(&rng) % (uint64_t)st.st_size);
        ck_assert_int_eq(truncate(wseg, len), 0);
        scan_ok_or_error(work, m, n);
        uint64_t problems = 0;
        la_verify(work, NULL, NULL, &problems);
    }
    copy_dir(dir, work);
    tu_rmrf(work);
    tu_rmrf(dir);
    free(dir);
    free(m);
}
END_TEST

/* Threads: writers append their own sequences at once while a reader scans. Each event carries
 * (thread, index) in its value, so every view must hold, per thread, exactly the indices
 * 0..k-1 once each (a prefix: nothing lost, nothing invented, nothing duplicated). */
#define TW_THREADS 4
#define TW_EVENTS 60000

typedef struct tw_arg {
    la_db *db;
    int t;
    mev *m;
} tw_arg;

static void *tw_writer(void *p)
{
    tw_arg *a = p;
    for (size_t i = 0; i < TW_EVENTS;) {
        size_t k = a->t % 2 ? 1 : 1 + i % 97; /* half the threads use la_append */
        if (i + k > TW_EVENTS)
            k = TW_EVENTS - i;
        if (k == 1) {
            la_str dims[5];
            la_event ev = to_event(&a->m[i], dims);
            if (la_append(a->db, &ev) != LA_OK)
                return (void *)1;
        } else {
            la_event evs[97];
            la_str dims[97][5];
            for (size_t j = 0; j < k; j++)
                evs[j] = to_event(&a->m[i + j], dims[j]);
            size_t done = 0;
            if (la_append_batch(a->db, evs, k, &done) != LA_OK || done != k)
                return (void *)1;
        }
        i += k;
    }
    return NULL;
}

/* Check one scan: per thread, indices 0..k-1 each exactly once. Returns the total. */
static size_t tw_check_view(la_db *db, uint8_t *seen)
{
    memset(seen, 0, TW_THREADS * TW_EVENTS);
    la_cursor *cur;
    ck_assert_int_eq(la_scan(db, NULL, &cur), LA_OK);
    la_batch b;
    size_t total = 0, count[TW_THREADS] = {0};
    while (la_cursor_next(cur, &b) == 1)
        for (size_t r = 0; r < b.nrows; r++) {
            TU_CHECK(b.has_value[r], "row without value");
            int64_t t = b.value[r] >> 32, i = b.value[r] & 0xffffffff;
            TU_CHECK(t >= 0 && t < TW_THREADS && i < TW_EVENTS, "invented value %lld",
                     (long long)b.value[r]);
            TU_CHECK(!seen[t * TW_EVENTS + i], "event %lld of thread %lld seen twice",
                          (long long)i, (long long)t);
            seen[t * TW_EVENTS + i] = 1;
            count[t]++;
            total++;
        }
    la_cursor_close(cur);
    for (int t = 0; t < TW_THREADS; t++)
        for (size_t i = 0; i < count[t]; i++)
            TU_CHECK(seen[t * TW_EVENTS + i], "thread %d: event %zu missing but %zu seen", t, i,
                          count[t]);
    return total;
}

/* The first workspace's events, from its daily series over every day the streams can hold. */
static uint64_t tw_ws0_events(la_db *db)
{
    la_query q = LA_QUERY_INIT;
    q.workspace = S(pool_ws[0]);
    q.from = T0 - 40 * DAY_MS;
    q.to = T0 + 10 * DAY_MS;
    la_point *p;
    size_t np;
    ck_assert_int_eq(la_query_series(db, &q, &p, &np), LA_OK);
    uint64_t n = 0;
    for (size_t i = 0; i < np; i++)
        n += p[i].events;
    la_series_free(p);
    return n;
}

START_TEST(engine_threads__concurrent_appends_are_the_union)
{
    init_pools();
    char *dir = tu_tmpdir();
    la_db *db;
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 2000;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    tw_arg args[TW_THREADS];
    pthread_t th[TW_THREADS];
    for (int t = 0; t < TW_THREADS; t++) {
        args[t] = (tw_arg){db, t, gen_stream(TW_EVENTS, 100 + (uint64_t)t, 3, 1)};
        for (size_t i = 0; i < TW_EVENTS; i++) {
            args[t].m[i].has_value = 1;
            args[t].m[i].value = (int64_t)t << 32 | (int64_t)i;
        }
    }
    for (int t = 0; t < TW_THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, tw_writer, &args[t]), 0);
    uint8_t *seen = malloc(TW_THREADS * TW_EVENTS);
    size_t last = 0;
    uint64_t last_ws0 = 0;
    for (int k = 0; k < 20; k++) { /* views taken while the writers run only grow */
        size_t now = tw_check_view(db, seen);
        ck_assert_uint_ge(now, last);
        last = now;
        /* the rollups too, while seals hand rows to the handle's counting thread */
        uint64_t ws0 = tw_ws0_events(db);
        ck_assert_uint_ge(ws0, last_ws0);
        last_ws0 = ws0;
    }
    for (int t = 0; t < TW_THREADS; t++) {
        void *ret;
        ck_assert_int_eq(pthread_join(th[t], &ret), 0);
        ck_assert_ptr_null(ret);
    }
    ck_assert_uint_eq(tw_check_view(db, seen), TW_THREADS * TW_EVENTS);
    uint64_t want_ws0 = 0;
    for (int t = 0; t < TW_THREADS; t++)
        for (size_t i = 0; i < TW_EVENTS; i++)
            want_ws0 += args[t].m[i].ws == 0;
    ck_assert_uint_eq(tw_ws0_events(db), want_ws0);
    la_close(db);
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_READONLY, NULL), LA_OK);
    ck_assert_uint_eq(tw_ws0_events(db), want_ws0);
    ck_assert_uint_eq(tw_check_view(db, seen), TW_THREADS * TW_EVENTS);
    la_close(db);
    verify_clean(dir);
    free(seen);
    for (int t = 0; t < TW_THREADS; t++)
        free(args[t].m);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

static Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, engine_roundtrip__million_over_days);
    tcase_add_test(tc, engine_roundtrip__codecs_and_reopen_cycles);
    suite_add_tcase(s, tc);
    tc = tcase_create("readers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, engine_readers__see_flushed_and_second_writer_busy);
    tcase_add_test(tc, engine_readers__follow_a_replaced_directory);
    tcase_add_test(tc, engine_readers__see_every_append_at_once);
    tcase_add_test(tc, engine_readers__other_process_sees_flushed_writer_refused);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, engine_threads__concurrent_appends_are_the_union);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, engine_errors__bad_events_and_options);
    suite_add_tcase(s, tc);
    tc = tcase_create("crash");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, engine_crash__sigkill_loses_nothing_flushed);
    suite_add_tcase(s, tc);
    tc = tcase_create("damage");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, engine_damage__flips_in_blocks_detected_truncation_safe);
    tcase_add_test(tc, engine_damage__every_bit_of_la_meta);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(engine_suite)
