/* dict.c — open-addressing hash dictionary with stable entry storage. Entries loaded from a
 * file are only appended; they are hashed the first time someone looks a value up, so a reader
 * that only scans never pays for a hash table of a day's visitors. */
#include "dict.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "mix.h"

#define ARENA_CHUNK 65536

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
} arena_chunk;

struct la_dict {
    int is_u64;
    uint32_t n, cap;     /* entries 1..n live in strs/u64s[0..cap) */
    la_str *strs;
    uint64_t *u64s;
    void **retired;      /* old entry arrays, freed with the dictionary */
    size_t nretired;
    uint32_t *slots;     /* 0 = empty, else id */
    uint32_t mask;
    uint32_t hashed;     /* entries 1..hashed are in slots */
    arena_chunk *arena;
};

static uint64_t hash_of(const la_dict *d, uint32_t id)
{
    return d->is_u64 ? la_fmix64(d->u64s[id]) : XXH3_64bits(d->strs[id].data, d->strs[id].len);
}

la_dict *la_dict_new(int is_u64)
{
    la_dict *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->is_u64 = is_u64;
    d->cap = 64;
    d->mask = 127;
    d->slots = calloc(d->mask + 1, sizeof *d->slots);
    if (is_u64)
        d->u64s = calloc(d->cap, sizeof *d->u64s);
    else
        d->strs = calloc(d->cap, sizeof *d->strs);
    if (!d->slots || (is_u64 ? !d->u64s : !d->strs)) {
        la_dict_free(d);
        return NULL;
    }
    return d;
}

void la_dict_free(la_dict *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nretired; i++)
        free(d->retired[i]);
    free(d->retired);
    free(d->strs);
    free(d->u64s);
    free(d->slots);
    for (arena_chunk *c = d->arena, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(d);
}

uint32_t la_dict_size(const la_dict *d) { return d->n; }
const la_str *la_dict_strs(const la_dict *d) { return d->strs; }
const uint64_t *la_dict_u64s(const la_dict *d) { return d->u64s; }

static int ensure_hashed(la_dict *d);

static uint32_t probe_str(const la_dict *d, const char *s, uint32_t len, uint64_t h)
{
    for (uint32_t i = (uint32_t)h & d->mask;; i = (i + 1) & d->mask) {
        uint32_t id = d->slots[i];
        if (id == 0 || (d->strs[id].len == len && memcmp(d->strs[id].data, s, len) == 0))
            return id;
    }
}

static uint32_t probe_u64(const la_dict *d, uint64_t v, uint64_t h)
{
    for (uint32_t i = (uint32_t)h & d->mask;; i = (i + 1) & d->mask) {
        uint32_t id = d->slots[i];
        if (id == 0 || d->u64s[id] == v)
            return id;
    }
}

uint32_t la_dict_find_str(la_dict *d, const char *s, uint32_t len)
{
    return ensure_hashed(d) == 0 ? probe_str(d, s, len, XXH3_64bits(s, len)) : 0;
}

uint32_t la_dict_find_u64(la_dict *d, uint64_t v)
{
    return ensure_hashed(d) == 0 ? probe_u64(d, v, la_fmix64(v)) : 0;
}

static void slot_insert(la_dict *d, uint32_t id, uint64_t h)
{
    uint32_t i = (uint32_t)h & d->mask;
    while (d->slots[i])
        i = (i + 1) & d->mask;
    d->slots[i] = id;
}

static int rehash(la_dict *d, uint32_t mask)
{
    uint32_t *slots = calloc((size_t)mask + 1, sizeof *slots);
    if (!slots)
        return -1;
    free(d->slots);
    d->slots = slots;
    d->mask = mask;
    for (uint32_t id = 1; id <= d->hashed; id++)
        slot_insert(d, id, hash_of(d, id));
    return 0;
}

/* A table with room for `n` entries at most half full. */
static int table_room(la_dict *d, uint64_t n)
{
    uint32_t mask = d->mask;
    while (n * 2 > mask)
        mask = mask * 2 + 1;
    return mask == d->mask ? 0 : rehash(d, mask);
}

/* Put the entries appended by la_dict_push_*() into the table. Returns -1 on allocation
 * failure, leaving the table as it was (lookups then miss: callers treat 0 as "not found"
 * or as an allocation failure). */
static int ensure_hashed(la_dict *d)
{
    if (d->hashed == d->n)
        return 0;
    if (table_room(d, d->n) != 0)
        return -1;
    for (uint32_t id = d->hashed + 1; id <= d->n; id++)
        slot_insert(d, id, hash_of(d, id));
    d->hashed = d->n;
    return 0;
}

/* Room for entries up to id `n` in the entry array. A grown array is a copy: the old one is
 * kept, since readers may hold it. */
static int reserve_upto(la_dict *d, uint64_t n)
{
    if (n < d->cap)
        return 0;
    if (n >= UINT32_MAX / 2)
        return -1;
    uint32_t cap = d->cap;
    while (cap <= n)
        cap *= 2;
    size_t elem = d->is_u64 ? sizeof(uint64_t) : sizeof(la_str);
    void *old = d->is_u64 ? (void *)d->u64s : (void *)d->strs;
    void *grown = malloc((size_t)cap * elem);
    void **ret = realloc(d->retired, (d->nretired + 1) * sizeof *ret);
    if (ret)
        d->retired = ret;
    if (!grown || !ret) {
        free(grown);
        return -1;
    }
    memcpy(grown, old, ((size_t)d->n + 1) * elem);
    d->retired[d->nretired++] = old;
    if (d->is_u64)
        d->u64s = grown;
    else
        d->strs = grown;
    d->cap = cap;
    return 0;
}

static int reserve_one(la_dict *d) { return reserve_upto(d, (uint64_t)d->n + 1); }

int la_dict_reserve(la_dict *d, uint32_t n) { return reserve_upto(d, n); }

static char *arena_copy(la_dict *d, const char *s, uint32_t len)
{
    arena_chunk *c = d->arena;
    if (!c || c->cap - c->used < len) {
        size_t cap = len > ARENA_CHUNK ? len : ARENA_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = d->arena;
        c->used = 0;
        c->cap = cap;
        d->arena = c;
    }
    char *p = c->data + c->used;
    if (len)
        memcpy(p, s, len);
    c->used += len;
    return p;
}

uint32_t la_dict_push_str(la_dict *d, const char *s, uint32_t len)
{
    if (reserve_one(d) != 0)
        return 0;
    char *copy = arena_copy(d, s, len);
    if (!copy)
        return 0;
    uint32_t id = ++d->n;
    d->strs[id].data = copy;
    d->strs[id].len = len;
    return id;
}

uint32_t la_dict_push_u64(la_dict *d, uint64_t v)
{
    if (reserve_one(d) != 0)
        return 0;
    uint32_t id = ++d->n;
    d->u64s[id] = v;
    return id;
}

/* After a miss: append the value and enter it in the (fully hashed) table. */
static uint32_t add_hashed(la_dict *d, uint32_t id, uint64_t h)
{
    if (id == 0 || table_room(d, d->n) != 0) {
        la_dict_truncate(d, id ? id - 1 : d->n);
        return 0;
    }
    slot_insert(d, id, h);
    d->hashed = id;
    return id;
}

uint64_t la_dict_hash_str(const char *s, uint32_t len) { return XXH3_64bits(s, len); }
uint64_t la_dict_hash_u64(uint64_t v) { return la_fmix64(v); }

void la_dict_prefetch(const la_dict *d, uint64_t h)
{
    __builtin_prefetch(&d->slots[(uint32_t)h & d->mask]);
}

uint32_t la_dict_intern_str_h(la_dict *d, const char *s, uint32_t len, uint64_t h)
{
    if (ensure_hashed(d) != 0)
        return 0;
    uint32_t id = probe_str(d, s, len, h);
    return id ? id : add_hashed(d, la_dict_push_str(d, s, len), h);
}

uint32_t la_dict_intern_u64_h(la_dict *d, uint64_t v, uint64_t h)
{
    if (ensure_hashed(d) != 0)
        return 0;
    uint32_t id = probe_u64(d, v, h);
    return id ? id : add_hashed(d, la_dict_push_u64(d, v), h);
}

uint32_t la_dict_intern_str(la_dict *d, const char *s, uint32_t len)
{
    return la_dict_intern_str_h(d, s, len, XXH3_64bits(s, len));
}

uint32_t la_dict_intern_u64(la_dict *d, uint64_t v) { return la_dict_intern_u64_h(d, v, la_fmix64(v)); }

void la_dict_truncate(la_dict *d, uint32_t n)
{
    if (n >= d->n)
        return;
    d->n = n;
    if (d->hashed <= n)
        return;
    /* The arena keeps the dropped strings' bytes; a failed seal is rare enough not to care. */
    d->hashed = n;
    memset(d->slots, 0, ((size_t)d->mask + 1) * sizeof *d->slots);
    for (uint32_t id = 1; id <= n; id++)
        slot_insert(d, id, hash_of(d, id));
}
