/* dict.c — open-addressing hash dictionary with stable entry storage. */
#include "dict.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

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
    arena_chunk *arena;
};

static uint64_t hash_u64(uint64_t v)
{
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdull;
    v ^= v >> 33;
    v *= 0xc4ceb9fe1a85ec53ull;
    return v ^ (v >> 33);
}

static uint64_t hash_of(const la_dict *d, uint32_t id)
{
    return d->is_u64 ? hash_u64(d->u64s[id]) : XXH3_64bits(d->strs[id].data, d->strs[id].len);
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

uint32_t la_dict_find_str(const la_dict *d, const char *s, uint32_t len)
{
    uint64_t h = XXH3_64bits(s, len);
    for (uint32_t i = (uint32_t)h & d->mask;; i = (i + 1) & d->mask) {
        uint32_t id = d->slots[i];
        if (id == 0)
            return 0;
        if (d->strs[id].len == len && memcmp(d->strs[id].data, s, len) == 0)
            return id;
    }
}

uint32_t la_dict_find_u64(const la_dict *d, uint64_t v)
{
    for (uint32_t i = (uint32_t)hash_u64(v) & d->mask;; i = (i + 1) & d->mask) {
        uint32_t id = d->slots[i];
        if (id == 0 || d->u64s[id] == v)
            return id;
    }
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
    for (uint32_t id = 1; id <= d->n; id++)
        slot_insert(d, id, hash_of(d, id));
    return 0;
}

/* Make room for entry n+1: grow the entry array (keeping the old one) and the hash table. */
static int reserve_one(la_dict *d)
{
    if (d->n + 1 >= d->cap) {
        size_t elem = d->is_u64 ? sizeof(uint64_t) : sizeof(la_str);
        void *old = d->is_u64 ? (void *)d->u64s : (void *)d->strs;
        void *grown = malloc((size_t)d->cap * 2 * elem);
        void **ret = realloc(d->retired, (d->nretired + 1) * sizeof *ret);
        if (!grown || !ret) {
            free(grown);
            if (ret)
                d->retired = ret;
            return -1;
        }
        memcpy(grown, old, (size_t)d->cap * elem);
        d->retired = ret;
        d->retired[d->nretired++] = old;
        if (d->is_u64)
            d->u64s = grown;
        else
            d->strs = grown;
        d->cap *= 2;
    }
    if ((uint64_t)(d->n + 1) * 2 > d->mask)
        return rehash(d, d->mask * 2 + 1);
    return 0;
}

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

uint32_t la_dict_intern_str(la_dict *d, const char *s, uint32_t len)
{
    uint64_t h = XXH3_64bits(s, len);
    for (uint32_t i = (uint32_t)h & d->mask;; i = (i + 1) & d->mask) {
        uint32_t id = d->slots[i];
        if (id == 0)
            break;
        if (d->strs[id].len == len && memcmp(d->strs[id].data, s, len) == 0)
            return id;
    }
    (void)h;
    return la_dict_push_str(d, s, len);
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
    slot_insert(d, id, XXH3_64bits(s, len));
    return id;
}

uint32_t la_dict_push_u64(la_dict *d, uint64_t v)
{
    if (reserve_one(d) != 0)
        return 0;
    uint32_t id = ++d->n;
    d->u64s[id] = v;
    slot_insert(d, id, hash_u64(v));
    return id;
}

uint32_t la_dict_intern_u64(la_dict *d, uint64_t v)
{
    uint32_t id = la_dict_find_u64(d, v);
    if (id)
        return id;
    if (reserve_one(d) != 0)
        return 0;
    id = ++d->n;
    d->u64s[id] = v;
    slot_insert(d, id, hash_u64(v));
    return id;
}

void la_dict_truncate(la_dict *d, uint32_t n)
{
    if (n >= d->n)
        return;
    d->n = n;
    /* The arena keeps the dropped strings' bytes; a failed seal is rare enough not to care. */
    memset(d->slots, 0, ((size_t)d->mask + 1) * sizeof *d->slots);
    for (uint32_t id = 1; id <= d->n; id++)
        slot_insert(d, id, hash_of(d, id));
}
