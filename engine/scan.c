/* scan.c — cursors: read events of a time range with filters, block by block, as column batches. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "column.h"
#include "db.h"
#include "error.h"

#define TAIL_BATCH 4096u
#define TAIL_BYTES (256u << 10)

/* A filter string the cursor owns (the caller's may go away after la_scan). */
typedef struct owned_str {
    int active;   /* 1 = this field filters */
    la_str s;     /* s.data NULL = match absent */
    char buf[LA_MAX_STR + 1];
} owned_str;

struct la_cursor {
    la_db *db;
    int64_t from, to;
    owned_str fstr[3 + 1]; /* workspace, link, event type, dimension */
    int fdim;              /* dimension index or -1 */
    uint64_t dims_read;    /* la_cursor_dims(): the dimensions blocks decode */
    int32_t *days;
    la_day **dp;           /* each day's handle: kept alive (retired, not closed) while the
                            * cursor is open, should the day be sealed meanwhile */
    uint64_t *snap;        /* rows of each day visible to this cursor */
    size_t ndays, di;
    int day_started;
    uint64_t seq_lo;       /* first seq to read of each day (replay from a watermark) */
    uint64_t pos;          /* seq of the next row of the current day to look at: positions by
                            * seq stay right when the writer seals the tail mid-scan */
    uint32_t fid[4];       /* filter ids in the current day's dictionaries (0 = no match) */
    int fmiss;             /* a filter value is in no block of the current day */
    int err;
    uint32_t nstr;         /* 3 + ndims */
    la_str_column o_dims[LA_MAX_DIMS];
    /* tail rows: one dictionary entry per row, bytes copied here */
    la_str *t_dict[3 + LA_MAX_DIMS];
    char *t_bytes;
    int from_tail;     /* the last batch came from a tail (la_cursor_batch_from_tail) */
    int trim_on_close; /* opened by la_scan (db->mu not held at close): closing trims the days */
    /* Row buffers, last: a cursor taken from db->spare_cursor keeps them (new_cursor() zeroes
     * everything before cap). Decoded block columns, capacity cap rows: */
    size_t cap;
    int64_t *d_ts, *d_val;
    uint8_t *d_hv;
    uint32_t *d_ids[LA_MAX_COLS];
    uint8_t *raw;
    size_t raw_cap;
    uint32_t *sel;
    /* output */
    int64_t *o_ts, *o_val;
    uint8_t *o_hv;
    uint64_t *o_vis, *o_ses;
    uint32_t *o_ids[3 + LA_MAX_DIMS];
};

static uint32_t str_col(uint32_t i) { return i < 3 ? LA_C_WORKSPACE + i : LA_NFIXED + i - 3; }

static void own(owned_str *o, la_str s)
{
    o->active = 1;
    o->s.len = s.data ? (s.len > LA_MAX_STR ? LA_MAX_STR + 1 : s.len) : 0;
    if (s.data && s.len <= LA_MAX_STR)
        memcpy(o->buf, s.data, s.len);
    o->s.data = s.data ? o->buf : NULL;
}

static int grow(la_cursor *c, size_t rows)
{
    if (rows <= c->cap)
        return 0;
    size_t n = rows;
    int ok = 1;
#define GROW(p) ok &= (((p) = realloc((p), n * sizeof *(p))) != NULL)
    GROW(c->d_ts);
    GROW(c->d_val);
    GROW(c->d_hv);
    GROW(c->sel);
    GROW(c->o_ts);
    GROW(c->o_val);
    GROW(c->o_hv);
    GROW(c->o_vis);
    GROW(c->o_ses);
    for (uint32_t i = 0; i < c->nstr; i++)
        GROW(c->o_ids[i]);
    for (uint32_t col = 0; col < LA_NFIXED + c->nstr - 3; col++)
        if (col != LA_C_TS && col != LA_C_VALUE)
            GROW(c->d_ids[col]);
#undef GROW
    if (!ok)
        return la_err(LA_ENOMEM, "out of memory");
    c->cap = n;
    return 0;
}

/* The row buffers of a cursor (16,384 rows of every column in a sealed day: over a megabyte)
 * outlive it: la_cursor_close() parks the cursor in db->spare_cursor and the next cursor takes
 * its buffers, so that a dashboard query does not fault fresh pages in each time. */
static void free_buffers(la_cursor *c)
{
    free(c->d_ts);
    free(c->d_val);
    free(c->d_hv);
    free(c->sel);
    free(c->raw);
    free(c->o_ts);
    free(c->o_val);
    free(c->o_hv);
    free(c->o_vis);
    free(c->o_ses);
    for (uint32_t i = 0; i < LA_MAX_COLS; i++)
        free(c->d_ids[i]);
    for (uint32_t i = 0; i < 3 + LA_MAX_DIMS; i++)
        free(c->o_ids[i]);
}

static la_cursor *new_cursor(la_db *db)
{
    la_cursor *c = atomic_exchange(&db->spare_cursor, NULL);
    if (!c)
        return calloc(1, sizeof *c);
    memset(c, 0, offsetof(la_cursor, cap));
    return c;
}

void la_cursor_free_spare(la_db *db)
{
    la_cursor *c = atomic_exchange(&db->spare_cursor, NULL);
    if (c) {
        free_buffers(c);
        free(c);
    }
}

/* With db->mu held: a cursor over the days in db->days (rescanned by the caller). */
static int scan_locked(la_db *db, const la_filter *f, la_cursor **out)
{
    *out = NULL;
    la_filter all = LA_FILTER_INIT;
    if (!f)
        f = &all;
    uint32_t nd = la_db_ndims(db);
    if (f->dim >= (int)nd || f->dim < -1)
        return la_err(LA_EINVAL, "filter dimension %d out of range", f->dim);
    la_cursor *c = new_cursor(db);
    if (!c)
        return la_err(LA_ENOMEM, "out of memory");
    c->db = db;
    atomic_fetch_add(&db->open_cursors, 1);
    c->from = f->from;
    c->to = f->to;
    c->nstr = 3 + nd;
    c->dims_read = ~0ull;
    c->fdim = f->dim;
    if (f->workspace.data)
        own(&c->fstr[0], f->workspace);
    if (f->link.data)
        own(&c->fstr[1], f->link);
    if (f->event_type.data)
        own(&c->fstr[2], f->event_type);
    if (f->dim >= 0)
        own(&c->fstr[3], f->dim_value);
    int rc = 0;
    int64_t dfrom = c->from <= 0 ? 0 : la_floor_div(c->from, LA_MS_PER_DAY);
    int64_t dto = c->to == INT64_MIN ? -1 : la_floor_div(c->to - 1, LA_MS_PER_DAY);
    if (c->from < c->to) {
        c->days = malloc((db->ndays + 1) * sizeof *c->days);
        c->dp = malloc((db->ndays + 1) * sizeof *c->dp);
        c->snap = malloc((db->ndays + 1) * sizeof *c->snap);
        if (!c->days || !c->dp || !c->snap)
            rc = la_err(LA_ENOMEM, "out of memory");
        for (size_t i = 0; rc == 0 && i < db->ndays; i++) {
            int32_t day = db->days[i].day;
            if (day < dfrom || day > dto || db->days[i].gone)
                continue;
            la_day *d;
            if ((rc = la_db_day_fresh(db, day, &d)) == LA_ENOTFOUND) {
                la_err_clear(); /* deleted by retention since the directory was read */
                rc = 0;
                continue;
            }
            if (rc != 0)
                break;
            c->days[c->ndays] = day;
            c->dp[c->ndays] = d;
            c->snap[c->ndays++] = la_day_rows(d);
        }
    }
    if (rc != 0) {
        la_cursor_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int la_scan_locked(la_db *db, const la_filter *f, la_cursor **out) { return scan_locked(db, f, out); }

int la_scan_seq_locked(la_db *db, const la_filter *f, int32_t day, uint64_t seq_lo, uint64_t seq_hi,
                       la_cursor **out)
{
    la_filter g = f ? *f : (la_filter)LA_FILTER_INIT;
    int64_t lo = (int64_t)day * LA_MS_PER_DAY;
    if (g.from < lo)
        g.from = lo;
    if (g.to > lo + LA_MS_PER_DAY)
        g.to = lo + LA_MS_PER_DAY;
    int rc = scan_locked(db, &g, out);
    if (rc == 0 && (*out)->ndays == 1) {
        (*out)->seq_lo = seq_lo;
        if ((*out)->snap[0] > seq_hi)
            (*out)->snap[0] = seq_hi;
    }
    return rc;
}

int la_scan(la_db *db, const la_filter *f, la_cursor **out)
{
    la_err_clear();
    if (!db || !out)
        return la_err(LA_EINVAL, "la_scan: NULL argument");
    *out = NULL;
    pthread_mutex_lock(&db->mu);
    int rc = la_db_refresh_days(db);
    if (rc == 0)
        rc = scan_locked(db, f, out);
    if (rc == 0)
        (*out)->trim_on_close = 1;
    pthread_mutex_unlock(&db->mu);
    return rc;
}

void la_cursor_close(la_cursor *c)
{
    if (!c)
        return;
    atomic_fetch_sub(&c->db->open_cursors, 1);
    free(c->days);
    free(c->dp);
    free(c->snap);
    for (uint32_t i = 0; i < 3 + LA_MAX_DIMS; i++)
        free(c->t_dict[i]);
    free(c->t_bytes);
    la_db *db = c->db;
    int trim = c->trim_on_close;
    la_cursor *none = NULL;
    if (!atomic_compare_exchange_strong(&db->spare_cursor, &none, c)) {
        free_buffers(c);
        free(c);
    }
    if (trim) { /* the days this cursor held open may now close */
        pthread_mutex_lock(&db->mu);
        if (atomic_load(&db->open_cursors) == 0)
            la_db_trim_days(db);
        pthread_mutex_unlock(&db->mu);
    }
}

/* Filter ids for a day: a filter value that is not in the day's dictionary matches no block
 * row of that day, and lets the cursor skip every block without decoding. */
static void resolve_filters(la_cursor *c, la_day *d)
{
    c->fmiss = 0;
    for (uint32_t k = 0; k < 4; k++) {
        owned_str *o = &c->fstr[k];
        if (!o->active)
            continue;
        uint32_t col = k < 3 ? LA_C_WORKSPACE + k : LA_NFIXED + (uint32_t)c->fdim;
        if (!o->s.data) {
            c->fid[k] = 0;
            continue;
        }
        c->fid[k] = o->s.len > LA_MAX_STR ? 0 : la_dict_find_str(d->dict[col], o->s.data, o->s.len);
        if (c->fid[k] == 0)
            c->fmiss = 1;
    }
}

static int need_raw(la_cursor *c, size_t n)
{
    if (n <= c->raw_cap)
        return 0;
    uint8_t *r = realloc(c->raw, n);
    if (!r)
        return la_err(LA_ENOMEM, "out of memory");
    c->raw = r;
    c->raw_cap = n;
    return 0;
}

/* Decode column col of block bi into the cursor's buffers: id columns for rows [from, to),
 * timestamps up to row to (each depends on those before), optional values whole. */
static int decode_col(la_cursor *c, la_day *d, const la_block_view *v, uint32_t bi, uint32_t col, uint32_t from,
                      uint32_t to)
{
    const la_col_desc *cd = &v->col[col];
    const char *why = NULL;
    int rc = need_raw(c, cd->data_raw ? cd->data_raw : 1);
    if (rc != 0)
        return rc;
    uint64_t at = d->blocks[bi].off + cd->offset;
    /* a column's checksum once per handle: a dashboard reads the same blocks again and again */
    la_blkref *b = &d->blocks[bi];
    if (!(b->crc_ok >> col & 1)) {
        if ((rc = la_block_check(v, col, &why)) != 0)
            return la_day_corrupt(d, at, why);
        b->crc_ok |= 1ull << col;
    }
    if ((rc = la_block_part_checked(v, col, 1, c->raw, &why)) != 0)
        return la_day_corrupt(d, at, why);
    switch (d->cfg->schema.type[col]) {
    case LA_COL_TS: rc = la_ts_decode_prefix(c->raw, cd->data_raw, c->d_ts, v->nrows, to, &why); break;
    case LA_COL_OPT_I64:
        rc = la_opt_i64_decode(c->raw, cd->data_raw, c->d_val, c->d_hv, v->nrows, &why);
        break;
    default:
        rc = la_ids_decode_range(c->raw, cd->data_raw, c->d_ids[col], v->nrows, from, to,
                                 d->blocks[bi].dict_end[col], &why);
        if (rc == 0 && la_col_missing(&d->cfg->schema, col, c->d_ids[col] + from, to - from)) {
            why = "a required column has an absent id";
            rc = LA_ECORRUPT;
        }
        break;
    }
    return rc ? la_day_corrupt(d, at, why ? why : "column decode failed") : 0;
}

/* Narrow rows [*from, *to) of a decoded id column to those from its first id `want` to its
 * last: in a sorted block a workspace's rows, and a link's within them, are one run, so that
 * the other columns are decoded and filtered for that run only. 0 if no row holds want. */
static int narrow_to(const uint32_t *ids, uint32_t want, uint32_t *from, uint32_t *to)
{
    uint32_t a = *from, b = *to;
    while (a < b && ids[a] != want)
        a++;
    while (b > a && ids[b - 1] != want)
        b--;
    *from = a;
    *to = b;
    return a < b;
}

/* Decode block bi of day d and keep the rows that match; returns the number kept. */
static int scan_block(la_cursor *c, la_day *d, uint32_t bi, uint64_t lo, uint64_t hi, la_batch *out)
{
    const la_blkref *b = &d->blocks[bi];
    la_block_view v;
    const char *why = NULL;
    int rc = la_block_parse(d->map + b->off, b->len, &d->cfg->schema, &v, &why);
    if (rc != 0)
        return la_day_corrupt(d, b->off, why);
    if ((rc = grow(c, v.nrows)) != 0)
        return rc;
    uint32_t from = (uint32_t)(lo - b->first_seq), to = (uint32_t)(hi - b->first_seq);
    uint32_t decoded = 0; /* filter columns decoded, by k */
    if (b->kind == LA_BLOCK_SORTED && c->fstr[0].active) {
        /* rows sorted by (workspace, link, ts): the filter's rows are one run; the checks
         * below still test every row of it, so a block that breaks the order only costs time */
        for (uint32_t k = 0; k < 2; k++) {
            if (!c->fstr[k].active || (k == 0 ? b->ws_min == b->ws_max : b->link_min == b->link_max))
                continue; /* the whole block is the filter's (keys_may_match() let it through) */
            uint32_t col = LA_C_WORKSPACE + k;
            if ((rc = decode_col(c, d, &v, bi, col, from, to)) != 0)
                return rc;
            decoded |= 1u << k;
            if (!narrow_to(c->d_ids[col], c->fid[k], &from, &to))
                return 0;
        }
    }
    if ((rc = decode_col(c, d, &v, bi, LA_C_TS, from, to)) != 0)
        return rc;
    uint32_t n = 0;
    for (uint32_t r = from; r < to; r++)
        if (c->d_ts[r] >= c->from && c->d_ts[r] < c->to)
            c->sel[n++] = r;
    for (uint32_t k = 0; k < 4 && n > 0; k++) {
        if (!c->fstr[k].active)
            continue;
        /* a sorted block of one workspace (link) that keys_may_match() let through holds only
         * the wanted one: nothing to compare */
        if (b->kind == LA_BLOCK_SORTED &&
            ((k == 0 && b->ws_min == b->ws_max) || (k == 1 && b->link_min == b->link_max)))
            continue;
        uint32_t col = k < 3 ? LA_C_WORKSPACE + k : LA_NFIXED + (uint32_t)c->fdim;
        if (!(decoded >> k & 1) && (rc = decode_col(c, d, &v, bi, col, from, to)) != 0)
            return rc;
        decoded |= 1u << k;
        uint32_t m = 0, want = c->fid[k];
        for (uint32_t i = 0; i < n; i++)
            if (c->d_ids[col][c->sel[i]] == want)
                c->sel[m++] = c->sel[i];
        n = m;
    }
    if (n == 0)
        return 0;
    for (uint32_t col = 1; col < d->cfg->schema.ncols; col++) {
        int done = col >= LA_NFIXED && !(c->dims_read >> (col - LA_NFIXED) & 1);
        for (uint32_t k = 0; k < 4; k++)
            done |= (decoded >> k & 1) && col == (k < 3 ? LA_C_WORKSPACE + k : LA_NFIXED + (uint32_t)c->fdim);
        if (!done && (rc = decode_col(c, d, &v, bi, col, from, to)) != 0)
            return rc;
    }
    const uint64_t *vis = la_dict_u64s(d->dict[LA_C_VISITOR]), *ses = la_dict_u64s(d->dict[LA_C_SESSION]);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = c->sel[i];
        c->o_ts[i] = c->d_ts[r];
        c->o_val[i] = c->d_val[r];
        c->o_hv[i] = c->d_hv[r];
        c->o_vis[i] = vis[c->d_ids[LA_C_VISITOR][r]];
        c->o_ses[i] = ses[c->d_ids[LA_C_SESSION][r]];
        for (uint32_t k = 0; k < c->nstr; k++)
            c->o_ids[k][i] = k < 3 || (c->dims_read >> (k - 3) & 1) ? c->d_ids[str_col(k)][r] : 0;
    }
    la_str_column *cols[3] = {&out->workspace, &out->link, &out->event_type};
    for (uint32_t k = 0; k < c->nstr; k++) {
        la_str_column *sc = k < 3 ? cols[k] : &c->o_dims[k - 3];
        sc->ids = c->o_ids[k];
        sc->dict = la_dict_strs(d->dict[str_col(k)]);
    }
    return (int)n;
}

static int str_match(const owned_str *o, la_str s)
{
    if (!o->active)
        return 1;
    if (!o->s.data || !s.data)
        return !o->s.data && !s.data;
    return o->s.len == s.len && memcmp(o->s.data, s.data, s.len) == 0;
}

/* Tail rows with seq in [c->pos, end) of day d, decoded one by one, strings copied out of
 * the map. */
static int scan_tail(la_cursor *c, la_day *d, uint64_t end, la_batch *out)
{
    int rc = grow(c, TAIL_BATCH);
    if (rc != 0)
        return rc;
    for (uint32_t k = 0; k < c->nstr; k++)
        if (!c->t_dict[k] && !(c->t_dict[k] = malloc((TAIL_BATCH + 1) * sizeof(la_str))))
            return la_err(LA_ENOMEM, "out of memory");
    /* Sized for typical rows, not for the longest possible ones (a cursor per query piece
     * must stay cheap): a batch ends early when the next row might not fit. */
    const size_t cap = TAIL_BYTES > (size_t)c->nstr * LA_MAX_STR ? TAIL_BYTES : (size_t)c->nstr * LA_MAX_STR;
    if (!c->t_bytes && !(c->t_bytes = malloc(cap)))
        return la_err(LA_ENOMEM, "out of memory");
    char *bytes = c->t_bytes;
    uint32_t n = 0;
    while (c->pos < end && n < TAIL_BATCH) {
        la_row row;
        if ((size_t)(bytes - c->t_bytes) + (size_t)c->nstr * LA_MAX_STR > cap)
            break;
        if ((rc = la_day_tail_row(d, c->pos++ - d->commit.rows_in_blocks, &row)) != 0)
            return rc;
        if (row.ts < c->from || row.ts >= c->to)
            continue;
        int ok = 1;
        for (uint32_t k = 0; k < 4 && ok; k++)
            ok = str_match(&c->fstr[k], k < 3 ? row.str[k] : row.str[3 + c->fdim]);
        if (!ok)
            continue;
        c->o_ts[n] = row.ts;
        c->o_val[n] = row.value;
        c->o_hv[n] = (uint8_t)row.has_value;
        c->o_vis[n] = row.visitor;
        c->o_ses[n] = row.session;
        for (uint32_t k = 0; k < c->nstr; k++) {
            la_str *e = &c->t_dict[k][n + 1];
            c->t_dict[k][0] = (la_str){NULL, 0};
            c->o_ids[k][n] = row.str[k].data ? n + 1 : 0;
            if (row.str[k].data) {
                memcpy(bytes, row.str[k].data, row.str[k].len);
                e->data = bytes;
                e->len = row.str[k].len;
                bytes += row.str[k].len;
            }
        }
        n++;
    }
    la_str_column *cols[3] = {&out->workspace, &out->link, &out->event_type};
    for (uint32_t k = 0; k < c->nstr; k++) {
        la_str_column *sc = k < 3 ? cols[k] : &c->o_dims[k - 3];
        sc->ids = c->o_ids[k];
        sc->dict = c->t_dict[k];
    }
    return (int)n;
}

/* A sorted block holds only the workspaces and links of its key range: a query for one
 * workspace reads just its blocks of a sealed day. */
static int keys_may_match(const la_cursor *c, const la_blkref *b)
{
    if (b->kind != LA_BLOCK_SORTED)
        return 1;
    if (c->fstr[0].active && (c->fid[0] < b->ws_min || c->fid[0] > b->ws_max))
        return 0;
    return !c->fstr[1].active || (c->fid[1] >= b->link_min && c->fid[1] <= b->link_max);
}

static int next_locked(la_cursor *c, la_batch *out)
{
    while (c->di < c->ndays) {
        la_day *d = c->dp[c->di];
        int rc;
        uint64_t snap = c->snap[c->di];
        if (!c->day_started) {
            c->day_started = 1;
            c->pos = c->seq_lo;
        }
        /* every time: a writer thread may have sealed blocks with new entries meanwhile */
        if ((rc = la_day_load_dicts(d)) != 0)
            return rc;
        resolve_filters(c, d);
        for (uint32_t bi = 0; bi < d->nblocks && c->pos < snap; bi++) {
            const la_blkref *b = &d->blocks[bi];
            uint64_t end = b->first_seq + b->nrows;
            if (end <= c->pos)
                continue;
            uint64_t lo = c->pos, hi = end < snap ? end : snap;
            c->pos = hi;
            if (c->fmiss || b->max_ts < c->from || b->min_ts >= c->to || !keys_may_match(c, b))
                continue;
            int n = scan_block(c, d, bi, lo, hi, out);
            c->from_tail = 0;
            if (n != 0)
                return n;
        }
        uint64_t end = d->commit.rows_in_blocks + d->tail_rows;
        end = end < snap ? end : snap;
        if (c->pos < end) {
            uint64_t pos = c->pos;
            int n = scan_tail(c, d, end, out);
            c->from_tail = 1;
            if (n < 0 && c->db->readonly && la_day_refresh(d) == LA_OK && d->commit.rows_in_blocks > pos) {
                /* the writer sealed these tail rows into a block and released the tail's
                 * space while we read it: the same rows, by seq, are in the block now */
                la_err_clear();
                c->pos = pos;
                continue;
            }
            if (n != 0)
                return n;
            continue;
        }
        c->di++;
        c->day_started = 0;
    }
    return 0;
}

static int cursor_next(la_cursor *c, la_batch *out, int lock)
{
    if (c->err)
        return la_err(c->err, "cursor failed earlier");
    memset(out, 0, sizeof *out);
    if (lock)
        pthread_mutex_lock(&c->db->mu);
    int n = next_locked(c, out);
    if (lock)
        pthread_mutex_unlock(&c->db->mu);
    if (n < 0) {
        c->err = n;
        return n;
    }
    if (n == 0)
        return 0;
    out->nrows = (size_t)n;
    out->ts = c->o_ts;
    out->visitor_id = c->o_vis;
    out->session_id = c->o_ses;
    out->value = c->o_val;
    out->has_value = c->o_hv;
    out->dims = c->o_dims;
    return 1;
}

int la_cursor_next(la_cursor *c, la_batch *out)
{
    la_err_clear();
    if (!c || !out)
        return la_err(LA_EINVAL, "la_cursor_next: NULL argument");
    return cursor_next(c, out, 1);
}

int la_cursor_next_locked(la_cursor *c, la_batch *out) { return cursor_next(c, out, 0); }

int la_cursor_batch_from_tail(const la_cursor *c) { return c->from_tail; }

void la_cursor_dims(la_cursor *c, uint64_t mask)
{
    /* a dimension the filter compares is decoded anyway */
    c->dims_read = mask | (c->fdim >= 0 ? 1ull << c->fdim : 0);
}
