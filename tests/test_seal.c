/* test_seal.c — sealing days: sorted order and key-range pruning against a model, late events
 * appended to a sealed file without rewriting it, rollups and scans that see them at once,
 * cursors and readers across a seal, automatic sealing, and SIGKILL during sealing. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
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
#define NWS 12
#define NLINK 60

/* Event i of a stream: its visitor id is i, so every row names the event it came from. */
typedef struct ev {
    int64_t ts;
    int ws, link;
} ev;

static char ws_name[NWS][16], link_name[NLINK][16];

static void init_names(void)
{
    for (int i = 0; i < NWS; i++)
        snprintf(ws_name[i], sizeof ws_name[i], "ws%02d", (i * 7) % NWS);
    for (int i = 0; i < NLINK; i++)
        snprintf(link_name[i], sizeof link_name[i], "l%03d", (i * 37) % NLINK);
}

static ev *gen(size_t n, uint64_t seed, int days)
{
    ev *e = malloc(n * sizeof *e);
    uint64_t rng = seed;
    for (size_t i = 0; i < n; i++) {
        e[i].ts = T0 + (int64_t)(tu_rand(&rng) % (uint64_t)(days * DAY_MS));
        e[i].ws = (int)(tu_rand(&rng) % NWS);
        e[i].link = (int)(tu_rand(&rng) % NLINK);
    }
    return e;
}

static la_str S(const char *s) { return (la_str){s, (uint32_t)strlen(s)}; }

static void append(la_db *db, const ev *e, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        la_event x;
        memset(&x, 0, sizeof x);
        x.ts = e[i].ts;
        x.workspace = S(ws_name[e[i].ws]);
        x.link = S(link_name[e[i].link]);
        x.event_type = S("click");
        x.visitor_id = i;
        x.session_id = i / 3;
        ck_assert_msg(la_append(db, &x) == LA_OK, "append: %s", la_errmsg());
    }
}

/* Expected scan order: by day; within a day before hot_from (absolute day), the sealed rows
 * [0, sealed_upto) sorted by (workspace, link, ts, index), then the later ones in append
 * order; days from hot_from on in append order. */
static const ev *g_e;
static size_t g_sealed_upto;
static int64_t g_hot_from = INT64_MAX;
static int cmp_expected(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const ev *x = &g_e[i], *y = &g_e[j];
    if (x->ts / DAY_MS != y->ts / DAY_MS)
        return x->ts / DAY_MS < y->ts / DAY_MS ? -1 : 1;
    int xs = i < g_sealed_upto && x->ts / DAY_MS < g_hot_from, ys = j < g_sealed_upto && y->ts / DAY_MS < g_hot_from;
    if (xs != ys)
        return xs ? -1 : 1;
    if (xs) {
        int c = strcmp(ws_name[x->ws], ws_name[y->ws]);
        if (!c)
            c = strcmp(link_name[x->link], link_name[y->link]);
        if (c)
            return c;
        if (x->ts != y->ts)
            return x->ts < y->ts ? -1 : 1;
    }
    return i < j ? -1 : i > j;
}

static size_t *expected(const ev *e, size_t n, size_t sealed_upto)
{
    size_t *idx = malloc((n + 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    g_e = e;
    g_sealed_upto = sealed_upto;
    qsort(idx, n, sizeof *idx, cmp_expected);
    return idx;
}

/* Scan db (optionally for one workspace) and compare with the expected order. */
static void check_scan(la_db *db, const ev *e, size_t n, const size_t *order, int ws)
{
    la_filter f = LA_FILTER_INIT;
    if (ws >= 0)
        f.workspace = S(ws_name[ws]);
    la_cursor *cur;
    ck_assert_int_eq(la_scan(db, &f, &cur), LA_OK);
    la_batch b;
    size_t k = 0;
    int rc;
    while ((rc = la_cursor_next(cur, &b)) == 1) {
        for (size_t r = 0; r < b.nrows; r++) {
            while (k < n && ws >= 0 && e[order[k]].ws != ws)
                k++;
            TU_CHECK(k < n, "scan returned more rows than expected");
            size_t i = order[k++];
            TU_CHECK(b.visitor_id[r] == i, "row %zu: event %llu, expected %zu", k - 1,
                     (unsigned long long)b.visitor_id[r], i);
            la_str w = b.workspace.dict[b.workspace.ids[r]], l = b.link.dict[b.link.ids[r]];
            TU_CHECK(b.ts[r] == e[i].ts && w.len == strlen(ws_name[e[i].ws]) &&
                         memcmp(w.data, ws_name[e[i].ws], w.len) == 0 && l.len == strlen(link_name[e[i].link]) &&
                         memcmp(l.data, link_name[e[i].link], l.len) == 0,
                     "row of event %zu has other values", i);
        }
    }
    ck_assert_int_eq(rc, 0);
    while (k < n && ws >= 0 && e[order[k]].ws != ws)
        k++;
    ck_assert_uint_eq(k, n);
    la_cursor_close(cur);
}

static uint64_t day_clicks(la_db *db, int ws, int64_t day_ms)
{
    la_query q = LA_QUERY_INIT;
    q.from = day_ms;
    q.to = day_ms + DAY_MS;
    q.workspace = S(ws_name[ws]);
    la_point *p;
    size_t np;
    ck_assert_int_eq(la_query_series(db, &q, &p, &np), LA_OK);
    ck_assert_uint_eq(np, 1);
    uint64_t c = p[0].clicks;
    la_series_free(p);
    return c;
}

static uint64_t model_clicks(const ev *e, size_t n, int ws, int64_t day_ms)
{
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += e[i].ws == ws && e[i].ts >= day_ms && e[i].ts < day_ms + DAY_MS;
    return c;
}

static void verify_clean(const char *dir)
{
    uint64_t problems = 99;
    ck_assert_int_eq(la_verify(dir, NULL, NULL, &problems), LA_OK);
    ck_assert_uint_eq(problems, 0);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(*len + 1);
    ck_assert_uint_eq(fread(p, 1, *len, f), *len);
    fclose(f);
    return p;
}

static int read_version(const char *dir, int64_t day_ms)
{
    char path[700];
    time_t t = (time_t)(day_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(path, sizeof path, "%s/%04d-%02d-%02d.seg", dir, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    size_t len;
    uint8_t *p = read_file(path, &len);
    int v = p[8] | p[9] << 8;
    free(p);
    return v;
}

/* Scans of sealed days filtered by workspace and link (the run of rows a sorted block narrows
 * to before decoding the other columns), by workspace alone, by link alone (one run per
 * workspace), with and without a time window, yield exactly the model's events, each once;
 * also with late rows after the sorted blocks, and blocks small enough that runs cross them. */
START_TEST(seal__filtered_scans_of_sealed_days_match_the_model)
{
    init_names();
    char *dir = tu_tmpdir();
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 64;
    o.no_auto_seal = 1;
    o.no_auto_retention = 1;
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    const size_t n = 6000, late = 200;
    ev *e = gen(n, 5, 2);
    append(db, e, 0, n - late);
    la_compact_stats st;
    ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, &st), LA_OK);
    ck_assert_uint_eq(st.days, 2);
    append(db, e, n - late, n); /* after the sorted blocks: a tail, then append blocks */
    ck_assert_int_eq(la_flush(db), LA_OK);
    uint8_t *seen = malloc(n);
    uint64_t rng = 11;
    for (int q = 0; q < 400; q++) {
        int ws = (int)(tu_rand(&rng) % (NWS + 1)) - 1, link = (int)(tu_rand(&rng) % (NLINK + 1)) - 1;
        la_filter f = LA_FILTER_INIT;
        if (q % 3) {
            f.from = T0 + (int64_t)(tu_rand(&rng) % (uint64_t)(2 * DAY_MS));
            f.to = f.from + (int64_t)(tu_rand(&rng) % (uint64_t)DAY_MS);
        }
        if (ws >= 0)
            f.workspace = S(ws_name[ws]);
        if (link >= 0)
            f.link = S(link_name[link]);
        memset(seen, 0, n);
        la_cursor *cur;
        ck_assert_int_eq(la_scan(db, &f, &cur), LA_OK);
        la_batch b;
        int rc;
        size_t got = 0;
        while ((rc = la_cursor_next(cur, &b)) == 1)
            for (size_t r = 0; r < b.nrows; r++, got++) {
                uint64_t i = b.visitor_id[r];
                TU_CHECK(i < n && !seen[i], "query %d: event %llu twice or unknown", q, (unsigned long long)i);
                seen[i] = 1;
                TU_CHECK(b.ts[r] == e[i].ts && (ws < 0 || e[i].ws == ws) && (link < 0 || e[i].link == link) &&
                             e[i].ts >= f.from && e[i].ts < f.to,
                         "query %d: event %llu does not match", q, (unsigned long long)i);
            }
        ck_assert_int_eq(rc, 0);
        la_cursor_close(cur);
        size_t want = 0;
        for (size_t i = 0; i < n; i++)
            want += (ws < 0 || e[i].ws == ws) && (link < 0 || e[i].link == link) && e[i].ts >= f.from && e[i].ts < f.to;
        TU_CHECK(got == want, "query %d (ws %d, link %d): %zu rows, the model has %zu", q, ws, link, got, want);
    }
    free(seen);
    free(e);
    la_close(db);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(seal__late_event_appends_without_rewrite)
{
    init_names();
    const size_t n = 20000, late = 300;
    ev *e = gen(n + late, 11, 5);
    for (size_t i = n; i < n + late; i++)
        e[i].ts = T0 + DAY_MS + (int64_t)(i % 1000) * 60000; /* all for day 1 */
    char *dir = tu_tmpdir();
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 1000;
    o.no_auto_seal = 1;
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    append(db, e, 0, n);
    ck_assert_int_eq(la_flush(db), LA_OK);
    la_compact_stats st;
    ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, &st), LA_OK);
    ck_assert_uint_eq(st.days, 5);
    ck_assert_uint_eq(st.rows, n);
    size_t *order = expected(e, n, n);
    check_scan(db, e, n, order, -1);
    for (int w = 0; w < NWS; w += 5)
        check_scan(db, e, n, order, w);
    free(order);
    verify_clean(dir);

    /* late events: appended after the sorted blocks, the sorted bytes untouched */
    char path[700];
    snprintf(path, sizeof path, "%s/2025-10-02.seg", dir);
    size_t len0, len1;
    uint8_t *before = read_file(path, &len0);
    ck_assert_int_eq(read_version(dir, T0 + DAY_MS), 2);
    append(db, e, n, n + late);
    ck_assert_int_eq(la_flush(db), LA_OK);
    uint8_t *after = read_file(path, &len1);
    ck_assert_uint_gt(len1, len0);
    ck_assert_mem_eq(before, after, 3072);                 /* header page up to the slots */
    ck_assert_mem_eq(before + 4096, after + 4096, len0 - 4096); /* every sorted block */
    free(before);
    free(after);
    order = expected(e, n + late, n);
    check_scan(db, e, n + late, order, -1);
    check_scan(db, e, n + late, order, 3);
    for (int w = 0; w < NWS; w++) /* rollups see them at once */
        ck_assert_uint_eq(day_clicks(db, w, T0 + DAY_MS), model_clicks(e, n + late, w, T0 + DAY_MS));
    free(order);
    la_close(db);
    verify_clean(dir);

    /* after a reopen too, then sealed again: the late rows join the sorted ones */
    ck_assert_int_eq(la_open(&db, dir, 0, &o), LA_OK);
    order = expected(e, n + late, n);
    check_scan(db, e, n + late, order, -1);
    free(order);
    ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, &st), LA_OK);
    ck_assert_uint_eq(st.days, 1);
    order = expected(e, n + late, n + late);
    check_scan(db, e, n + late, order, -1);
    for (int w = 0; w < NWS; w++)
        ck_assert_uint_eq(day_clicks(db, w, T0 + DAY_MS), model_clicks(e, n + late, w, T0 + DAY_MS));
    free(order);
    la_close(db);
    verify_clean(dir);
    tu_rmrf(dir);
    free(dir);
    free(e);
}
END_TEST

/* A cursor opened before a seal reads on to the end of what it saw, in the old order; a
 * reader handle notices the new file at its next scan. */
START_TEST(seal__cursors_and_readers_across_a_seal)
{
    init_names();
    const size_t n = 30000;
    ev *e = gen(n, 12, 3);
    char *dir = tu_tmpdir();
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 700;
    o.no_auto_seal = 1;
    la_db *db, *rd;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    append(db, e, 0, n);
    ck_assert_int_eq(la_flush(db), LA_OK);
    ck_assert_int_eq(la_open(&rd, dir, LA_OPEN_READONLY, NULL), LA_OK);
    size_t *hot = expected(e, n, 0), *sealed = expected(e, n, n);
    la_cursor *cw, *cr;
    ck_assert_int_eq(la_scan(db, NULL, &cw), LA_OK);
    ck_assert_int_eq(la_scan(rd, NULL, &cr), LA_OK);
    la_batch b;
    size_t kw = 0, kr = 0;
    ck_assert_int_eq(la_cursor_next(cw, &b), 1);
    for (size_t r = 0; r < b.nrows; r++)
        ck_assert_uint_eq(b.visitor_id[r], hot[kw++]);
    ck_assert_int_eq(la_cursor_next(cr, &b), 1);
    for (size_t r = 0; r < b.nrows; r++)
        ck_assert_uint_eq(b.visitor_id[r], hot[kr++]);
    la_compact_stats st;
    ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, &st), LA_OK);
    ck_assert_uint_eq(st.days, 3);
    int rc;
    while ((rc = la_cursor_next(cw, &b)) == 1)
        for (size_t r = 0; r < b.nrows; r++)
            ck_assert_uint_eq(b.visitor_id[r], hot[kw++]);
    ck_assert_int_eq(rc, 0);
    while ((rc = la_cursor_next(cr, &b)) == 1)
        for (size_t r = 0; r < b.nrows; r++)
            ck_assert_uint_eq(b.visitor_id[r], hot[kr++]);
    ck_assert_msg(rc == 0, "reader: %s", la_errmsg());
    ck_assert_uint_eq(kw, n);
    ck_assert_uint_eq(kr, n);
    la_cursor_close(cw);
    la_cursor_close(cr);
    check_scan(rd, e, n, sealed, -1);
    check_scan(db, e, n, sealed, 4);
    check_scan(rd, e, n, sealed, 4);
    for (int w = 0; w < NWS; w += 3)
        ck_assert_uint_eq(day_clicks(rd, w, T0 + DAY_MS), model_clicks(e, n, w, T0 + DAY_MS));
    la_close(rd);
    la_close(db);
    verify_clean(dir);
    free(hot);
    free(sealed);
    tu_rmrf(dir);
    free(dir);
    free(e);
}
END_TEST

/* Defaults: la_flush() seals days that ended seal_after_days before the newest day's, and
 * seals a sealed day again once its late events reach 1/8 of its rows. */
START_TEST(seal__automatic_at_flush)
{
    init_names();
    const size_t n = 12000;
    ev *e = gen(n, 13, 6);
    char *dir = tu_tmpdir();
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 500;
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    append(db, e, 0, n);
    ck_assert_int_eq(la_flush(db), LA_OK);
    for (int d = 0; d < 6; d++) /* newest day 5: days up to 5 - 1 - 2 are sealed */
        ck_assert_int_eq(read_version(dir, T0 + d * DAY_MS), d <= 2 ? 2 : 1);
    size_t day0 = 0;
    for (int w = 0; w < NWS; w++)
        day0 += model_clicks(e, n, w, T0);
    /* late events for day 0: sealed again once they reach 1/8 of its rows, at the flush after
     * the L-th, L = ceil(day0 / 7) */
    size_t late = (day0 + 6) / 7, total = n + late;
    ev *all = realloc(e, total * sizeof *all);
    ck_assert_ptr_nonnull(all);
    e = all;
    for (size_t i = n; i < total; i++)
        e[i] = (ev){T0 + (int64_t)(i - n) * 1000, (int)(i % NWS), (int)(i % NLINK)};
    append(db, e, n, total - 1);
    ck_assert_int_eq(la_flush(db), LA_OK);
    g_hot_from = T0 / DAY_MS + 3;
    size_t *order = expected(e, total - 1, n); /* day 0: its late rows after its sorted ones */
    check_scan(db, e, total - 1, order, -1);
    free(order);
    append(db, e, total - 1, total);
    ck_assert_int_eq(la_flush(db), LA_OK);
    order = expected(e, total, total); /* day 0 sealed again: all of it sorted */
    check_scan(db, e, total, order, -1);
    check_scan(db, e, total, order, 2);
    g_hot_from = INT64_MAX;
    free(order);
    la_close(db);
    verify_clean(dir);
    tu_rmrf(dir);
    free(dir);
    free(e);
}
END_TEST

/* Sealing many days of one month at once writes that month's file once and each ISO week's
 * once (it checkpoints the days together first; one at a time, a backfill rewrote the month
 * file for every day it sealed), and the files hold every event: the month and week series of
 * each workspace equal its events counted from the stream. */
static char g_renamed[256][32];
static int g_renames[256], g_nrenamed;
static int counting_rename(const char *from, const char *to)
{
    const char *name = strrchr(to, '/') ? strrchr(to, '/') + 1 : to;
    int i = 0;
    while (i < g_nrenamed && strcmp(g_renamed[i], name) != 0)
        i++;
    if (i == g_nrenamed && i < 256 && strlen(name) < sizeof g_renamed[i])
        snprintf(g_renamed[g_nrenamed++], sizeof g_renamed[i], "%s", name);
    if (i < g_nrenamed)
        g_renames[i]++;
    return la_io_posix()->rename(from, to);
}

START_TEST(seal__a_month_of_days_writes_its_coarse_files_once)
{
    init_names();
    const size_t n = 8000;
    const int days = 40; /* 2025-10-01 .. 2025-11-09: October is complete */
    ev *e = gen(n, 29, days);
    char *dir = tu_tmpdir();
    la_options o = LA_OPTIONS_INIT;
    o.no_auto_seal = 1;
    o.retention_days = 90;
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    append(db, e, 0, n); /* no flush: no checkpoint yet, every day's rows are in memory */
    la_io io = *la_io_posix();
    io.rename = counting_rename;
    g_nrenamed = 0;
    memset(g_renames, 0, sizeof g_renames);
    la_io_set(&io);
    la_compact_stats st;
    int rc = la_compact(db, 0, &st);
    la_close(db);
    la_io_set(NULL);
    ck_assert_msg(rc == LA_OK, "la_compact: %s", la_errmsg());
    ck_assert_uint_ge(st.days, 30);
    int month = 0, weeks = 0;
    for (int i = 0; i < g_nrenamed; i++) {
        if (strcmp(g_renamed[i], "2025-10.roll") == 0)
            month = g_renames[i];
        if (strncmp(g_renamed[i], "2025-W", 6) == 0) {
            weeks++;
            ck_assert_msg(g_renames[i] == 1, "%s written %d times", g_renamed[i], g_renames[i]);
        }
    }
    ck_assert_int_eq(month, 1);
    ck_assert_int_ge(weeks, 4);

    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_READONLY, NULL), LA_OK);
    for (int w = 0; w < NWS; w++) {
        for (int bucket = LA_BUCKET_WEEK; bucket <= LA_BUCKET_MONTH; bucket++) {
            la_query q = LA_QUERY_INIT;
            q.workspace = S(ws_name[w]);
            q.from = T0;
            q.to = T0 + days * DAY_MS;
            q.bucket = bucket;
            la_point *p;
            size_t np;
            ck_assert_int_eq(la_query_series(db, &q, &p, &np), LA_OK);
            for (size_t k = 0; k < np; k++) {
                int64_t end = k + 1 < np ? p[k + 1].bucket_start : q.to, from = p[k].bucket_start < T0 ? T0 : p[k].bucket_start;
                uint64_t want = 0;
                for (size_t i = 0; i < n; i++)
                    want += e[i].ws == w && e[i].ts >= from && e[i].ts < end;
                ck_assert_msg(p[k].events == want, "%s bucket %d at %lld: %llu events, want %llu", ws_name[w],
                              bucket, (long long)p[k].bucket_start, (unsigned long long)p[k].events,
                              (unsigned long long)want);
            }
            la_series_free(p);
        }
    }
    la_close(db);
    verify_clean(dir);
    tu_rmrf(dir);
    free(dir);
    free(e);
}
END_TEST

/* Progress: la_compact() reports each day it considered, la_verify_ex() each file it checked,
 * counted independently from the directory; la_set_progress(NULL) stops the reports. */
typedef struct steps {
    uint64_t calls, last, total;
    int bad; /* a step that did not advance by one, or a changing total */
} steps;

static void record_step(void *ctx, uint64_t done, uint64_t total)
{
    steps *s = ctx;
    if (done != s->last + 1 || (s->calls && total != s->total) || done > total)
        s->bad = 1;
    s->calls++;
    s->last = done;
    s->total = total;
}

static uint64_t count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    uint64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), sl = strlen(suffix);
        n += len > sl && strcmp(e->d_name + len - sl, suffix) == 0;
    }
    closedir(d);
    return n;
}

START_TEST(seal__progress_of_compact_and_verify)
{
    init_names();
    const size_t n = 3000;
    ev *e = gen(n, 17, 5);
    char *dir = tu_tmpdir();
    la_options o = LA_OPTIONS_INIT;
    o.no_auto_seal = 1;
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    append(db, e, 0, n);
    ck_assert_int_eq(la_flush(db), LA_OK);
    uint64_t days = count_files(dir, ".seg");
    ck_assert_uint_eq(days, 5);

    steps s = {0, 0, 0, 0};
    la_set_progress(db, record_step, &s);
    la_compact_stats st;
    ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, &st), LA_OK);
    ck_assert_uint_eq(st.days, 5);
    ck_assert_int_eq(s.bad, 0);
    ck_assert_uint_eq(s.calls, days);
    ck_assert_uint_eq(s.total, days);
    /* nothing left to seal: every day is still a step */
    s = (steps){0, 0, 0, 0};
    ck_assert_int_eq(la_compact(db, 0, &st), LA_OK);
    ck_assert_uint_eq(st.days, 0);
    ck_assert_uint_eq(s.calls, days);
    la_set_progress(db, NULL, NULL);
    s = (steps){0, 0, 0, 0};
    ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, NULL), LA_OK);
    ck_assert_uint_eq(s.calls, 0);
    la_close(db);

    uint64_t files = days + count_files(dir, ".roll");
    ck_assert_uint_gt(files, days);
    uint64_t problems = 1;
    s = (steps){0, 0, 0, 0};
    ck_assert_int_eq(la_verify_ex(dir, NULL, NULL, record_step, &s, &problems), LA_OK);
    ck_assert_uint_eq(problems, 0);
    ck_assert_int_eq(s.bad, 0);
    ck_assert_uint_eq(s.calls, files);
    ck_assert_uint_eq(s.total, files);
    tu_rmrf(dir);
    free(dir);
    free(e);
}
END_TEST

/* SIGKILL while days are being sealed and late events arrive: every flushed event is there
 * exactly once, nothing else is, verify is clean. */
static void seal_child(const char *dir, const ev *e, size_t n, volatile uint64_t *flushed)
{
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 300;
    o.no_auto_seal = 1;
    la_db *db;
    if (la_open(&db, dir, LA_OPEN_CREATE, &o) != LA_OK)
        _exit(3);
    size_t i = *flushed;
    uint64_t rng = i + 5;
    while (i < n) {
        size_t k = 1 + tu_rand(&rng) % 400;
        if (i + k > n)
            k = n - i;
        append(db, e, i, i + k);
        i += k;
        if (la_flush(db) != LA_OK)
            _exit(5);
        *flushed = i;
        if (la_compact(db, LA_COMPACT_ALL, NULL) != LA_OK) {
            fprintf(stderr, "seal child: la_compact: %s\n", la_errmsg());
            _exit(6);
        }
    }
    la_close(db);
    _exit(0);
}

START_TEST(seal__sigkill_during_sealing_loses_nothing)
{
    init_names();
    const size_t n = 40000;
    ev *e = gen(n, 14, 4);
    char *dir = tu_tmpdir();
    volatile uint64_t *flushed = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne((void *)flushed, MAP_FAILED);
    *flushed = 0;
    uint64_t rng = 99;
    int kills = 0;
    uint8_t *seen = malloc(n);
    const int rounds = tu_long() ? 400 : 12;
    for (int round = 0; round < rounds; round++) {
        if (*flushed >= n) { /* all in: start over with an empty database */
            tu_rmrf(dir);
            ck_assert_int_eq(mkdir(dir, 0700), 0);
            *flushed = 0;
        }
        uint64_t start = *flushed;
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            seal_child(dir, e, n, flushed);
        struct timespec ts = {0, (long)(20000000 + tu_rand(&rng) % 200000000)};
        nanosleep(&ts, NULL);
        kills += kill(pid, SIGKILL) == 0;
        int status;
        waitpid(pid, &status, 0);
        ck_assert_msg(WIFSIGNALED(status) || WEXITSTATUS(status) == 0, "child exit %d", WEXITSTATUS(status));
        verify_clean(dir);
        /* the rows: distinct events, each a real one, every flushed one present; a kill between
         * an append and its flush may leave a few unflushed ones, which the next child would
         * append again — so restart from what is there */
        la_db *db;
        ck_assert_int_eq(la_open(&db, dir, LA_OPEN_READONLY, NULL), LA_OK);
        memset(seen, 0, n);
        la_cursor *cur;
        ck_assert_int_eq(la_scan(db, NULL, &cur), LA_OK);
        la_batch b;
        size_t rows = 0;
        while (la_cursor_next(cur, &b) == 1)
            for (size_t r = 0; r < b.nrows; r++, rows++) {
                uint64_t i = b.visitor_id[r];
                TU_CHECK(i < n && !seen[i] && b.ts[r] == e[i].ts, "row %zu: bad or repeated event %llu", rows,
                         (unsigned long long)i);
                seen[i] = 1;
            }
        la_cursor_close(cur);
        la_close(db);
        uint64_t f = *flushed;
        for (size_t i = 0; i < f; i++)
            TU_CHECK(seen[i], "round %d: flushed event %zu lost", round, i);
        /* unflushed rows beyond f that survived: the next child appends from `rows` on */
        for (size_t i = 0; i < rows; i++)
            TU_CHECK(seen[i], "round %d: survivors are not a prefix", round);
        *flushed = rows;
        ck_assert_uint_ge(rows, start);
    }
    ck_assert_int_gt(kills, 0);
    free(seen);
    munmap((void *)flushed, 4096);
    tu_rmrf(dir);
    free(dir);
    free(e);
}
END_TEST

/* Scan for a workspace (or all, ws < 0) and compare without asserting: 1 the expected rows,
 * 0 other rows (a wrong answer), -1 an error code. */
static int scan_is(la_db *db, const ev *e, size_t n, const size_t *order, int ws)
{
    la_filter f = LA_FILTER_INIT;
    if (ws >= 0)
        f.workspace = S(ws_name[ws]);
    la_cursor *cur;
    if (la_scan(db, &f, &cur) != LA_OK)
        return -1;
    la_batch b;
    size_t k = 0;
    int rc, same = 1;
    while ((rc = la_cursor_next(cur, &b)) == 1)
        for (size_t r = 0; r < b.nrows; r++) {
            while (k < n && ws >= 0 && e[order[k]].ws != ws)
                k++;
            size_t i = k < n ? order[k++] : n;
            la_str w = b.workspace.dict[b.workspace.ids[r]];
            same &= i < n && b.visitor_id[r] == i && b.ts[r] == e[i].ts && w.data &&
                    w.len == strlen(ws_name[e[i].ws]) && memcmp(w.data, ws_name[e[i].ws], w.len) == 0;
        }
    la_cursor_close(cur);
    if (rc < 0)
        return -1;
    while (k < n && ws >= 0 && e[order[k]].ws != ws)
        k++;
    return same && k == n;
}

/* Flips in a sealed file (sorted blocks with key ranges, then late rows): verify reports each
 * one that matters, and scans — filtered ones, which trust the key ranges, too — return an
 * error or the right rows, never other rows. */
START_TEST(seal__flips_in_a_sealed_file_never_give_wrong_rows)
{
    init_names();
    const size_t n = 3000, late = 40;
    ev *e = gen(n + late, 16, 1);
    char *dir = tu_tmpdir(), work[700], seg[800], cmd[1600];
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 500;
    o.no_auto_seal = 1;
    o.no_rollups = 1; /* the segment alone: rollup files have their own sweep (test_rollup) */
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    append(db, e, 0, n);
    ck_assert_int_eq(la_flush(db), LA_OK);
    ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, NULL), LA_OK);
    char orig[800];
    snprintf(orig, sizeof orig, "%s/2025-10-01.seg", dir);
    struct stat sb;
    ck_assert_int_eq(stat(orig, &sb), 0);
    /* flips go into the sealed part, the late block that follows it and the commit slots; the
     * rest is the free reserve after the blocks */
    size_t live_end = (size_t)sb.st_size + 4096;
    append(db, e, n, n + late);
    la_close(db); /* the late rows are sealed into an append block at close */
    verify_clean(dir);
    snprintf(work, sizeof work, "%s.work", dir);
    snprintf(seg, sizeof seg, "%s/2025-10-01.seg", work);
    size_t len;
    uint8_t *bytes = read_file(orig, &len);
    if (live_end > len)
        live_end = len;
    size_t *order = expected(e, n + late, n);
    uint64_t rng = 5;
    int detected = 0, flips = 0;
    for (size_t off = 0; off < live_end; off += 1 + tu_rand(&rng) % 97, flips++) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", work, dir, work);
        ck_assert_int_eq(system(cmd), 0);
        int fd = open(seg, O_WRONLY);
        uint8_t b = bytes[off] ^ (uint8_t)(1u << (tu_rand(&rng) % 8));
        ck_assert_int_eq(pwrite(fd, &b, 1, (off_t)off), 1);
        close(fd);
        uint64_t problems = 0;
        ck_assert_int_eq(la_verify(work, NULL, NULL, &problems), LA_OK);
        detected += problems > 0;
        la_options ro = LA_OPTIONS_INIT;
        ro.no_rollups = 1;
        if (la_open(&db, work, LA_OPEN_READONLY, &ro) != LA_OK)
            continue;
        for (int w = -1; w < NWS; w += 4) {
            int r = scan_is(db, e, n + late, order, w);
            TU_CHECK(r != 0, "flip at offset %zu: a scan (workspace %d) gave wrong rows", off, w);
            TU_CHECK(r == 1 || problems > 0, "flip at offset %zu: a scan failed but verify saw nothing", off);
        }
        la_close(db);
    }
    ck_assert_int_gt(detected, flips / 2);
    fprintf(stderr, "seal flips: %d in the first %zu bytes of a sealed file, %d reported by verify, no wrong rows\n",
            flips, live_end, detected);
    free(order);
    free(bytes);
    tu_rmrf(work);
    tu_rmrf(dir);
    free(dir);
    free(e);
}
END_TEST

/* Threads: appenders (events of all days, so sealed days get late rows), a thread that seals
 * every day over and over, and this thread scanning: every view holds distinct real events
 * and only grows; at the end, exactly the union. */
#define TH_WRITERS 3
#define TH_EVENTS 6000
typedef struct th_arg {
    la_db *db;
    const ev *e;
    size_t from, to;
    atomic_int *stop;
} th_arg;

static void *th_writer(void *p)
{
    th_arg *a = p;
    for (size_t i = a->from; i < a->to; i++) {
        la_event x;
        memset(&x, 0, sizeof x);
        x.ts = a->e[i].ts;
        x.workspace = S(ws_name[a->e[i].ws]);
        x.link = S(link_name[a->e[i].link]);
        x.event_type = S("click");
        x.visitor_id = i;
        if (la_append(a->db, &x) != LA_OK || (i % 500 == 0 && la_flush(a->db) != LA_OK))
            return (void *)1;
    }
    return NULL;
}

static void *th_sealer(void *p)
{
    th_arg *a = p;
    while (!atomic_load(a->stop))
        if (la_compact(a->db, LA_COMPACT_ALL, NULL) != LA_OK)
            return (void *)1;
    return NULL;
}

static size_t th_view(la_db *db, uint8_t *seen, size_t n, const ev *e)
{
    memset(seen, 0, n);
    la_cursor *cur;
    ck_assert_int_eq(la_scan(db, NULL, &cur), LA_OK);
    la_batch b;
    size_t rows = 0;
    int rc;
    while ((rc = la_cursor_next(cur, &b)) == 1)
        for (size_t r = 0; r < b.nrows; r++, rows++) {
            uint64_t i = b.visitor_id[r];
            TU_CHECK(i < n && !seen[i] && b.ts[r] == e[i].ts, "bad or repeated event %llu", (unsigned long long)i);
            seen[i] = 1;
        }
    ck_assert_msg(rc == 0, "scan: %s", la_errmsg());
    la_cursor_close(cur);
    return rows;
}

START_TEST(seal__threads_append_seal_and_scan)
{
    init_names();
    const size_t n = TH_WRITERS * TH_EVENTS;
    ev *e = gen(n, 15, 4);
    char *dir = tu_tmpdir();
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 400;
    o.no_auto_seal = 1;
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    atomic_int stop = 0;
    th_arg args[TH_WRITERS + 1];
    pthread_t th[TH_WRITERS + 1];
    for (int t = 0; t <= TH_WRITERS; t++) {
        args[t] = (th_arg){db, e, (size_t)t * TH_EVENTS, (size_t)(t + 1) * TH_EVENTS, &stop};
        ck_assert_int_eq(pthread_create(&th[t], NULL, t < TH_WRITERS ? th_writer : th_sealer, &args[t]), 0);
    }
    uint8_t *seen = malloc(n);
    size_t last = 0;
    for (int k = 0; k < 15; k++) {
        size_t now = th_view(db, seen, n, e);
        ck_assert_uint_ge(now, last);
        last = now;
    }
    for (int t = 0; t < TH_WRITERS; t++) {
        void *ret;
        ck_assert_int_eq(pthread_join(th[t], &ret), 0);
        ck_assert_ptr_null(ret);
    }
    atomic_store(&stop, 1);
    void *ret;
    ck_assert_int_eq(pthread_join(th[TH_WRITERS], &ret), 0);
    ck_assert_ptr_null(ret);
    ck_assert_uint_eq(th_view(db, seen, n, e), n);
    la_close(db);
    verify_clean(dir);
    free(seen);
    tu_rmrf(dir);
    free(dir);
    free(e);
}
END_TEST

static Suite *seal_suite(void)
{
    Suite *s = suite_create("seal");
    TCase *tc = tcase_create("seal");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, seal__filtered_scans_of_sealed_days_match_the_model);
    tcase_add_test(tc, seal__late_event_appends_without_rewrite);
    tcase_add_test(tc, seal__cursors_and_readers_across_a_seal);
    tcase_add_test(tc, seal__automatic_at_flush);
    tcase_add_test(tc, seal__progress_of_compact_and_verify);
    tcase_add_test(tc, seal__a_month_of_days_writes_its_coarse_files_once);
    tcase_add_test(tc, seal__sigkill_during_sealing_loses_nothing);
    tcase_add_test(tc, seal__flips_in_a_sealed_file_never_give_wrong_rows);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, seal__threads_append_seal_and_scan);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(seal_suite)
