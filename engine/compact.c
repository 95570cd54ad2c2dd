/* compact.c — sealing a day: its rows rewritten once, sorted by (workspace, link, ts), into zstd
 * blocks that carry their workspace and link ranges, in a new file renamed over the old one
 * (SPEC.md §5.5). Late events for a sealed day are appended after its sorted blocks. */
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "codec.h"
#include "db.h"
#include "error.h"
#include "io.h"

/* A sealed day gets sealed again once its late rows reach this fraction of its rows. */
#define RESEAL_LATE_DIVISOR 8

/* The day's rows, every string column interned into a dictionary of its own (first-seen order);
 * the sort then renumbers them. */
typedef struct rows {
    size_t n, cap;
    int64_t *ts, *val;
    uint8_t *hv;
    uint32_t *ids[LA_MAX_COLS]; /* per dictionary column: ids into dict[col] */
    la_dict *dict[LA_MAX_COLS];
    uint32_t *ws_rank, *link_rank; /* per workspace / link id: rank of its bytes */
} rows;

static int is_dict_col(const la_schema *s, uint32_t c)
{
    return s->type[c] == LA_COL_STR || s->type[c] == LA_COL_U64;
}

static void rows_free(rows *r, const la_schema *s)
{
    free(r->ts);
    free(r->val);
    free(r->hv);
    for (uint32_t c = 0; c < s->ncols; c++) {
        free(r->ids[c]);
        la_dict_free(r->dict[c]);
    }
    free(r->ws_rank);
    free(r->link_rank);
}

static int rows_grow(rows *r, const la_schema *s, size_t need)
{
    if (need <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < need)
        cap *= 2;
    int ok = 1;
#define GROW(p) ok &= (((p) = realloc((p), cap * sizeof *(p))) != NULL)
    GROW(r->ts);
    GROW(r->val);
    GROW(r->hv);
    for (uint32_t c = 0; c < s->ncols; c++)
        if (is_dict_col(s, c))
            GROW(r->ids[c]);
#undef GROW
    if (!ok)
        return -1;
    r->cap = cap;
    return 0;
}

/* Rows [0, n) of day d through a cursor (blocks and tail alike). */
static int read_rows(la_db *db, la_day *d, uint64_t n, rows *r)
{
    const la_schema *s = &db->cfg.schema;
    for (uint32_t c = 0; c < s->ncols; c++)
        if (is_dict_col(s, c) && !(r->dict[c] = la_dict_new(s->type[c] == LA_COL_U64)))
            return la_err(LA_ENOMEM, "out of memory");
    /* A block's string ids are the day dictionary's: each is interned once and then found in
     * memo[col][day id] (0 = not yet), instead of hashing the string of every row. */
    uint32_t *memo[LA_MAX_COLS] = {0}, memo_n[LA_MAX_COLS] = {0};
    int rc = la_day_load_dicts(d);
    if (rc == LA_OK && rows_grow(r, s, n) != 0)
        rc = la_err(LA_ENOMEM, "out of memory");
    for (uint32_t c = 0; c < s->ncols && rc == LA_OK; c++) {
        if (s->type[c] != LA_COL_STR)
            continue;
        memo_n[c] = la_dict_size(d->dict[c]) + 1;
        if (!(memo[c] = calloc(memo_n[c], sizeof *memo[c])))
            rc = la_err(LA_ENOMEM, "out of memory");
    }
    la_cursor *cur = NULL;
    if (rc == LA_OK)
        rc = la_scan_seq_locked(db, NULL, d->day, 0, n, &cur);
    la_batch b;
    int got = 0;
    const uint32_t nd = la_schema_ndims(s);
    while (rc == LA_OK && (got = la_cursor_next_locked(cur, &b)) == 1) {
        if (rows_grow(r, s, r->n + b.nrows) != 0) {
            rc = la_err(LA_ENOMEM, "out of memory");
            break;
        }
        const la_str_column *sc[3 + LA_MAX_DIMS] = {&b.workspace, &b.link, &b.event_type};
        uint32_t *by_day_id[3 + LA_MAX_DIMS]; /* NULL: a tail batch, whose ids are its own */
        uint32_t by_day_n[3 + LA_MAX_DIMS];
        for (uint32_t k = 0; k < nd; k++)
            sc[3 + k] = &b.dims[k];
        for (uint32_t k = 0; k < 3 + nd; k++) {
            uint32_t col = k < 3 ? LA_C_WORKSPACE + k : LA_NFIXED + k - 3;
            by_day_id[k] = sc[k]->dict == la_dict_strs(d->dict[col]) ? memo[col] : NULL;
            by_day_n[k] = memo_n[col];
        }
        for (size_t i = 0; i < b.nrows && rc == LA_OK; i++) {
            size_t at = r->n + i;
            r->ts[at] = b.ts[i];
            r->val[at] = b.value[i];
            r->hv[at] = b.has_value[i];
            uint32_t v = la_dict_intern_u64(r->dict[LA_C_VISITOR], b.visitor_id[i]);
            uint32_t e = la_dict_intern_u64(r->dict[LA_C_SESSION], b.session_id[i]);
            r->ids[LA_C_VISITOR][at] = v;
            r->ids[LA_C_SESSION][at] = e;
            int oom = !v || !e;
            for (uint32_t k = 0; k < 3 + nd; k++) {
                uint32_t col = k < 3 ? LA_C_WORKSPACE + k : LA_NFIXED + k - 3, day_id = sc[k]->ids[i];
                uint32_t *memo_slot = by_day_id[k] && day_id < by_day_n[k] ? &by_day_id[k][day_id] : NULL;
                uint32_t id = memo_slot ? *memo_slot : 0;
                la_str str = sc[k]->dict[day_id];
                if (!id && str.data) {
                    oom |= !(id = la_dict_intern_str(r->dict[col], str.data, str.len));
                    if (memo_slot)
                        *memo_slot = id;
                }
                r->ids[col][at] = id;
            }
            if (oom)
                rc = la_err(LA_ENOMEM, "out of memory");
        }
        r->n += b.nrows;
    }
    if (rc == LA_OK && got < 0)
        rc = got;
    if (cur)
        la_cursor_close(cur);
    for (uint32_t c = 0; c < s->ncols; c++)
        free(memo[c]);
    if (rc == LA_OK && r->n != n)
        rc = la_err(LA_ECORRUPT, "%s: read %zu rows while sealing, expected %llu", d->path, r->n,
                    (unsigned long long)n);
    return rc;
}

static _Thread_local const la_str *rank_strs; /* qsort has no context argument */

static int cmp_str_ids(const void *a, const void *b)
{
    la_str x = rank_strs[*(const uint32_t *)a], y = rank_strs[*(const uint32_t *)b];
    size_t n = x.len < y.len ? x.len : y.len;
    int c = n ? memcmp(x.data, y.data, n) : 0;
    return c ? c : (x.len > y.len) - (x.len < y.len);
}

/* rank[id] = position of the id's bytes among all entries of the dictionary. */
static uint32_t *rank_dict(la_dict *dict)
{
    uint32_t n = la_dict_size(dict);
    uint32_t *order = malloc((n + 1) * sizeof *order), *rank = malloc((n + 1) * sizeof *rank);
    if (!order || !rank) {
        free(order);
        free(rank);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        order[i] = i + 1;
    rank_strs = la_dict_strs(dict);
    qsort(order, n, sizeof *order, cmp_str_ids);
    rank[0] = 0;
    for (uint32_t i = 0; i < n; i++)
        rank[order[i]] = i + 1;
    free(order);
    return rank;
}

typedef struct sort_key {
    uint32_t ws, link;
    int64_t ts;
    uint32_t row;
} sort_key;

static int cmp_key(const void *a, const void *b)
{
    const sort_key *x = a, *y = b;
    if (x->ws != y->ws)
        return x->ws < y->ws ? -1 : 1;
    if (x->link != y->link)
        return x->link < y->link ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* The digit of a key that radix pass `pass` sorts by: the time in two 16-bit halves (as an
 * offset from the earliest, which fits 32 bits), then the link rank, then the workspace rank. */
static uint32_t key_digit(const sort_key *k, int pass, int64_t t0)
{
    uint32_t t = (uint32_t)((uint64_t)k->ts - (uint64_t)t0);
    switch (pass) {
    case 0:
        return t & 0xFFFF;
    case 1:
        return t >> 16;
    case 2:
        return k->link;
    default:
        return k->ws;
    }
}

/* Keys in cmp_key order: stable counting sorts by time, link and workspace (keys start in row
 * order, which breaks the ties), a few passes over the day instead of qsort's 18 compares a
 * row through a pointer; qsort when the day's times span more than 32 bits. nws and nlinks
 * bound the ranks. */
static int sort_keys(sort_key *keys, size_t n, uint32_t nws, uint32_t nlinks)
{
    if (n < 2)
        return 0;
    int64_t t0 = keys[0].ts, t1 = t0;
    for (size_t i = 1; i < n; i++) {
        t0 = keys[i].ts < t0 ? keys[i].ts : t0;
        t1 = keys[i].ts > t1 ? keys[i].ts : t1;
    }
    if (((uint64_t)t1 - (uint64_t)t0) >> 32) {
        qsort(keys, n, sizeof *keys, cmp_key);
        return 0;
    }
    size_t nb = 65536;
    nb = nws + 1u > nb ? nws + 1u : nb;
    nb = nlinks + 1u > nb ? nlinks + 1u : nb;
    sort_key *tmp = malloc(n * sizeof *tmp);
    size_t *at = malloc(nb * sizeof *at);
    if (!tmp || !at) {
        free(tmp);
        free(at);
        return -1;
    }
    for (int pass = 0; pass < 4; pass++) {
        size_t buckets = pass < 2 ? 65536 : pass == 2 ? nlinks + 1u : nws + 1u;
        memset(at, 0, buckets * sizeof *at);
        for (size_t i = 0; i < n; i++)
            at[key_digit(&keys[i], pass, t0)]++;
        if (at[key_digit(&keys[0], pass, t0)] == n)
            continue; /* one digit for all: nothing moves */
        for (size_t b = 0, sum = 0; b < buckets; b++) {
            size_t c = at[b];
            at[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[at[key_digit(&keys[i], pass, t0)]++] = keys[i];
        memcpy(keys, tmp, n * sizeof *keys);
    }
    free(tmp);
    free(at);
    return 0;
}

/* The sealed file's bytes, built in memory: header page, then the sorted blocks. */
typedef struct out_file {
    uint8_t *buf;
    size_t len, cap;
} out_file;

static int out_reserve(out_file *o, size_t more)
{
    if (o->len + more <= o->cap)
        return 0;
    size_t cap = o->cap ? o->cap : (size_t)1 << 20;
    while (cap < o->len + more)
        cap *= 2;
    uint8_t *p = realloc(o->buf, cap);
    if (!p)
        return -1;
    o->buf = p;
    o->cap = cap;
    return 0;
}

/* Encode the rows in key order as sorted blocks. Ids are renumbered in order of first use, so a
 * day's workspaces (and, in practice, its links) take ascending ids down the file and each
 * block's key range is tight. */
static int encode_sorted(la_db *db, la_day *d, rows *r, const sort_key *keys, out_file *o,
                         uint32_t *nblocks)
{
    const la_schema *s = &db->cfg.schema;
    uint32_t block_rows = db->cfg.block_rows;
    size_t nb = block_rows < r->n ? block_rows : r->n;
    la_dict *fin[LA_MAX_COLS] = {0};
    uint32_t *remap[LA_MAX_COLS] = {0}, *ids[LA_MAX_COLS] = {0};
    int64_t *ts = malloc(nb * sizeof *ts), *val = malloc(nb * sizeof *val);
    uint8_t *hv = malloc(nb);
    int rc = !ts || !val || !hv ? LA_ENOMEM : LA_OK;
    for (uint32_t c = 0; c < s->ncols && rc == LA_OK; c++) {
        if (!is_dict_col(s, c))
            continue;
        fin[c] = la_dict_new(s->type[c] == LA_COL_U64);
        remap[c] = calloc(la_dict_size(r->dict[c]) + 1, sizeof *remap[c]);
        ids[c] = malloc(nb * sizeof *ids[c]);
        if (!fin[c] || !remap[c] || !ids[c])
            rc = LA_ENOMEM;
    }
    uint64_t first_seq = 0;
    for (size_t at = 0; at < r->n && rc == LA_OK; at += nb) {
        uint32_t n = (uint32_t)(r->n - at < nb ? r->n - at : nb);
        uint32_t before[LA_MAX_COLS] = {0};
        for (uint32_t c = 0; c < s->ncols; c++)
            if (is_dict_col(s, c))
                before[c] = la_dict_size(fin[c]);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t row = keys[at + i].row;
            ts[i] = r->ts[row];
            val[i] = r->val[row];
            hv[i] = r->hv[row];
        }
        /* a column at a time: two arrays in cache instead of two per column */
        for (uint32_t c = 0; c < s->ncols && rc == LA_OK; c++) {
            if (!is_dict_col(s, c))
                continue;
            for (uint32_t i = 0; i < n && rc == LA_OK; i++) {
                uint32_t old = r->ids[c][keys[at + i].row];
                if (old && !remap[c][old]) {
                    remap[c][old] = s->type[c] == LA_COL_U64
                                        ? la_dict_push_u64(fin[c], la_dict_u64s(r->dict[c])[old])
                                        : la_dict_push_str(fin[c], la_dict_strs(r->dict[c])[old].data,
                                                           la_dict_strs(r->dict[c])[old].len);
                    if (!remap[c][old])
                        rc = LA_ENOMEM;
                }
                ids[c][i] = remap[c][old];
            }
        }
        la_block_in in;
        memset(&in, 0, sizeof in);
        in.schema = s;
        in.nrows = n;
        in.first_seq = first_seq;
        in.kind = LA_BLOCK_SORTED;
        in.codec = LA_CODEC_ID_ZSTD;
        in.level = db->seal_level;
        for (uint32_t c = 0; c < s->ncols; c++) {
            la_col_in *ci = &in.col[c];
            if (c == LA_C_TS) {
                ci->i64 = ts;
            } else if (c == LA_C_VALUE) {
                ci->i64 = val;
                ci->present = hv;
            } else {
                ci->ids = ids[c];
                ci->dict_base = before[c];
                ci->new_count = la_dict_size(fin[c]) - before[c];
                if (s->type[c] == LA_COL_U64)
                    ci->new_u64 = la_dict_u64s(fin[c]) + before[c] + 1;
                else
                    ci->new_str = la_dict_strs(fin[c]) + before[c] + 1;
            }
        }
        size_t cap = rc == LA_OK ? la_block_bound(&in) : 0, len = 0;
        if (rc == LA_OK && out_reserve(o, cap) != 0)
            rc = LA_ENOMEM;
        if (rc == LA_OK && (rc = la_block_encode(&in, o->buf + o->len, cap, &len)) != LA_OK)
            rc = la_err(rc, "%s: encoding a sorted block failed", d->path);
        o->len += len;
        first_seq += n;
        ++*nblocks;
    }
    for (uint32_t c = 0; c < s->ncols; c++) {
        la_dict_free(fin[c]);
        free(remap[c]);
        free(ids[c]);
    }
    free(ts);
    free(val);
    free(hv);
    return rc == LA_ENOMEM ? la_err(rc, "out of memory") : rc;
}

/* Seal one day (db->mu held). */
static int seal_day(la_db *db, int32_t day, la_compact_stats *st)
{
    la_day *d;
    int rc = la_db_day(db, day, 0, &d);
    if (rc != LA_OK)
        return rc;
    /* The rollup files must hold every row first: they name rows by seq, and sealing
     * reorders the rows (the set [0, rows) stays the same, so a watermark at rows stays true). */
    if ((rc = la_day_seal(d)) != LA_OK || (rc = la_rs_checkpoint_days(db, &day, 1)) != LA_OK)
        return rc;
    uint64_t n = la_day_rows(d);
    int64_t wm;
    if ((rc = la_rs_day_wm(db, day, &wm)) != LA_OK)
        return rc;
    if (wm >= 0 && (uint64_t)wm != n)
        return la_err(LA_EBUSY, "%s: its rollups hold %lld of %llu rows; seal it with rollups on",
                      d->path, (long long)wm, (unsigned long long)n);
    if (n == 0)
        return LA_OK;
    const la_schema *s = &db->cfg.schema;
    rows r;
    memset(&r, 0, sizeof r);
    sort_key *keys = NULL;
    out_file o = {0};
    uint32_t nblocks = 0;
    if ((rc = read_rows(db, d, n, &r)) != LA_OK)
        goto done;
    if (!(r.ws_rank = rank_dict(r.dict[LA_C_WORKSPACE])) || !(r.link_rank = rank_dict(r.dict[LA_C_LINK])) ||
        !(keys = malloc(r.n * sizeof *keys)) || out_reserve(&o, LA_SEG_HEADER_SIZE) != 0) {
        rc = la_err(LA_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < r.n; i++)
        keys[i] = (sort_key){r.ws_rank[r.ids[LA_C_WORKSPACE][i]], r.link_rank[r.ids[LA_C_LINK][i]], r.ts[i],
                             (uint32_t)i};
    if (sort_keys(keys, r.n, la_dict_size(r.dict[LA_C_WORKSPACE]), la_dict_size(r.dict[LA_C_LINK])) != 0) {
        rc = la_err(LA_ENOMEM, "out of memory");
        goto done;
    }
    memset(o.buf, 0, LA_SEG_HEADER_SIZE);
    o.len = LA_SEG_HEADER_SIZE;
    if ((rc = encode_sorted(db, d, &r, keys, &o, &nblocks)) != LA_OK)
        goto done;
    la_seg_header h = {LA_SEG_VERSION_SEALED, LA_SEG_VERSION_SEALED, day, *s};
    la_seg_header_encode(o.buf, &h);
    la_commit c = {1, o.len, nblocks, n, o.len, la_day_salt(0)};
    la_commit_encode(o.buf + LA_SEG_SLOT_OFF, &c);
    uint64_t before = d->file_size;
    /* written beside the old file, synced, renamed over it: a crash leaves one or the other */
    rc = la_write_atomic(db->path, d->name, o.buf, o.len);
    if (rc != LA_OK && !la_day_replaced(d))
        goto done;
    if (rc != LA_OK)
        db->dir_unsynced = 1; /* renamed, but the directory sync failed: la_flush() retries it
                               * before it promises anything appended to the new file */
    /* From here the new file is the day: readers that have the old one open keep reading it,
     * this handle appends to the new one. */
    la_rs_forget_day(db, day); /* its delta maps the old file's dictionary ids */
    int rc2 = la_db_day_retire(db, day);
    if (rc2 == LA_OK)
        rc2 = la_db_day(db, day, 0, &d);
    if (rc == LA_OK)
        rc = rc2;
    if (rc == LA_OK && st) {
        st->days++;
        st->rows += n;
        st->bytes_before += before;
        st->bytes_after += o.len;
    }
done:
    rows_free(&r, s);
    free(keys);
    free(o.buf);
    return rc;
}

/* Whether day should be sealed now. */
static int due(la_db *db, int32_t day, int32_t newest, unsigned flags, int *out)
{
    *out = 0;
    if (!(flags & LA_COMPACT_ALL) && day > newest - 1 - (int32_t)db->seal_after_days)
        return LA_OK;
    la_day *d;
    int rc = la_db_day(db, day, 0, &d);
    if (rc != LA_OK)
        return rc;
    uint64_t late = la_day_late_rows(d);
    if (!la_day_sealed(d))
        *out = la_day_rows(d) > 0;
    else
        *out = (flags & LA_COMPACT_ALL) ? late > 0 : late * RESEAL_LATE_DIVISOR >= la_day_rows(d);
    return LA_OK;
}

/* Checkpoint the days about to be sealed together, before seal_day() takes them one by one:
 * each week, month and year file they touch is then merged and written once, not once per day
 * (a backfill of a month's events sealed 30 days at a time and rewrote the month file 30
 * times). seal_day()'s own checkpoint then finds them done. */
static int checkpoint_due_days(la_db *db, int32_t newest, unsigned flags)
{
    int32_t *days = malloc(db->ndays * sizeof *days);
    if (!days)
        return LA_OK; /* each day is checkpointed as it is sealed */
    size_t n = 0;
    int rc = LA_OK;
    for (size_t i = 0; i < db->ndays && rc == LA_OK; i++) {
        int32_t day = db->days[i].day;
        int go = 0;
        la_day *d;
        if (!db->days[i].sealed || (flags & LA_COMPACT_ALL))
            rc = due(db, day, newest, flags, &go);
        if (rc == LA_OK && go && (rc = la_db_day(db, day, 0, &d)) == LA_OK && (rc = la_day_seal(d)) == LA_OK)
            days[n++] = day;
    }
    if (rc == LA_OK)
        rc = la_rs_checkpoint_days(db, days, n);
    free(days);
    return rc;
}

int la_compact_locked(la_db *db, unsigned flags, int report, la_compact_stats *st)
{
    if (db->ndays == 0)
        return LA_OK;
    int32_t newest = db->days[db->ndays - 1].day;
    int rc = checkpoint_due_days(db, newest, flags);
    for (size_t i = 0; i < db->ndays && rc == LA_OK; i++) {
        int32_t day = db->days[i].day;
        int go = 0;
        if (!db->days[i].sealed || (flags & LA_COMPACT_ALL))
            rc = due(db, day, newest, flags, &go);
        if (rc == LA_OK && go)
            rc = seal_day(db, day, st);
        /* a sealed day stays so until a late event reaches it (append clears the flag) */
        la_day_slot *s = &db->days[i];
        if (rc == LA_OK && s->d && la_day_sealed(s->d) && !(flags & LA_COMPACT_ALL) &&
            day <= newest - 1 - (int32_t)db->seal_after_days)
            s->sealed = 1;
        if (rc == LA_OK && report && db->progress)
            db->progress(db->progress_ctx, i + 1, db->ndays);
    }
    return rc;
}

void la_set_progress(la_db *db, la_progress_fn fn, void *ctx)
{
    if (!db)
        return;
    pthread_mutex_lock(&db->mu);
    db->progress = fn;
    db->progress_ctx = ctx;
    pthread_mutex_unlock(&db->mu);
}

int la_compact(la_db *db, unsigned flags, la_compact_stats *out)
{
    la_err_clear();
    if (out)
        memset(out, 0, sizeof *out);
    if (!db || (flags & ~LA_COMPACT_ALL))
        return la_err(LA_EINVAL, "la_compact: NULL handle or unknown flags");
    if (db->readonly)
        return la_err(LA_EREADONLY, "%s is open read-only", db->path);
    pthread_mutex_lock(&db->mu);
    int rc = la_compact_locked(db, flags, 1, out);
    pthread_mutex_unlock(&db->mu);
    return rc;
}
