/* test_rollup.c — the dashboard queries (la_query_series, la_query_top) against a brute-force
 * model: the test keeps a plain array of the events it appended and recomputes every answer by
 * looping over all of them. Bucket boundaries come from glibc (TZ + localtime_r), not from the
 * engine's own zone code. Scenarios: batches with flushes and a reopen in the middle, a
 * read-only handle beside the writer, a writer killed with SIGKILL, raw days deleted by hand
 * (retention) and argument errors.
 *
 * Every random choice comes from tu_rand; the seed is printed in each failure message and can
 * be changed with LA_ROLLUP_SEED=<n>. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "la.h"
#include "crc32c.h"
#include "le.h"
#include "rollfile.h"
#include "testutil.h"
#include "uniq.h"

#define SEC 1000LL
#define MIN_MS (60 * SEC)
#define HOUR_MS (3600 * SEC)
#define DAY_MS (86400 * SEC)
#define T0_DAY 20727 /* 2026-10-01, a Thursday */
#define T0 ((int64_t)T0_DAY * DAY_MS)
#define NDAYS 45     /* events in [2026-10-01, 2026-11-15): DST ends 10-25 (Berlin), 11-01 (NY) */
#define NEV 100000
#define NWS 3
#define NLINKS 20
#define NDIMS 5
#define NZONES 5

/* ---------------------------------------------------------------------------------------
 * Pools and the model event
 * ------------------------------------------------------------------------------------- */

/* Workspace 3 and link NLINKS exist in no event; type 4 neither. */
static const char *const ws_names[NWS + 1] = {"acme", "beta", "gamma\xff", "nobody"};
static const int ws_links[NWS][12] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {0, 12, 13, 14, 15, 16}, {0, 17, 18, 19}};
static const int ws_nlinks[NWS] = {12, 6, 4};
static const int ws_nvis[NWS] = {30000, 200, 600}; /* beta: every visitor set is <= 256 */
static const char *const type_names[5] = {"click", "lead", "sale", "signup", "refund"};
static const char *const zones[NZONES] = {NULL, "Europe/Berlin", "America/New_York",
                                          "Asia/Kolkata", "Asia/Kathmandu"};
static const char *const dim_names[NDIMS] = {"country", "city", "device", "browser", "referrer"};
static const uint32_t dim_pool_n[NDIMS] = {40, 300, 6, 10, 500};
static const int dim_exact[NDIMS] = {1, 0, 1, 1, 0}; /* country, device, browser: exact tops */

typedef struct pstr {
    char b[256];
    uint32_t len;
} pstr;

static char link_names[NLINKS + 1][128];
static pstr *dim_pool[NDIMS];
static uint64_t *vis_pool[NWS];
static int g_dim_ix[NDIMS]; /* model dimension d -> the database's dimension index */
static uint64_t g_seed = 20261025;
static const char *g_phase = "";

typedef struct mev {
    int64_t ts;
    uint8_t ws, link, type, has_value;
    int64_t value; /* 0 when !has_value */
    uint64_t vis, ses;
    int16_t dim[NDIMS]; /* -1 absent, else pool index */
} mev;

static uint64_t rnd(uint64_t *rng, uint64_t n) { return n ? tu_rand(rng) % n : 0; }

static double unit(uint64_t *rng) { return (double)(tu_rand(rng) >> 11) / 9007199254740992.0; }

/* Skewed pick in [0, n): a few values get most of the events, with a long tail. */
static int pick_skewed(uint64_t *rng, uint32_t n, int power)
{
    double u = unit(rng), x = u;
    for (int i = 1; i < power; i++)
        x *= u;
    uint32_t i = (uint32_t)(x * n);
    return (int)(i < n ? i : n - 1);
}

static void pool_set(int d, uint32_t i, const char *b, uint32_t len)
{
    TU_CHECK(len <= 255, "pool value too long");
    memcpy(dim_pool[d][i].b, b, len);
    dim_pool[d][i].len = len;
}

static int bytes_cmp(const char *a, uint32_t al, const char *b, uint32_t bl)
{
    uint32_t l = al < bl ? al : bl;
    int c = l ? memcmp(a, b, l) : 0;
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

static void init_pools(void)
{
    const char *s = getenv("LA_ROLLUP_SEED");
    if (s && *s)
        g_seed = strtoull(s, NULL, 10);
    snprintf(link_names[0], sizeof link_names[0], "home");
    for (int i = 1; i < NLINKS; i++) {
        if (i % 4 == 1) /* long names */
            snprintf(link_names[i], sizeof link_names[i],
                     "go/%d/campaign-autumn-sale-with-a-rather-long-path-%d-xxxxxxxxxxxxxxxx", i, i * 37);
        else
            snprintf(link_names[i], sizeof link_names[i], "l%d", i);
    }
    snprintf(link_names[NLINKS], sizeof link_names[NLINKS], "no/such/link");

    for (int d = 0; d < NDIMS; d++) {
        free(dim_pool[d]);
        dim_pool[d] = calloc(dim_pool_n[d], sizeof *dim_pool[d]);
    }
    char buf[256];
    for (uint32_t i = 0; i < dim_pool_n[0]; i++) {
        buf[0] = (char)('A' + (i * 7 + 3) % 26);
        buf[1] = (char)('A' + (i * 11 + i / 26) % 26);
        pool_set(0, i, buf, 2);
    }
    pool_set(0, 0, "US", 2);
    pool_set(0, 5, "", 0);
    pool_set(0, 9, "U", 1);
    pool_set(0, 10, "US\0", 3);
    pool_set(0, 11, "\xff\xff", 2);
    for (uint32_t i = 0; i < dim_pool_n[1]; i++) {
        int n = snprintf(buf, sizeof buf, "city-%u%s", i, i % 7 == 3 ? "\xe2\x82\xac" : "");
        pool_set(1, i, buf, (uint32_t)n);
    }
    pool_set(1, 3, "", 0);
    pool_set(1, 4, "city-1\0", 7);
    static const char *const dev[6] = {"mobile", "desktop", "tablet", "", "bot\0x", "tv"};
    static const uint32_t devlen[6] = {6, 7, 6, 0, 5, 2};
    for (uint32_t i = 0; i < 6; i++)
        pool_set(2, i, dev[i], devlen[i]);
    static const char *const br[10] = {"chrome", "safari", "firefox", "edge",       "opera",
                                       "samsung", "",      "ch",      "chrome\xff", "brave"};
    for (uint32_t i = 0; i < 10; i++)
        pool_set(3, i, br[i], (uint32_t)strlen(br[i]));
    for (uint32_t i = 0; i < dim_pool_n[4]; i++) {
        int n;
        if (i % 50 == 7) { /* long: 200..245 bytes */
            n = snprintf(buf, sizeof buf, "https://%u.", i);
            for (; n < 200 + (int)(i / 50) * 5; n++)
                buf[n] = (char)('a' + (i + (uint32_t)n) % 26);
        } else {
            n = snprintf(buf, sizeof buf, "https://r%u.example/p%u", i, i * 13 % 97);
        }
        pool_set(4, i, buf, (uint32_t)n);
    }
    pool_set(4, 1, "https://r", 9);
    pool_set(4, 2, "", 0);
    for (int d = 0; d < NDIMS; d++) /* values are distinct */
        for (uint32_t i = 0; i < dim_pool_n[d]; i++)
            for (uint32_t j = 0; j < i; j++)
                TU_CHECK(bytes_cmp(dim_pool[d][i].b, dim_pool[d][i].len, dim_pool[d][j].b,
                                   dim_pool[d][j].len) != 0,
                         "pool %d: %u == %u", d, i, j);
    for (int w = 0; w < NWS; w++) {
        free(vis_pool[w]);
        vis_pool[w] = malloc((size_t)ws_nvis[w] * sizeof *vis_pool[w]);
        for (int i = 0; i < ws_nvis[w]; i++) {
            int n = snprintf(buf, sizeof buf, "visitor/%d/%d", w, i);
            vis_pool[w][i] = la_hash_id(buf, (size_t)n);
        }
    }
    vis_pool[1][0] = 0; /* extreme ids are ids too */
    vis_pool[1][1] = UINT64_MAX;
    vis_pool[2][5] = 1;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* n events over NDAYS days, mostly in time order; ~5% late by minutes to days. */
static mev *gen_events(size_t n, uint64_t seed)
{
    mev *m = calloc(n, sizeof *m);
    uint64_t rng = seed;
    int64_t newest = T0;
    for (size_t i = 0; i < n; i++) {
        mev *e = &m[i];
        int64_t ts = T0 + (int64_t)((double)i / (double)n * (double)(NDAYS * DAY_MS)) +
                     (int64_t)rnd(&rng, 20 * SEC);
        uint64_t r = rnd(&rng, 1000);
        if (r < 50) { /* late */
            uint64_t kind = rnd(&rng, 10);
            int64_t delay = kind < 5   ? (int64_t)(1 + rnd(&rng, 120)) * MIN_MS
                            : kind < 8 ? (int64_t)(1 + rnd(&rng, 48)) * HOUR_MS
                                       : (int64_t)(1 + rnd(&rng, 6)) * DAY_MS;
            ts = newest - delay - (int64_t)rnd(&rng, MIN_MS);
            if (ts < T0)
                ts = T0 + (int64_t)rnd(&rng, HOUR_MS);
        } else if (r < 80) { /* exactly on a quarter hour: every zone's bucket boundaries */
            ts -= ts % (15 * MIN_MS);
        }
        if (ts > newest)
            newest = ts;
        e->ts = ts;
        r = rnd(&rng, 100);
        e->ws = (uint8_t)(r < 75 ? 0 : r < 95 ? 1 : 2);
        e->link = (uint8_t)ws_links[e->ws][pick_skewed(&rng, (uint32_t)ws_nlinks[e->ws], 2)];
        r = rnd(&rng, 100);
        e->type = (uint8_t)(r < 80 ? 0 : r < 88 ? 1 : r < 95 ? 2 : 3);
        switch (e->type) {
        case 2:
            e->has_value = 1;
            e->value = rnd(&rng, 10) == 0 ? -(int64_t)(1 + rnd(&rng, 50000))
                                          : (int64_t)(100 + rnd(&rng, 100000));
            break;
        case 1:
            e->has_value = rnd(&rng, 10) < 3;
            e->value = e->has_value ? (int64_t)rnd(&rng, 1000) : 0;
            break;
        case 3:
            e->has_value = rnd(&rng, 10) < 2;
            if (e->has_value) /* huge: the sum wraps */
                e->value = rnd(&rng, 2) ? INT64_MAX - (int64_t)rnd(&rng, 1000)
                                        : INT64_MIN + (int64_t)rnd(&rng, 1000);
            break;
        default:
            e->has_value = rnd(&rng, 100) == 0; /* value 0, present */
            break;
        }
        e->vis = vis_pool[e->ws][rnd(&rng, (uint64_t)ws_nvis[e->ws])];
        e->ses = mix64(e->vis ^ (0x1234567ull * (1 + rnd(&rng, 3))));
        for (int d = 0; d < NDIMS; d++)
            e->dim[d] = rnd(&rng, 10) == 0 ? -1
                                            : (int16_t)pick_skewed(&rng, dim_pool_n[d], d == 2 ? 2 : 3);
    }
    return m;
}

static la_str S(const char *s) { return (la_str){s, (uint32_t)strlen(s)}; }

static la_str pool_str(int d, int v)
{
    if (v < 0)
        return (la_str){NULL, 0};
    return (la_str){dim_pool[d][v].b, dim_pool[d][v].len};
}

static void resolve_dims(la_db *db)
{
    ck_assert_uint_eq(la_db_ndims(db), NDIMS);
    for (int d = 0; d < NDIMS; d++) {
        g_dim_ix[d] = la_db_dim_index(db, dim_names[d]);
        ck_assert_int_ge(g_dim_ix[d], 0);
        ck_assert_int_lt(g_dim_ix[d], NDIMS);
    }
}

static la_event to_event(const mev *e, la_str *dims)
{
    la_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = e->ts;
    ev.workspace = S(ws_names[e->ws]);
    ev.link = S(link_names[e->link]);
    ev.event_type = S(type_names[e->type]);
    ev.visitor_id = e->vis;
    ev.session_id = e->ses;
    ev.has_value = e->has_value;
    ev.value = e->value;
    for (int d = 0; d < NDIMS; d++)
        dims[g_dim_ix[d]] = pool_str(d, e->dim[d]);
    ev.dims = dims;
    ev.ndims = NDIMS;
    return ev;
}

/* Append events [from, to); returns the first error (usable in a forked child). */
static int append_range(la_db *db, const mev *m, size_t from, size_t to)
{
    la_event evs[256];
    la_str dims[256][NDIMS];
    for (size_t i = from; i < to;) {
        size_t k = 0;
        for (; k < 256 && i + k < to; k++)
            evs[k] = to_event(&m[i + k], dims[k]);
        size_t done = 0;
        int rc = la_append_batch(db, evs, k, &done);
        if (rc != LA_OK)
            return rc;
        if (done != k)
            return LA_EIO;
        i += k;
    }
    return LA_OK;
}

static void append_ok(la_db *db, const mev *m, size_t from, size_t to)
{
    int rc = append_range(db, m, from, to);
    ck_assert_msg(rc == LA_OK, "append [%zu, %zu): %d %s", from, to, rc, la_errmsg());
}

/* ---------------------------------------------------------------------------------------
 * Buckets from glibc: the bucket containing t is named by the local date/hour of t; its start
 * is the smallest UTC instant whose local key is >= it. Keys are non-decreasing in UTC time
 * for the zones used here (offset changes by whole hours on hour boundaries).
 * ------------------------------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, int mo, int d)
{
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void use_zone(const char *z)
{
    static const char *cur = "(unset)";
    if (cur == z)
        return;
    setenv("TZ", z ? z : "UTC0", 1);
    tzset();
    cur = z;
}

static int64_t lkey(int level, int64_t s)
{
    time_t t = (time_t)s;
    struct tm tm;
    TU_CHECK(localtime_r(&t, &tm) != NULL, "localtime_r(%lld) failed", (long long)s);
    int64_t y = tm.tm_year + 1900LL;
    int64_t day = days_from_civil(y, tm.tm_mon + 1, tm.tm_mday);
    switch (level) {
    case LA_BUCKET_HOUR: return day * 24 + tm.tm_hour;
    case LA_BUCKET_DAY: return day;
    case LA_BUCKET_WEEK: return day - (((day + 3) % 7) + 7) % 7; /* day 0 was a Thursday */
    case LA_BUCKET_MONTH: return y * 12 + tm.tm_mon;
    default: return y;
    }
}

static int32_t gmtoff_at(int64_t s)
{
    time_t t = (time_t)s;
    struct tm tm;
    localtime_r(&t, &tm);
    return (int32_t)tm.tm_gmtoff;
}

static const int64_t level_window[5] = {4 * 3600, 3 * 86400, 9 * 86400, 33 * 86400, 368 * 86400};

/* Smallest s in (lo, hi] with lkey(s) >= k, given lkey(lo) < k <= lkey(hi). */
static int64_t first_ge(int level, int64_t lo, int64_t hi, int64_t k)
{
    TU_CHECK(lkey(level, lo) < k && lkey(level, hi) >= k, "model: bad bucket search window");
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (lkey(level, mid) >= k)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static int64_t m_bucket_start(int level, int64_t t_ms)
{
    int64_t s = floor_div(t_ms, SEC), k = lkey(level, s);
    int64_t lo = s - level_window[level];
    if (lkey(level, s - 1) < k) /* s is the start */
        return s * SEC;
    return first_ge(level, lo, s, k) * SEC;
}

static int64_t m_bucket_next(int level, int64_t start_ms)
{
    int64_t s = floor_div(start_ms, SEC), k = lkey(level, s);
    return first_ge(level, s, s + level_window[level], k + 1) * SEC;
}

/* ---------------------------------------------------------------------------------------
 * Queries and the brute-force answers
 * ------------------------------------------------------------------------------------- */

typedef struct mq {
    int64_t from, to;
    int ws;     /* 0..NWS (NWS: no such workspace) */
    int link;   /* -1 = all, else 0..NLINKS (NLINKS: no such link) */
    int type;   /* -1 = all, else 0..4 (4: no such type) */
    int dim;    /* -1 = no filter, else model dimension */
    int dimval; /* -1 = absent, else pool index */
    int bucket;
    int tz;
} mq;

static char g_qd[1024];

static const char *describe(const mq *q, int tdim, uint32_t k)
{
    int n = snprintf(g_qd, sizeof g_qd,
                     "[seed %llu, %s] q{from=%lld to=%lld ws=%d link=%d type=%d dim=%d dimval=%d "
                     "bucket=%d tz=%s}",
                     (unsigned long long)g_seed, g_phase, (long long)q->from, (long long)q->to, q->ws,
                     q->link, q->type, q->dim, q->dimval, q->bucket,
                     zones[q->tz] ? zones[q->tz] : "UTC");
    if (tdim >= 0 && n > 0 && (size_t)n < sizeof g_qd)
        snprintf(g_qd + n, sizeof g_qd - (size_t)n, " top{dim=%d k=%u}", tdim, k);
    return g_qd;
}

static la_query to_query(const mq *q)
{
    la_query lq = LA_QUERY_INIT;
    lq.from = q->from;
    lq.to = q->to;
    lq.workspace = S(ws_names[q->ws]);
    if (q->link >= 0)
        lq.link = S(link_names[q->link]);
    if (q->type >= 0)
        lq.event_type = S(type_names[q->type]);
    lq.dim = -1;
    if (q->dim >= 0) {
        lq.dim = g_dim_ix[q->dim];
        lq.dim_value = pool_str(q->dim, q->dimval);
    }
    lq.bucket = q->bucket;
    lq.tz = zones[q->tz];
    return lq;
}

static int mmatch(const mev *e, const mq *q)
{
    return e->ts >= q->from && e->ts < q->to && e->ws == q->ws && (q->link < 0 || e->link == q->link) &&
           (q->type < 0 || e->type == q->type) && (q->dim < 0 || e->dim[q->dim] == q->dimval);
}

static char g_err[512];
static const char *errtext(void)
{
    snprintf(g_err, sizeof g_err, "%s", la_errmsg());
    return g_err;
}

typedef struct mpt {
    uint64_t ev, cl, le, sa, val;
    int64_t d0, d1; /* first and last UTC day of the point's events */
    int link, multi_link;
} mpt;

typedef struct idpair {
    uint32_t p;
    uint64_t id;
} idpair;

static int cmp_pair(const void *a, const void *b)
{
    const idpair *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Distinct ids per point: sorts pairs and writes out[p]. */
static void count_distinct(idpair *pr, size_t n, uint64_t *out, size_t np)
{
    memset(out, 0, np * sizeof *out);
    qsort(pr, n, sizeof *pr, cmp_pair);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || pr[i].p != pr[i - 1].p || pr[i].id != pr[i - 1].id)
            out[pr[i].p]++;
}

static uint64_t g_sketches, g_exacts; /* how often each kind was seen, for the summary */

static void check_distinct(const char *qd, size_t i, const char *what, const la_distinct *d,
                           uint64_t truth, int must_exact)
{
    if (d->exact) {
        g_exacts++;
        TU_CHECK(d->count == truth, "%s point %zu: %s %llu (exact), model %llu", qd, i, what,
                 (unsigned long long)d->count, (unsigned long long)truth);
        TU_CHECK(d->rel_stderr == 0, "%s point %zu: %s exact with rel_stderr %g", qd, i, what,
                 d->rel_stderr);
        return;
    }
    g_sketches++;
    TU_CHECK(!must_exact, "%s point %zu: %s is an estimate (%llu), model %llu must be exact", qd, i,
             what, (unsigned long long)d->count, (unsigned long long)truth);
    TU_CHECK(d->rel_stderr > 0 && d->rel_stderr < 0.02, "%s point %zu: %s rel_stderr %g", qd, i,
             what, d->rel_stderr);
    double diff = (double)d->count - (double)truth;
    if (diff < 0)
        diff = -diff;
    TU_CHECK(diff <= 4 * d->rel_stderr * (double)truth + 2,
             "%s point %zu: %s estimate %llu, model %llu (rel_stderr %g)", qd, i, what,
             (unsigned long long)d->count, (unsigned long long)truth, d->rel_stderr);
}

static uint64_t g_points, g_nonempty, g_must_exact, g_series_queries, g_top_queries;

/* The model's bucket starts for q: *nb buckets, starts[nb] = the start after the last. */
static int64_t *model_buckets(const mq *q, size_t *nb)
{
    use_zone(zones[q->tz]);
    size_t cap = 64, k = 0;
    int64_t *bs = malloc((cap + 1) * sizeof *bs);
    int64_t s = m_bucket_start(q->bucket, q->from);
    while (s < q->to) {
        if (k == cap) {
            cap *= 2;
            bs = realloc(bs, (cap + 1) * sizeof *bs);
        }
        bs[k++] = s;
        int64_t nx = m_bucket_next(q->bucket, s);
        TU_CHECK(nx > s, "model: bucket_next did not advance");
        s = nx;
    }
    bs[k] = s;
    *nb = k;
    return bs;
}

static void check_series(la_db *db, const mev *m, size_t n, const mq *q)
{
    const char *qd = describe(q, -1, 0);
    size_t nb;
    int64_t *bs = model_buckets(q, &nb);
    la_query lq = to_query(q);
    la_point *pts = NULL;
    size_t np = 0;
    int rc = la_query_series(db, &lq, &pts, &np);
    TU_CHECK(rc == LA_OK, "%s: la_query_series = %d: %s", qd, rc, errtext());
    TU_CHECK(np == nb, "%s: %zu points, model %zu (first start %lld)", qd, np, nb,
             (long long)bs[0]);
    g_series_queries++;
    g_points += np;

    mpt *mp = calloc(nb, sizeof *mp);
    idpair *pv = malloc((n + 1) * sizeof *pv), *ps = malloc((n + 1) * sizeof *ps);
    size_t npairs = 0;
    for (size_t i = 0; i < n; i++) {
        const mev *e = &m[i];
        if (!mmatch(e, q))
            continue;
        size_t lo = 0, hi = nb; /* last bucket with start <= ts */
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (bs[mid] <= e->ts)
                lo = mid;
            else
                hi = mid;
        }
        mpt *p = &mp[lo];
        int64_t day = floor_div(e->ts, DAY_MS);
        if (p->ev == 0) {
            p->d0 = p->d1 = day;
            p->link = e->link;
        }
        if (day < p->d0)
            p->d0 = day;
        if (day > p->d1)
            p->d1 = day;
        if (e->link != p->link)
            p->multi_link = 1;
        p->ev++;
        p->cl += e->type == 0;
        p->le += e->type == 1;
        p->sa += e->type == 2;
        if (e->has_value)
            p->val += (uint64_t)e->value;
        pv[npairs] = (idpair){(uint32_t)lo, e->vis};
        ps[npairs] = (idpair){(uint32_t)lo, e->ses};
        npairs++;
    }
    uint64_t *dv = malloc((nb + 1) * sizeof *dv), *ds = malloc((nb + 1) * sizeof *ds);
    count_distinct(pv, npairs, dv, nb);
    count_distinct(ps, npairs, ds, nb);

    use_zone(zones[q->tz]);
    for (size_t i = 0; i < nb; i++) {
        const la_point *pt = &pts[i];
        const mpt *p = &mp[i];
        TU_CHECK(pt->bucket_start == bs[i], "%s point %zu: bucket_start %lld, model %lld", qd, i,
                 (long long)pt->bucket_start, (long long)bs[i]);
        int32_t off = gmtoff_at(bs[i] / SEC);
        TU_CHECK(pt->utc_offset_s == off, "%s point %zu (start %lld): utc_offset_s %d, model %d", qd,
                 i, (long long)bs[i], (int)pt->utc_offset_s, (int)off);
        TU_CHECK(pt->events == p->ev && pt->clicks == p->cl && pt->leads == p->le &&
                     pt->sales == p->sa,
                 "%s point %zu [%lld, %lld): events/clicks/leads/sales %llu/%llu/%llu/%llu, model "
                 "%llu/%llu/%llu/%llu",
                 qd, i, (long long)(bs[i] > q->from ? bs[i] : q->from),
                 (long long)(bs[i + 1] < q->to ? bs[i + 1] : q->to), (unsigned long long)pt->events,
                 (unsigned long long)pt->clicks, (unsigned long long)pt->leads,
                 (unsigned long long)pt->sales, (unsigned long long)p->ev,
                 (unsigned long long)p->cl, (unsigned long long)p->le, (unsigned long long)p->sa);
        TU_CHECK((uint64_t)pt->value == p->val, "%s point %zu: value %lld, model %lld", qd, i,
                 (long long)pt->value, (long long)p->val);
        if (p->ev == 0) {
            TU_CHECK(pt->visitors.exact && pt->visitors.count == 0 && pt->sessions.exact &&
                         pt->sessions.count == 0,
                     "%s point %zu: empty bucket with visitors %llu/%d sessions %llu/%d", qd, i,
                     (unsigned long long)pt->visitors.count, pt->visitors.exact,
                     (unsigned long long)pt->sessions.count, pt->sessions.exact);
            continue;
        }
        int one_cell = p->d0 == p->d1 && !p->multi_link;
        g_nonempty++;
        g_must_exact += one_cell && ds[i] <= LA_DISTINCT_EXACT_MAX && ds[i] > 64;
        check_distinct(qd, i, "visitors", &pt->visitors, dv[i],
                       (one_cell && dv[i] <= LA_DISTINCT_EXACT_MAX) || q->ws == 1);
        check_distinct(qd, i, "sessions", &pt->sessions, ds[i],
                       one_cell && ds[i] <= LA_DISTINCT_EXACT_MAX);
    }
    la_series_free(pts);
    free(mp);
    free(pv);
    free(ps);
    free(dv);
    free(ds);
    free(bs);
}

static int g_tdim;
static const uint64_t *g_tcnt;
static int cmp_topidx(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    if (g_tcnt[x] != g_tcnt[y])
        return g_tcnt[x] > g_tcnt[y] ? -1 : 1;
    return bytes_cmp(dim_pool[g_tdim][x].b, dim_pool[g_tdim][x].len, dim_pool[g_tdim][y].b,
                     dim_pool[g_tdim][y].len);
}

static int pool_find(int d, la_str v)
{
    for (uint32_t i = 0; i < dim_pool_n[d]; i++)
        if (dim_pool[d][i].len == v.len && (v.len == 0 || memcmp(dim_pool[d][i].b, v.data, v.len) == 0))
            return (int)i;
    return -1;
}

static uint64_t g_top_inexact;

static void check_top(la_db *db, const mev *m, size_t n, const mq *q, int tdim, uint32_t k)
{
    const char *qd = describe(q, tdim, k);
    uint32_t pn = dim_pool_n[tdim];
    uint64_t *cnt = calloc(pn, sizeof *cnt), total = 0, absent = 0;
    for (size_t i = 0; i < n; i++) {
        const mev *e = &m[i];
        if (!mmatch(e, q))
            continue;
        total++;
        if (e->dim[tdim] < 0)
            absent++;
        else
            cnt[e->dim[tdim]]++;
    }
    int *order = malloc(pn * sizeof *order), nval = 0;
    for (uint32_t i = 0; i < pn; i++)
        if (cnt[i])
            order[nval++] = (int)i;
    g_tdim = tdim;
    g_tcnt = cnt;
    qsort(order, (size_t)nval, sizeof *order, cmp_topidx);

    la_query lq = to_query(q);
    la_top *t = NULL;
    int rc = la_query_top(db, &lq, g_dim_ix[tdim], k, &t);
    TU_CHECK(rc == LA_OK, "%s: la_query_top = %d: %s", qd, rc, errtext());
    g_top_queries++;
    TU_CHECK(t->total == total && t->absent == absent, "%s: total/absent %llu/%llu, model %llu/%llu",
             qd, (unsigned long long)t->total, (unsigned long long)t->absent,
             (unsigned long long)total, (unsigned long long)absent);
    TU_CHECK(t->n <= k, "%s: %zu entries for k=%u", qd, t->n, k);
    uint64_t sum = 0;
    char *listed = calloc(pn, 1);
    for (size_t i = 0; i < t->n; i++) {
        const la_top_entry *te = &t->entries[i];
        TU_CHECK(te->value.data != NULL, "%s entry %zu: absent value", qd, i);
        if (i > 0) {
            const la_top_entry *pe = &t->entries[i - 1];
            TU_CHECK(pe->count > te->count ||
                         (pe->count == te->count &&
                          bytes_cmp(pe->value.data, pe->value.len, te->value.data, te->value.len) < 0),
                     "%s entries %zu, %zu out of order (counts %llu, %llu)", qd, i - 1, i,
                     (unsigned long long)pe->count, (unsigned long long)te->count);
        }
        int v = pool_find(tdim, te->value);
        uint64_t truth = v >= 0 ? cnt[v] : 0;
        TU_CHECK(te->count <= truth && truth <= te->count + t->max_error,
                 "%s entry %zu (pool value %d, %u bytes): count %llu, model %llu, max_error %llu", qd,
                 i, v, te->value.len, (unsigned long long)te->count, (unsigned long long)truth,
                 (unsigned long long)t->max_error);
        if (v >= 0)
            listed[v] = 1;
        sum += te->count;
    }
    TU_CHECK(sum <= total - absent, "%s: entries sum %llu > total - absent %llu", qd,
             (unsigned long long)sum, (unsigned long long)(total - absent));
    TU_CHECK(t->other == total - absent - sum, "%s: other %llu, total - absent - entries = %llu", qd,
             (unsigned long long)t->other, (unsigned long long)(total - absent - sum));
    if (t->max_error)
        g_top_inexact++;
    if (dim_exact[tdim]) {
        TU_CHECK(t->max_error == 0, "%s: max_error %llu on an exact dimension", qd,
                 (unsigned long long)t->max_error);
        size_t want = (size_t)nval < k ? (size_t)nval : k;
        TU_CHECK(t->n == want, "%s: %zu entries, model %zu", qd, t->n, want);
        for (size_t i = 0; i < want; i++) {
            la_str mv = pool_str(tdim, order[i]);
            TU_CHECK(bytes_cmp(t->entries[i].value.data, t->entries[i].value.len, mv.data, mv.len) ==
                             0 &&
                         t->entries[i].count == cnt[order[i]],
                     "%s entry %zu: count %llu, model value %d with %llu", qd, i,
                     (unsigned long long)t->entries[i].count, order[i],
                     (unsigned long long)cnt[order[i]]);
        }
    } else {
        /* A value left out is short by its whole count: at most max_error, or, when the list is
         * full, ranked below the last entry's lower bound. */
        uint64_t bound = t->max_error + (t->n == k && t->n ? t->entries[t->n - 1].count : 0);
        for (int j = 0; j < nval; j++)
            TU_CHECK(listed[order[j]] || cnt[order[j]] <= bound,
                     "%s: pool value %d (count %llu) missing; max_error %llu, %zu entries", qd,
                     order[j], (unsigned long long)cnt[order[j]], (unsigned long long)t->max_error,
                     t->n);
    }
    la_top_free(t);
    free(listed);
    free(order);
    free(cnt);
}

/* ---------------------------------------------------------------------------------------
 * Random queries
 * ------------------------------------------------------------------------------------- */

#define BERLIN_FALLBACK ((int64_t)(T0_DAY + 24) * DAY_MS + 1 * HOUR_MS) /* 2026-10-25 01:00Z */
#define NY_FALLBACK ((int64_t)(T0_DAY + 31) * DAY_MS + 6 * HOUR_MS)    /* 2026-11-01 06:00Z */

static mq rand_filter(uint64_t *rng)
{
    mq q;
    memset(&q, 0, sizeof q);
    q.link = q.type = q.dim = q.dimval = -1;
    uint64_t r = rnd(rng, 100);
    q.ws = r < 55 ? 0 : r < 80 ? 1 : r < 96 ? 2 : NWS;
    int w = q.ws == NWS ? 0 : q.ws;
    r = rnd(rng, 100);
    if (r < 35)
        q.link = ws_links[w][pick_skewed(rng, (uint32_t)ws_nlinks[w], 1)];
    else if (r < 38)
        q.link = (int)rnd(rng, NLINKS + 1); /* maybe another workspace's link, or none */
    r = rnd(rng, 100);
    if (r < 28)
        q.type = (int)rnd(rng, 4);
    else if (r < 30)
        q.type = 4;
    if (rnd(rng, 100) < 20) {
        q.dim = (int)rnd(rng, NDIMS);
        q.dimval = rnd(rng, 100) < 15 ? -1 : pick_skewed(rng, dim_pool_n[q.dim], 2);
    }
    q.bucket = (int)rnd(rng, 5);
    q.tz = (int)rnd(rng, NZONES);
    return q;
}

/* Hour queries cover at most this many days: answering one costs a raw-event piece per point
 * where the zone's hours are not UTC hours, which is slow under ASan. */
static int64_t g_hour_cap_days = 12;

/* [from, to) in various shapes: whole range, random, aligned to q's buckets or UTC days/hours,
 * around the DST changes, and wide (coarse levels). Must be called with q->bucket/tz set. */
static void rand_range(uint64_t *rng, mq *q, int64_t lo_bound)
{
    int64_t lo = T0 - 3 * DAY_MS, hi = T0 + (NDAYS + 3) * DAY_MS, a, b;
    if (lo < lo_bound)
        lo = lo_bound;
    uint64_t r = rnd(rng, 100);
    use_zone(zones[q->tz]);
    if (r < 15) {
        a = lo + (int64_t)rnd(rng, 12 * HOUR_MS);
        b = hi - (int64_t)rnd(rng, 12 * HOUR_MS);
    } else if (r < 45) {
        static const int64_t lens[4] = {2 * HOUR_MS, 2 * DAY_MS, 15 * DAY_MS, 50 * DAY_MS};
        a = lo + (int64_t)rnd(rng, (uint64_t)(hi - lo));
        if (rnd(rng, 4) == 0 && lo_bound <= T0) /* around a DST change */
            a = (rnd(rng, 2) ? BERLIN_FALLBACK : NY_FALLBACK) - 3 * HOUR_MS +
                (int64_t)rnd(rng, 6 * HOUR_MS);
        b = a + 1 + (int64_t)rnd(rng, (uint64_t)lens[rnd(rng, 4)]);
    } else if (r < 75) {
        a = lo + (int64_t)rnd(rng, (uint64_t)(hi - lo));
        b = lo + (int64_t)rnd(rng, (uint64_t)(hi - lo));
        if (b < a) {
            int64_t t = a;
            a = b;
            b = t;
        }
        a = m_bucket_start(q->bucket, a);
        if (a < lo_bound)
            a = m_bucket_next(q->bucket, a);
        b = m_bucket_start(q->bucket, b);
        if (b <= a)
            b = m_bucket_next(q->bucket, a);
    } else if (r < 90) {
        a = lo + (int64_t)rnd(rng, (uint64_t)(hi - lo));
        a -= a % DAY_MS;
        if (a < lo_bound)
            a += DAY_MS;
        b = a + 1 + (int64_t)rnd(rng, 20 * DAY_MS);
        b -= b % HOUR_MS;
    } else if (q->bucket != LA_BUCKET_HOUR && lo_bound <= T0) {
        a = days_from_civil(2025, 6, 1) * DAY_MS + (int64_t)rnd(rng, 30 * DAY_MS);
        b = days_from_civil(2027, 3, 1) * DAY_MS + (int64_t)rnd(rng, 30 * DAY_MS);
    } else {
        a = lo + (int64_t)rnd(rng, DAY_MS);
        b = hi;
    }
    if (q->bucket == LA_BUCKET_HOUR && b - a > g_hour_cap_days * DAY_MS)
        b = a + g_hour_cap_days * DAY_MS - (int64_t)rnd(rng, HOUR_MS);
    if (b <= a)
        b = a + 1 + (int64_t)rnd(rng, HOUR_MS);
    q->from = a;
    q->to = b;
}

/* nseries series queries (the first 25: every level x every zone) and ntop top queries (the
 * first 10: every dimension with k = 5 and k = 1000) over the model's first n events. */
static void run_checks(la_db *db, const mev *m, size_t n, uint64_t *rng, int nseries, int ntop,
                       int64_t lo_bound)
{
    for (int i = 0; i < nseries; i++) {
        mq q = rand_filter(rng);
        if (i < 25) {
            q.bucket = i / 5;
            q.tz = i % 5;
        }
        rand_range(rng, &q, lo_bound);
        check_series(db, m, n, &q);
    }
    for (int i = 0; i < ntop; i++) {
        mq q = rand_filter(rng);
        rand_range(rng, &q, lo_bound);
        int tdim = i < 10 ? i / 2 : (int)rnd(rng, NDIMS);
        static const uint32_t ks[6] = {5, 1000, 5, 1000, 1, 10000};
        uint32_t k = i < 10 ? ks[i % 2] : ks[rnd(rng, 6)];
        check_top(db, m, n, &q, tdim, k);
    }
}

static void print_summary(const char *test)
{
    fprintf(stderr,
            "%s: seed %llu, %llu series queries (%llu points, %llu not empty, %llu with 65..256 "
            "sessions that must be exact), %llu top queries (%llu with max_error > 0); distinct "
            "counts: %llu exact, %llu estimates\n",
            test, (unsigned long long)g_seed, (unsigned long long)g_series_queries,
            (unsigned long long)g_points, (unsigned long long)g_nonempty,
            (unsigned long long)g_must_exact, (unsigned long long)g_top_queries,
            (unsigned long long)g_top_inexact, (unsigned long long)g_exacts,
            (unsigned long long)g_sketches);
}

static void print_problem(void *ctx, const char *file, int64_t off, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "verify: %s:%lld: %s\n", file, (long long)off, msg);
}

static void verify_clean(const char *dir)
{
    uint64_t problems = 99;
    ck_assert_int_eq(la_verify(dir, print_problem, NULL, &problems), LA_OK);
    ck_assert_uint_eq(problems, 0);
}

static int g_no_rollup_thread; /* the model test runs with and without the counting thread */

static la_db *open_db(const char *dir, unsigned flags)
{
    la_db *db = NULL;
    la_options o = LA_OPTIONS_INIT;
    o.retention_days = 3650; /* the test deletes raw days itself */
    o.no_rollup_thread = g_no_rollup_thread;
    int rc = la_open(&db, dir, flags, &o);
    ck_assert_msg(rc == LA_OK, "open %s (flags %u): %d %s", dir, flags, rc, la_errmsg());
    resolve_dims(db);
    return db;
}

/* Append [from, to) in batches of 1000..15000 events, each followed by la_flush. */
static void append_batches(la_db *db, const mev *m, size_t from, size_t to, uint64_t *rng)
{
    for (size_t i = from; i < to;) {
        size_t k = 1000 + rnd(rng, 14000);
        if (k > to - i)
            k = to - i;
        append_ok(db, m, i, i + k);
        ck_assert_int_eq(la_flush(db), LA_OK);
        i += k;
    }
}

/* ---------------------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------------------- */

START_TEST(rollup_model__series_and_top_through_batches_and_reopen)
{
    g_no_rollup_thread = _i;
    fprintf(stderr, "series_and_top: rollups counted %s\n", _i ? "on the appending thread" : "by the handle's thread");
    init_pools();
    mev *m = gen_events(NEV, g_seed);
    uint64_t rng = g_seed * 3 + 1;
    char *dir = tu_tmpdir();
    la_db *db = open_db(dir, LA_OPEN_CREATE);
    size_t half = NEV / 2;
    append_batches(db, m, 0, half, &rng);
    g_phase = "writer, first half";
    run_checks(db, m, half, &rng, 40, 15, INT64_MIN);
    la_close(db);
    db = open_db(dir, 0);
    g_phase = "reopened, first half";
    run_checks(db, m, half, &rng, 30, 10, INT64_MIN);
    append_batches(db, m, half, NEV - 3000, &rng);
    append_ok(db, m, NEV - 3000, NEV); /* not flushed: this handle must still count it */
    g_phase = "writer, all (tail not flushed)";
    run_checks(db, m, NEV, &rng, 120, 50, INT64_MIN);
    la_close(db);
    db = open_db(dir, 0);
    g_phase = "reopened, all";
    g_hour_cap_days = 60;
    run_checks(db, m, NEV, &rng, 25, 0, INT64_MIN);
    g_hour_cap_days = 12;
    run_checks(db, m, NEV, &rng, 75, 50, INT64_MIN);
    la_close(db);
    verify_clean(dir);
    print_summary("series_and_top");
    tu_rmrf(dir);
    free(dir);
    free(m);
}
END_TEST

/* Threads of this process named la-rollups (the engine's counting thread). */
static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[300], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(path, "r") : NULL;
        if (!f)
            continue;
        n += fgets(comm, sizeof comm, f) && strcmp(comm, "la-rollups\n") == 0;
        fclose(f);
    }
    closedir(d);
    return n;
}

/* The counting thread: started by a writer's first seal (with more than one CPU online), never
 * with no_rollup_thread, gone after la_close; queries see every row either way. */
START_TEST(rollup_thread__started_by_a_writer_when_asked)
{
    init_pools();
    mev *m = gen_events(20000, g_seed + 7);
    int cpus = sysconf(_SC_NPROCESSORS_ONLN) > 1;
    for (int no_thread = 0; no_thread < 2; no_thread++) {
        char *dir = tu_tmpdir();
        ck_assert_int_eq(count_threads(), 0);
        la_options o = LA_OPTIONS_INIT;
        o.retention_days = 3650;
        o.block_rows = 64; /* seals while appending */
        o.no_rollup_thread = no_thread;
        la_db *db;
        ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
        resolve_dims(db);
        ck_assert_int_eq(count_threads(), 0); /* not before a seal */
        uint64_t rng = g_seed + (uint64_t)no_thread;
        append_batches(db, m, 0, 20000, &rng);
        ck_assert_int_eq(count_threads(), !no_thread && cpus);
        g_phase = no_thread ? "no rollup thread" : "rollup thread";
        run_checks(db, m, 20000, &rng, 20, 5, INT64_MIN);
        la_close(db);
        ck_assert_int_eq(count_threads(), 0);
        tu_rmrf(dir);
        free(dir);
    }
    free(m);
}
END_TEST

START_TEST(rollup_durability__readonly_handle_beside_writer)
{
    init_pools();
    mev *m = gen_events(NEV, g_seed + 1);
    uint64_t rng = g_seed * 5 + 2;
    char *dir = tu_tmpdir();
    la_db *w = open_db(dir, LA_OPEN_CREATE);
    size_t a = NEV / 2, b = NEV * 8 / 10;
    append_batches(w, m, 0, a, &rng);
    la_db *r = open_db(dir, LA_OPEN_READONLY);
    g_phase = "read-only beside writer, 50% flushed";
    run_checks(r, m, a, &rng, 30, 10, INT64_MIN);
    append_batches(w, m, a, b, &rng);
    g_phase = "read-only beside writer, 80% flushed";
    run_checks(r, m, b, &rng, 30, 10, INT64_MIN);
    append_ok(w, m, b, NEV);
    g_phase = "writer, 20% not flushed";
    run_checks(w, m, NEV, &rng, 15, 5, INT64_MIN);
    ck_assert_int_eq(la_flush(w), LA_OK);
    g_phase = "read-only beside writer, all flushed";
    run_checks(r, m, NEV, &rng, 30, 10, INT64_MIN);
    la_close(w);
    g_phase = "read-only after the writer closed";
    run_checks(r, m, NEV, &rng, 30, 10, INT64_MIN);
    la_close(r);
    print_summary("readonly");
    tu_rmrf(dir);
    free(dir);
    free(m);
}
END_TEST

/* A read-only handle replays the rows a writer has not checkpointed, and those still in the
 * segment's tail (not yet sealed into a block) come in batches of at most 4096 rows whose
 * string ids are numbered afresh in each batch. 10,000 such rows of one day, in runs of 2,500
 * per workspace and 3,000 per country, so that the batches number different strings alike. */
START_TEST(rollup_durability__readonly_replays_a_long_tail)
{
    enum { N = 10000, RUN_WS = 2500, RUN_COUNTRY = 3000 };
    char *dir = tu_tmpdir();
    la_options o = LA_OPTIONS_INIT;
    o.retention_days = 3650;
    o.no_auto_seal = 1; /* the rows stay in the tail */
    la_db *w, *r;
    ck_assert_int_eq(la_open(&w, dir, LA_OPEN_CREATE, &o), LA_OK);
    const int64_t day0 = T0 + 2 * DAY_MS;
    char ws[N / RUN_WS][16], country[N / RUN_COUNTRY + 1][16];
    for (int i = 0; i < N / RUN_WS; i++)
        snprintf(ws[i], sizeof ws[i], "ws%d", i);
    for (int i = 0; i <= N / RUN_COUNTRY; i++)
        snprintf(country[i], sizeof country[i], "C%d", i);
    for (int i = 0; i < N; i++) {
        la_str dims[1] = {S(country[i / RUN_COUNTRY])};
        la_event ev = {.ts = day0 + (int64_t)i * 1000, .workspace = S(ws[i / RUN_WS]), .link = S(i % 2 ? "l1" : "l2"),
                       .event_type = S("click"), .visitor_id = (uint64_t)i, .session_id = (uint64_t)i,
                       .dims = dims, .ndims = 1};
        ck_assert_int_eq(la_append(w, &ev), LA_OK);
    }
    ck_assert_int_eq(la_flush(w), LA_OK); /* durable, not checkpointed: the reader replays */
    ck_assert_int_eq(la_open(&r, dir, LA_OPEN_READONLY, &o), LA_OK);
    la_db *h[2] = {w, r};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < N / RUN_WS; i++) {
            la_query q = LA_QUERY_INIT;
            q.workspace = S(ws[i]);
            q.from = day0;
            q.to = day0 + DAY_MS;
            q.bucket = LA_BUCKET_DAY;
            la_point *p;
            size_t n;
            ck_assert_int_eq(la_query_series(h[k], &q, &p, &n), LA_OK);
            ck_assert_uint_eq(n, 1);
            ck_assert_msg(p[0].events == RUN_WS, "%s: %s has %llu events, want %d", k ? "reader" : "writer",
                          ws[i], (unsigned long long)p[0].events, RUN_WS);
            la_series_free(p);
            la_top *t;
            ck_assert_int_eq(la_query_top(h[k], &q, 0, 10, &t), LA_OK);
            /* brute force: the countries of rows [i * RUN_WS, (i + 1) * RUN_WS) */
            uint64_t want[N / RUN_COUNTRY + 1] = {0};
            for (int row = i * RUN_WS; row < (i + 1) * RUN_WS; row++)
                want[row / RUN_COUNTRY]++;
            size_t listed = 0;
            for (int c = 0; c <= N / RUN_COUNTRY; c++)
                listed += want[c] != 0;
            ck_assert_uint_eq(t->n, listed);
            for (size_t e = 0; e < t->n; e++) {
                int c = atoi(t->entries[e].value.data + 1);
                ck_assert_msg(t->entries[e].count == want[c], "%s: %s, country C%d: %llu, want %llu",
                              k ? "reader" : "writer", ws[i], c, (unsigned long long)t->entries[e].count,
                              (unsigned long long)want[c]);
            }
            la_top_free(t);
        }
    la_close(r);
    la_close(w);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* Order-independent fingerprint of an event, from the model or from a scanned row. */
static uint64_t row_hash(int64_t ts, la_str ws, la_str link, la_str type, uint64_t vis, uint64_t ses,
                         int hv, int64_t val, const la_str *dims /* model order */)
{
    uint8_t buf[4096];
    size_t o = 0;
#define PUT(p, n)                                                                                  \
    do {                                                                                           \
        memcpy(buf + o, (p), (n));                                                                 \
        o += (n);                                                                                  \
    } while (0)
#define PUTS(s)                                                                                    \
    do {                                                                                           \
        uint32_t l_ = (s).data ? (s).len : UINT32_MAX;                                             \
        PUT(&l_, 4);                                                                               \
        if ((s).data && (s).len)                                                                   \
            PUT((s).data, (s).len);                                                                \
    } while (0)
    int64_t v = hv ? val : 0;
    uint8_t h = hv ? 1 : 0;
    PUT(&ts, 8);
    PUTS(ws);
    PUTS(link);
    PUTS(type);
    PUT(&vis, 8);
    PUT(&ses, 8);
    PUT(&h, 1);
    PUT(&v, 8);
    for (int d = 0; d < NDIMS; d++)
        PUTS(dims[d]);
#undef PUTS
#undef PUT
    return la_hash_id(buf, o);
}

static uint64_t model_hash(const mev *e)
{
    la_str dims[NDIMS];
    for (int d = 0; d < NDIMS; d++)
        dims[d] = pool_str(d, e->dim[d]);
    return row_hash(e->ts, S(ws_names[e->ws]), S(link_names[e->link]), S(type_names[e->type]), e->vis,
                    e->ses, e->has_value, e->value, dims);
}

/* Rows of a full scan and the sum of their fingerprints: the ground truth of what is stored. */
static size_t scan_all(la_db *db, uint64_t *hsum)
{
    la_cursor *cur;
    ck_assert_int_eq(la_scan(db, NULL, &cur), LA_OK);
    la_batch b;
    int rc;
    size_t rows = 0;
    uint64_t h = 0;
    while ((rc = la_cursor_next(cur, &b)) == 1)
        for (size_t r = 0; r < b.nrows; r++) {
            la_str dims[NDIMS];
            for (int d = 0; d < NDIMS; d++)
                dims[d] = b.dims[g_dim_ix[d]].dict[b.dims[g_dim_ix[d]].ids[r]];
            h += row_hash(b.ts[r], b.workspace.dict[b.workspace.ids[r]], b.link.dict[b.link.ids[r]],
                          b.event_type.dict[b.event_type.ids[r]], b.visitor_id[r], b.session_id[r],
                          b.has_value[r], b.value[r], dims);
            rows++;
        }
    ck_assert_int_eq(rc, 0);
    la_cursor_close(cur);
    *hsum = h;
    return rows;
}

/* The child writer: appends [start, end) in small batches, flushing after about every third
 * and writing the number of events flushed to fd after each flush. A small checkpoint_rows
 * makes flushes write rollup files, so that kills land inside checkpoints too. */
static void writer_child(const char *dir, const mev *m, size_t start, size_t end, int fd,
                         uint64_t seed, uint32_t checkpoint_rows)
{
    la_db *db;
    la_options o = LA_OPTIONS_INIT;
    o.checkpoint_rows = checkpoint_rows;
    if (la_open(&db, dir, 0, &o) != LA_OK)
        _exit(3);
    uint64_t rng = seed;
    for (size_t i = start; i < end;) {
        size_t k = 1 + rnd(&rng, 400);
        if (k > end - i)
            k = end - i;
        if (append_range(db, m, i, i + k) != LA_OK)
            _exit(4);
        i += k;
        if (rnd(&rng, 3) == 0 || i == end) {
            if (la_flush(db) != LA_OK)
                _exit(5);
            uint64_t v = i;
            if (write(fd, &v, sizeof v) != (ssize_t)sizeof v)
                _exit(6);
        }
    }
    la_close(db);
    _exit(0);
}

START_TEST(rollup_durability__sigkilled_writer)
{
    init_pools();
    mev *m = gen_events(NEV, g_seed + 2);
    uint64_t *hpre = malloc((NEV + 1) * sizeof *hpre); /* fingerprint sums of prefixes */
    hpre[0] = 0;
    for (size_t i = 0; i < NEV; i++)
        hpre[i + 1] = hpre[i] + model_hash(&m[i]);
    uint64_t rng = g_seed * 7 + 3;
    char *dir = tu_tmpdir();
    la_db *db = open_db(dir, LA_OPEN_CREATE);
    size_t have = NEV * 4 / 10;
    append_batches(db, m, 0, have, &rng);
    la_close(db);
    char phase[200];
    for (int round = 0; round < 12; round++) {
        size_t end = have + 6000 < NEV ? have + 6000 : NEV;
        /* odd rounds checkpoint at almost every flush */
        uint32_t cp_rows = round % 2 ? 50 + (uint32_t)rnd(&rng, 1500) : 0;
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            writer_child(dir, m, have, end, fds[1], rng ^ (uint64_t)round, cp_rows);
        }
        close(fds[1]);
        uint64_t want = rnd(&rng, 8), got = 0, flushed = have, v;
        while (got < want && read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) {
            flushed = v;
            got++;
        }
        struct timespec ts = {0, (long)rnd(&rng, 3000000)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert_msg(WIFSIGNALED(st) || WEXITSTATUS(st) == 0, "child failed with status %d",
                      WEXITSTATUS(st));
        while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
            flushed = v;
        close(fds[0]);

        /* what survived, by a raw scan: a prefix of the append order, at least what was flushed */
        la_db *r = open_db(dir, LA_OPEN_READONLY);
        uint64_t h;
        size_t k = scan_all(r, &h);
        ck_assert_msg(k >= flushed && k <= end, "round %d: %zu events stored, %llu flushed, %zu sent",
                      round, k, (unsigned long long)flushed, end);
        ck_assert_msg(h == hpre[k], "round %d: the %zu stored events are not the first %zu appended",
                      round, k, k);
        fprintf(stderr, "sigkill round %d: child sent [%zu, %zu), %llu flushed, %zu stored, checkpoint_rows %u\n",
                round, have, end, (unsigned long long)flushed, k, cp_rows);
        /* the rollup files a kill left are consistent with the segments (verify recomputes the
         * day files from the rows they claim) */
        verify_clean(dir);
        snprintf(phase, sizeof phase, "after SIGKILL round %d, read-only, %zu events (%llu flushed)",
                 round, k, (unsigned long long)flushed);
        g_phase = phase;
        run_checks(r, m, k, &rng, round < 4 ? 25 : 8, round < 4 ? 10 : 3, INT64_MIN);
        la_close(r);
        /* the writer's recovery keeps the same events and the same answers */
        db = open_db(dir, 0);
        uint64_t h2;
        ck_assert_uint_eq(scan_all(db, &h2), k);
        ck_assert(h2 == h);
        snprintf(phase, sizeof phase, "after SIGKILL round %d, recovered writer, %zu events", round, k);
        run_checks(db, m, k, &rng, round < 4 ? 10 : 4, round < 4 ? 5 : 2, INT64_MIN);
        la_close(db);
        verify_clean(dir);
        have = k;
    }
    db = open_db(dir, 0);
    append_batches(db, m, have, NEV, &rng);
    la_close(db);
    db = open_db(dir, 0);
    g_phase = "after the SIGKILL rounds, all appended and reopened";
    run_checks(db, m, NEV, &rng, 40, 15, INT64_MIN);
    la_close(db);
    verify_clean(dir);
    print_summary("sigkill");
    tu_rmrf(dir);
    free(dir);
    free(hpre);
    free(m);
}
END_TEST

#define DELETED_DAYS 10

static void day_name(int64_t day, const char *suffix, const char *dir, char *out, size_t cap)
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, cap, "%s/%04d-%02d-%02d%s", dir, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             suffix);
}

static void expect_notkept(la_db *db, const mq *q, int tdim)
{
    const char *qd = describe(q, tdim, 5);
    la_query lq = to_query(q);
    int rc;
    if (tdim < 0) {
        la_point *pts = NULL;
        size_t np = 0;
        rc = la_query_series(db, &lq, &pts, &np);
        la_series_free(pts);
    } else {
        la_top *t = NULL;
        rc = la_query_top(db, &lq, g_dim_ix[tdim], 5, &t);
        la_top_free(t);
    }
    TU_CHECK(rc == LA_ENOTKEPT, "%s: got %d, want LA_ENOTKEPT (%d)", qd, rc, LA_ENOTKEPT);
}

START_TEST(rollup_retention__deleted_raw_days)
{
    init_pools();
    mev *m = gen_events(NEV, g_seed + 3);
    uint64_t rng = g_seed * 11 + 4;
    char *dir = tu_tmpdir();
    la_db *db = open_db(dir, LA_OPEN_CREATE);
    append_batches(db, m, 0, NEV, &rng);
    la_close(db);
    char path[700];
    for (int64_t d = T0_DAY; d < T0_DAY + DELETED_DAYS; d++) {
        day_name(d, ".seg", dir, path, sizeof path);
        ck_assert_msg(unlink(path) == 0, "unlink %s: %s", path, strerror(errno));
        day_name(d, ".hr.roll", dir, path, sizeof path);
        ck_assert_msg(unlink(path) == 0, "unlink %s: %s", path, strerror(errno));
        day_name(d, ".roll", dir, path, sizeof path);
        ck_assert_msg(access(path, F_OK) == 0, "%s missing", path);
    }
    const int64_t kept = T0 + DELETED_DAYS * DAY_MS;
    db = open_db(dir, 0);

    /* UTC day/week/month/year without a dimension filter: answered from the daily and coarser
     * rollups, deleted days included */
    g_phase = "retention: UTC levels over deleted days";
    for (int lv = LA_BUCKET_DAY; lv <= LA_BUCKET_YEAR; lv++)
        for (int i = 0; i < 8; i++) {
            mq q = rand_filter(&rng);
            q.dim = q.dimval = -1;
            q.bucket = lv;
            q.tz = 0;
            if (i == 0)
                q.link = q.type = -1;
            if (i < 2) { /* the whole range */
                q.from = T0 - 2 * DAY_MS;
                q.to = T0 + (NDAYS + 2) * DAY_MS;
            } else if (i < 4) { /* wide */
                q.from = days_from_civil(2026, 1, 1) * DAY_MS;
                q.to = days_from_civil(2027, 1, 1) * DAY_MS;
            } else { /* random whole UTC days, starting in the deleted ones */
                q.from = T0 + (int64_t)rnd(&rng, DELETED_DAYS) * DAY_MS;
                q.to = q.from + (int64_t)(1 + rnd(&rng, 30)) * DAY_MS;
            }
            check_series(db, m, NEV, &q);
        }

    /* what needs raw events or hours of a deleted day */
    g_phase = "retention: needs deleted data";
    for (int i = 0; i < 30; i++) {
        mq q = rand_filter(&rng);
        q.ws = 0; /* events in every hour: nothing can be answered as "no events" */
        q.link = q.type = q.dim = q.dimval = -1;
        int64_t d = T0 + (int64_t)rnd(&rng, DELETED_DAYS) * DAY_MS;
        q.from = d + (int64_t)rnd(&rng, DAY_MS);
        q.to = q.from + 1 + (int64_t)rnd(&rng, 3 * DAY_MS);
        switch (i % 6) {
        case 0: /* hour buckets, UTC */
            q.bucket = LA_BUCKET_HOUR;
            q.tz = 0;
            break;
        case 1: /* a dimension filter, whole UTC days */
            q.bucket = LA_BUCKET_DAY;
            q.tz = 0;
            q.dim = (int)rnd(&rng, NDIMS);
            q.dimval = 0;
            q.from = d;
            q.to = d + (int64_t)(1 + rnd(&rng, 15)) * DAY_MS;
            break;
        case 2: /* days of a zone whose days are not UTC days (a day starts inside day d),
                 * over whole UTC days: the clipped pieces need hours of day d */
            q.bucket = LA_BUCKET_DAY;
            q.tz = 1 + (int)rnd(&rng, NZONES - 1);
            if (i % 4 == 2)
                q.tz = 3; /* Asia/Kolkata */
            q.from = d;
            q.to = d + (int64_t)(1 + rnd(&rng, 15)) * DAY_MS;
            break;
        case 3: /* UTC days, but starting inside a deleted day */
            q.bucket = LA_BUCKET_DAY + (int)rnd(&rng, 4);
            q.tz = 0;
            q.from = d + HOUR_MS + (int64_t)rnd(&rng, 20 * HOUR_MS);
            q.to = q.from + 1 + (int64_t)rnd(&rng, 3 * DAY_MS);
            break;
        case 4: /* top with a dimension filter */
            q.dim = (int)rnd(&rng, NDIMS);
            q.dimval = 0;
            q.from = d;
            q.to = d + (int64_t)(1 + rnd(&rng, 15)) * DAY_MS;
            break;
        default: /* top starting inside a deleted day */
            q.from = d + HOUR_MS + (int64_t)rnd(&rng, 20 * HOUR_MS);
            q.to = q.from + 1 + (int64_t)rnd(&rng, 3 * DAY_MS);
            break;
        }
        expect_notkept(db, &q, i % 6 >= 4 ? (int)rnd(&rng, NDIMS) : -1);
    }

    /* top over whole deleted UTC days, no dimension filter: the day rollups may answer it;
     * if they do, the answer must be right */
    g_phase = "retention: top over whole deleted days";
    int top_ok = 0, top_notkept = 0;
    for (int i = 0; i < 10; i++) {
        mq q = rand_filter(&rng);
        q.dim = q.dimval = -1;
        q.from = T0 + (int64_t)rnd(&rng, DELETED_DAYS) * DAY_MS;
        q.to = q.from + (int64_t)(1 + rnd(&rng, 20)) * DAY_MS;
        int tdim = i % NDIMS;
        la_query lq = to_query(&q);
        la_top *t = NULL;
        int rc = la_query_top(db, &lq, g_dim_ix[tdim], 5, &t);
        la_top_free(t);
        TU_CHECK(rc == LA_OK || rc == LA_ENOTKEPT, "%s: got %d", describe(&q, tdim, 5), rc);
        if (rc == LA_OK) {
            top_ok++;
            check_top(db, m, NEV, &q, tdim, i < 5 ? 5 : 1000);
        } else {
            top_notkept++;
        }
    }
    fprintf(stderr, "retention: top over whole deleted days: %d answered, %d LA_ENOTKEPT\n", top_ok,
            top_notkept);

    /* over the kept days only, everything still works */
    g_phase = "retention: kept days only";
    run_checks(db, m, NEV, &rng, 50, 20, kept);
    la_close(db);
    db = open_db(dir, LA_OPEN_READONLY);
    g_phase = "retention: read-only, UTC days over everything";
    mq q = rand_filter(&rng);
    q.dim = q.dimval = -1;
    q.link = q.type = -1;
    q.ws = 0;
    q.bucket = LA_BUCKET_DAY;
    q.tz = 0;
    q.from = T0;
    q.to = T0 + NDAYS * DAY_MS;
    check_series(db, m, NEV, &q);
    run_checks(db, m, NEV, &rng, 25, 10, kept);
    la_close(db);
    print_summary("retention");
    tu_rmrf(dir);
    free(dir);
    free(m);
}
END_TEST

/* A database written by specification version 4 (tests/data/db-spec4, made by `lactl ingest`
 * and `lactl compact --all` at commit 1e6a21f): 6,000 clicks of 6,000 visitors and sessions on
 * 2026-11-01, one link, sealed. Its day file is rollup version 1 and its hour file version 2;
 * their sketches, of about 5,000 non-zero registers, are sparse, the form the earlier rule chose
 * (version 3 writes them dense). Read as they are, they must give what the raw events give;
 * after a late event the checkpoint rewrites the day file as version 3, still right. */
static void copy_into(const char *from_dir, const char *to_dir, const char *name)
{
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/%s", from_dir, name);
    snprintf(b, sizeof b, "%s/%s", to_dir, name);
    FILE *in = fopen(a, "rb"), *out = fopen(b, "wb");
    ck_assert_msg(in && out, "copy %s", name);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
}

/* Distinct visitors and sessions of the raw events of [from, to) of a workspace and link (NULL
 * data: any), through fresh states. */
static void raw_distinct(la_db *db, la_str ws, la_str link, int64_t from, int64_t to, uint64_t *events,
                         uint64_t *vis, uint64_t *ses)
{
    la_filter f = LA_FILTER_INIT;
    f.from = from;
    f.to = to;
    f.workspace = ws;
    f.link = link;
    la_cursor *c;
    ck_assert_int_eq(la_scan(db, &f, &c), LA_OK);
    la_uniq v, s;
    la_uniq_init(&v);
    la_uniq_init(&s);
    la_batch b;
    *events = 0;
    int rc;
    while ((rc = la_cursor_next(c, &b)) == 1) {
        for (size_t i = 0; i < b.nrows; i++) {
            ck_assert_int_eq(la_uniq_add(&v, b.visitor_id[i]), LA_OK);
            ck_assert_int_eq(la_uniq_add(&s, b.session_id[i]), LA_OK);
        }
        *events += b.nrows;
    }
    ck_assert_int_eq(rc, 0);
    la_cursor_close(c);
    *vis = la_uniq_count(&v, NULL, NULL);
    *ses = la_uniq_count(&s, NULL, NULL);
    la_uniq_free(&v);
    la_uniq_free(&s);
}

static void check_day_and_hours(la_db *db, int64_t day)
{
    for (int bucket = LA_BUCKET_HOUR; bucket <= LA_BUCKET_DAY; bucket++) {
        la_query q = LA_QUERY_INIT;
        q.workspace = (la_str){"w1", 2};
        q.from = day;
        q.to = day + 86400000;
        q.bucket = bucket;
        la_point *p;
        size_t n;
        ck_assert_int_eq(la_query_series(db, &q, &p, &n), LA_OK);
        ck_assert_uint_eq(n, bucket == LA_BUCKET_HOUR ? 24 : 1);
        for (size_t i = 0; i < n; i++) {
            uint64_t ev, vis, ses;
            int64_t len = bucket == LA_BUCKET_HOUR ? 3600000 : 86400000;
            raw_distinct(db, (la_str){NULL, 0}, (la_str){NULL, 0}, p[i].bucket_start, p[i].bucket_start + len,
                         &ev, &vis, &ses);
            ck_assert_uint_eq(p[i].events, ev);
            ck_assert_uint_eq(p[i].visitors.count, vis);
            ck_assert_uint_eq(p[i].sessions.count, ses);
            if (bucket == LA_BUCKET_DAY)
                ck_assert_int_eq(p[i].visitors.exact, 0); /* a sketch, not an exact set */
        }
        la_series_free(p);
    }
}

static unsigned roll_version(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char h[12];
    ck_assert_uint_eq(fread(h, 1, sizeof h, f), sizeof h);
    fclose(f);
    return h[8] | (unsigned)h[9] << 8;
}

/* Copy every file of a fixture database into dir. */
static void copy_fixture(const char *name, const char *dir)
{
    const char *fixture = getenv("LA_TESTDATA") ? getenv("LA_TESTDATA") : "tests/data";
    char src[4096];
    snprintf(src, sizeof src, "%s/%s", fixture, name);
    DIR *d = opendir(src);
    ck_assert_msg(d != NULL, "fixture %s", src);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            copy_into(src, dir, e->d_name);
    closedir(d);
}

static unsigned char *read_whole(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    *len = (size_t)ftell(f);
    rewind(f);
    unsigned char *buf = malloc(*len);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

/* The error la_roll_open gives a file of dir once its read and write versions say `version`
 * (the header checksum made valid again); NULL if it opens. */
static const char *open_as_version(const char *dir, const char *name, unsigned version)
{
    size_t len;
    unsigned char *buf = read_whole(dir, name, &len);
    la_put16(buf + 8, (uint16_t)version);
    la_put16(buf + 10, (uint16_t)version);
    la_put32(buf + 60, la_crc32c(0, buf, 60));
    la_roll_view v;
    const char *why = NULL;
    uint64_t off;
    int rc = la_roll_open(&v, buf, len, 5, &why, &off);
    la_roll_close(&v);
    free(buf);
    return rc == LA_OK ? NULL : why;
}

/* One late event through a writer that keeps old days (the fixtures are older than the
 * retention period); its close checkpoints the files the event touches. */
static void append_late(const char *dir, const la_event *e)
{
    la_options o = LA_OPTIONS_INIT;
    o.no_auto_retention = 1;
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, 0, &o), LA_OK);
    ck_assert_int_eq(la_append(db, e), LA_OK);
    la_close(db);
}

static void expect_verified(const char *dir)
{
    uint64_t problems = 1;
    ck_assert_int_eq(la_verify(dir, NULL, NULL, &problems), LA_OK);
    ck_assert_uint_eq(problems, 0);
}

START_TEST(rollup_compat__files_of_specification_4)
{
    char *dir = tu_tmpdir();
    copy_fixture("db-spec4", dir);
    ck_assert_uint_eq(roll_version(dir, "2026-11-01.roll"), 1);
    ck_assert_uint_eq(roll_version(dir, "2026-11-01.hr.roll"), 2);
    const int64_t day = 1793491200000; /* 2026-11-01T00:00Z */

    expect_verified(dir);
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_READONLY, NULL), LA_OK);
    check_day_and_hours(db, day);
    la_close(db);

    /* a late event: the checkpoint at close rewrites the day's files in version 3 */
    la_event e = {day + 12 * 3600000 + 5, {"w1", 2}, {"a", 1}, {"click", 5}, 424242, 424243, 0, 0, NULL, 0};
    append_late(dir, &e);
    ck_assert_uint_eq(roll_version(dir, "2026-11-01.roll"), 3);
    ck_assert_uint_eq(roll_version(dir, "2026-11-01.hr.roll"), 3);
    expect_verified(dir);
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_READONLY, NULL), LA_OK);
    check_day_and_hours(db, day);
    la_query q = LA_QUERY_INIT;
    q.workspace = (la_str){"w1", 2};
    q.from = day;
    q.to = day + 86400000;
    la_point *p;
    size_t n;
    ck_assert_int_eq(la_query_series(db, &q, &p, &n), LA_OK);
    ck_assert_uint_eq(p[0].events, 6001);
    la_series_free(p);
    la_close(db);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* Link cells in a rollup file of dir (its workspace cells are all it must hold otherwise). */
static uint32_t link_cells(const char *dir, const char *name)
{
    size_t len;
    unsigned char *buf = read_whole(dir, name, &len);
    la_roll_view v;
    const char *why;
    uint64_t off;
    ck_assert_int_eq(la_roll_open(&v, buf, len, 5, &why, &off), LA_OK);
    uint32_t n = 0;
    for (uint32_t i = 0; i < v.h.ncells; i++) {
        la_roll_key k;
        la_roll_key_at(&v, i, &k);
        n += k.link != 0;
    }
    la_roll_close(&v);
    free(buf);
    return n;
}

/* The week's totals and distinct counts of a workspace and of one of its links, against the
 * raw events. */
static void check_week(la_db *db, int64_t monday, la_str ws, la_str link)
{
    for (int k = 0; k < 2; k++) {
        la_query q = LA_QUERY_INIT;
        q.workspace = ws;
        if (k)
            q.link = link;
        q.from = monday;
        q.to = monday + 7 * 86400000LL;
        q.bucket = LA_BUCKET_WEEK;
        la_point *p;
        size_t n;
        ck_assert_int_eq(la_query_series(db, &q, &p, &n), LA_OK);
        ck_assert_uint_eq(n, 1);
        uint64_t ev, vis, ses;
        raw_distinct(db, ws, q.link, q.from, q.to, &ev, &vis, &ses);
        ck_assert_uint_gt(ev, 0);
        ck_assert_uint_eq(p[0].events, ev);
        ck_assert_uint_eq(p[0].visitors.count, vis);
        ck_assert_uint_eq(p[0].sessions.count, ses);
        la_series_free(p);
    }
}

/* A database written by specification version 5 (commit 6cfd945, 800 lagen events over
 * 2026-11-09..17): its week file has read_version 3 and holds link cells. Version 6 answers a
 * link's week from the day files and the workspace's from the week file; an event for that
 * week rewrites the file in read_version 4, without link cells. */
START_TEST(rollup_compat__week_files_of_specification_5)
{
    char *dir = tu_tmpdir();
    copy_fixture("db-spec5", dir);
    ck_assert_uint_eq(roll_version(dir, "2026-W46.roll"), 3);
    ck_assert_uint_gt(link_cells(dir, "2026-W46.roll"), 0);
    /* the same bytes claiming version 4 are corrupt: a week file of 4 holds no link cells, and
     * only week and year files are of version 4 */
    ck_assert_str_eq(open_as_version(dir, "2026-W46.roll", 4), "link cell in a week or year file of version 4 or later");
    ck_assert_str_eq(open_as_version(dir, "2026-11-09.roll", 4), "read_version 4 in a file that is not a week or year file");
    ck_assert_ptr_null(open_as_version(dir, "2026-11-09.roll", 3));
    const int64_t monday = 1794182400000; /* 2026-11-09T00:00Z */
    const la_str ws = {"ws_xzwqfm77", 11}, link = {"lk_sUDrutD", 10};
    expect_verified(dir);
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_READONLY, NULL), LA_OK);
    check_week(db, monday, ws, link);
    la_close(db);

    la_event e = {monday + 2 * 86400000LL + 5, ws, link, {"click", 5}, 525252, 525253, 0, 0, NULL, 0};
    append_late(dir, &e);
    ck_assert_uint_eq(roll_version(dir, "2026-W46.roll"), 4);
    ck_assert_uint_eq(link_cells(dir, "2026-W46.roll"), 0);
    expect_verified(dir);
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_READONLY, NULL), LA_OK);
    check_week(db, monday, ws, link);
    la_close(db);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(rollup_errors__arguments)
{
    init_pools();
    mev *m = gen_events(2000, g_seed + 4);
    char *dir = tu_tmpdir();
    la_db *db = open_db(dir, LA_OPEN_CREATE);
    append_ok(db, m, 0, 2000);
    la_query q = LA_QUERY_INIT;
    q.from = T0;
    q.to = T0 + 10 * DAY_MS;
    q.workspace = S("acme");
    la_point *pts = NULL;
    size_t np = 0;
    la_top *t = NULL;
    ck_assert_int_eq(la_query_series(db, &q, &pts, &np), LA_OK);
    ck_assert_uint_eq(np, 10);
    la_series_free(pts);
    ck_assert_int_eq(la_query_top(db, &q, 0, 5, &t), LA_OK);
    la_top_free(t);

    la_query b = q;
    b.workspace = (la_str){NULL, 0};
    ck_assert_int_eq(la_query_series(db, &b, &pts, &np), LA_EINVAL);
    ck_assert_int_eq(la_query_top(db, &b, 0, 5, &t), LA_EINVAL);
    b = q;
    b.to = b.from;
    ck_assert_int_eq(la_query_series(db, &b, &pts, &np), LA_EINVAL);
    ck_assert_int_eq(la_query_top(db, &b, 0, 5, &t), LA_EINVAL);
    b.to = b.from - 1;
    ck_assert_int_eq(la_query_series(db, &b, &pts, &np), LA_EINVAL);
    ck_assert_int_eq(la_query_top(db, &b, 0, 5, &t), LA_EINVAL);
    b = q;
    b.bucket = -1;
    ck_assert_int_eq(la_query_series(db, &b, &pts, &np), LA_EINVAL);
    b.bucket = 5;
    ck_assert_int_eq(la_query_series(db, &b, &pts, &np), LA_EINVAL);
    b = q;
    b.dim = NDIMS;
    ck_assert_int_eq(la_query_series(db, &b, &pts, &np), LA_EINVAL);
    ck_assert_int_eq(la_query_top(db, &b, 0, 5, &t), LA_EINVAL);
    b.dim = -2;
    ck_assert_int_eq(la_query_series(db, &b, &pts, &np), LA_EINVAL);
    ck_assert_int_eq(la_query_top(db, &q, NDIMS, 5, &t), LA_EINVAL);
    ck_assert_int_eq(la_query_top(db, &q, -1, 5, &t), LA_EINVAL);
    b = q;
    b.tz = "Mars/Olympus";
    ck_assert_int_eq(la_query_series(db, &b, &pts, &np), LA_ENOTFOUND);
    ck_assert_int_eq(la_query_top(db, &b, 0, 5, &t), LA_ENOTFOUND);
    ck_assert_int_eq(la_query_top(db, &q, 0, 0, &t), LA_EINVAL);
    ck_assert_int_eq(la_query_top(db, &q, 0, 10001, &t), LA_EINVAL);
    ck_assert_int_eq(la_query_top(db, &q, 0, 10000, &t), LA_OK);
    la_top_free(t);
    b = q; /* more than 100000 buckets */
    b.bucket = LA_BUCKET_HOUR;
    b.to = b.from + 100001LL * HOUR_MS;
    ck_assert_int_eq(la_query_series(db, &b, &pts, &np), LA_EINVAL);
    b.to = b.from + 100000LL * HOUR_MS;
    ck_assert_int_eq(la_query_series(db, &b, &pts, &np), LA_OK);
    ck_assert_uint_eq(np, 100000);
    la_series_free(pts);
    la_series_free(NULL);
    la_top_free(NULL);
    la_close(db);
    tu_rmrf(dir);
    free(dir);
    free(m);
}
END_TEST


/* Damage to rollup files: every flipped bit is reported by verify, and a query then fails with
 * LA_ECORRUPT or gives the undamaged answer, never a wrong one. A day file swapped in from
 * another database (valid bytes, wrong counts) is reported as differing from its segment. */
/* A copy whose rollup files may be damaged: segments are hard links (nothing writes them). */
static void copy_tree(const char *from, const char *to)
{
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir '%s' && ln '%s'/*.seg '%s'/ && cp '%s'/*.roll '%s'/la.meta '%s'/",
             to, to, from, to, from, from, to);
    ck_assert_int_eq(system(cmd), 0);
}

static uint64_t series_sum(la_db *db, int64_t from, int64_t to, int bucket, int *rc)
{
    la_query q = LA_QUERY_INIT;
    q.workspace = S(ws_names[0]);
    q.from = from;
    q.to = to;
    q.bucket = bucket;
    la_point *p;
    size_t n;
    uint64_t sum = 0;
    if ((*rc = la_query_series(db, &q, &p, &n)) != LA_OK)
        return 0;
    for (size_t i = 0; i < n; i++)
        sum = sum * 31 + p[i].events * 7 + (uint64_t)p[i].value + p[i].visitors.count;
    la_series_free(p);
    return sum;
}

START_TEST(rollup_damage__flips_detected_answers_never_wrong)
{
    init_pools();
    const size_t n = 6000;
    mev *m = gen_events(n, g_seed + 9);
    char *dir = tu_tmpdir(), work[700], other[700];
    snprintf(work, sizeof work, "%s.work", dir);
    snprintf(other, sizeof other, "%s.other", dir);
    la_db *db = open_db(dir, LA_OPEN_CREATE);
    append_ok(db, m, 0, n);
    la_close(db);
    mev *m2 = gen_events(n, g_seed + 10); /* the same days, other events */
    db = open_db(other, LA_OPEN_CREATE);
    append_ok(db, m2, 0, n);
    la_close(db);
    free(m2);
    const int64_t from = T0, to = T0 + (int64_t)NDAYS * DAY_MS;
    int rc;
    db = open_db(dir, LA_OPEN_READONLY);
    uint64_t want_day = series_sum(db, from, to, LA_BUCKET_DAY, &rc);
    ck_assert_int_eq(rc, LA_OK);
    uint64_t want_month = series_sum(db, from, to, LA_BUCKET_MONTH, &rc);
    ck_assert_int_eq(rc, LA_OK);
    la_close(db);
    verify_clean(dir);

    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    char names[256][300];
    int nfiles = 0;
    while ((e = readdir(d)) && nfiles < 256)
        if (strstr(e->d_name, ".roll") && strlen(e->d_name) < sizeof names[0])
            memcpy(names[nfiles++], e->d_name, strlen(e->d_name) + 1);
    closedir(d);
    ck_assert_int_gt(nfiles, 10);
    uint64_t rng = 77;
    int flips = 0, errors = 0;
    for (int i = 0; i < nfiles; i++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%.250s", work, names[i]);
        for (int t = 0; t < 1; t++) {
            copy_tree(dir, work);
            struct stat st;
            ck_assert_int_eq(stat(path, &st), 0);
            int fd = open(path, O_RDWR);
            ck_assert_int_ge(fd, 0);
            off_t off = (off_t)(tu_rand(&rng) % (uint64_t)st.st_size);
            uint8_t byte;
            ck_assert_int_eq(pread(fd, &byte, 1, off), 1);
            byte ^= (uint8_t)(1u << (tu_rand(&rng) % 8));
            ck_assert_int_eq(pwrite(fd, &byte, 1, off), 1);
            close(fd);
            uint64_t problems = 0;
            ck_assert_int_eq(la_verify(work, NULL, NULL, &problems), LA_OK);
            ck_assert_msg(problems > 0, "flip in %s at %lld not reported", names[i], (long long)off);
            la_db *w = open_db(work, LA_OPEN_READONLY);
            uint64_t got = series_sum(w, from, to, LA_BUCKET_DAY, &rc);
            ck_assert_msg(rc == LA_ECORRUPT || (rc == LA_OK && got == want_day),
                          "flip in %s at %lld: day series rc %d, %s", names[i], (long long)off, rc,
                          rc == LA_OK ? "a wrong answer" : la_errmsg());
            errors += rc != LA_OK;
            got = series_sum(w, from, to, LA_BUCKET_MONTH, &rc);
            ck_assert_msg(rc == LA_ECORRUPT || (rc == LA_OK && got == want_month),
                          "flip in %s at %lld: month series rc %d", names[i], (long long)off, rc);
            la_close(w);
            flips++;
        }
    }
    /* valid bytes, wrong content: a day file from the other database */
    copy_tree(dir, work);
    char src[900], dst[900];
    snprintf(src, sizeof src, "%s/%s", other, "2026-10-05.roll");
    snprintf(dst, sizeof dst, "%s/%s", work, "2026-10-05.roll");
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, dst);
    ck_assert_int_eq(system(cmd), 0);
    uint64_t problems = 0;
    ck_assert_int_eq(la_verify(work, NULL, NULL, &problems), LA_OK);
    ck_assert_msg(problems > 0, "a day file from another database was not reported");
    fprintf(stderr, "damage: %d flips in %d rollup files, all reported; %d queries failed, the rest answered right\n",
            flips, nfiles, errors);
    tu_rmrf(work);
    tu_rmrf(other);
    tu_rmrf(dir);
    free(dir);
    free(m);
}
END_TEST

static Suite *rollup_suite(void)
{
    Suite *s = suite_create("rollup");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, rollup_model__series_and_top_through_batches_and_reopen, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("thread");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, rollup_thread__started_by_a_writer_when_asked);
    suite_add_tcase(s, tc);
    tc = tcase_create("durability");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, rollup_durability__readonly_handle_beside_writer);
    tcase_add_test(tc, rollup_durability__readonly_replays_a_long_tail);
    tcase_add_test(tc, rollup_durability__sigkilled_writer);
    suite_add_tcase(s, tc);
    tc = tcase_create("damage");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, rollup_damage__flips_detected_answers_never_wrong);
    suite_add_tcase(s, tc);
    tc = tcase_create("retention");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, rollup_retention__deleted_raw_days);
    suite_add_tcase(s, tc);
    tc = tcase_create("compat");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rollup_compat__files_of_specification_4);
    tcase_add_test(tc, rollup_compat__week_files_of_specification_5);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rollup_errors__arguments);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(rollup_suite)
