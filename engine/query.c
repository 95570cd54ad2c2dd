/* query.c — the dashboard queries (la.h, "Dashboard queries"): a range is cut into the largest
 * whole buckets whose rollups can answer it (year, month, week, day, hour) and raw events for
 * what is left, and every piece is added into one accumulator per answer. */
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "db.h"
#include "error.h"
#include "tz.h"

#define MS_PER_HOUR 3600000LL
#define MAX_BUCKETS 100000
#define MAX_TOP_K 10000

typedef struct acc {
    uint64_t events, clicks, leads, sales;
    uint64_t value;
    la_uniq vis, ses;
    la_dict *vals;        /* top: dimension values seen, id -> counts[id] */
    uint64_t *counts;
    size_t counts_cap;
    uint64_t absent, other, err;
} acc;

typedef struct qctx {
    la_db *db;
    const la_query *q;
    int dim;              /* the dimension a top query counts, or -1 */
    int raw_only;         /* a dimension filter: only raw events can answer */
} qctx;

static int streq(la_str a, const char *b)
{
    size_t n = strlen(b);
    return a.data && a.len == n && memcmp(a.data, b, n) == 0;
}

enum { TYPE_OTHER, TYPE_CLICK, TYPE_LEAD, TYPE_SALE };

static int type_class(la_str type)
{
    return streq(type, "click") ? TYPE_CLICK : streq(type, "lead") ? TYPE_LEAD : streq(type, "sale") ? TYPE_SALE : TYPE_OTHER;
}

static void count_class(acc *a, int cls, uint64_t n)
{
    a->events += n;
    a->clicks += cls == TYPE_CLICK ? n : 0;
    a->leads += cls == TYPE_LEAD ? n : 0;
    a->sales += cls == TYPE_SALE ? n : 0;
}

static void count_type(acc *a, la_str type, uint64_t n) { count_class(a, type_class(type), n); }

static int count_value(acc *a, la_str v, uint64_t n)
{
    uint32_t id = la_dict_intern_str(a->vals, v.data ? v.data : "", v.len);
    if (!id)
        return LA_ENOMEM;
    if (id >= a->counts_cap) {
        size_t cap = a->counts_cap ? a->counts_cap * 2 : 256;
        while (cap <= id)
            cap *= 2;
        uint64_t *c = realloc(a->counts, cap * sizeof *c);
        if (!c)
            return LA_ENOMEM;
        memset(c + a->counts_cap, 0, (cap - a->counts_cap) * sizeof *c);
        a->counts = c;
        a->counts_cap = cap;
    }
    a->counts[id] += n;
    return LA_OK;
}

static int add_file_cell(const qctx *x, acc *a, const la_roll_view *v, uint32_t i)
{
    la_roll_key k;
    la_roll_key_at(v, i, &k);
    la_roll_cell c;
    const char *why;
    int rc = la_cell_read(x->db->path, v, i, &c);
    if (rc != LA_OK)
        return rc;
    count_type(a, la_roll_str(v, k.type), c.events);
    a->value += (uint64_t)c.value;
    if (x->dim < 0) { /* a series; a top query reports no distinct counts */
        rc = la_uniq_merge_encoded_as(&a->vis, c.vis, c.vis_len, c.uniq_form, &why);
        if (rc == LA_OK)
            rc = la_uniq_merge_encoded_as(&a->ses, c.ses, c.ses_len, c.uniq_form, &why);
        if (rc != LA_OK)
            return rc == LA_ENOMEM ? la_err(rc, "out of memory") : la_err(rc, "rollup cell: %s", why);
        return LA_OK;
    }
    la_roll_dim d;
    la_roll_cell_dim(&c, (uint32_t)x->dim, &d);
    a->absent += d.absent;
    a->other += d.other;
    a->err += d.err;
    uint32_t sid;
    uint64_t cnt;
    while (la_roll_dim_next(&d, &sid, &cnt))
        if (count_value(a, la_roll_str(v, sid), cnt) != LA_OK)
            return la_err(LA_ENOMEM, "out of memory");
    return LA_OK;
}

/* Cells of file v with sub in [s0, s1) for the query's workspace, link (or all) and type. */
static int add_file(const qctx *x, acc *a, const la_roll_view *v, uint32_t s0, uint32_t s1)
{
    const la_query *q = x->q;
    uint32_t ws = la_roll_find(v, q->workspace.data, q->workspace.len), link = 0, type = 0;
    if (!ws || (q->link.data && !(link = la_roll_find(v, q->link.data, q->link.len))) ||
        (q->event_type.data && !(type = la_roll_find(v, q->event_type.data, q->event_type.len))))
        return LA_OK;
    for (uint32_t sub = s0; sub < s1; sub++) {
        la_roll_key k = {sub, ws, link, type};
        for (uint32_t i = la_roll_seek(v, &k); i < v->h.ncells; i++) {
            la_roll_key at;
            la_roll_key_at(v, i, &at);
            if (at.sub != sub || at.ws != ws || at.link != link || (type && at.type != type))
                break;
            int rc = add_file_cell(x, a, v, i);
            if (rc != LA_OK)
                return rc;
        }
    }
    return LA_OK;
}

static int add_mem_cell(const qctx *x, acc *a, const la_cellset *cs, const la_cell *c)
{
    const la_str *strs = la_dict_strs(cs->dict);
    count_type(a, strs[c->type], c->events);
    a->value += (uint64_t)c->value;
    if (x->dim < 0) /* a series; a top query reports no distinct counts */
        return la_uniq_merge(&a->vis, &c->vis) != LA_OK || la_uniq_merge(&a->ses, &c->ses) != LA_OK
                   ? la_err(LA_ENOMEM, "out of memory")
                   : LA_OK;
    const la_dimcount *d = &c->dims[x->dim];
    a->absent += d->absent;
    a->other += d->other;
    a->err += d->err;
    uint32_t slots = la_dim_slots(d);
    for (uint32_t i = 0; i < slots; i++)
        if (la_dim_sid(d, i) && count_value(a, strs[la_dim_sid(d, i)], la_dim_cnt(d, i)) != LA_OK)
            return la_err(LA_ENOMEM, "out of memory");
    return LA_OK;
}

/* Hour cells of a delta with hour in [h0, h1). */
static int add_mem(const qctx *x, acc *a, la_cellset *cs, int32_t h0, int32_t h1)
{
    const la_query *q = x->q;
    uint32_t ws = la_dict_find_str(cs->dict, q->workspace.data, q->workspace.len), link = 0, type = 0;
    if (!ws || (q->link.data && !(link = la_dict_find_str(cs->dict, q->link.data, q->link.len))) ||
        (q->event_type.data && !(type = la_dict_find_str(cs->dict, q->event_type.data, q->event_type.len))))
        return LA_OK;
    int rc = LA_OK;
    if (cs->many_types && !type) {
        for (size_t i = 0; i < cs->n && rc == LA_OK; i++) {
            const la_cell *c = cs->cells[i];
            if (c->ws == ws && c->link == link && c->t >= h0 && c->t < h1)
                rc = add_mem_cell(x, a, cs, c);
        }
        return rc;
    }
    for (int32_t h = h0; h < h1 && rc == LA_OK; h++)
        for (uint32_t t = 0; t < (type ? 1 : cs->ntypes) && rc == LA_OK; t++) {
            const la_cell *c = la_cellset_get(cs, h, ws, link, type ? type : cs->types[t], 0, &rc);
            if (c)
                rc = add_mem_cell(x, a, cs, c);
        }
    return rc;
}

static int has_segment(la_db *db, int32_t day)
{
    for (size_t lo = 0, hi = db->ndays; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        if (db->days[mid].day == day)
            return !db->days[mid].gone;
        if (db->days[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int not_kept(int32_t day, const char *what)
{
    int64_t y;
    int m, d;
    la_civil_from_days(day, &y, &m, &d);
    return la_err(LA_ENOTKEPT, "the %s of %04d-%02d-%02d are no longer kept (retention)", what, (int)y,
                  m, d);
}

/* The bucket of ts among nb buckets starting at starts[] (ascending, ts >= starts[0]). */
static size_t bucket_of(const int64_t *starts, size_t nb, int64_t ts)
{
    size_t lo = 0, hi = nb; /* starts[lo] <= ts < starts[hi] (starts[nb] = +infinity) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (starts[mid] <= ts)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The rows a cursor yields, into the accumulator; with starts != NULL into accs[k] for the
 * bucket k of each row's time (nb buckets). */
static int add_cursor_split(const qctx *x, acc *accs, const int64_t *starts, size_t nb, la_cursor *c)
{
    la_batch b;
    int rc = LA_OK, n;
    la_cursor_dims(c, x->dim >= 0 ? 1ull << x->dim : 0); /* the others stay compressed */
    while (rc == LA_OK && (n = la_cursor_next_locked(c, &b)) == 1) {
        /* the last row's bucket and type class: rows mostly share them (a sealed day's rows
         * are in time order within a link) */
        size_t k = 0;
        uint32_t type_id = UINT32_MAX;
        int cls = TYPE_OTHER;
        for (size_t i = 0; i < b.nrows && rc == LA_OK; i++) {
            int64_t ts = b.ts[i];
            if (starts && !(ts >= starts[k] && (k + 1 == nb || ts < starts[k + 1])))
                k = bucket_of(starts, nb, ts);
            acc *a = &accs[k];
            if (b.event_type.ids[i] != type_id) {
                type_id = b.event_type.ids[i];
                cls = type_class(b.event_type.dict[type_id]);
            }
            count_class(a, cls, 1);
            a->value += (uint64_t)b.value[i];
            if (x->dim < 0 && (la_uniq_add(&a->vis, b.visitor_id[i]) != LA_OK ||
                               la_uniq_add(&a->ses, b.session_id[i]) != LA_OK))
                rc = la_err(LA_ENOMEM, "out of memory");
            if (rc == LA_OK && x->dim >= 0) {
                la_str v = b.dims[x->dim].dict[b.dims[x->dim].ids[i]];
                if (!v.data)
                    a->absent++;
                else if (count_value(a, v, 1) != LA_OK)
                    rc = la_err(LA_ENOMEM, "out of memory");
            }
        }
    }
    if (rc == LA_OK && n < 0)
        rc = n;
    la_cursor_close(c);
    return rc;
}

static int add_cursor(const qctx *x, acc *a, la_cursor *c) { return add_cursor_split(x, a, NULL, 1, c); }

static la_filter query_filter(const qctx *x, int64_t from, int64_t to)
{
    const la_query *q = x->q;
    la_filter f = LA_FILTER_INIT;
    f.from = from;
    f.to = to;
    f.workspace = q->workspace;
    f.link = q->link;
    f.event_type = q->event_type;
    f.dim = q->dim;
    f.dim_value = q->dim_value;
    return f;
}

static int add_raw(const qctx *x, acc *a, int64_t from, int64_t to)
{
    la_filter f = query_filter(x, from, to);
    la_cursor *c;
    int rc = la_scan_locked(x->db, &f, &c);
    return rc != LA_OK ? rc : add_cursor(x, a, c);
}

/* Rows of a day from seq_lo on, inside [from, to). */
static int add_rows(const qctx *x, acc *a, int32_t day, uint64_t seq_lo, int64_t from, int64_t to)
{
    la_filter f = query_filter(x, from, to);
    la_cursor *c;
    int rc = la_scan_seq_locked(x->db, &f, day, seq_lo, UINT64_MAX, &c);
    return rc != LA_OK ? rc : add_cursor(x, a, c);
}

/* Hours [h0, h1) of a day that its files do not hold: the delta's cells, and the rows after
 * it (a writer's unsealed tail) read raw. */
static int add_delta(const qctx *x, acc *a, int32_t day, int32_t h0, int32_t h1)
{
    la_cellset *cs;
    uint64_t raw_from, rows;
    int rc = la_rs_delta(x->db, day, &cs, &raw_from, &rows);
    if (rc != LA_OK || !cs || (rc = add_mem(x, a, cs, h0, h1)) != LA_OK)
        return rc;
    /* no rows after the delta (a checkpointed day): no cursor, no dictionaries to load */
    return raw_from >= rows ? LA_OK : add_rows(x, a, day, raw_from, h0 * MS_PER_HOUR, h1 * MS_PER_HOUR);
}

/* Raw events of [from, to) inside one day. */
static int add_raw_day(const qctx *x, acc *a, int32_t day, int64_t from, int64_t to)
{
    if (has_segment(x->db, day))
        return add_raw(x, a, from, to);
    int64_t wm;
    int rc = la_rs_day_wm(x->db, day, &wm);
    return rc != LA_OK ? rc : wm >= 0 ? not_kept(day, "raw events") : LA_OK;
}

/* Whole hours [h0, h1) of one day for a workspace (all links): the hour file and the delta,
 * or raw events. */
static int add_hours(const qctx *x, acc *a, int32_t day, int32_t h0, int32_t h1)
{
    const la_roll_view *h;
    int64_t wm;
    int valid, rc;
    if ((rc = la_rs_file(x->db, LA_BUCKET_HOUR, day, &h)) != LA_OK ||
        (rc = la_rs_hours_valid(x->db, day, h, &valid)) != LA_OK ||
        (rc = la_rs_day_wm(x->db, day, &wm)) != LA_OK)
        return rc;
    if (!valid && !(h == NULL && wm < 0))
        return has_segment(x->db, day) ? add_raw(x, a, h0 * MS_PER_HOUR, h1 * MS_PER_HOUR)
               : wm >= 0               ? not_kept(day, "hourly rollups")
                                       : LA_OK;
    if (h && (rc = add_file(x, a, h, (uint32_t)(h0 - day * 24), (uint32_t)(h1 - day * 24))) != LA_OK)
        return rc;
    return add_delta(x, a, day, h0, h1);
}

static int add_day(const qctx *x, acc *a, int32_t day)
{
    const la_roll_view *v;
    int rc = la_rs_file(x->db, LA_BUCKET_DAY, day, &v);
    if (rc == LA_OK && v)
        rc = add_file(x, a, v, 0, 1);
    return rc == LA_OK ? add_delta(x, a, day, day * 24, day * 24 + 24) : rc;
}

/* A whole week, month or year from its file, if the file is up to date and holds the query's
 * key (a link has no week or year cells: its weeks come from day files, its years from month
 * files); *done = 0 if not. */
static int add_coarse(const qctx *x, acc *a, int level, int32_t first, int *done)
{
    const la_roll_view *v;
    int valid = 0;
    *done = 0;
    if (x->q->link.data && !la_roll_has_links(level, LA_ROLL_WRITE_VERSION))
        return LA_OK;
    int rc = la_rs_file(x->db, level, first, &v);
    if (rc != LA_OK || !v || (rc = la_rs_coarse_valid(x->db, v, &valid)) != LA_OK || !valid)
        return rc;
    if ((rc = add_file(x, a, v, 0, 1)) != LA_OK)
        return rc;
    for (uint32_t i = 0; i < v->h.ndays && rc == LA_OK; i++) {
        int32_t day = first + (int32_t)i;
        rc = add_delta(x, a, day, day * 24, day * 24 + 24);
    }
    if (rc != LA_OK)
        return rc;
    *done = 1;
    return LA_OK;
}

/* LA_OK if the raw events of every day of [from, to) that had any are still kept. */
static int raw_kept(const qctx *x, int64_t from, int64_t to)
{
    for (int64_t day = la_rs_next_data_day(x->db, (int32_t)(from / LA_MS_PER_DAY));
         day <= (to - 1) / LA_MS_PER_DAY; day = la_rs_next_data_day(x->db, (int32_t)day + 1))
        if (!has_segment(x->db, (int32_t)day)) {
            int64_t wm;
            int rc = la_rs_day_wm(x->db, (int32_t)day, &wm);
            if (rc != LA_OK)
                return rc;
            if (wm >= 0)
                return not_kept((int32_t)day, "raw events");
        }
    return LA_OK;
}

/* Everything the query selects in [from, to). */
static int add_range(const qctx *x, acc *a, int64_t from, int64_t to)
{
    int rc = LA_OK;
    if (x->raw_only)
        return (rc = raw_kept(x, from, to)) != LA_OK ? rc : add_raw(x, a, from, to);
    int64_t p = from;
    while (p < to && rc == LA_OK) {
        int32_t day = (int32_t)(p / LA_MS_PER_DAY), next = la_rs_next_data_day(x->db, day);
        if (next != day) { /* nothing is stored before `next`: skip without looking */
            p = next == INT32_MAX || (int64_t)next * LA_MS_PER_DAY > to ? to : (int64_t)next * LA_MS_PER_DAY;
            continue;
        }
        if (p % LA_MS_PER_DAY == 0) {
            int done = 0;
            for (int lv = LA_BUCKET_YEAR; lv >= LA_BUCKET_WEEK && !done && rc == LA_OK; lv--) {
                uint32_t n = la_bucket_ndays(lv, day);
                if (la_bucket_first_day(lv, day) == day && p + (int64_t)n * LA_MS_PER_DAY <= to &&
                    (rc = add_coarse(x, a, lv, day, &done)) == LA_OK && done)
                    p += (int64_t)n * LA_MS_PER_DAY;
            }
            if (done || rc != LA_OK)
                continue;
            if (p + LA_MS_PER_DAY <= to) {
                rc = add_day(x, a, day);
                p += LA_MS_PER_DAY;
                continue;
            }
        }
        int64_t end = (int64_t)(day + 1) * LA_MS_PER_DAY;
        if (end > to)
            end = to;
        int64_t h0 = (p + MS_PER_HOUR - 1) / MS_PER_HOUR, h1 = end / MS_PER_HOUR;
        if (h0 >= h1 || x->q->link.data) { /* a link has no hour cells: its raw events */
            rc = add_raw_day(x, a, day, p, end);
        } else {
            if (p < h0 * MS_PER_HOUR)
                rc = add_raw_day(x, a, day, p, h0 * MS_PER_HOUR);
            if (rc == LA_OK)
                rc = add_hours(x, a, day, (int32_t)h0, (int32_t)h1);
            if (rc == LA_OK && h1 * MS_PER_HOUR < end)
                rc = add_raw_day(x, a, day, h1 * MS_PER_HOUR, end);
        }
        p = end;
    }
    return rc;
}

static void acc_init(acc *a)
{
    memset(a, 0, sizeof *a);
    la_uniq_init(&a->vis);
    la_uniq_init(&a->ses);
}

static void acc_free(acc *a)
{
    la_uniq_free(&a->vis);
    la_uniq_free(&a->ses);
    la_dict_free(a->vals);
    free(a->counts);
}

static void distinct(const la_uniq *u, la_distinct *out)
{
    out->count = la_uniq_count(u, &out->exact, &out->rel_stderr);
}

static int check_query(la_db *db, const la_query *q, int series, la_tz **tz)
{
    if (!db || !q)
        return la_err(LA_EINVAL, "NULL argument");
    if (!q->workspace.data)
        return la_err(LA_EINVAL, "the workspace is required");
    if (q->workspace.len > LA_MAX_STR || (q->link.data && q->link.len > LA_MAX_STR) ||
        (q->event_type.data && q->event_type.len > LA_MAX_STR) ||
        (q->dim_value.data && q->dim_value.len > LA_MAX_STR))
        return la_err(LA_EINVAL, "a query string is longer than %d bytes", LA_MAX_STR);
    if (q->from >= q->to)
        return la_err(LA_EINVAL, "empty range: from >= to");
    if (q->dim < -1 || q->dim >= (int)la_db_ndims(db))
        return la_err(LA_EINVAL, "dimension %d out of range", q->dim);
    if (series && (q->bucket < LA_BUCKET_HOUR || q->bucket > LA_BUCKET_YEAR))
        return la_err(LA_EINVAL, "unknown bucket %d", q->bucket);
    return la_tz_open(tz, q->tz);
}

/* Clip the range to the years la stores: nothing lies outside. */
static void clip(int64_t *from, int64_t *to)
{
    const int64_t end = (int64_t)(LA_MAX_DAY + 1) * LA_MS_PER_DAY;
    if (*from < 0)
        *from = 0;
    if (*to > end)
        *to = end;
}

static void begin(la_db *db)
{
    pthread_mutex_lock(&db->mu);
    if (db->readonly) {
        la_db_refresh_days(db);
        la_rs_begin(db);
    }
}

/* One point from its accumulator. */
static void point_of(la_point *p, const acc *a, int64_t start, const la_tz *tz)
{
    p->bucket_start = start;
    p->utc_offset_s = la_tz_offset(tz, start);
    p->events = a->events;
    p->clicks = a->clicks;
    p->leads = a->leads;
    p->sales = a->sales;
    p->value = (int64_t)a->value;
    distinct(&a->vis, &p->visitors);
    distinct(&a->ses, &p->sessions);
}

/* A series whose nb buckets all come from raw events: one scan of [from, to). */
static int series_raw(const qctx *x, const la_tz *tz, int64_t from, int64_t to, la_point *pts, size_t nb,
                      size_t *np)
{
    int64_t *starts = malloc(nb * sizeof *starts);
    acc *accs = calloc(nb, sizeof *accs);
    int rc = starts && accs ? LA_OK : la_err(LA_ENOMEM, "out of memory");
    for (size_t k = 0; k < nb && accs; k++)
        acc_init(&accs[k]);
    if (rc == LA_OK) {
        int64_t s = la_tz_bucket_start(tz, x->q->bucket, from);
        for (size_t k = 0; k < nb; k++, s = la_tz_bucket_next(tz, x->q->bucket, s))
            starts[k] = s;
        la_filter f = query_filter(x, from, to);
        la_cursor *c;
        if ((rc = raw_kept(x, from, to)) == LA_OK && (rc = la_scan_locked(x->db, &f, &c)) == LA_OK)
            rc = add_cursor_split(x, accs, starts, nb, c);
    }
    for (size_t k = 0; k < nb && rc == LA_OK; k++)
        point_of(&pts[k], &accs[k], starts[k], tz);
    *np = rc == LA_OK ? nb : 0;
    for (size_t k = 0; k < nb && accs; k++)
        acc_free(&accs[k]);
    free(accs);
    free(starts);
    return rc;
}

int la_query_series(la_db *db, const la_query *q, la_point **out, size_t *n)
{
    la_err_clear();
    if (!out || !n)
        return la_err(LA_EINVAL, "NULL argument");
    *out = NULL;
    *n = 0;
    la_tz *tz = NULL;
    int rc = check_query(db, q, 1, &tz);
    if (rc != LA_OK)
        return rc;
    int64_t from = q->from, to = q->to;
    clip(&from, &to);
    size_t cap = 0, np = 0;
    la_point *pts = NULL;
    for (int64_t s = from < to ? la_tz_bucket_start(tz, q->bucket, from) : to; s < to;
         s = la_tz_bucket_next(tz, q->bucket, s)) {
        if (++cap > MAX_BUCKETS) {
            la_tz_free(tz);
            return la_err(LA_EINVAL, "more than %d buckets", MAX_BUCKETS);
        }
    }
    if (cap && !(pts = calloc(cap, sizeof *pts))) {
        la_tz_free(tz);
        return la_err(LA_ENOMEM, "out of memory");
    }
    qctx x = {db, q, -1, q->dim >= 0 || db->roll.off};
    begin(db);
    if (cap && (x.raw_only || (q->link.data && q->bucket == LA_BUCKET_HOUR))) {
        /* Every bucket comes from raw events (a link has no hour cells): one scan of the
         * range, each row into its bucket, instead of a scan per bucket. */
        rc = series_raw(&x, tz, from, to, pts, cap, &np);
        goto done;
    }
    for (int64_t s = cap ? la_tz_bucket_start(tz, q->bucket, from) : to; s < to && rc == LA_OK;) {
        int64_t e = la_tz_bucket_next(tz, q->bucket, s);
        acc a;
        acc_init(&a);
        rc = add_range(&x, &a, s > from ? s : from, e < to ? e : to);
        point_of(&pts[np++], &a, s, tz);
        acc_free(&a);
        s = e;
    }
done:
    if (rc == LA_OK)
        la_db_trim_days(db);
    pthread_mutex_unlock(&db->mu);
    la_tz_free(tz);
    if (rc != LA_OK) {
        free(pts);
        return rc;
    }
    *out = pts;
    *n = np;
    return LA_OK;
}

void la_series_free(la_point *points) { free(points); }

typedef struct top_sort {
    const la_str *strs;
    const uint64_t *counts;
} top_sort;

static int by_count_then_value(const void *pa, const void *pb, void *ctx)
{
    const top_sort *t = ctx;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    if (t->counts[a] != t->counts[b])
        return t->counts[a] > t->counts[b] ? -1 : 1;
    la_str x = t->strs[a], y = t->strs[b];
    int c = memcmp(x.data, y.data, x.len < y.len ? x.len : y.len);
    return c ? c : (x.len > y.len) - (x.len < y.len);
}

int la_query_top(la_db *db, const la_query *q, int dim, uint32_t k, la_top **out)
{
    la_err_clear();
    if (!out)
        return la_err(LA_EINVAL, "NULL argument");
    *out = NULL;
    la_tz *tz = NULL;
    int rc = check_query(db, q, 0, &tz);
    if (rc != LA_OK)
        return rc;
    la_tz_free(tz);
    if (dim < 0 || dim >= (int)la_db_ndims(db))
        return la_err(LA_EINVAL, "dimension %d out of range", dim);
    if (k < 1 || k > MAX_TOP_K)
        return la_err(LA_EINVAL, "k = %u outside 1..%d", k, MAX_TOP_K);
    int64_t from = q->from, to = q->to;
    clip(&from, &to);
    qctx x = {db, q, dim, q->dim >= 0 || db->roll.off};
    acc a;
    acc_init(&a);
    if (!(a.vals = la_dict_new(0))) {
        acc_free(&a);
        return la_err(LA_ENOMEM, "out of memory");
    }
    begin(db);
    if (from < to)
        rc = add_range(&x, &a, from, to);
    if (rc == LA_OK)
        la_db_trim_days(db);
    pthread_mutex_unlock(&db->mu);
    uint32_t nvals = la_dict_size(a.vals);
    uint32_t *ids = rc == LA_OK ? malloc(((size_t)nvals + 1) * sizeof *ids) : NULL;
    if (rc == LA_OK && !ids)
        rc = la_err(LA_ENOMEM, "out of memory");
    if (rc != LA_OK) {
        acc_free(&a);
        free(ids);
        return rc;
    }
    const la_str *strs = la_dict_strs(a.vals);
    for (uint32_t i = 0; i < nvals; i++)
        ids[i] = i + 1;
    top_sort ts = {strs, a.counts};
    qsort_r(ids, nvals, sizeof *ids, by_count_then_value, &ts);
    size_t n = nvals < k ? nvals : k, bytes = 0, listed = 0;
    for (size_t i = 0; i < n; i++)
        bytes += strs[ids[i]].len;
    la_top *t = calloc(1, sizeof *t + n * sizeof(la_top_entry) + bytes + 1);
    if (!t) {
        acc_free(&a);
        free(ids);
        return la_err(LA_ENOMEM, "out of memory");
    }
    t->entries = (la_top_entry *)(t + 1);
    char *sp = (char *)(t->entries + n);
    for (size_t i = 0; i < n; i++) {
        la_str s = strs[ids[i]];
        memcpy(sp, s.data, s.len);
        t->entries[i].value = (la_str){sp, s.len};
        t->entries[i].count = a.counts[ids[i]];
        listed += a.counts[ids[i]];
        sp += s.len;
    }
    t->n = n;
    t->total = a.events;
    t->absent = a.absent;
    t->other = a.events - a.absent - listed;
    t->max_error = a.err;
    acc_free(&a);
    free(ids);
    *out = t;
    return LA_OK;
}

void la_top_free(la_top *top) { free(top); }
