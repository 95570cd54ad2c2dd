/* uniq.c — distinct-count state: exact set of up to 256 ids (inline for <= 2, then an
 * open-addressing table), HyperLogLog sketch (p = 14) beyond, Ertl's improved estimator, and
 * the canonical encoding (SPEC.md, "Distinct-count state"). */
#include "uniq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
static inline void sketch_add(uint8_t *reg, uint16_t *hist, uint64_t id)
{
    uint64_t h = la_fmix64(id);
    uint32_t idx = (uint32_t)(h >> Q);
    uint8_t r = (uint8_t)(__builtin_clzll((h << LA_UNIQ_P) | (1ull << (LA_UNIQ_P - 1))) + 1);
    uint8_t old = reg[idx];
    if (old < r) {
        reg[idx] = r;
        if (hist) {
            hist[old]--;
            hist[r]++;
        }
    }
}

/* A sketch's registers are one allocation: the LA_UNIQ_M registers, then how many registers
 * hold each value. That histogram is what a count needs; it is kept (u->hist_ok) while the
 * registers come from a sparse form decoded into fresh memory or from adding ids, which is
 * how a query's bucket usually starts, so that counting it needs no pass over 16,384 bytes.
 * Taking maxima with other registers drops it; a count then builds it from the registers. */
#define REG_BYTES (LA_UNIQ_M + 64 * sizeof(uint16_t))

static inline uint16_t *hist_of(uint8_t *reg) { return (uint16_t *)(void *)(reg + LA_UNIQ_M); }

static uint16_t *live_hist(const la_uniq *u) { return u->hist_ok ? hist_of(u->u.reg) : NULL; }

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

/* Turn an exact u into the sketch `reg` (REG_BYTES on the heap, which u takes; its histogram
 * up to date if hist_ok) plus u's ids. */
static void adopt_registers(la_uniq *u, uint8_t *reg, int hist_ok)
{
    uint64_t ids[EXACT_MAX];
    size_t n = exact_ids(u, ids);
    for (size_t i = 0; i < n; i++)
        sketch_add(reg, hist_ok ? hist_of(reg) : NULL, ids[i]);
    if (u->kind == KIND_TABLE)
        free(u->u.slots);
    u->kind = KIND_SKETCH;
    u->n = 0;
    u->lgcap = 0;
    u->has_zero = 0;
    u->hist_ok = (uint8_t)hist_ok;
    u->u.reg = reg;
}

/* Turn an exact u into a sketch of its ids (plus `extra` if with_extra); u is unchanged on
 * failure. */
static int to_sketch(la_uniq *u, int with_extra, uint64_t extra)
{
    uint8_t *reg = calloc(REG_BYTES, 1);
    if (!reg)
        return LA_ENOMEM;
    hist_of(reg)[0] = LA_UNIQ_M;
    if (with_extra)
        sketch_add(reg, hist_of(reg), extra);
    adopt_registers(u, reg, 1);
    return LA_OK;
}

/* d[i] = max(d[i], s[i]) over a whole sketch. The arrays are distinct allocations (restrict),
 * so that the compiler vectorizes this without a run-time overlap check. */
static void reg_max(uint8_t *restrict d, const uint8_t *restrict s)
{
    for (size_t i = 0; i < LA_UNIQ_M; i++)
        d[i] = d[i] > s[i] ? d[i] : s[i];
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
        sketch_add(u->u.reg, live_hist(u), id);
        return LA_OK;
    }
    if (u->kind == KIND_TABLE && id != 0) {
        /* one probe finds the id or the free slot it goes to */
        size_t cap = (size_t)1 << u->lgcap, mask = cap - 1, i = slot_of(id, u->lgcap);
        for (; u->u.slots[i] != 0; i = (i + 1) & mask)
            if (u->u.slots[i] == id)
                return LA_OK;
        if (u->n == EXACT_MAX)
            return to_sketch(u, 1, id);
        /* Keep the load at most 3/4 so that probes stay short; 256 ids fit in 512 slots. */
        if (u->n - u->has_zero + 1 > cap - cap / 4)
            return to_table(u, u->lgcap + 1u, 1, id);
        u->u.slots[i] = id;
        u->n++;
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
    u->has_zero = 1; /* a table, and id 0, which no slot holds */
    u->n++;
    return LA_OK;
}

int la_uniq_merge(la_uniq *dst, const la_uniq *src)
{
    if (dst == src)
        return LA_OK;
    if (src->kind == KIND_TABLE && dst->kind == KIND_INLINE && dst->n == 0) {
        /* into an empty state (a cell merged for the first time): a copy of the table */
        size_t bytes = ((size_t)1 << src->lgcap) * sizeof *src->u.slots;
        uint64_t *slots = malloc(bytes);
        if (!slots)
            return LA_ENOMEM;
        memcpy(slots, src->u.slots, bytes);
        *dst = *src;
        dst->u.slots = slots;
        return LA_OK;
    }
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
    if (dst->kind != KIND_SKETCH) { /* a copy of src's registers plus dst's ids */
        uint8_t *reg = malloc(REG_BYTES);
        if (!reg)
            return LA_ENOMEM;
        memcpy(reg, src->u.reg, src->hist_ok ? REG_BYTES : LA_UNIQ_M);
        adopt_registers(dst, reg, src->hist_ok);
        return LA_OK;
    }
    reg_max(dst->u.reg, src->u.reg);
    dst->hist_ok = 0;
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

/* c[k] = registers equal to k (0..51). Eight tables, one per byte of an 8-byte word, so that
 * increments of the same value do not wait on each other through memory; an all-zero word (most
 * of a sparse sketch) is counted without touching them. */
static void register_histogram_swar(const uint8_t *reg, uint32_t c[Q + 2])
{
    uint32_t t[8][64];
    memset(t, 0, sizeof t);
    uint32_t zero_words = 0;
    for (size_t i = 0; i < LA_UNIQ_M; i += 8) {
        uint64_t w;
        memcpy(&w, reg + i, 8);
        if (w == 0) {
            zero_words++;
            continue;
        }
        /* registers are <= 51 < 64: & 63 only tells the compiler the index is in range */
        t[0][w & 63]++;
        t[1][(w >> 8) & 63]++;
        t[2][(w >> 16) & 63]++;
        t[3][(w >> 24) & 63]++;
        t[4][(w >> 32) & 63]++;
        t[5][(w >> 40) & 63]++;
        t[6][(w >> 48) & 63]++;
        t[7][(w >> 56) & 63]++;
    }
    for (int k = 0; k < Q + 2; k++)
        c[k] = t[0][k] + t[1][k] + t[2][k] + t[3][k] + t[4][k] + t[5][k] + t[6][k] + t[7][k];
    c[0] += 8 * zero_words;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LA_UNIQ_AVX2 1
#include <immintrin.h>

/* The same with AVX2 for registers below 16, which is nearly all of them unless a sketch holds
 * hundreds of millions of ids: per 32 registers and value, a compare and a subtract into byte
 * counters (summed into 64-bit lanes every 128 steps), four values per pass so that the
 * counters stay in registers; the few registers of 16 and above one at a time. About
 * a fourth of the scalar loop's instructions. Returns 0, without touching c, when more than a
 * quarter of the 32-register chunks hold a register of 16 or above: the scalar loop is then
 * faster. */
__attribute__((target("avx2"))) static int register_histogram_avx2(const uint8_t *reg, uint32_t c[Q + 2])
{
    const __m256i high_bits = _mm256_set1_epi8((char)0xF0), zero = _mm256_setzero_si256();
    uint32_t high_chunks = 0;
    for (size_t i = 0; i < LA_UNIQ_M; i += 32) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(reg + i));
        high_chunks += !_mm256_testz_si256(x, high_bits);
    }
    if (high_chunks > LA_UNIQ_M / 32 / 4)
        return 0;
    for (int k = 0; k < Q + 2; k++)
        c[k] = 0;
    for (int base = 0; base < 16; base += 4) {
        __m256i sum[4] = {zero, zero, zero, zero};
        const __m256i w0 = _mm256_set1_epi8((char)base), w1 = _mm256_set1_epi8((char)(base + 1)),
                      w2 = _mm256_set1_epi8((char)(base + 2)), w3 = _mm256_set1_epi8((char)(base + 3));
        for (size_t blk = 0; blk < LA_UNIQ_M; blk += 32 * 128) {
            __m256i c0 = zero, c1 = zero, c2 = zero, c3 = zero; /* byte counters: 128 steps fit */
            for (size_t i = blk; i < blk + 32 * 128; i += 32) {
                __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(reg + i));
                /* equal bytes are -1: subtracting counts them */
                c0 = _mm256_sub_epi8(c0, _mm256_cmpeq_epi8(x, w0));
                c1 = _mm256_sub_epi8(c1, _mm256_cmpeq_epi8(x, w1));
                c2 = _mm256_sub_epi8(c2, _mm256_cmpeq_epi8(x, w2));
                c3 = _mm256_sub_epi8(c3, _mm256_cmpeq_epi8(x, w3));
            }
            sum[0] = _mm256_add_epi64(sum[0], _mm256_sad_epu8(c0, zero));
            sum[1] = _mm256_add_epi64(sum[1], _mm256_sad_epu8(c1, zero));
            sum[2] = _mm256_add_epi64(sum[2], _mm256_sad_epu8(c2, zero));
            sum[3] = _mm256_add_epi64(sum[3], _mm256_sad_epu8(c3, zero));
        }
        for (int j = 0; j < 4; j++) {
            uint64_t lanes[4];
            _mm256_storeu_si256((__m256i *)(void *)lanes, sum[j]);
            c[base + j] = (uint32_t)(lanes[0] + lanes[1] + lanes[2] + lanes[3]);
        }
    }
    if (high_chunks)
        for (size_t i = 0; i < LA_UNIQ_M; i += 32) {
            __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(reg + i));
            if (!_mm256_testz_si256(x, high_bits))
                for (size_t j = i; j < i + 32; j++)
                    if (reg[j] >= 16 && reg[j] <= Q + 1) /* always <= 51: a bound for the reader */
                        c[reg[j]]++;
        }
    return 1;
}
#endif

void la_uniq_register_histogram(const uint8_t *reg, uint32_t c[LA_UNIQ_MAX_RANK + 1], int simd)
{
#ifdef LA_UNIQ_AVX2
    if (simd && __builtin_cpu_supports("avx2") && register_histogram_avx2(reg, c))
        return;
#else
    (void)simd;
#endif
    register_histogram_swar(reg, c);
}

static uint64_t sketch_estimate(const la_uniq *u)
{
    uint32_t c[Q + 2];
    if (u->hist_ok) {
        const uint16_t *h = hist_of(u->u.reg);
        for (int k = 0; k < Q + 2; k++)
            c[k] = h[k];
    } else {
        la_uniq_register_histogram(u->u.reg, c, 1);
    }
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
    return ex ? u->n : sketch_estimate(u);
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

/* Sort ids[0..n) ascending (distinct or not); tmp has room for n. Insertion sort for few ids;
 * else one counting-sort pass on the 8 bits just below the highest bit in which the ids differ
 * (the buckets are then in order), recursing into large buckets, and an insertion sort to finish
 * the small ones (it only moves ids within their bucket). Depth <= 8: each level uses 8 bits. */
static void insertion_sort(uint64_t *ids, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t v = ids[i];
        size_t j = i;
        for (; j > 0 && ids[j - 1] > v; j--)
            ids[j] = ids[j - 1];
        ids[j] = v;
    }
}

#define SORT_SMALL 24

static void sort_ids(uint64_t *ids, size_t n, uint64_t *tmp)
{
    if (n <= SORT_SMALL) {
        insertion_sort(ids, n);
        return;
    }
    uint64_t any = 0, all = ~0ull;
    for (size_t i = 0; i < n; i++) {
        any |= ids[i];
        all &= ids[i];
    }
    uint64_t differ = any ^ all;
    if (differ == 0)
        return;
    unsigned top = 63u - (unsigned)__builtin_clzll(differ);
    unsigned sh = top >= 7 ? top - 7 : 0;
    uint32_t at[257];
    memset(at, 0, sizeof at);
    for (size_t i = 0; i < n; i++)
        at[((ids[i] >> sh) & 255) + 1]++;
    for (size_t d = 1; d <= 256; d++)
        at[d] += at[d - 1];
    uint32_t start[257];
    memcpy(start, at, sizeof start);
    for (size_t i = 0; i < n; i++)
        tmp[at[(ids[i] >> sh) & 255]++] = ids[i];
    memcpy(ids, tmp, n * sizeof *ids);
    for (size_t d = 0; d < 256; d++) {
        size_t lo = start[d], cnt = start[d + 1] - lo;
        if (cnt > SORT_SMALL)
            sort_ids(ids + lo, cnt, tmp);
    }
    insertion_sort(ids, n);
}

/* The ids of an exact state, ascending, into ids (room for EXACT_MAX); returns their number. */
static size_t exact_sorted(const la_uniq *u, uint64_t *ids)
{
    uint64_t tmp[EXACT_MAX];
    size_t n = exact_ids(u, ids);
    sort_ids(ids, n, tmp);
    return n;
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

/* Bytes after the mode byte of the sparse form of reg, register by register (the definition;
 * sparse_bytes() below gets the same number faster). */
static size_t sparse_bytes_slow(const uint8_t *reg)
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

/* SWAR on 8 registers (bytes, each <= 63) at a time. */
#define B01 0x0101010101010101ull
#define B80 0x8080808080808080ull

/* 0x01 in each byte of w that is zero (bytes <= 127: no borrow crosses a byte). */
static inline uint64_t zero_bytes(uint64_t w)
{
    return (~((w | B80) - B01) & B80) >> 7;
}

/* Sum of the bytes of a (each lane <= 255). */
static inline uint32_t byte_sum(uint64_t a)
{
    a = (a & 0x00FF00FF00FF00FFull) + ((a >> 8) & 0x00FF00FF00FF00FFull);
    return (uint32_t)((a * 0x0001000100010001ull) >> 48);
}

/* Registers of reg that are not zero. */
static uint32_t nonzero_registers(const uint8_t *reg)
{
    uint32_t k = 0;
    for (size_t i = 0; i < LA_UNIQ_M; i += 8) {
        uint64_t w;
        memcpy(&w, reg + i, 8);
        k += 8 - byte_sum(zero_bytes(w));
    }
    return k;
}

/* Bytes after the mode byte of the sparse form of reg (registers <= 63). An entry takes 1 byte
 * when its gap is 0 or 1, 2 while the gap is below 256, 3 beyond: the sparse form is
 * varint_len(k) + k + (entries after >= 2 zero registers) + (entries after >= 256 of them). The
 * first two terms come 8 registers at a time; the third needs a run of >= 256 zero registers,
 * which holds 31 all-zero words, and only then is counted register by register. */
static size_t sparse_bytes(const uint8_t *reg)
{
    uint64_t prevz = 0; /* zero flags of the previous word; "register -1, -2" are non-zero */
    uint32_t k = 0, c2 = 0, run = 0, long_run = 0;
    for (size_t blk = 0; blk < LA_UNIQ_M; blk += 8 * 128) {
        uint64_t acck = 0, acc2 = 0; /* byte lanes, +1 at most per word: 128 words fit */
        for (size_t i = blk; i < blk + 8 * 128; i += 8) {
            uint64_t w;
            memcpy(&w, reg + i, 8);
            uint64_t z = zero_bytes(w), nz = z ^ B01;
            uint64_t z1 = (z << 8) | (prevz >> 56), z2 = (z << 16) | (prevz >> 48);
            acck += nz;
            acc2 += nz & z1 & z2;
            prevz = z;
            run = w == 0 ? run + 1 : 0;
            long_run |= run >= 31;
        }
        k += byte_sum(acck);
        c2 += byte_sum(acc2);
    }
    if (long_run)
        return sparse_bytes_slow(reg);
    return varint_len(k) + k + c2;
}

size_t la_uniq_encoded_size(const la_uniq *u)
{
    if (u->kind == KIND_SKETCH)
        return 1 + (nonzero_registers(u->u.reg) <= LA_UNIQ_SPARSE_MAX ? sparse_bytes(u->u.reg)
                                                                       : LA_UNIQ_DENSE_BYTES);
    uint64_t ids[EXACT_MAX];
    size_t n = exact_sorted(u, ids);
    size_t v = exact_varint_bytes(ids, n);
    return 1 + varint_len(n) + (v < 8 * n ? v : 8 * n);
}

/* Dense form: 8 registers (one byte each, <= 63) <-> 6 bytes, bit-packed as in SPEC §2.1. Each
 * step halves the field width of a lane: 8 x 8 bits <-> 4 x 12 <-> 2 x 24 <-> 48 bits. */
static inline uint64_t pack8(uint64_t y)
{
    y = (y & 0x003F003F003F003Full) | ((y >> 2) & 0x0FC00FC00FC00FC0ull);
    y = (y & 0x00000FFF00000FFFull) | ((y >> 4) & 0x00FFF00000FFF000ull);
    return (y & 0xFFFFFFull) | ((y >> 8) & 0xFFFFFF000000ull);
}

static inline uint64_t unpack8(uint64_t x)
{
    x = (x & 0xFFFFFFull) | ((x & 0xFFFFFF000000ull) << 8);
    x = (x & 0x00000FFF00000FFFull) | ((x & 0x00FFF00000FFF000ull) << 4);
    return (x & 0x003F003F003F003Full) | ((x & 0x0FC00FC00FC00FC0ull) << 2);
}

static inline void put_le48(uint8_t *o, uint64_t v)
{
    la_put32(o, (uint32_t)v);
    o[4] = (uint8_t)(v >> 32);
    o[5] = (uint8_t)(v >> 40);
}

static inline uint64_t get_le64(const uint8_t *p)
{
    return la_le64(p);
}

size_t la_uniq_encode(const la_uniq *u, uint8_t *out)
{
    uint8_t *o = out;
    if (u->kind == KIND_SKETCH) {
        const uint8_t *reg = u->u.reg;
        uint32_t k = nonzero_registers(reg);
        if (k <= LA_UNIQ_SPARSE_MAX) {
            *o++ = LA_UNIQ_MODE_SPARSE;
            o += la_uvarint_put(o, k);
            int64_t prev = -1;
            for (uint32_t i = 0; i < LA_UNIQ_M; i += 8) {
                uint64_t w;
                memcpy(&w, reg + i, 8);
                if (w == 0)
                    continue;
                for (uint32_t j = i; j < i + 8; j++) {
                    if (reg[j] == 0)
                        continue;
                    o += la_uvarint_put(o, sparse_entry(j, prev, reg[j]));
                    prev = j;
                }
            }
            return (size_t)(o - out);
        }
        *o++ = LA_UNIQ_MODE_DENSE;
        for (size_t i = 0; i < LA_UNIQ_M; i += 8, o += 6) {
            uint64_t w;
            memcpy(&w, reg + i, 8);
            put_le48(o, pack8(w));
        }
        return (size_t)(o - out);
    }
    uint64_t ids[EXACT_MAX];
    size_t n = exact_sorted(u, ids);
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
 * Decoding. A sketch form is decoded whole into a scratch array of registers and checked
 * before dst is touched, so that a corrupt input leaves dst as it was.
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

/* Sparse form, checked: its k non-zero registers, in increasing index, either into fresh
 * (all zero) registers reg and their histogram hist, or with reg == NULL as (index, value)
 * pairs in at[0..k) and val[0..k) (room for LA_UNIQ_M); *nk = k. Inlined at both kinds of
 * call, so that each loop has one kind of store. */
static inline __attribute__((always_inline)) int decode_sparse(const uint8_t *p, size_t len, uint8_t *reg,
                                                                uint16_t *hist, uint16_t *at, uint8_t *val,
                                                                size_t *nk, int form, const char **why)
{
    if (form == LA_UNIQ_FORM_SHORTER && len - 1 >= LA_UNIQ_DENSE_BYTES)
        return la_corrupt(why, "uniq: sparse sketch not shorter than dense");
    size_t k_end = 1;
    uint64_t k;
    int rc = get_varint(p, len, &k_end, &k, why);
    if (rc != LA_OK)
        return rc;
    size_t pos = k_end;
    if (k == 0 || k > LA_UNIQ_M)
        return la_corrupt(why, "uniq: sparse sketch with 0 or too many registers");
    if (form == LA_UNIQ_FORM_REGISTERS && k > LA_UNIQ_SPARSE_MAX)
        return la_corrupt(why, "uniq: sparse sketch of more than 4096 registers");
    /* Fresh registers tally their values in four tables, one per entry position mod 4: the
     * same value (most are 1 to 3) in consecutive entries would otherwise wait on its own
     * increment through memory. */
    uint16_t tally[4][64];
    if (reg)
        memset(tally, 0, sizeof tally);
    int64_t prev = -1;
    for (uint64_t i = 0; i < k; i++) {
        uint64_t e;
        /* One- and two-byte entries (gaps below 256) without a branch on which: whether an
         * entry takes one byte or two is a coin toss in a sketch of a few thousand registers.
         * A second byte is in shortest form when it is not 0. Anything else through the
         * checked reader. */
        uint32_t b0 = pos < len ? p[pos] : 0x80, b1 = len - pos >= 2 ? p[pos + 1] : 0;
        uint32_t two = b0 >> 7;
        if (!two || b1 - 1 < 0x7F) {
            e = (b0 & 0x7F) | ((b1 << 7) & (0u - two));
            pos += 1 + two;
        } else {
            /* copies: taking the addresses of pos and e would keep them in memory */
            size_t at_pos = pos;
            uint64_t long_e;
            if ((rc = get_varint(p, len, &at_pos, &long_e, why)) != LA_OK)
                return rc;
            pos = at_pos;
            e = long_e;
        }
        uint64_t gap = e >> 6;
        uint8_t r = (uint8_t)(e & 63);
        if ((uint8_t)(r - 1) >= LA_UNIQ_MAX_RANK)
            return la_corrupt(why, "uniq: sparse register value not in 1..51");
        if (gap >= (uint64_t)(LA_UNIQ_M - 1 - prev))
            return la_corrupt(why, "uniq: sparse register index beyond 16383");
        prev += (int64_t)gap + 1;
        if (reg) {
            reg[prev] = r;
            tally[i & 3][r]++;
        } else {
            at[i] = (uint16_t)prev;
            val[i] = r;
        }
    }
    if (pos != len)
        return la_corrupt(why, "uniq: trailing bytes");
    if (reg) {
        for (int v = 1; v <= LA_UNIQ_MAX_RANK; v++)
            hist[v] = (uint16_t)(tally[0][v] + tally[1][v] + tally[2][v] + tally[3][v]);
        hist[0] = (uint16_t)(LA_UNIQ_M - k);
    }
    *nk = (size_t)k;
    return LA_OK;
}

/* The 16384 registers of a dense body (12288 bytes) into reg, 8 at a time: four 48-bit groups
 * per 24 input bytes, read as three little-endian u64. Register values above 51 and zero
 * registers are tallied on the way (SWAR), so that the canonical-form check rarely needs
 * another pass. */
static int unpack_dense_swar(const uint8_t *in, uint8_t *reg, uint32_t *nonzero)
{
    uint64_t bad = 0;
    uint32_t k = 0;
    const uint64_t M48 = 0xFFFFFFFFFFFFull;
    for (size_t blk = 0; blk < LA_UNIQ_M; blk += 1024) {
        uint64_t nz = 0; /* byte lanes, + 4 at most per 32 registers: 1024 fit */
        for (size_t i = blk; i < blk + 1024; i += 32, in += 24) {
            uint64_t w0 = get_le64(in), w1 = get_le64(in + 8), w2 = get_le64(in + 16);
            uint64_t y0 = unpack8(w0 & M48), y1 = unpack8(((w0 >> 48) | (w1 << 16)) & M48),
                     y2 = unpack8(((w1 >> 32) | (w2 << 32)) & M48), y3 = unpack8(w2 >> 16);
            /* bytes are <= 63: + 12 reaches bit 6 iff above 51; + 63 iff not 0 */
            bad |= (y0 + 0x0C0C0C0C0C0C0C0Cull) | (y1 + 0x0C0C0C0C0C0C0C0Cull) |
                   (y2 + 0x0C0C0C0C0C0C0C0Cull) | (y3 + 0x0C0C0C0C0C0C0C0Cull);
            nz += (((y0 + 0x3F3F3F3F3F3F3F3Full) >> 6) & B01) +
                  (((y1 + 0x3F3F3F3F3F3F3F3Full) >> 6) & B01) +
                  (((y2 + 0x3F3F3F3F3F3F3F3Full) >> 6) & B01) +
                  (((y3 + 0x3F3F3F3F3F3F3F3Full) >> 6) & B01);
            memcpy(reg + i, &y0, 8);
            memcpy(reg + i + 8, &y1, 8);
            memcpy(reg + i + 16, &y2, 8);
            memcpy(reg + i + 24, &y3, 8);
        }
        k += byte_sum(nz);
    }
    *nonzero = k;
    return (bad & 0x4040404040404040ull) != 0;
}

#ifdef LA_UNIQ_AVX2
/* The same with AVX2, 32 registers per step: the 24 bytes of a step as two 12-byte halves,
 * one per 128-bit lane (the upper half loaded from byte 8, so that no load passes the body's
 * end), each 3 bytes spread to a 32-bit lane, whose four 6-bit fields then move to its four
 * bytes. A body takes 0.65 us here against 3.0 us for the SWAR loop, and a 30-day daily
 * series of a large workspace decodes 60 of them. */
__attribute__((target("avx2"))) static int unpack_dense_avx2(const uint8_t *in, uint8_t *reg, uint32_t *nonzero)
{
    const __m256i spread = _mm256_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1, /* bytes 0..11 */
                                            4, 5, 6, -1, 7, 8, 9, -1, 10, 11, 12, -1, 13, 14, 15, -1); /* 12..23 */
    const __m256i f0 = _mm256_set1_epi32(0x3F), f1 = _mm256_set1_epi32(0x3F00), f2 = _mm256_set1_epi32(0x3F0000),
                  f3 = _mm256_set1_epi32(0x3F000000), zero = _mm256_setzero_si256();
    __m256i top = zero;
    uint32_t zeros = 0;
    for (size_t i = 0; i < LA_UNIQ_M; i += 32, in += 24) {
        __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)in);
        __m128i hi = _mm_loadu_si128((const __m128i *)(const void *)(in + 8));
        __m256i v = _mm256_shuffle_epi8(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1), spread);
        __m256i r = _mm256_or_si256(
            _mm256_or_si256(_mm256_and_si256(v, f0), _mm256_and_si256(_mm256_slli_epi32(v, 2), f1)),
            _mm256_or_si256(_mm256_and_si256(_mm256_slli_epi32(v, 4), f2), _mm256_and_si256(_mm256_slli_epi32(v, 6), f3)));
        _mm256_storeu_si256((__m256i *)(void *)(reg + i), r);
        top = _mm256_max_epu8(top, r);
        zeros += (uint32_t)__builtin_popcount((unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(r, zero)));
    }
    *nonzero = LA_UNIQ_M - zeros;
    /* top - 51, saturating, has a non-zero byte iff some register is above 51 */
    __m256i over = _mm256_subs_epu8(top, _mm256_set1_epi8(LA_UNIQ_MAX_RANK));
    return !_mm256_testz_si256(over, over);
}
#endif

int la_uniq_unpack_dense(const uint8_t *body, uint8_t *reg, uint32_t *nonzero, int simd)
{
#ifdef LA_UNIQ_AVX2
    if (simd && __builtin_cpu_supports("avx2"))
        return unpack_dense_avx2(body, reg, nonzero);
#else
    (void)simd;
#endif
    return unpack_dense_swar(body, reg, nonzero);
}

/* Dense form: its registers into reg, checked. */
static int decode_dense(const uint8_t *p, size_t len, uint8_t *reg, int form, const char **why)
{
    if (len != 1 + LA_UNIQ_DENSE_BYTES)
        return la_corrupt(why, "uniq: dense sketch not 12289 bytes");
    uint32_t k;
    if (la_uniq_unpack_dense(p + 1, reg, &k, 1))
        return la_corrupt(why, "uniq: register above 51");
    if (form == LA_UNIQ_FORM_REGISTERS) {
        if (k <= LA_UNIQ_SPARSE_MAX)
            return la_corrupt(why, "uniq: dense sketch of at most 4096 non-zero registers");
        return LA_OK;
    }
    /* The sparse form takes at least varint_len(k) + k bytes; count it exactly only when that
     * does not already reach the dense size. */
    if (varint_len(k) + k < LA_UNIQ_DENSE_BYTES && sparse_bytes(reg) < LA_UNIQ_DENSE_BYTES)
        return la_corrupt(why, "uniq: dense sketch where sparse is shorter");
    return LA_OK;
}

/* reg[at[i]] = max(reg[at[i]], val[i]) for i < k, keeping reg's histogram. No branch on
 * whether a register grows (a coin toss); the histogram's changes go to four tables of signed
 * deltas, one per entry position mod 4, so that changes to the same value do not wait on each
 * other through memory. */
static void apply_pairs_hist(uint8_t *reg, uint16_t *hist, const uint16_t *at, const uint8_t *val, size_t k)
{
    int32_t delta[4][64];
    memset(delta, 0, sizeof delta);
    for (size_t i = 0; i < k; i++) {
        uint8_t old = reg[at[i]], now = val[i] > old ? val[i] : old;
        reg[at[i]] = now;
        delta[i & 3][old]--;
        delta[i & 3][now]++;
    }
    for (int v = 0; v <= LA_UNIQ_MAX_RANK; v++)
        hist[v] = (uint16_t)(hist[v] + delta[0][v] + delta[1][v] + delta[2][v] + delta[3][v]);
}

int la_uniq_merge_encoded(la_uniq *dst, const uint8_t *p, size_t len, const char **why)
{
    return la_uniq_merge_encoded_as(dst, p, len, LA_UNIQ_FORM_REGISTERS, why);
}

int la_uniq_merge_encoded_as(la_uniq *dst, const uint8_t *p, size_t len, int form, const char **why)
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
    case LA_UNIQ_MODE_SPARSE: {
        size_t k;
        if (dst->kind != KIND_SKETCH) { /* the first sketch a query merges: fresh registers */
            uint8_t *reg = calloc(REG_BYTES, 1);
            if (!reg)
                return LA_ENOMEM;
            if ((rc = decode_sparse(p, len, reg, hist_of(reg), NULL, NULL, &k, form, why)) != LA_OK) {
                free(reg);
                return rc;
            }
            adopt_registers(dst, reg, 1);
            return LA_OK;
        }
        /* Checked whole before dst changes; then each register in place, keeping a histogram
         * dst has (a sparse sketch touches a few registers: no pass over all of them). */
        uint16_t *at = malloc(LA_UNIQ_M * (sizeof *at + 1)); /* room for any k: one allocation */
        if (!at)
            return LA_ENOMEM;
        uint8_t *val = (uint8_t *)(at + LA_UNIQ_M);
        rc = decode_sparse(p, len, NULL, NULL, at, val, &k, form, why);
        if (rc == LA_OK && dst->hist_ok)
            apply_pairs_hist(dst->u.reg, hist_of(dst->u.reg), at, val, k);
        else if (rc == LA_OK)
            for (size_t i = 0; i < k; i++)
                dst->u.reg[at[i]] = val[i] > dst->u.reg[at[i]] ? val[i] : dst->u.reg[at[i]];
        free(at);
        return rc;
    }
    case LA_UNIQ_MODE_DENSE: {
        /* Into an exact dst (the first sketch a query merges): decode straight into its new
         * registers, then add its ids, instead of decoding into scratch and taking maxima. */
        uint8_t scratch[LA_UNIQ_M];
        uint8_t *reg = dst->kind == KIND_SKETCH ? scratch : calloc(REG_BYTES, 1);
        if (!reg)
            return LA_ENOMEM;
        if ((rc = decode_dense(p, len, reg, form, why)) != LA_OK) {
            if (reg != scratch)
                free(reg);
            return rc;
        }
        if (reg != scratch) {
            adopt_registers(dst, reg, 0);
            return LA_OK;
        }
        reg_max(dst->u.reg, scratch);
        dst->hist_ok = 0;
        return LA_OK;
    }
    default:
        return la_corrupt(why, "uniq: unknown mode");
    }
}
