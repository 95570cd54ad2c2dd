/* fuzz_api.c — input bytes drive a sequence of public API calls (append, batch append, bulk
 * generated batches, flush, close and reopen with other options, read-only opens, filtered scans,
 * dashboard queries, retention, verify) against a plain in-memory model; any difference between la and the
 * model aborts. Queries (la_query_series, la_query_top) are checked against a brute-force pass
 * over the model's events, in UTC only (zone math has its own tests), on the writer, on a
 * long-lived read-only handle and on fresh read-only handles, with rollups written during the
 * sequence (small checkpoint_rows) or only at close, or not at all (no_rollups). The realtime
 * figures (la_live, la_live_top) are checked against the model too, with the clock set through
 * the I/O seam and moved forward by flushes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "io.h"
#include "la.h"

#define DAY_MS 86400000LL
#define BASE_DAY 20758LL /* 2026-11-01 */
#define HOUR_MS 3600000LL
#define END_MS (2932897LL * DAY_MS) /* 10000-01-01: la stores nothing from here on */
#define MAX_EVENTS 4096

/* Small pools so that filters hit; the odd ones test escaping, limits and absent vs empty, the
 * last three are the event types that series count apart. */
static const char *const pool[] = {"a",   "b",     "ws_1", "lk_X", "", "tab\there", "\xff\x00z",
                                   "c",   "click", "lead", "sale"};
#define NPOOL 11
#define QNONE (NPOOL + 2) /* a query string that no event has */
static char long_ok[LA_MAX_STR], too_long[LA_MAX_STR + 1];

static uint8_t next(fz *s) { return (uint8_t)fz_take(s, 1); }
static uint64_t next64(fz *s) { return fz_take(s, 8); }

/* A string choice: -1 absent, 0..NPOOL-1 pool, NPOOL the longest allowed, NPOOL+1 too long,
 * QNONE a string that no event has (queries only). */
static la_str pick(int k)
{
    if (k < 0)
        return (la_str){NULL, 0};
    if (k == QNONE)
        return (la_str){"zz-none", 7};
    if (k == NPOOL)
        return (la_str){long_ok, sizeof long_ok};
    if (k == NPOOL + 1)
        return (la_str){too_long, sizeof too_long};
    size_t len = k == 6 ? 3 : strlen(pool[k]);
    return (la_str){pool[k], (uint32_t)len};
}

typedef struct mev {
    int64_t ts;
    int ws, link, type, dim[5];
    uint64_t vis, ses;
    int has_value;
    int64_t value;
} mev;

static mev model[MAX_EVENTS];
static size_t nmodel;

/* Retention: the clock la reads (fixed, so that inputs replay the same), and the days it
 * deleted: their events are gone from scans and refused by appends, while queries over them
 * answer from the day rollups or say LA_ENOTKEPT. */
static int64_t clock_ms = (BASE_DAY + 10) * DAY_MS;
static int64_t gone[MAX_EVENTS];
static size_t ngone;

static int64_t fixed_clock(void) { return clock_ms; }

static int is_gone(int64_t day)
{
    for (size_t i = 0; i < ngone; i++)
        if (gone[i] == day)
            return 1;
    return 0;
}

static int draw_str(fz *s, int required)
{
    uint8_t b = next(s);
    if (b < 8 && !required)
        return -1;
    if (b == 255)
        return NPOOL + 1;
    if (b == 254)
        return NPOOL;
    return b % NPOOL;
}

/* The clock (the I/O seam's now_ms) and the realtime windows of every handle, in minutes. */
#define MIN_MS 60000LL
#define LIVE_FUTURE 1440 /* minutes ahead that count: the cap, as every handle accepts any time */
static int64_t clock_ms;
static uint32_t live_window, live_active;
static int64_t fake_now(void) { return clock_ms; }

static mev draw_event(fz *s)
{
    mev e;
    uint8_t kind = next(s);
    int64_t day = BASE_DAY + next(s) % 4;
    e.ts = day * DAY_MS + (int64_t)(next64(s) % (uint64_t)DAY_MS);
    if (kind >= 200 && kind < 250) /* around the clock: in the realtime window, or just outside;
                                    * a few up to the future horizon */
        e.ts = clock_ms - (int64_t)(live_window + 3) * MIN_MS +
               (int64_t)(next64(s) % (uint64_t)((live_window + 3 + (kind < 245 ? 60 : LIVE_FUTURE)) * MIN_MS));
    if (kind == 250)
        e.ts = -1 - (int64_t)next(s); /* before 1970 */
    else if (kind == 251)
        e.ts = (int64_t)2932897 * DAY_MS + next(s); /* year 10000 */
    else if (kind == 252)
        e.ts = next(s); /* the first day of 1970 */
    e.ws = draw_str(s, 1);
    e.link = draw_str(s, 1);
    e.type = draw_str(s, 1);
    for (int d = 0; d < 5; d++)
        e.dim[d] = draw_str(s, 0);
    e.vis = next64(s);
    e.ses = next(s) & 1 ? e.vis : next64(s);
    e.has_value = next(s) & 1;
    e.value = e.has_value ? (int64_t)next64(s) : 0;
    return e;
}

/* What la must answer for this event, from the header's rules alone. */
static int expected_rc(const mev *e)
{
    if (e->ws == NPOOL + 1 || e->link == NPOOL + 1 || e->type == NPOOL + 1)
        return LA_EINVAL;
    for (int d = 0; d < 5; d++)
        if (e->dim[d] == NPOOL + 1)
            return LA_EINVAL;
    if (e->ts < 0 || e->ts >= 253402300800000LL)
        return LA_ERANGE;
    return is_gone(e->ts / DAY_MS) ? LA_ETOOOLD : LA_OK;
}

static la_event to_event(const mev *m, la_str *dims)
{
    la_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = m->ts;
    ev.workspace = pick(m->ws);
    ev.link = pick(m->link);
    ev.event_type = pick(m->type);
    ev.visitor_id = m->vis;
    ev.session_id = m->ses;
    ev.has_value = m->has_value;
    ev.value = m->value;
    for (int d = 0; d < 5; d++)
        dims[d] = pick(m->dim[d]);
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

static int row_eq(const la_batch *b, size_t r, const mev *m)
{
    la_str dims[5];
    la_event ev = to_event(m, dims);
    if (b->ts[r] != ev.ts || b->visitor_id[r] != ev.visitor_id ||
        b->session_id[r] != ev.session_id || b->has_value[r] != (ev.has_value != 0) ||
        (ev.has_value && b->value[r] != ev.value))
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
    int ws, link, dim, dimval; /* -2 = no filter */
} mfilter;

static int match(const mev *m, const mfilter *f)
{
    return m->ts >= f->from && m->ts < f->to && !is_gone(m->ts / DAY_MS) && (f->ws == -2 || m->ws == f->ws) &&
           (f->link == -2 || m->link == f->link) && (f->dim < 0 || m->dim[f->dim] == f->dimval);
}

static int64_t day_of(int64_t ts) { return ts / DAY_MS; }

/* Scan through handle db and compare with the model: days in order, append order within. */
static void check_scan(la_db *db, const mfilter *f)
{
    la_filter lf = LA_FILTER_INIT;
    lf.from = f->from;
    lf.to = f->to;
    if (f->ws != -2)
        lf.workspace = pick(f->ws);
    if (f->link != -2)
        lf.link = pick(f->link);
    if (f->dim >= 0) {
        lf.dim = f->dim;
        lf.dim_value = pick(f->dimval);
    }
    la_cursor *cur;
    if (la_scan(db, &lf, &cur) != LA_OK)
        FZ_ASSERT(0);
    int64_t days[MAX_EVENTS];
    size_t ndays = 0;
    for (size_t i = 0; i < nmodel; i++) {
        size_t k = 0;
        while (k < ndays && days[k] != day_of(model[i].ts))
            k++;
        if (k == ndays)
            days[ndays++] = day_of(model[i].ts);
    }
    for (size_t a = 1; a < ndays; a++) /* insertion sort: few days */
        for (size_t b = a; b > 0 && days[b - 1] > days[b]; b--) {
            int64_t t = days[b];
            days[b] = days[b - 1];
            days[b - 1] = t;
        }
    size_t di = 0, mi = 0;
    la_batch b;
    int rc;
    /* advance (di, mi) to the next model event that matches */
#define ADVANCE()                                                                                  \
    for (; di < ndays; di++, mi = 0) {                                                             \
        while (mi < nmodel && !(day_of(model[mi].ts) == days[di] && match(&model[mi], f)))         \
            mi++;                                                                                  \
        if (mi < nmodel)                                                                           \
            break;                                                                                 \
    }
    ADVANCE();
    while ((rc = la_cursor_next(cur, &b)) == 1) {
        for (size_t r = 0; r < b.nrows; r++) {
            if (di >= ndays || !row_eq(&b, r, &model[mi]))
                FZ_ASSERT(0); /* an invented, reordered or wrong row */
            mi++;
            ADVANCE();
        }
    }
#undef ADVANCE
    if (rc != 0 || di < ndays)
        FZ_ASSERT(0); /* an error, or a model event missing */
    la_cursor_close(cur);
}

/* Sealing (la_compact with LA_COMPACT_ALL): a day is sealed when it is not yet, or when it
 * got late events since. Its events then come back sorted by (workspace bytes, link bytes,
 * ts), ties in their previous order — so the model reorders them in place, stably. */
typedef struct mday {
    int64_t day;
    int sealed;
    size_t late;
} mday;
static mday mdays[MAX_EVENTS];
static size_t nmdays;

static mday *model_day(int64_t day)
{
    for (size_t i = 0; i < nmdays; i++)
        if (mdays[i].day == day)
            return &mdays[i];
    mdays[nmdays] = (mday){day, 0, 0};
    return &mdays[nmdays++];
}

static void model_appended(const mev *e)
{
    mday *d = model_day(day_of(e->ts));
    d->late += d->sealed;
}

static int cmp_bytes(la_str a, la_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.data, b.data, n) : 0;
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

static int sealed_before(const mev *a, const mev *b)
{
    int c = cmp_bytes(pick(a->ws), pick(b->ws));
    if (!c)
        c = cmp_bytes(pick(a->link), pick(b->link));
    return c < 0 || (c == 0 && a->ts < b->ts);
}

/* la_compact(LA_COMPACT_ALL) in the model; returns the number of days it seals. */
static uint32_t model_seal_all(void)
{
    uint32_t n = 0;
    static size_t pos[MAX_EVENTS];
    static mev tmp[MAX_EVENTS];
    for (size_t k = 0; k < nmdays; k++) {
        mday *d = &mdays[k];
        if ((d->sealed && d->late == 0) || is_gone(d->day)) /* retention deleted its segment */
            continue;
        size_t m = 0;
        for (size_t i = 0; i < nmodel; i++)
            if (day_of(model[i].ts) == d->day)
                pos[m++] = i;
        for (size_t i = 0; i < m; i++) { /* stable insertion sort */
            mev e = model[pos[i]];
            size_t j = i;
            while (j > 0 && sealed_before(&e, &tmp[j - 1])) {
                tmp[j] = tmp[j - 1];
                j--;
            }
            tmp[j] = e;
        }
        for (size_t i = 0; i < m; i++)
            model[pos[i]] = tmp[i];
        d->sealed = 1;
        d->late = 0;
        n++;
    }
    return n;
}

static char dir[256];

static la_io clock_io;

static void setup(void)
{
    clock_io = *la_io_posix();
    clock_io.now_ms = fake_now;
    la_io_set(&clock_io);
    fz_scratch_dir("la-fuzz-api", dir, sizeof dir);
    static la_io io;
    io = *la_io_posix();
    io.now_ms = fixed_clock;
    la_io_set(&io);
    memset(long_ok, 'L', sizeof long_ok);
    memset(too_long, 'T', sizeof too_long);
}

static mfilter draw_filter(fz *s)
{
    mfilter f = {INT64_MIN, INT64_MAX, -2, -2, -1, 0};
    uint8_t k = next(s);
    if (k & 1) {
        f.from = (BASE_DAY + next(s) % 4) * DAY_MS + (int64_t)(next64(s) % (uint64_t)DAY_MS);
        f.to = f.from + (int64_t)(next64(s) % (uint64_t)(3 * DAY_MS));
    }
    if (k & 2)
        f.ws = next(s) % NPOOL;
    if (k & 4)
        f.link = next(s) % NPOOL;
    if (k & 8) {
        f.dim = next(s) % 5;
        f.dimval = next(s) < 32 ? -1 : next(s) % NPOOL;
    }
    return f;
}

/* ---------------------------------------------------------------------------------------------
 * Bulk batches: many generated events from a few bytes, so that distinct counts pass the exact
 * limit (256) and rollups cover weeks, months and years that end before the newest day.
 * ------------------------------------------------------------------------------------------- */

static uint64_t mix64(uint64_t *x) /* splitmix64 */
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Draw and append one bulk batch through la_append_batch; every event is valid. */
static void bulk_append(fz *s, la_db *db)
{
    size_t n = 1 + (size_t)(fz_take(s, 2) % 700);
    if (n > MAX_EVENTS - nmodel)
        n = MAX_EVENTS - nmodel;
    if (n == 0)
        return;
    uint8_t d = next(s);
    int64_t day = d < 160 ? BASE_DAY + d % 4 : BASE_DAY - 420 + (int64_t)(d - 160) * 9;
    if (is_gone(day))
        return;
    uint8_t w = next(s);
    int64_t t0 = day * DAY_MS + (w & 1 ? (int64_t)(w >> 1) % 24 * HOUR_MS : 0);
    int64_t spread = w & 1 ? HOUR_MS : DAY_MS;
    int ws = next(s) % NPOOL, nlinks = 1 + next(s) % 4;
    uint64_t nvis = 1 + fz_take(s, 2), seed = next64(s);
    uint8_t mode = next(s); /* bit 0: one session per visitor; bit 1: values; bit 2: dims */
    mev *batch = fz_alloc(n * sizeof *batch);
    la_event *evs = fz_alloc(n * sizeof *evs);
    la_str(*dims)[5] = fz_alloc(n * sizeof *dims);
    for (size_t i = 0; i < n; i++) {
        mev *e = &batch[i];
        uint64_t r = mix64(&seed);
        e->ts = t0 + (int64_t)(r % (uint64_t)spread);
        e->ws = ws;
        e->link = (int)((r >> 32) % (uint64_t)nlinks);
        e->type = 7 + (int)((r >> 40) % 4); /* c, click, lead, sale */
        for (int k = 0; k < 5; k++)
            e->dim[k] = mode & 4 ? (int)((r >> (8 * k)) % (NPOOL + 2)) - 1 : -1;
        e->vis = mix64(&seed) % nvis;
        e->ses = mode & 1 ? e->vis : mix64(&seed) % (2 * nvis);
        e->has_value = mode & 2 ? (int)((r >> 48) & 1) : 0;
        e->value = e->has_value ? (int64_t)mix64(&seed) : 0;
        evs[i] = to_event(e, dims[i]);
    }
    size_t done = 0;
    if (la_append_batch(db, evs, n, &done) != LA_OK || done != n)
        FZ_ASSERT(0);
    for (size_t i = 0; i < n; i++)
        model_appended(&batch[i]);
    memcpy(&model[nmodel], batch, n * sizeof *batch);
    nmodel += n;
    free(batch);
    free(evs);
    free(dims);
}

/* ---------------------------------------------------------------------------------------------
 * Dashboard queries against the model. UTC buckets: hour = floor(t / 1 h), day = floor(t / 1 d),
 * ISO weeks from Monday (1970-01-05 was one), months and years through the civil calendar
 * (written out here rather than taken from format/calendar.h, so that the model stays apart).
 * ------------------------------------------------------------------------------------------- */

static int64_t fdiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static int64_t civil_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = fdiv(y, 400), yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_of(int64_t z, int64_t *y, int *m)
{
    z += 719468;
    int64_t era = fdiv(z, 146097), doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t mp = (5 * (doe - (365 * yoe + yoe / 4 - yoe / 100)) + 2) / 153;
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* The start of the UTC bucket of `level` holding t, and the start of the next one. */
static int64_t bucket_floor(int level, int64_t t)
{
    int64_t d = fdiv(t, DAY_MS), y;
    int m;
    switch (level) {
    case LA_BUCKET_HOUR:
        return fdiv(t, HOUR_MS) * HOUR_MS;
    case LA_BUCKET_DAY:
        return d * DAY_MS;
    case LA_BUCKET_WEEK:
        return (d - (d + 3 - fdiv(d + 3, 7) * 7)) * DAY_MS; /* day 0 was a Thursday */
    case LA_BUCKET_MONTH:
        civil_of(d, &y, &m);
        return civil_days(y, m, 1) * DAY_MS;
    default:
        civil_of(d, &y, &m);
        return civil_days(y, 1, 1) * DAY_MS;
    }
}

static int64_t bucket_next(int level, int64_t start)
{
    int64_t y;
    int m;
    switch (level) {
    case LA_BUCKET_HOUR:
        return start + HOUR_MS;
    case LA_BUCKET_DAY:
        return start + DAY_MS;
    case LA_BUCKET_WEEK:
        return start + 7 * DAY_MS;
    case LA_BUCKET_MONTH:
        civil_of(fdiv(start, DAY_MS), &y, &m);
        return (m == 12 ? civil_days(y + 1, 1, 1) : civil_days(y, m + 1, 1)) * DAY_MS;
    default:
        civil_of(fdiv(start, DAY_MS), &y, &m);
        return civil_days(y + 1, 1, 1) * DAY_MS;
    }
}

/* A query as pool choices (see pick()): ws -1 is absent (LA_EINVAL); link, type -1 = all. */
typedef struct mquery {
    int64_t from, to;
    int ws, link, type;
    int dim, dimval;  /* dim -1: no dimension filter; -2 or 5: out of range */
    int bucket;       /* -1 and 5: invalid */
} mquery;

static int qmatch(const mev *m, const mquery *q)
{
    return m->ts >= q->from && m->ts < q->to && m->ws == q->ws &&
           (q->link < 0 || m->link == q->link) && (q->type < 0 || m->type == q->type) &&
           (q->dim < 0 || m->dim[q->dim] == q->dimval);
}

/* A query that meets a deleted day may need its raw events or hours: LA_ENOTKEPT. */
static int may_be_notkept(const mquery *q, int want, int rc)
{
    if (rc != LA_ENOTKEPT || want != LA_OK)
        return 0;
    for (size_t i = 0; i < ngone; i++)
        if (gone[i] * DAY_MS < q->to && (gone[i] + 1) * DAY_MS > q->from)
            return 1;
    return 0;
}

/* What the header promises for the arguments alone (series: also the bucket count). */
static int query_rc(const mquery *q)
{
    if (q->ws == -1 || q->ws == NPOOL + 1 || q->link == NPOOL + 1 || q->type == NPOOL + 1 ||
        (q->dim != -1 && q->dimval == NPOOL + 1))
        return LA_EINVAL;
    if (q->from >= q->to || q->dim < -1 || q->dim >= 5 || q->bucket < 0 || q->bucket > 4)
        return LA_EINVAL;
    return LA_OK;
}

static la_query to_query(const mquery *m)
{
    la_query q = LA_QUERY_INIT;
    q.from = m->from;
    q.to = m->to;
    q.workspace = pick(m->ws);
    q.link = pick(m->link);
    q.event_type = pick(m->type);
    q.dim = m->dim;
    if (m->dim != -1)
        q.dim_value = pick(m->dimval);
    q.bucket = m->bucket;
    q.tz = NULL;
    return q;
}

/* How far a range may reach for each bucket level. Queries walk their range day by day (about
 * 5 us a day at -O2 even with no data, more under sanitizers), so ranges stay short. */
static const int64_t range_cap[5] = {30 * DAY_MS, 120 * DAY_MS, 366 * DAY_MS, 2 * 366 * DAY_MS,
                                     3 * 366 * DAY_MS};

/* [from, to): near an event of the model mostly, aligned to hours, days or coarser buckets
 * sometimes, arbitrary ms otherwise; now and then empty, reversed, before 1970, up to year
 * 10000, or unbounded (only where it must fail for its bucket count: walking all days to 9999
 * takes minutes). */
static void draw_range(fz *s, mquery *q, const mev *r, int series)
{
    uint8_t m = next(s);
    int level = q->bucket >= 0 && q->bucket <= 4 ? q->bucket : LA_BUCKET_DAY;
    int64_t cap = m & 0x80 ? range_cap[level] : 8 * DAY_MS;
    int64_t anchor = r && (m & 0x40) ? r->ts : BASE_DAY * DAY_MS;
    int64_t back = (int64_t)(fz_take(s, 4) % (uint64_t)(2 * DAY_MS));
    switch (m % 8) {
    case 0: /* arbitrary ms */
        q->from = anchor - back;
        q->to = q->from + 1 + (int64_t)(next64(s) % (uint64_t)cap);
        break;
    case 1: /* whole hours */
        q->from = bucket_floor(LA_BUCKET_HOUR, anchor - back);
        q->to = q->from + (1 + (int64_t)(next64(s) % (uint64_t)(cap / HOUR_MS))) * HOUR_MS;
        break;
    case 2: /* whole days */
        q->from = bucket_floor(LA_BUCKET_DAY, anchor - back);
        q->to = q->from + (1 + (int64_t)(next64(s) % (uint64_t)(cap / DAY_MS))) * DAY_MS;
        break;
    case 3: /* from a whole hour to any ms */
        q->from = bucket_floor(LA_BUCKET_HOUR, anchor - back);
        q->to = q->from + 1 + (int64_t)(next64(s) % (uint64_t)cap);
        break;
    case 4: /* around the first day of 1970, from before it */
        q->from = (int64_t)(fz_take(s, 2) % 2000) - 1000;
        q->to = q->from + 1 + (int64_t)(next64(s) % (uint64_t)(3 * DAY_MS));
        break;
    case 5: /* empty or reversed: LA_EINVAL */
        q->from = anchor - back;
        q->to = q->from - (int64_t)(next(s) % 2);
        break;
    case 6: { /* unbounded or at the ends of the supported years */
        uint8_t b = next(s);
        if (b & 1) { /* from before 1970 (clipped to 0) */
            q->from = b & 2 ? INT64_MIN : -1 - (int64_t)(next64(s) >> 1);
            q->to = (int64_t)(next64(s) % (uint64_t)(3 * DAY_MS)) - (b & 4 ? 0 : DAY_MS);
        } else if (b & 2) { /* the last years before 10000, and past them */
            q->from = bucket_floor(LA_BUCKET_YEAR, END_MS - 1) - (int64_t)(b >> 5) * 120 * DAY_MS;
            q->to = b & 4 ? INT64_MAX : b & 8 ? END_MS + 1 + (int64_t)(b >> 4) : END_MS;
        } else if (series && level <= LA_BUCKET_WEEK) { /* more than 100000 buckets */
            q->from = b & 4 ? INT64_MIN : anchor - back;
            q->to = b & 8 ? INT64_MAX : END_MS;
        } else {
            q->from = anchor - back;
            q->to = anchor + back + 1;
        }
        break;
    }
    default: { /* whole weeks, months or years */
        uint8_t b = next(s);
        int lv = LA_BUCKET_WEEK + b % 3;
        q->from = bucket_floor(lv, anchor - (int64_t)(b >> 2) * 7 * DAY_MS);
        q->to = q->from;
        for (int i = 0, k = 1 + next(s) % 3; i < k; i++)
            q->to = bucket_next(lv, q->to);
        if ((b & 3) == 3) /* and a ragged end */
            q->to += (int64_t)(next64(s) % (uint64_t)DAY_MS) - DAY_MS / 2;
        break;
    }
    }
}

/* A query: mostly the workspace, link, type and dimension value of an event of the model, so
 * that filters hit; sometimes strings no event has, absent, too long, or out of range. */
/* A query string from byte b: below `none`, -1 (absent); then one too long, some that no
 * event has, some pool choices, and from `ref_at` on the reference event's own (ref >= 0). */
static int draw_qstr(uint8_t b, int none, int ref_at, int ref)
{
    if (b < none)
        return -1;
    if (b == none)
        return NPOOL + 1;
    if (b < none + 8)
        return QNONE;
    return b < ref_at || ref < -1 ? b % (NPOOL + 1) : ref;
}

/* A query: mostly the workspace, link, type and dimension value of an event of the model, so
 * that filters hit; sometimes strings no event has, absent, too long, or out of range. */
static mquery draw_query(fz *s, int series)
{
    mquery q;
    const mev *r = nmodel ? &model[fz_take(s, 2) % nmodel] : NULL;
    uint8_t b = next(s);
    q.ws = b == 0 ? -1 : draw_qstr(b, 1, 40, r ? r->ws : -2);
    q.link = draw_qstr(next(s), 128, 160, r ? r->link : -2);
    b = next(s);
    q.type = b >= 136 && b < 176 ? 8 + b % 3 : draw_qstr(b, 128, 200, r ? r->type : -2);
    b = next(s);
    q.dim = -1;
    q.dimval = -1;
    if (b >= 192) {
        q.dim = b == 255 ? 5 : b == 254 ? -2 : b % 5;
        q.dimval = draw_qstr(next(s), 48, 128, r && q.dim >= 0 && q.dim < 5 ? r->dim[q.dim] : -2);
    }
    b = next(s);
    q.bucket = b == 255 ? 5 : b == 254 ? -1 : b % 5;
    if (!series && (q.bucket < 0 || q.bucket > 4))
        q.bucket = LA_BUCKET_DAY; /* la_query_top ignores a valid bucket; keep it valid */
    draw_range(s, &q, r, series);
    return q;
}

/* A distinct count against the truth. Every rollup part a point merges holds a subset of the
 * point's ids, so while the point has at most 256 ids the answer is exact (SPEC §11); beyond,
 * a sketch with rel_stderr about 0.008, so 10 % (+3) is far outside any honest estimate. */
static void check_distinct(la_distinct d, uint64_t truth)
{
    if (d.exact) {
        if (d.count != truth || d.rel_stderr != 0)
            FZ_ASSERT(0);
        return;
    }
    if (truth <= LA_DISTINCT_EXACT_MAX)
        FZ_ASSERT(0); /* an estimate for a set small enough to be exact */
    uint64_t diff = d.count > truth ? d.count - truth : truth - d.count;
    if (diff * 10 > truth + 30 || !(d.rel_stderr > 0 && d.rel_stderr < 0.05))
        FZ_ASSERT(0);
}

typedef struct mpoint {
    uint64_t events, clicks, leads, sales, value, nvis, nses;
} mpoint;

typedef struct idpair {
    size_t point;
    uint64_t id;
} idpair;

static int by_point_then_id(const void *pa, const void *pb)
{
    const idpair *a = pa, *b = pb;
    if (a->point != b->point)
        return a->point < b->point ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* The number of distinct ids of each point, into mp[point].nvis (sessions: .nses). */
static void count_distinct(idpair *p, size_t n, mpoint *mp, int sessions)
{
    qsort(p, n, sizeof *p, by_point_then_id);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || p[i].point != p[i - 1].point || p[i].id != p[i - 1].id)
            *(sessions ? &mp[p[i].point].nses : &mp[p[i].point].nvis) += 1;
}

/* la_query_series through db against the model, point by point. */
static void check_series(la_db *db, const mquery *q)
{
    int want = query_rc(q);
    int64_t from = q->from < 0 ? 0 : q->from, to = q->to > END_MS ? END_MS : q->to;
    size_t np = 0;
    if (want == LA_OK && from < to) /* count the buckets first: more than 100000 is LA_EINVAL */
        for (int64_t b = bucket_floor(q->bucket, from); b < to && np <= 100000;
             b = bucket_next(q->bucket, b))
            np++;
    if (np > 100000)
        want = LA_EINVAL;
    la_query lq = to_query(q);
    la_point *pts = NULL;
    size_t n = 99;
    int rc = la_query_series(db, &lq, &pts, &n);
    if (rc != want && !may_be_notkept(q, want, rc))
        FZ_ASSERT(0);
    if (rc != LA_OK) {
        if (pts || n != 0)
            FZ_ASSERT(0);
        return;
    }
    if (n != np)
        FZ_ASSERT(0);
    int64_t *start = fz_alloc(np * sizeof *start);
    mpoint *mp = fz_alloc(np * sizeof *mp);
    memset(mp, 0, np * sizeof *mp);
    for (size_t i = 0; i < np; i++)
        start[i] = i ? bucket_next(q->bucket, start[i - 1]) : bucket_floor(q->bucket, from);
    idpair *vis = fz_alloc(nmodel * sizeof *vis), *ses = fz_alloc(nmodel * sizeof *ses);
    size_t nids = 0;
    for (size_t i = 0; i < nmodel; i++) {
        const mev *e = &model[i];
        if (!qmatch(e, q))
            continue;
        size_t lo = 0, hi = np; /* the last bucket starting at or before e->ts */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (start[mid] <= e->ts)
                lo = mid;
            else
                hi = mid;
        }
        mpoint *p = &mp[lo];
        p->events++;
        p->clicks += e->type == 8;
        p->leads += e->type == 9;
        p->sales += e->type == 10;
        p->value += e->has_value ? (uint64_t)e->value : 0;
        vis[nids] = (idpair){lo, e->vis};
        ses[nids++] = (idpair){lo, e->ses};
    }
    count_distinct(vis, nids, mp, 0);
    count_distinct(ses, nids, mp, 1);
    for (size_t i = 0; i < np; i++) {
        const la_point *p = &pts[i];
        if (p->bucket_start != start[i] || p->utc_offset_s != 0 || p->events != mp[i].events ||
            p->clicks != mp[i].clicks || p->leads != mp[i].leads || p->sales != mp[i].sales ||
            (uint64_t)p->value != mp[i].value)
            FZ_ASSERT(0);
        check_distinct(p->visitors, mp[i].nvis);
        check_distinct(p->sessions, mp[i].nses);
    }
    free(start);
    free(mp);
    free(vis);
    free(ses);
    la_series_free(pts);
}

static int str_cmp(la_str a, la_str b) /* bytes, then length */
{
    int c = memcmp(a.data, b.data, a.len < b.len ? a.len : b.len);
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* la_query_top through db against the model. The pool has fewer distinct values than any cap
 * (64; 4096 for country, device, browser), so no summary ever drops a value (SPEC §10.4) and
 * every answer must be exact, whatever the dimension. */
static void check_top(la_db *db, const mquery *q, int dim, uint32_t k)
{
    int want = query_rc(q);
    if (dim < 0 || dim >= 5 || k < 1 || k > 10000)
        want = LA_EINVAL;
    la_query lq = to_query(q);
    static la_top stale;
    la_top *t = &stale; /* not NULL: a failing call must reset it */
    int rc = la_query_top(db, &lq, dim, k, &t);
    if (rc != want && !may_be_notkept(q, want, rc))
        FZ_ASSERT(0);
    if (rc != LA_OK) {
        if (t)
            FZ_ASSERT(0);
        return;
    }
    uint64_t cnt[NPOOL + 1] = {0}, total = 0, absent = 0, listed = 0;
    for (size_t i = 0; i < nmodel; i++)
        if (qmatch(&model[i], q)) {
            total++;
            if (model[i].dim[dim] < 0)
                absent++;
            else
                cnt[model[i].dim[dim]]++;
        }
    /* What the header promises of any answer. */
    if (t->total != total || t->absent != absent || t->n > k)
        FZ_ASSERT(0);
    for (size_t i = 0; i < t->n; i++) {
        la_str v = t->entries[i].value;
        uint64_t c = t->entries[i].count, truth = 0;
        if (!v.data)
            FZ_ASSERT(0);
        for (int j = 0; j <= NPOOL; j++)
            if (str_eq(v, pick(j)))
                truth = cnt[j];
        if (c > truth || truth > c + t->max_error)
            FZ_ASSERT(0);
        if (i && (t->entries[i - 1].count < c ||
                  (t->entries[i - 1].count == c && str_cmp(t->entries[i - 1].value, v) >= 0)))
            FZ_ASSERT(0);
        listed += c;
    }
    if (t->other != total - absent - listed)
        FZ_ASSERT(0);
    /* Exact: the model's top k, by count descending, then value bytes ascending. */
    int order[NPOOL + 1];
    size_t nv = 0;
    for (int j = 0; j <= NPOOL; j++)
        if (cnt[j])
            order[nv++] = j;
    for (size_t a = 1; a < nv; a++)
        for (size_t b = a; b > 0; b--) {
            int x = order[b - 1], y = order[b];
            if (cnt[x] > cnt[y] || (cnt[x] == cnt[y] && str_cmp(pick(x), pick(y)) < 0))
                break;
            order[b - 1] = y;
            order[b] = x;
        }
    if (t->max_error != 0 || t->n != (nv < k ? nv : k))
        FZ_ASSERT(0);
    for (size_t i = 0; i < t->n; i++)
        if (!str_eq(t->entries[i].value, pick(order[i])) || t->entries[i].count != cnt[order[i]])
            FZ_ASSERT(0);
    la_top_free(t);
}

/* One series or top query, drawn from the input. */
static void check_query(fz *s, la_db *db, int series)
{
    mquery q = draw_query(s, series);
    if (series) {
        check_series(db, &q);
        return;
    }
    uint8_t b = next(s), c = next(s);
    int dim = b == 255 ? 5 : b == 254 ? -1 : b % 5;
    uint32_t k = c == 0 ? 0 : c == 1 ? 10001 : c == 2 ? 10000 : 1 + c % (NPOOL + 2);
    check_top(db, &q, dim, k);
}

/* Queries that need no input (run at the end): for every workspace of the model and one that
 * no event has, the days around the base days and, with `all`, their hours, the weeks of 1970
 * (the first starts in 1969), the top of every dimension over the base days, and once the
 * months 2025..2027. (A writer gets the days only, the rest is left to the drawn queries: each
 * piece of a day with an unsealed tail opens a cursor that allocates about 8 MB, slow under
 * ASan.) */
static void check_queries_all(la_db *db, int all)
{
    int seen[NPOOL + 1] = {0}, months = 0;
    for (size_t i = 0; i < nmodel; i++)
        seen[model[i].ws] = 1;
    for (int w = 0; w <= QNONE; w++) {
        if (w != QNONE && (w > NPOOL || !seen[w]))
            continue;
        mquery q = {(BASE_DAY - 1) * DAY_MS, (BASE_DAY + 5) * DAY_MS, w, -1, -1, -1, -1,
                    LA_BUCKET_HOUR};
        if (all)
            check_series(db, &q);
        q.bucket = LA_BUCKET_DAY;
        check_series(db, &q);
        if (!all)
            continue;
        for (int d = 0; d < 5; d++)
            check_top(db, &q, d, NPOOL + 1);
        q.from = INT64_MIN;
        q.to = 3 * DAY_MS;
        q.bucket = LA_BUCKET_WEEK;
        check_series(db, &q);
        if (!months++ && w != QNONE) {
            q.from = civil_days(2025, 1, 1) * DAY_MS;
            q.to = civil_days(2028, 1, 1) * DAY_MS;
            q.bucket = LA_BUCKET_MONTH;
            check_series(db, &q);
        }
    }
}

/* ---- realtime: la_live and la_live_top against the model's events around the clock ---- */

typedef struct mlive {
    uint64_t events, active;
    int64_t last;
} mlive;

/* Workspace ws (link -1: all of its links) from scratch: events whose minute is in
 * [N - window + 1, N + 60], visitors in [N - active + 1, N + 60], N the clock's minute. */
static mlive model_live(int ws, int link)
{
    int64_t nm = fdiv(clock_ms, MIN_MS), lo = nm - live_window + 1, hi = nm + LIVE_FUTURE;
    int64_t alo = nm - live_active + 1;
    static uint64_t vis[MAX_EVENTS];
    size_t nv = 0;
    mlive r = {0, 0, -1};
    for (size_t i = 0; i < nmodel; i++) {
        const mev *e = &model[i];
        int64_t m = fdiv(e->ts, MIN_MS);
        if (e->ws != ws || (link >= 0 && e->link != link) || m < lo || m > hi)
            continue;
        r.events++;
        r.last = e->ts > r.last ? e->ts : r.last;
        if (m < alo)
            continue;
        size_t k = 0;
        while (k < nv && vis[k] != e->vis)
            k++;
        if (k == nv)
            vis[nv++] = e->vis;
    }
    r.active = nv;
    return r;
}

/* The figures of workspace ws and its top links; the link order by events, then bytes. */
static void check_live(la_db *db, int ws)
{
    la_live_stats st = LA_LIVE_STATS_INIT;
    if (la_live(db, pick(ws), (la_str){NULL, 0}, &st) != LA_OK)
        FZ_ASSERT(0);
    mlive w = model_live(ws, -1);
    if (st.events != w.events || st.active_visitors != w.active || st.last_ts != w.last)
        FZ_ASSERT(0);
    int links[NPOOL + 1];
    mlive f[NPOOL + 1];
    int n = 0;
    for (int l = 0; l <= NPOOL; l++) {
        mlive x = model_live(ws, l);
        if (!x.events)
            continue;
        int at = n++;
        while (at > 0 && (f[at - 1].events < x.events ||
                          (f[at - 1].events == x.events && str_cmp(pick(links[at - 1]), pick(l)) > 0))) {
            links[at] = links[at - 1];
            f[at] = f[at - 1];
            at--;
        }
        links[at] = l;
        f[at] = x;
    }
    la_live_board *b;
    uint32_t k = 1 + (uint32_t)ws % 4;
    if (la_live_top(db, pick(ws), k, &b) != LA_OK)
        FZ_ASSERT(0);
    if (b->links != (uint64_t)n || b->n != (n < (int)k ? (size_t)n : k) || b->events != w.events)
        FZ_ASSERT(0);
    for (size_t i = 0; i < b->n; i++) {
        const la_live_link *e = &b->entries[i];
        if (!str_eq(e->link, pick(links[i])) || e->events != f[i].events ||
            e->active_visitors != f[i].active || e->last_ts != f[i].last)
            FZ_ASSERT(0);
    }
    la_live_board_free(b);
}

static la_db *ro; /* a read-only handle kept across operations (and writer reopens) */

/* Set the clock, reopen the writer with a short retention and run it: exactly the model's
 * days that ended more than that many days before min(clock, newest event) must go. */
static void retention_op(fz *s, la_db **db, const la_options *o)
{
    clock_ms = (BASE_DAY - 30 + next(s) % 40) * DAY_MS + (int64_t)(next64(s) % (uint64_t)DAY_MS);
    la_options r = *o;
    r.retention_days = 1 + next(s) % 20;
    la_close(*db);
    if (la_open(db, dir, 0, &r) != LA_OK)
        FZ_ASSERT(0);
    int64_t newest = INT64_MIN;
    for (size_t i = 0; i < nmodel; i++)
        newest = model[i].ts > newest ? model[i].ts : newest;
    int64_t ref = newest < clock_ms ? newest : clock_ms;
    uint32_t want = 0;
    for (size_t i = 0; i < nmodel && newest != INT64_MIN; i++) {
        int64_t day = model[i].ts / DAY_MS;
        if ((day + 1 + (int64_t)r.retention_days) * DAY_MS < ref && !is_gone(day)) {
            gone[ngone++] = day;
            want++;
        }
    }
    la_retention_stats st;
    if (la_retention(*db, &st) != LA_OK || st.days != want || st.days_left != 0)
        FZ_ASSERT(0);
    la_close(*db);
    if (la_open(db, dir, 0, o) != LA_OK)
        FZ_ASSERT(0);
}

static void open_ro(la_db **out, int no_rollups)
{
    la_options o = LA_OPTIONS_INIT;
    o.no_rollups = no_rollups;
    o.live_window_min = live_window;
    o.live_active_min = live_active;
    o.future_skew_ms = -1; /* as the writer: the same realtime horizon */
    if (la_open(out, dir, LA_OPEN_READONLY, &o) != LA_OK)
        FZ_ASSERT(0);
}

/* The first two bytes choose the options: small blocks (seals happen often), the codec, and
 * for half the inputs a small checkpoint_rows, so that flushes write rollup files. Then each
 * operation is one byte (and its arguments): 0-4 append (4: a batch), 5 flush, 6 reopen,
 * 7 scan on a new read-only handle, 8 filtered scan, 9 one of: a series or top query on the
 * writer or on a read-only handle, a reopen with other options, a bulk batch, sealing, a
 * retention run with the clock set. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0])
        setup();
    fz_clear_dir(dir);
    ngone = 0;
    fz s = {data, size};
    la_options o = LA_OPTIONS_INIT;
    uint8_t b0 = next(&s), b1 = next(&s);
    o.block_rows = 64 + b0 % 64;
    o.codec = b1 % 3;
    o.no_auto_seal = 1; /* days are sealed by the operation below, which the model follows */
    o.retention_days = 3000000; /* the model has no clock: every day is kept, */
    o.future_skew_ms = -1;      /* every time up to 9999 accepted */
    if (b0 & 0x80)
        o.checkpoint_rows = 1 + ((b0 & 63u) | (uint32_t)(b1 / 3) << 6) % 500;
    live_window = 1 + (b1 >> 2) % 40;
    live_active = 1 + b0 % live_window;
    o.live_window_min = live_window;
    o.live_active_min = live_active;
    clock_ms = (BASE_DAY + 4) * DAY_MS + (int64_t)(b0 ^ b1) * 7 * MIN_MS + b1 * 997;
    la_db *db;
    if (la_open(&db, dir, LA_OPEN_CREATE, &o) != LA_OK)
        FZ_ASSERT(0);
    nmodel = 0;
    nmdays = 0;
    const mfilter all = {INT64_MIN, INT64_MAX, -2, -2, -1, 0};
    for (int ops = 0; s.n > 0 && ops < 300; ops++) {
        uint8_t op = next(&s) % 10;
        if (op <= 4) {
            size_t k = op == 4 ? 1 + next(&s) % 16 : 1;
            if (nmodel + k > MAX_EVENTS)
                break;
            mev batch[16];
            la_event evs[16];
            la_str dims[16][5];
            size_t want_done = k;
            int want_rc = LA_OK;
            for (size_t i = 0; i < k; i++) {
                batch[i] = draw_event(&s);
                evs[i] = to_event(&batch[i], dims[i]);
                int rc = expected_rc(&batch[i]);
                if (rc != LA_OK && want_rc == LA_OK) {
                    want_rc = rc;
                    want_done = i;
                }
            }
            size_t done = 99;
            int rc = op == 4 ? la_append_batch(db, evs, k, &done) : la_append(db, &evs[0]);
            if (op != 4)
                done = rc == LA_OK ? 1 : 0;
            if (rc != want_rc || done != want_done)
                FZ_ASSERT(0);
            for (size_t i = 0; i < done; i++) {
                model_appended(&batch[i]);
                model[nmodel++] = batch[i];
            }
        } else if (op == 5) {
            if (la_flush(db) != LA_OK)
                FZ_ASSERT(0);
            clock_ms += (int64_t)next(&s) * 3000; /* up to 13 minutes */
            check_live(db, next(&s) % NPOOL);
        } else if (op == 6) {
            la_close(db);
            if (la_open(&db, dir, 0, &o) != LA_OK)
                FZ_ASSERT(0);
        } else if (op == 7) {
            la_db *r;
            open_ro(&r, 0);
            if (la_flush(db) != LA_OK)
                FZ_ASSERT(0);
            check_scan(r, &all);
            check_live(r, next(&s) % NPOOL);
            la_close(r);
        } else if (op == 8) {
            mfilter f = draw_filter(&s);
            check_scan(db, &f);
        } else {
            uint8_t sub = next(&s);
            int bit3 = sub >> 3 & 1, bit4 = sub >> 4 & 1;
            switch (sub % 9) {
            case 0:
            case 1:
                check_query(&s, db, 1);
                break;
            case 2:
                check_query(&s, db, 0);
                break;
            case 3: /* the long-lived read-only handle: sees what the writer flushed */
                if (!ro)
                    open_ro(&ro, bit3);
                if (la_flush(db) != LA_OK)
                    FZ_ASSERT(0);
                check_query(&s, ro, bit4);
                check_live(ro, sub % NPOOL);
                break;
            case 4: /* reopen the writer with rollups on or off, another checkpoint_rows */
                la_close(db);
                o.no_rollups = bit3;
                if ((sub >> 4 & 3) == 1)
                    o.checkpoint_rows = 0;
                else if (sub >> 4 & 2)
                    o.checkpoint_rows = 1 + (uint32_t)(fz_take(&s, 2) % 500);
                if (la_open(&db, dir, 0, &o) != LA_OK)
                    FZ_ASSERT(0);
                break;
            case 5:
                if (bit3 && !o.no_rollups) { /* deleting raw days needs the rollups kept */
                    retention_op(&s, &db, &o);
                    break;
                }
                la_close(ro);
                ro = NULL;
                break;
            case 6:
                bulk_append(&s, db);
                break;
            case 8: /* seal every day that has unsorted rows (needs the writer's rollups) */
                if (!o.no_rollups) {
                    la_compact_stats st;
                    if (la_compact(db, LA_COMPACT_ALL, &st) != LA_OK || st.days != model_seal_all())
                        FZ_ASSERT(0);
                }
                break;
            case 7: { /* a new read-only handle: its first query builds everything */
                la_db *r;
                open_ro(&r, bit3);
                if (la_flush(db) != LA_OK)
                    FZ_ASSERT(0);
                check_query(&s, r, bit4);
                la_close(r);
                break;
            }
            }
        }
    }
    check_scan(db, &all);
    check_queries_all(db, 0);
    for (int w = 0; w <= NPOOL; w++)
        check_live(db, w);
    if (ro) {
        if (la_flush(db) != LA_OK)
            FZ_ASSERT(0);
        check_queries_all(ro, 1);
        for (int w = 0; w <= NPOOL; w++)
            check_live(ro, w);
        la_close(ro);
        ro = NULL;
    }
    la_close(db);
    uint64_t problems = 1;
    if (la_verify(dir, NULL, NULL, &problems) != LA_OK || problems != 0)
        FZ_ASSERT(0);
    open_ro(&db, 0);
    check_scan(db, &all);
    check_queries_all(db, 1);
    for (int w = 0; w <= NPOOL; w++)
        check_live(db, w); /* rebuilt at open: a restart loses nothing */
    la_close(db);
    return 0;
}
