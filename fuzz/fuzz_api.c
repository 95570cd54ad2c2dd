/* fuzz_api.c — input bytes drive a sequence of public API calls (append, batch append, flush,
 * close and reopen, read-only opens, filtered scans, verify) against a plain in-memory model;
 * any difference between la and the model aborts. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "la.h"

#define DAY_MS 86400000LL
#define BASE_DAY 20758LL /* 2026-11-01 */
#define MAX_EVENTS 2048

/* Small pools so that filters hit; the odd ones test escaping, limits and absent vs empty. */
static const char *const pool[] = {"a", "b", "ws_1", "lk_X", "", "tab\there", "\xff\x00z", "c"};
#define NPOOL 8
static char long_ok[LA_MAX_STR], too_long[LA_MAX_STR + 1];

static uint8_t next(fz *s) { return (uint8_t)fz_take(s, 1); }
static uint64_t next64(fz *s) { return fz_take(s, 8); }

/* A string choice: -1 absent, 0..NPOOL-1 pool, NPOOL the longest allowed, NPOOL+1 too long. */
static la_str pick(int k)
{
    if (k < 0)
        return (la_str){NULL, 0};
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

static mev draw_event(fz *s)
{
    mev e;
    uint8_t kind = next(s);
    int64_t day = BASE_DAY + next(s) % 4;
    e.ts = day * DAY_MS + (int64_t)(next64(s) % (uint64_t)DAY_MS);
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
    return LA_OK;
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
    return m->ts >= f->from && m->ts < f->to && (f->ws == -2 || m->ws == f->ws) &&
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

static char dir[256];

static void clear_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        FZ_ASSERT(0);
    struct dirent *e;
    char path[600];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

static void setup(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/la-fuzz-api-XXXXXX", base);
    if (!mkdtemp(dir))
        FZ_ASSERT(0);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0])
        setup();
    clear_dir();
    fz s = {data, size};
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 64 + next(&s) % 64; /* small blocks: seals happen often */
    o.codec = next(&s) % 3;
    la_db *db;
    if (la_open(&db, dir, LA_OPEN_CREATE, &o) != LA_OK)
        FZ_ASSERT(0);
    nmodel = 0;
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
            for (size_t i = 0; i < done; i++)
                model[nmodel++] = batch[i];
        } else if (op == 5) {
            if (la_flush(db) != LA_OK)
                FZ_ASSERT(0);
        } else if (op == 6) {
            la_close(db);
            if (la_open(&db, dir, 0, &o) != LA_OK)
                FZ_ASSERT(0);
        } else if (op == 7) {
            la_db *r;
            if (la_open(&r, dir, LA_OPEN_READONLY, NULL) != LA_OK)
                FZ_ASSERT(0);
            if (la_flush(db) != LA_OK)
                FZ_ASSERT(0);
            check_scan(r, &all);
            la_close(r);
        } else {
            mfilter f = draw_filter(&s);
            check_scan(db, &f);
        }
    }
    check_scan(db, &all);
    la_close(db);
    uint64_t problems = 1;
    if (la_verify(dir, NULL, NULL, &problems) != LA_OK || problems != 0)
        FZ_ASSERT(0);
    if (la_open(&db, dir, LA_OPEN_READONLY, NULL) != LA_OK)
        FZ_ASSERT(0);
    check_scan(db, &all);
    la_close(db);
    return 0;
}
