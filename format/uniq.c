/* uniq.c — distinct-count state: exact set of up to 256 ids (inline for <= 2, then an
 * open-addressing table), HyperLogLog sketch (p = 14) beyond, Ertl's improved estimator, and
 * the canonical encoding (SPEC.md, "Distinct-count state"). */
#include "uniq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bitpack.h"
#include "le.h"
#include "mix.h"
#include "status.h"
#include "varint.h"

enum { KIND_INLINE = 0, KIND_TABLE = 1, KIND_SKETCH = 2 };

#define EXACT_MAX LA_DISTINCT_EXACT_MAX
#define TABLE_LG0 3 /* first table: 8 slots, enough for the 3rd id */
#define Q (64 - LA_UNIQ_P)

_Static_assert(sizeof(la_uniq) <= 24, "one la_uniq per rollup cell: keep it small");
_Static_assert(EXACT_MAX == 256, "the encoding's count limit and table sizes assume 256");

/* ---------------------------------------------------------------------------------------
 * Hash, register and rank (part of the format: never change)
 * ------------------------------------------------------------------------------------- */

/* Register = top P bits of the hash; rank = 1 + leading zeros of the other Q bits, Q + 1 when
 * they are all zero. The sentinel bit below them caps the count at Q without a branch. */
static inline void sketch_add(uint8_t *reg, uint64_t id)
{
    uint64_t h = la_fmix64(id);
    uint32_t idx = (uint32_t)(h >> Q);
    uint8_t r = (uint8_t)(__builtin_clzll((h << LA_UNIQ_P) | (1ull << (LA_UNIQ_P - 1))) + 1);
    if (reg[idx] < r)
        reg[idx] = r;
}

/* ---------------------------------------------------------------------------------------
 * Exact set
 * ------------------------------------------------------------------------------------- */

/* Fibonacci hashing: one multiply, and sequential ids land on distinct slots. */
static inline size_t slot_of(uint64_t id, unsigned lg)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> (64 - lg));
}

/* Insert a non-zero id known to be absent; the table has a free slot. */
static void table_put(uint64_t *slots, unsigned lg, uint64_t id)
{
    size_t mask = ((size_t)1 << lg) - 1;
    size_t i = slot_of(id, lg);
    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = id;
}

static int table_has(const uint64_t *slots, unsigned lg, uint64_t id)
{
    size_t mask = ((size_t)1 << lg) - 1;
    for (size_t i = slot_of(id, lg);; i = (i + 1) & mask) {
        if (slots[i] == id)
            return 1;
        if (slots[i] == 0)
            return 0;
    }
}

/* The ids of an exact state, unordered; out has room for EXACT_MAX. Returns their number. */
static size_t exact_ids(const la_uniq *u, uint64_t *out)
{
    if (u->kind == KIND_INLINE) {
        memcpy(out, u->u.ids, u->n * sizeof *out);
        return u->n;
    }
    size_t k = 0;
    if (u->has_zero)
        out[k++] = 0;
    for (size_t i = 0, cap = (size_t)1 << u->lgcap; i < cap; i++)
        if (u->u.slots[i] != 0)
            out[k++] = u->u.slots[i];
    return k;
}

static int exact_has(const la_uniq *u, uint64_t id)
{
    if (u->kind == KIND_INLINE) {
        for (uint32_t i = 0; i < u->n; i++)
            if (u->u.ids[i] == id)
                return 1;
        return 0;
    }
    if (id == 0)
        return u->has_zero;
    return table_has(u->u.slots, u->lgcap, id);
}

/* Rehash the exact ids of u plus `extra` (absent from u, or nothing if !with_extra) into a
 * table of 1 << lg slots; u is unchanged on failure. */
static int to_table(la_uniq *u, unsigned lg, int with_extra, uint64_t extra)
{
    uint64_t *slots = calloc((size_t)1 << lg, sizeof *slots);
    if (!slots)
        return LA_ENOMEM;
    uint64_t ids[EXACT_MAX];
    size_t n = exact_ids(u, ids);
    if (with_extra)
        ids[n++] = extra;
    uint8_t has_zero = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == 0)
            has_zero = 1;
        else
            table_put(slots, lg, ids[i]);
    }
    if (u->kind == KIND_TABLE)
        free(u->u.slots);
    u->kind = KIND_TABLE;
    u->lgcap = (uint8_t)lg;
    u->has_zero = has_zero;
    u->n = (uint32_t)n;
    u->u.slots = slots;
    return LA_OK;
}

/* Turn an exact u into a sketch of its ids (plus `extra` if with_extra); u is unchanged on
 * failure. */
static int to_sketch(la_uniq *u, int with_extra, uint64_t extra)
{
    uint8_t *reg = calloc(LA_UNIQ_M, 1);
    if (!reg)
        return LA_ENOMEM;
    uint64_t ids[EXACT_MAX];
    size_t n = exact_ids(u, ids);
    for (size_t i = 0; i < n; i++)
        sketch_add(reg, ids[i]);
    if (with_extra)
        sketch_add(reg, extra);
    if (u->kind == KIND_TABLE)
        free(u->u.slots);
    u->kind = KIND_SKETCH;
    u->n = 0;
    u->lgcap = 0;
    u->has_zero = 0;
    u->u.reg = reg;
    return LA_OK;
}

void la_uniq_init(la_uniq *u)
{
    memset(u, 0, sizeof *u);
}

void la_uniq_free(la_uniq *u)
{
    if (!u)
        return;
    if (u->kind == KIND_TABLE)
        free(u->u.slots);
    else if (u->kind == KIND_SKETCH)
        free(u->u.reg);
    la_uniq_init(u);
}

int la_uniq_is_exact(const la_uniq *u)
{
    return u->kind != KIND_SKETCH;
}

int la_uniq_add(la_uniq *u, uint64_t id)
{
    if (u->kind == KIND_SKETCH) {
        sketch_add(u->u.reg, id);
        return LA_OK;
    }
    if (exact_has(u, id))
        return LA_OK;
    if (u->n == EXACT_MAX)
        return to_sketch(u, 1, id);
    if (u->kind == KIND_INLINE) {
        if (u->n < 2) {
            u->u.ids[u->n++] = id;
            return LA_OK;
        }
        return to_table(u, TABLE_LG0, 1, id);
    }
    if (id == 0) {
        u->has_zero = 1;
        u->n++;
        return LA_OK;
    }
    /* Keep the load at most 3/4 so that probes stay short; 256 ids fit in 512 slots. */
    size_t cap = (size_t)1 << u->lgcap, nonzero = u->n - u->has_zero;
    if (nonzero + 1 > cap - cap / 4)
        return to_table(u, u->lgcap + 1u, 1, id);
    table_put(u->u.slots, u->lgcap, id);
    u->n++;
    return LA_OK;
}

int la_uniq_merge(la_uniq *dst, const la_uniq *src)
{
    if (dst == src)
        return LA_OK;
    if (src->kind != KIND_SKETCH) {
        uint64_t ids[EXACT_MAX];
        size_t n = exact_ids(src, ids);
        for (size_t i = 0; i < n; i++) {
            int rc = la_uniq_add(dst, ids[i]);
            if (rc != LA_OK)
                return rc;
        }
        return LA_OK;
    }
    if (dst->kind != KIND_SKETCH) {
        int rc = to_sketch(dst, 0, 0);
        if (rc != LA_OK)
            return rc;
    }
    uint8_t *d = dst->u.reg;
    const uint8_t *s = src->u.reg;
    for (size_t i = 0; i < LA_UNIQ_M; i++)
        d[i] = d[i] > s[i] ? d[i] : s[i];
    return LA_OK;
}

/* ---------------------------------------------------------------------------------------
 * Estimator: Otmar Ertl, "New cardinality estimation algorithms for HyperLogLog sketches"
 * (2017), the improved raw estimator (his algorithm 6). Unbiased from 0 to far beyond 2^32
 * without empirical bias tables or a switch to linear counting.
 * ------------------------------------------------------------------------------------- */

static double ertl_sigma(double x)
{
    if (x == 1.0)
        return INFINITY;
    double y = 1.0, z = x, zp;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (z != zp);
    return z;
}

static double ertl_tau(double x)
{
    if (x == 0.0 || x == 1.0)
        return 0.0;
    double y = 1.0, z = 1.0 - x, zp;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (z != zp);
    return z / 3.0;
}

static uint64_t sketch_estimate(const uint8_t *reg)
{
    uint32_t c[Q + 2] = {0};
    for (size_t i = 0; i < LA_UNIQ_M; i++)
        c[reg[i]]++;
    const double m = LA_UNIQ_M;
    if (c[0] == LA_UNIQ_M)
        return 0;
    double z = m * ertl_tau(1.0 - c[Q + 1] / m);
    for (int k = Q; k >= 1; k--)
        z = 0.5 * (z + c[k]);
    z += m * ertl_sigma(c[0] / m);
    double est = (m * m / (2.0 * log(2.0))) / z;
    /* Only a crafted sketch (every register at 51) gets here: z == 0. */
    if (!(est < 18446744073709551616.0))
        return UINT64_MAX;
    return (uint64_t)llround(est);
}

uint64_t la_uniq_count(const la_uniq *u, int *exact, double *rel_stderr)
{
    int ex = u->kind != KIND_SKETCH;
    if (exact)
        *exact = ex;
    if (rel_stderr)
        *rel_stderr = ex ? 0.0 : 1.04 / sqrt((double)LA_UNIQ_M);
    return ex ? u->n : sketch_estimate(u->u.reg);
}

/* ---------------------------------------------------------------------------------------
 * Encoding
 * ------------------------------------------------------------------------------------- */

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* A varint that must be in its shortest form: canonical encodings have one spelling. */
static int get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v, const char **why)
{
    size_t at = *pos;
    if (la_uvarint_get(p, len, pos, v) != 0)
        return la_corrupt(why, "uniq: truncated or overlong varint");
    if (*pos - at != varint_len(*v))
        return la_corrupt(why, "uniq: varint not in its shortest form");
    return LA_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Bytes of the varint form of ascending ids: the first id, then each gap minus one. */
static size_t exact_varint_bytes(const uint64_t *ids, size_t n)
{
    size_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += varint_len(i ? ids[i] - ids[i - 1] - 1 : ids[0]);
    return s;
}

/* A sparse entry packs the gap to the previous non-zero register (minus one) above the 6-bit
 * value, so that one byte holds both when registers are dense enough. */
static inline uint64_t sparse_entry(uint32_t idx, int64_t prev, uint8_t r)
{
    return ((uint64_t)(idx - prev - 1) << 6) | r;
}

/* Bytes after the mode byte of the sparse form of reg. */
static size_t sparse_bytes(const uint8_t *reg)
{
    size_t s = 0, k = 0;
    int64_t prev = -1;
    for (uint32_t i = 0; i < LA_UNIQ_M; i++) {
        if (reg[i] == 0)
            continue;
        s += varint_len(sparse_entry(i, prev, reg[i]));
        prev = i;
        k++;
    }
    return varint_len(k) + s;
}

size_t la_uniq_encoded_size(const la_uniq *u)
{
    if (u->kind == KIND_SKETCH) {
        size_t s = sparse_bytes(u->u.reg);
        return 1 + (s < LA_UNIQ_DENSE_BYTES ? s : LA_UNIQ_DENSE_BYTES);
    }
    uint64_t ids[EXACT_MAX];
    size_t n = exact_ids(u, ids);
    qsort(ids, n, sizeof *ids, cmp_u64);
    size_t v = exact_varint_bytes(ids, n);
    return 1 + varint_len(n) + (v < 8 * n ? v : 8 * n);
}

/* 64 registers of 6 bits are 48 bytes: the bit-packing unit used for the dense form. */
#define DENSE_CHUNK 64

size_t la_uniq_encode(const la_uniq *u, uint8_t *out)
{
    uint8_t *o = out;
    if (u->kind == KIND_SKETCH) {
        const uint8_t *reg = u->u.reg;
        if (sparse_bytes(reg) < LA_UNIQ_DENSE_BYTES) {
            size_t k = 0;
            for (size_t i = 0; i < LA_UNIQ_M; i++)
                k += reg[i] != 0;
            *o++ = LA_UNIQ_MODE_SPARSE;
            o += la_uvarint_put(o, k);
            int64_t prev = -1;
            for (uint32_t i = 0; i < LA_UNIQ_M; i++) {
                if (reg[i] == 0)
                    continue;
                o += la_uvarint_put(o, sparse_entry(i, prev, reg[i]));
                prev = i;
            }
            return (size_t)(o - out);
        }
        *o++ = LA_UNIQ_MODE_DENSE;
        uint32_t v[DENSE_CHUNK];
        for (size_t i = 0; i < LA_UNIQ_M; i += DENSE_CHUNK) {
            for (size_t j = 0; j < DENSE_CHUNK; j++)
                v[j] = reg[i + j];
            la_bitpack(o, v, DENSE_CHUNK, 6);
            o += DENSE_CHUNK * 6 / 8;
        }
        return (size_t)(o - out);
    }
    uint64_t ids[EXACT_MAX];
    size_t n = exact_ids(u, ids);
    qsort(ids, n, sizeof *ids, cmp_u64);
    int var = exact_varint_bytes(ids, n) < 8 * n;
    *o++ = var ? LA_UNIQ_MODE_EXACT_VARINT : LA_UNIQ_MODE_EXACT_U64;
    o += la_uvarint_put(o, n);
    for (size_t i = 0; i < n; i++) {
        if (var) {
            o += la_uvarint_put(o, i ? ids[i] - ids[i - 1] - 1 : ids[0]);
        } else {
            la_put64(o, ids[i]);
            o += 8;
        }
    }
    return (size_t)(o - out);
}

/* ---------------------------------------------------------------------------------------
 * Decoding. Each form is checked whole before dst is touched, so that a corrupt input
 * leaves dst as it was.
 * ------------------------------------------------------------------------------------- */

/* Exact forms: the ascending ids into ids[0..*n). */
static int decode_exact(const uint8_t *p, size_t len, uint64_t *ids, size_t *n, const char **why)
{
    size_t pos = 1;
    uint64_t cnt;
    int rc = get_varint(p, len, &pos, &cnt, why);
    if (rc != LA_OK)
        return rc;
    if (cnt > EXACT_MAX)
        return la_corrupt(why, "uniq: exact set of more than 256 ids");
    int var = p[0] == LA_UNIQ_MODE_EXACT_VARINT;
    for (size_t i = 0; i < cnt; i++) {
        uint64_t v;
        if (var) {
            if ((rc = get_varint(p, len, &pos, &v, why)) != LA_OK)
                return rc;
            if (i > 0) {
                if (v >= UINT64_MAX - ids[i - 1])
                    return la_corrupt(why, "uniq: id beyond 2^64 - 1");
                v += ids[i - 1] + 1;
            }
        } else {
            if (len - pos < 8)
                return la_corrupt(why, "uniq: truncated id");
            v = la_le64(p + pos);
            pos += 8;
            if (i > 0 && v <= ids[i - 1])
                return la_corrupt(why, "uniq: ids not strictly ascending");
        }
        ids[i] = v;
    }
    if (pos != len)
        return la_corrupt(why, "uniq: trailing bytes");
    size_t vb = exact_varint_bytes(ids, cnt);
    if (var != (vb < 8 * cnt))
        return la_corrupt(why, "uniq: exact set not in its shorter form");
    *n = cnt;
    return LA_OK;
}

/* Sparse form: checks it, and if reg != NULL raises reg to its registers. */
static int walk_sparse(const uint8_t *p, size_t len, uint8_t *reg, const char **why)
{
    if (len - 1 >= LA_UNIQ_DENSE_BYTES)
        return la_corrupt(why, "uniq: sparse sketch not shorter than dense");
    size_t pos = 1;
    uint64_t k;
    int rc = get_varint(p, len, &pos, &k, why);
    if (rc != LA_OK)
        return rc;
    if (k == 0 || k > LA_UNIQ_M)
        return la_corrupt(why, "uniq: sparse sketch with 0 or too many registers");
    int64_t prev = -1;
    for (uint64_t i = 0; i < k; i++) {
        uint64_t e;
        if ((rc = get_varint(p, len, &pos, &e, why)) != LA_OK)
            return rc;
        uint64_t gap = e >> 6;
        uint8_t r = (uint8_t)(e & 63);
        if (r == 0 || r > LA_UNIQ_MAX_RANK)
            return la_corrupt(why, "uniq: sparse register value not in 1..51");
        if (gap >= (uint64_t)(LA_UNIQ_M - 1 - prev))
            return la_corrupt(why, "uniq: sparse register index beyond 16383");
        prev += (int64_t)gap + 1;
        if (reg && reg[prev] < r)
            reg[prev] = r;
    }
    if (pos != len)
        return la_corrupt(why, "uniq: trailing bytes");
    return LA_OK;
}

/* Dense form: checks it, and if reg != NULL raises reg to its registers. */
static int walk_dense(const uint8_t *p, size_t len, uint8_t *reg, const char **why)
{
    if (len != 1 + LA_UNIQ_DENSE_BYTES)
        return la_corrupt(why, "uniq: dense sketch not 12289 bytes");
    const uint8_t *in = p + 1;
    uint32_t v[DENSE_CHUNK];
    size_t sparse = 0, k = 0;
    int64_t prev = -1;
    for (uint32_t i = 0; i < LA_UNIQ_M; i += DENSE_CHUNK, in += DENSE_CHUNK * 6 / 8) {
        if (la_bitunpack(in, DENSE_CHUNK * 6 / 8, v, DENSE_CHUNK, 6) != 0)
            return la_corrupt(why, "uniq: bad dense registers"); /* cannot happen: sizes fixed */
        for (uint32_t j = 0; j < DENSE_CHUNK; j++) {
            if (v[j] > LA_UNIQ_MAX_RANK)
                return la_corrupt(why, "uniq: register above 51");
            if (v[j] == 0)
                continue;
            sparse += varint_len(sparse_entry(i + j, prev, (uint8_t)v[j]));
            prev = i + j;
            k++;
            if (reg && reg[i + j] < v[j])
                reg[i + j] = (uint8_t)v[j];
        }
    }
    if (!reg && varint_len(k) + sparse < LA_UNIQ_DENSE_BYTES)
        return la_corrupt(why, "uniq: dense sketch where sparse is shorter");
    return LA_OK;
}

int la_uniq_merge_encoded(la_uniq *dst, const uint8_t *p, size_t len, const char **why)
{
    if (len == 0)
        return la_corrupt(why, "uniq: empty input");
    int rc;
    switch (p[0]) {
    case LA_UNIQ_MODE_EXACT_U64:
    case LA_UNIQ_MODE_EXACT_VARINT: {
        uint64_t ids[EXACT_MAX];
        size_t n;
        if ((rc = decode_exact(p, len, ids, &n, why)) != LA_OK)
            return rc;
        for (size_t i = 0; i < n; i++)
            if ((rc = la_uniq_add(dst, ids[i])) != LA_OK)
                return rc;
        return LA_OK;
    }
    case LA_UNIQ_MODE_SPARSE:
    case LA_UNIQ_MODE_DENSE: {
        int (*walk)(const uint8_t *, size_t, uint8_t *, const char **) =
            p[0] == LA_UNIQ_MODE_SPARSE ? walk_sparse : walk_dense;
        if ((rc = walk(p, len, NULL, why)) != LA_OK)
            return rc;
        if (dst->kind != KIND_SKETCH && (rc = to_sketch(dst, 0, 0)) != LA_OK)
            return rc;
        return walk(p, len, dst->u.reg, why);
    }
    default:
        return la_corrupt(why, "uniq: unknown mode");
    }
}
