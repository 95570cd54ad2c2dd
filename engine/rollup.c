/* rollup.c — rollup cells in memory (see rollup.h): adding rows, merging cells from other sets
 * and from files, and encoding a set as a rollup file. */
#include "rollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "io.h"
#include "mix.h"
#include "varint.h"


int32_t la_level_t(int level, int32_t hour)
{
    if (level == LA_BUCKET_HOUR)
        return hour;
    int32_t day = (int32_t)(hour >= 0 ? hour / 24 : (hour - 23) / 24);
    return la_bucket_first_day(level, day);
}

la_cellset *la_cellset_new(uint32_t ndims, const uint32_t *caps)
{
    la_cellset *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    cs->ndims = ndims;
    cs->caps = caps;
    if (!(cs->dict = la_dict_new(0))) {
        free(cs);
        return NULL;
    }
    cs->own_dict = 1;
    return cs;
}

la_cellset *la_cellset_new_shared(la_cellset *with)
{
    la_cellset *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    cs->ndims = with->ndims;
    cs->caps = with->caps;
    cs->dict = with->dict;
    return cs;
}

static void dim_free(la_dimcount *d)
{
    if (d->cap)
        free(d->u.h.sid); /* the counts follow the ids in the same block */
}

/* Chunks double from 16 KiB to 1 MiB: most sets (a checkpoint's view of a small day, a
 * query's merge) hold a few cells, and a full first chunk would cost them a 1 MiB clear. */
#define ARENA_FIRST_CHUNK (16u << 10)
#define ARENA_MAX_CHUNK (1u << 20)

/* Chunks are chained through their first pointer and zeroed, so cells start zeroed. */
static void *arena_alloc(la_cellset *cs, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > cs->arena_left) {
        size_t chunk_size = cs->arena_chunk ? cs->arena_chunk * 2 : ARENA_FIRST_CHUNK;
        if (chunk_size > ARENA_MAX_CHUNK)
            chunk_size = ARENA_MAX_CHUNK;
        cs->arena_chunk = chunk_size;
        size_t sz = n + 16 > chunk_size ? n + 16 : chunk_size;
        void *mem;
        if (posix_memalign(&mem, 4096, sz) != 0)
            return NULL;
        uint8_t *chunk = mem;
        /* one call instead of a page fault per page (faults are slow in VMs) */
        if (sz >= ARENA_MAX_CHUNK)
            la_io_current()->prefault(chunk, sz);
        memset(chunk, 0, sz);
        *(uint8_t **)chunk = cs->arena;
        cs->arena = chunk;
        cs->arena_next = chunk + 16;
        cs->arena_left = sz - 16;
    }
    void *p = cs->arena_next;
    cs->arena_next += n;
    cs->arena_left -= n;
    return p;
}

void la_cellset_free(la_cellset *cs)
{
    if (!cs)
        return;
    for (size_t i = 0; i < cs->n; i++) {
        la_cell *c = cs->cells[i];
        la_uniq_free(&c->vis);
        la_uniq_free(&c->ses);
        for (uint32_t d = 0; d < cs->ndims; d++)
            dim_free(&c->dims[d]);
    }
    while (cs->arena) {
        uint8_t *next = *(uint8_t **)cs->arena;
        free(cs->arena);
        cs->arena = next;
    }
    free(cs->cells);
    free(cs->table);
    if (cs->own_dict)
        la_dict_free(cs->dict);
    free(cs);
}

static uint64_t key_hash(int32_t t, uint32_t ws, uint32_t link, uint32_t type)
{
    return la_fmix64(la_fmix64(((uint64_t)(uint32_t)t << 32 | ws) ^ la_fmix64((uint64_t)link << 32 | type)));
}

/* Table slots hold the key's hash above the cell's index, so that a probe compares hashes
 * before it touches a cell (cells are scattered: each touch is likely a cache miss). */
#define SLOT(h, i) (((h) & 0xFFFFFFFF00000000ull) | ((uint64_t)(i) + 1))
#define SLOT_INDEX(v) ((size_t)((v) & 0xFFFFFFFFu) - 1)

static int grow_table(la_cellset *cs)
{
    size_t cap = cs->cap ? cs->cap * 2 : 64;
    la_cell **cells = realloc(cs->cells, cap * sizeof *cells);
    if (!cells)
        return LA_ENOMEM;
    cs->cells = cells;
    uint64_t *table = calloc(cap * 2, sizeof *table);
    if (!table)
        return LA_ENOMEM;
    size_t mask = cap * 2 - 1;
    for (size_t i = 0; i < cs->n; i++) {
        la_cell *c = cs->cells[i];
        uint64_t h = key_hash(c->t, c->ws, c->link, c->type);
        size_t s = h & mask;
        while (table[s])
            s = (s + 1) & mask;
        table[s] = SLOT(h, i);
    }
    free(cs->table);
    cs->table = table;
    cs->cap = cap;
    return LA_OK;
}

static void note_type(la_cellset *cs, uint32_t type)
{
    for (uint32_t i = 0; i < cs->ntypes; i++)
        if (cs->types[i] == type)
            return;
    if (cs->ntypes < sizeof cs->types / sizeof *cs->types)
        cs->types[cs->ntypes++] = type;
    else
        cs->many_types = 1;
}

la_cell *la_cellset_get(la_cellset *cs, int32_t t, uint32_t ws, uint32_t link, uint32_t type,
                        int create, int *rc)
{
    *rc = LA_OK;
    uint64_t h = key_hash(t, ws, link, type), tag = h & 0xFFFFFFFF00000000ull;
    if (cs->cap) {
        size_t mask = cs->cap * 2 - 1;
        for (size_t s = h & mask; cs->table[s]; s = (s + 1) & mask) {
            if ((cs->table[s] & 0xFFFFFFFF00000000ull) != tag)
                continue;
            la_cell *c = cs->cells[SLOT_INDEX(cs->table[s])];
            if (c->t == t && c->ws == ws && c->link == link && c->type == type)
                return c;
        }
    }
    if (!create)
        return NULL;
    if (cs->n == cs->cap && (*rc = grow_table(cs)) != LA_OK)
        return NULL;
    la_cell *c = arena_alloc(cs, sizeof *c + cs->ndims * sizeof(la_dimcount));
    if (!c) {
        *rc = LA_ENOMEM;
        return NULL;
    }
    c->t = t;
    c->ws = ws;
    c->link = link;
    c->type = type;
    c->dims = (la_dimcount *)(c + 1);
    size_t mask = cs->cap * 2 - 1, s = h & mask;
    while (cs->table[s])
        s = (s + 1) & mask;
    cs->table[s] = SLOT(h, cs->n);
    cs->cells[cs->n++] = c;
    note_type(cs, type);
    return c;
}

static int dim_add(la_dimcount *d, uint32_t sid, uint64_t cnt)
{
    if (!d->cap) {
        for (uint32_t i = 0; i < d->n; i++)
            if (d->u.in.sid[i] == sid && cnt <= UINT32_MAX - d->u.in.cnt[i]) {
                d->u.in.cnt[i] += (uint32_t)cnt;
                return LA_OK;
            }
        if (d->n < 2 && cnt <= UINT32_MAX) {
            int dup = d->n == 1 && d->u.in.sid[0] == sid; /* a count that outgrew 32 bits */
            if (!dup) {
                d->u.in.sid[d->n] = sid;
                d->u.in.cnt[d->n++] = (uint32_t)cnt;
                return LA_OK;
            }
        }
    }
    if (!d->cap || 2 * (d->n + 1) > d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 8;
        /* one block (a malloc and a free fewer per table: freeing the sets of a checkpoint
         * was a fifth of its time); cap >= 8 keeps the counts 8-byte aligned */
        uint32_t *sids = malloc(cap * (sizeof *sids + sizeof(uint64_t)));
        if (!sids)
            return LA_ENOMEM;
        memset(sids, 0, cap * sizeof *sids);
        uint64_t *cnts = (uint64_t *)(void *)(sids + cap);
        uint32_t slots = la_dim_slots(d);
        for (uint32_t i = 0; i < slots; i++) {
            uint32_t os = la_dim_sid(d, i);
            if (!os)
                continue;
            uint32_t s = (os * 0x9E3779B1u) & (cap - 1);
            while (sids[s])
                s = (s + 1) & (cap - 1);
            sids[s] = os;
            cnts[s] = la_dim_cnt(d, i);
        }
        dim_free(d);
        d->u.h.sid = sids;
        d->u.h.cnt = cnts;
        d->cap = cap;
    }
    uint32_t s = (sid * 0x9E3779B1u) & (d->cap - 1);
    while (d->u.h.sid[s] && d->u.h.sid[s] != sid)
        s = (s + 1) & (d->cap - 1);
    if (!d->u.h.sid[s]) {
        d->u.h.sid[s] = sid;
        d->u.h.cnt[s] = 0;
        d->n++;
    }
    d->u.h.cnt[s] += cnt;
    return LA_OK;
}

/* Whether a cell of this link (0 = all links) exists at this level: links have only day and
 * month cells (SPEC.md §10.1). */
static int kept_at(int level, uint32_t link) { return link == 0 || la_roll_has_links(level, LA_ROLL_WRITE_VERSION); }

static int taken(int which, uint32_t link)
{
    return which == LA_CELLS_ALL || (which == LA_CELLS_WORKSPACE) == (link == 0);
}

int la_cellset_add(la_cellset *cs, int32_t hour, const uint32_t *id, uint64_t visitor,
                   uint64_t session, int64_t value)
{
    /* A link's cell is per day (keyed by the day's first hour): hour files hold only the
     * workspace's cells, and a link's hours are answered from raw events (SPEC.md §10.1). */
    int32_t day_hour = la_level_t(LA_BUCKET_DAY, hour) * 24;
    for (int k = 0; k < 2; k++) {
        int rc;
        la_cell *c = k == 0 ? la_cellset_get(cs, day_hour, id[0], id[1], id[2], 1, &rc)
                            : la_cellset_get(cs, hour, id[0], 0, id[2], 1, &rc);
        if (!c)
            return rc;
        c->events++;
        c->value = (int64_t)((uint64_t)c->value + (uint64_t)value);
        if (la_uniq_add(&c->vis, visitor) != LA_OK || la_uniq_add(&c->ses, session) != LA_OK)
            return LA_ENOMEM;
        for (uint32_t d = 0; d < cs->ndims; d++) {
            if (!id[3 + d])
                c->dims[d].absent++;
            else if (dim_add(&c->dims[d], id[3 + d], 1) != LA_OK)
                return LA_ENOMEM;
        }
    }
    cs->rows++;
    return LA_OK;
}

static uint32_t map_str(la_cellset *dst, la_str s) { return la_dict_intern_str(dst->dict, s.data, s.len); }

int la_cell_merge(la_cellset *dst, la_cell *d, const la_cellset *from, const la_cell *s)
{
    const la_str *strs = la_dict_strs(from->dict);
    int same = from->dict == dst->dict;
    d->events += s->events;
    d->value = (int64_t)((uint64_t)d->value + (uint64_t)s->value);
    if (la_uniq_merge(&d->vis, &s->vis) != LA_OK || la_uniq_merge(&d->ses, &s->ses) != LA_OK)
        return LA_ENOMEM;
    for (uint32_t k = 0; k < dst->ndims; k++) {
        const la_dimcount *sd = &s->dims[k];
        la_dimcount *dd = &d->dims[k];
        if (same && sd->cap && !dd->cap && dd->n == 0) { /* into an empty summary: a copy */
            size_t bytes = (size_t)sd->cap * (sizeof *sd->u.h.sid + sizeof *sd->u.h.cnt);
            uint32_t *block = malloc(bytes);
            if (!block)
                return LA_ENOMEM;
            memcpy(block, sd->u.h.sid, bytes);
            uint64_t absent = dd->absent, other = dd->other, err = dd->err;
            *dd = *sd;
            dd->absent += absent;
            dd->other += other;
            dd->err += err;
            dd->u.h.sid = block;
            dd->u.h.cnt = (uint64_t *)(void *)(block + sd->cap);
            continue;
        }
        dd->absent += sd->absent;
        dd->other += sd->other;
        dd->err += sd->err;
        uint32_t slots = la_dim_slots(sd);
        for (uint32_t i = 0; i < slots; i++) {
            uint32_t ss = la_dim_sid(sd, i);
            if (!ss)
                continue;
            uint32_t sid = same ? ss : map_str(dst, strs[ss]);
            if (!sid || dim_add(dd, sid, la_dim_cnt(sd, i)) != LA_OK)
                return LA_ENOMEM;
        }
    }
    return LA_OK;
}

/* The set's id of a file's string sid, looked up once per file: memo[sid] (0 = not yet). */
static uint32_t map_file_str(la_cellset *dst, const la_roll_view *v, uint32_t *memo, uint32_t sid)
{
    if (!memo[sid])
        memo[sid] = map_str(dst, la_roll_str(v, sid));
    return memo[sid];
}

static int cell_merge_file(la_cellset *dst, la_cell *d, const la_roll_view *v, uint32_t *memo,
                           const la_roll_cell *c)
{
    const char *why;
    d->events += c->events;
    d->value = (int64_t)((uint64_t)d->value + (uint64_t)c->value);
    int rc = la_uniq_merge_encoded_as(&d->vis, c->vis, c->vis_len, c->uniq_form, &why);
    if (rc == LA_OK)
        rc = la_uniq_merge_encoded_as(&d->ses, c->ses, c->ses_len, c->uniq_form, &why);
    if (rc != LA_OK)
        return rc == LA_ENOMEM ? rc : la_err(rc, "rollup cell: %s", why);
    for (uint32_t k = 0; k < dst->ndims; k++) {
        la_roll_dim rd;
        la_roll_cell_dim(c, k, &rd);
        la_dimcount *dd = &d->dims[k];
        dd->absent += rd.absent;
        dd->other += rd.other;
        dd->err += rd.err;
        uint32_t sid;
        uint64_t cnt;
        while (la_roll_dim_next(&rd, &sid, &cnt)) {
            uint32_t id = map_file_str(dst, v, memo, sid);
            if (!id || dim_add(dd, id, cnt) != LA_OK)
                return LA_ENOMEM;
        }
    }
    return LA_OK;
}

int la_cellset_merge_all(la_cellset *dst, const la_cellset *from, int which, int from_level, int level)
{
    const la_str *strs = la_dict_strs(from->dict);
    int same = from->dict == dst->dict;
    for (size_t i = 0; i < from->n; i++) {
        const la_cell *s = from->cells[i];
        if (!kept_at(level, s->link) || !taken(which, s->link))
            continue;
        uint32_t ws = same ? s->ws : map_str(dst, strs[s->ws]);
        uint32_t type = same ? s->type : map_str(dst, strs[s->type]);
        uint32_t link = !s->link ? 0 : same ? s->link : map_str(dst, strs[s->link]);
        if (!ws || !type || (s->link && !link))
            return LA_ENOMEM;
        int rc;
        int32_t t = from_level == LA_BUCKET_HOUR ? la_level_t(level, s->t) : la_bucket_first_day(level, s->t);
        la_cell *d = la_cellset_get(dst, t, ws, link, type, 1, &rc);
        if (!d || (rc = la_cell_merge(dst, d, from, s)) != LA_OK)
            return rc ? rc : LA_ENOMEM;
    }
    return LA_OK;
}

int la_cell_read(const char *dir, const la_roll_view *v, uint32_t i, la_roll_cell *c)
{
    const char *why;
    if (la_roll_cell_get(v, i, c, &why) == LA_OK)
        return LA_OK;
    char name[40], path[4096]; /* a longer path is cut short in the message only */
    la_roll_name(name, sizeof name, v->h.level, v->h.first_day);
    snprintf(path, sizeof path, "%s%s%s", dir ? dir : "", dir ? "/" : "", name);
    return la_err_corrupt(path, (int64_t)(v->cells + v->cell_off[i] - v->base), why);
}

int la_cellset_merge_view(la_cellset *dst, const char *dir, const la_roll_view *v, int level)
{
    uint32_t *memo = calloc((size_t)v->h.nstrings + 1, sizeof *memo);
    if (!memo)
        return LA_ENOMEM;
    int rc = LA_OK;
    for (uint32_t i = 0; i < v->h.ncells && rc == LA_OK; i++) {
        la_roll_key k;
        la_roll_key_at(v, i, &k);
        if (!kept_at(level, k.link))
            continue; /* an older hour, week or year file's link cells */
        uint32_t ws = map_file_str(dst, v, memo, k.ws), type = map_file_str(dst, v, memo, k.type), link = 0;
        if (k.link)
            link = map_file_str(dst, v, memo, k.link);
        if (!ws || !type || (k.link && !link)) {
            rc = LA_ENOMEM;
            break;
        }
        int32_t t = level == LA_BUCKET_HOUR ? v->h.first_day * 24 + (int32_t)k.sub
                                            : la_bucket_first_day(level, v->h.first_day);
        la_cell *d = la_cellset_get(dst, t, ws, link, type, 1, &rc);
        la_roll_cell c;
        if (d && (rc = la_cell_read(dir, v, i, &c)) == LA_OK)
            rc = cell_merge_file(dst, d, v, memo, &c);
    }
    free(memo);
    return rc;
}

/* ---- encoding ---------------------------------------------------------------------------- */

static int str_order(la_str a, la_str b)
{
    int c = memcmp(a.data, b.data, a.len < b.len ? a.len : b.len);
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

typedef struct dim_entry {
    uint32_t sid;
    uint64_t cnt;
} dim_entry;

static int by_count(const void *a, const void *b, void *ctx)
{
    const dim_entry *x = a, *y = b;
    if (x->cnt != y->cnt)
        return x->cnt > y->cnt ? -1 : 1;
    const la_str *strs = ctx;
    return str_order(strs[x->sid], strs[y->sid]);
}

/* 2 log2(n): how deep a quicksort or quickselect of n entries may go before it falls back to
 * qsort, so that no input makes it quadratic. */
static uint32_t depth_limit(uint32_t n)
{
    uint32_t d = 0;
    for (; n > 1; n >>= 1)
        d += 2;
    return d;
}

static void swap_entries(dim_entry *a, dim_entry *b)
{
    dim_entry t = *a;
    *a = *b;
    *b = t;
}

/* Move the k entries of e[0..n) that come first in by_count order to e[0..k), in no order: the
 * file lists them by string id anyway, so a selection (linear on average) does where a sort
 * did. Entries are distinct in that order (ids are distinct strings). Partitions around a
 * median of three; after 2 log2(n) + 8 rounds it sorts what is left, so no input is quadratic. */
static void select_first(dim_entry *e, uint32_t n, uint32_t k, const la_str *strs)
{
    uint32_t lo = 0, hi = n, rounds = 8 + depth_limit(n);
    while (hi - lo > 1) {
        if (rounds-- == 0) {
            qsort_r(e + lo, hi - lo, sizeof *e, by_count, (void *)strs);
            return;
        }
        uint32_t mid = lo + (hi - lo) / 2, last = hi - 1;
        if (by_count(&e[mid], &e[lo], (void *)strs) < 0)
            swap_entries(&e[mid], &e[lo]);
        if (by_count(&e[last], &e[lo], (void *)strs) < 0)
            swap_entries(&e[last], &e[lo]);
        if (by_count(&e[mid], &e[last], (void *)strs) < 0)
            swap_entries(&e[mid], &e[last]);
        dim_entry pivot = e[last]; /* the median of the three */
        uint32_t store = lo;
        for (uint32_t i = lo; i < last; i++)
            if (by_count(&e[i], &pivot, (void *)strs) < 0)
                swap_entries(&e[i], &e[store++]);
        swap_entries(&e[store], &e[last]);
        /* e[lo..store) come before the pivot, now at store, and e(store..hi) after it */
        if (store == k)
            return;
        if (store < k)
            lo = store + 1;
        else
            hi = store;
    }
}

/* The entries a written summary keeps: all, or the cap largest (count desc, then value), in
 * no particular order. */
static uint32_t dim_keep(const la_dimcount *d, uint32_t cap, const la_str *strs, dim_entry *out,
                         uint64_t *dropped_sum, uint64_t *dropped_max)
{
    uint32_t n = 0, slots = la_dim_slots(d);
    for (uint32_t i = 0; i < slots; i++)
        if (la_dim_sid(d, i))
            out[n++] = (dim_entry){la_dim_sid(d, i), la_dim_cnt(d, i)};
    *dropped_sum = *dropped_max = 0;
    if (n <= cap)
        return n;
    select_first(out, n, cap, strs);
    for (uint32_t i = cap; i < n; i++) {
        *dropped_sum += out[i].cnt;
        if (out[i].cnt > *dropped_max)
            *dropped_max = out[i].cnt;
    }
    return cap;
}

static int by_sid(const void *a, const void *b)
{
    const dim_entry *x = a, *y = b;
    return (x->sid > y->sid) - (x->sid < y->sid);
}

/* Summaries are sorted by string id once per cell and dimension: typed (qsort's calls through
 * a pointer were 7% of ingest's instructions), insertion below 16 entries, quicksort on a
 * median of three above, and qsort past 2 log2(n) levels so that no input is quadratic. */
static void sort_by_sid(dim_entry *e, uint32_t n, uint32_t depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            qsort(e, n, sizeof *e, by_sid);
            return;
        }
        uint32_t a = e[0].sid, b = e[n / 2].sid, c = e[n - 1].sid;
        uint32_t pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
        uint32_t i = 0, j = n - 1;
        for (;;) { /* Hoare: e[0..j] <= pivot <= e[j+1..n) */
            while (e[i].sid < pivot)
                i++;
            while (e[j].sid > pivot)
                j--;
            if (i >= j)
                break;
            swap_entries(&e[i++], &e[j--]);
        }
        uint32_t left = j + 1;
        if (left < n - left) {
            sort_by_sid(e, left, depth);
            e += left;
            n -= left;
        } else {
            sort_by_sid(e + left, n - left, depth);
            n = left;
        }
    }
    for (uint32_t i = 1; i < n; i++) {
        dim_entry x = e[i];
        uint32_t j = i;
        for (; j > 0 && e[j - 1].sid > x.sid; j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

static int by_string(const void *a, const void *b, void *ctx)
{
    const la_str *strs = ctx;
    return str_order(strs[*(const uint32_t *)a], strs[*(const uint32_t *)b]);
}

typedef struct keyed_cell {
    la_roll_key k;
    la_cell *c;
} keyed_cell;

static int by_key(const void *a, const void *b)
{
    return la_roll_key_cmp(&((const keyed_cell *)a)->k, &((const keyed_cell *)b)->k);
}

#define RANK_BITS 19 /* a key packs sub (5 bits) and three ranks below 2^19 into 62 bits */

static uint64_t packed_key(const la_roll_key *k)
{
    return (uint64_t)k->sub << (3 * RANK_BITS) | (uint64_t)k->ws << (2 * RANK_BITS) |
           (uint64_t)k->link << RANK_BITS | k->type;
}

/* Cells in key order. A file's keys are ranks of its strings, so while there are fewer than
 * 2^19 of those a key packs into 62 bits and a radix sort (11-bit digits, a pass per digit
 * that differs) replaces qsort's 16 million instructions a day file. */
static int sort_cells(keyed_cell *order, size_t n, uint32_t nstrings)
{
    if (nstrings >= (1u << RANK_BITS) || n < 64) {
        qsort(order, n, sizeof *order, by_key);
        return LA_OK;
    }
    uint64_t *key = malloc(2 * n * sizeof *key);
    keyed_cell *tmp = malloc(n * sizeof *tmp);
    if (!key || !tmp) {
        free(key);
        free(tmp);
        return LA_ENOMEM;
    }
    uint64_t *tkey = key + n, all_or = 0, all_and = ~0ull;
    for (size_t i = 0; i < n; i++) {
        key[i] = packed_key(&order[i].k);
        all_or |= key[i];
        all_and &= key[i];
    }
    for (unsigned sh = 0; sh < 3 * RANK_BITS + 5; sh += 11) {
        if ((((all_or ^ all_and) >> sh) & 2047) == 0)
            continue; /* every key has the same digit here */
        size_t at[2048] = {0};
        for (size_t i = 0; i < n; i++)
            at[(key[i] >> sh) & 2047]++;
        for (size_t d = 0, sum = 0; d < 2048; d++) {
            size_t c = at[d];
            at[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            size_t to = at[(key[i] >> sh) & 2047]++;
            tkey[to] = key[i];
            tmp[to] = order[i];
        }
        memcpy(key, tkey, n * sizeof *key);
        memcpy(order, tmp, n * sizeof *order);
    }
    free(key);
    free(tmp);
    return LA_OK;
}

int la_cellset_encode(la_cellset *cs, const la_cellset *links, int level, int32_t first_day,
                      const int32_t *src_day, const uint64_t *src_rows, uint32_t nsources,
                      uint8_t **out, size_t *cap, size_t *len)
{
    uint32_t nstr = la_dict_size(cs->dict);
    const la_str *strs = la_dict_strs(cs->dict);
    size_t max_entries = 1, nall = cs->n + (links ? links->n : 0);
    for (size_t i = 0; i < nall; i++) {
        const la_cell *c = i < cs->n ? cs->cells[i] : links->cells[i - cs->n];
        for (uint32_t k = 0; k < cs->ndims; k++)
            if (c->dims[k].n > max_entries)
                max_entries = c->dims[k].n;
    }
    uint32_t *newid = calloc((size_t)nstr + 1, sizeof *newid);
    uint32_t *used = malloc(((size_t)nstr + 1) * sizeof *used);
    /* + 1: a database without dimensions would ask for 0 bytes, and malloc(0) may be NULL */
    size_t nkept = (size_t)cs->ndims * max_entries + 1;
    dim_entry *ent = malloc(max_entries * sizeof *ent);
    keyed_cell *order = malloc((nall + 1) * sizeof *order);
    uint8_t *file = NULL, *uniq_buf = malloc(2 * LA_UNIQ_ENCODED_MAX);
    dim_entry *kept = malloc(nkept * sizeof *kept);
    uint32_t *ksid = malloc(nkept * sizeof *ksid);
    uint64_t *kcnt = malloc(nkept * sizeof *kcnt);
    int rc = LA_ENOMEM;
    if (!newid || !used || !ent || !order || !uniq_buf || !kept || !ksid || !kcnt)
        goto out;
    size_t ncells = 0;
    for (size_t i = 0; i < cs->n; i++)
        if (kept_at(level, cs->cells[i]->link) && (!links || !cs->cells[i]->link))
            order[ncells++].c = cs->cells[i];
    for (size_t i = 0; links && i < links->n; i++)
        if (kept_at(level, links->cells[i]->link) && links->cells[i]->link)
            order[ncells++].c = links->cells[i];
    /* pass 1: which strings the file needs (newid[0] collects empty slots) */
    for (size_t i = 0; i < ncells; i++) {
        la_cell *c = order[i].c;
        newid[c->ws] = newid[c->type] = 1;
        if (c->link)
            newid[c->link] = 1;
        for (uint32_t k = 0; k < cs->ndims; k++) {
            const la_dimcount *d = &c->dims[k];
            if (d->n <= cs->caps[k]) { /* all kept: no need to rank them */
                uint32_t slots = la_dim_slots(d);
                for (uint32_t j = 0; j < slots; j++)
                    newid[la_dim_sid(d, j)] = 1;
                continue;
            }
            uint64_t s, m;
            uint32_t n = dim_keep(d, cs->caps[k], strs, ent, &s, &m);
            for (uint32_t j = 0; j < n; j++)
                newid[ent[j].sid] = 1;
        }
    }
    uint32_t nused = 0;
    uint64_t strings_len = 0;
    newid[0] = 0;
    for (uint32_t id = 1; id <= nstr; id++)
        if (newid[id]) {
            used[nused++] = id;
            strings_len += 1u + strs[id].len;
        }
    qsort_r(used, nused, sizeof *used, by_string, (void *)strs);
    for (uint32_t i = 0; i < nused; i++)
        newid[used[i]] = i + 1;
    for (size_t i = 0; i < ncells; i++) {
        la_cell *c = order[i].c;
        order[i].k = (la_roll_key){level == LA_BUCKET_HOUR ? (uint32_t)(c->t - first_day * 24) : 0,
                                   newid[c->ws], c->link ? newid[c->link] : 0, newid[c->type]};
    }
    if (sort_cells(order, ncells, nused) != LA_OK)
        goto out;
    /* pass 2: sizes, then the bytes */
    size_t cells_bound = 0;
    for (size_t i = 0; i < ncells; i++) {
        la_roll_dim_src ds[LA_MAX_DIMS];
        for (uint32_t k = 0; k < cs->ndims; k++)
            ds[k].n = order[i].c->dims[k].n;
        /* a bound without encoding the states twice: exact sets take at most 8 bytes an id */
        const la_uniq *u[2] = {&order[i].c->vis, &order[i].c->ses};
        size_t ub[2];
        for (int j = 0; j < 2; j++)
            ub[j] = la_uniq_is_exact(u[j]) ? 2 + LA_VARINT_MAX + 8 * (size_t)la_uniq_count(u[j], NULL, NULL)
                                           : LA_UNIQ_ENCODED_MAX;
        cells_bound += la_roll_cell_bound(ub[0], ub[1], cs->ndims, ds);
    }
    size_t head = LA_ROLL_HEADER + (size_t)nsources * LA_ROLL_SOURCE + strings_len +
                  ncells * LA_ROLL_ENTRY;
    if (head + cells_bound + 4 > *cap) {
        /* grown, not renewed: a buffer that stays mapped saves page faults per file */
        size_t want = head + cells_bound + 4;
        uint8_t *b = realloc(*out, want);
        if (!b)
            goto out;
        *out = b;
        *cap = want;
    }
    file = *out;
    uint8_t *p = file + LA_ROLL_HEADER;
    for (uint32_t i = 0; i < nsources; i++, p += LA_ROLL_SOURCE)
        la_roll_put_source(p, src_day[i], src_rows[i]);
    for (uint32_t i = 0; i < nused; i++) {
        la_str s = strs[used[i]];
        *p++ = (uint8_t)s.len;
        memcpy(p, s.data, s.len);
        p += s.len;
    }
    uint8_t *index = p, *cp = p + ncells * LA_ROLL_ENTRY;
    for (size_t i = 0; i < ncells; i++) {
        la_cell *c = order[i].c;
        la_roll_dim_src ds[LA_MAX_DIMS];
        size_t used_k = 0;
        for (uint32_t k = 0; k < cs->ndims; k++) {
            uint64_t dsum, dmax;
            uint32_t n = dim_keep(&c->dims[k], cs->caps[k], strs, ent, &dsum, &dmax);
            dim_entry *kk = kept + used_k;
            for (uint32_t j = 0; j < n; j++)
                kk[j] = (dim_entry){newid[ent[j].sid], ent[j].cnt};
            sort_by_sid(kk, n, depth_limit(n));
            for (uint32_t j = 0; j < n; j++) {
                ksid[used_k + j] = kk[j].sid;
                kcnt[used_k + j] = kk[j].cnt;
            }
            ds[k] = (la_roll_dim_src){n, ksid + used_k, kcnt + used_k, c->dims[k].absent,
                                      c->dims[k].other + dsum, c->dims[k].err + dmax};
            used_k += n;
        }
        size_t vl = la_uniq_encode(&c->vis, uniq_buf);
        size_t sl = la_uniq_encode(&c->ses, uniq_buf + vl);
        size_t clen = la_roll_cell_encode(cp, c->events, c->value, uniq_buf, vl, uniq_buf + vl, sl,
                                          cs->ndims, ds);
        la_roll_put_entry(index + i * LA_ROLL_ENTRY, &order[i].k, (uint32_t)clen);
        cp += clen;
    }
    size_t total = (size_t)(cp - file) + 4;
    la_roll_hdr h = {level, cs->ndims, first_day, la_bucket_ndays(level, first_day), nsources, nused,
                     (uint32_t)ncells, strings_len, total, 0};
    la_roll_put_header(file, &h);
    la_roll_finish(file, total);
    *len = total;
    rc = LA_OK;
out:
    free(newid);
    free(used);
    free(ent);
    free(order);
    free(uniq_buf);
    free(kept);
    free(ksid);
    free(kcnt);
    return rc;
}
