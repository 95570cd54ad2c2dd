/* test_uniq.c — unit tests of the distinct-count state (format/uniq.c): exact sets against a
 * sort+unique count, registers and encodings against a reference written from the spec, merge
 * laws, round trips, estimator accuracy over many set sizes, and corrupt inputs. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "la.h"
#include "testutil.h"

#include "bitpack.h"
#include "le.h"
#include "uniq.h"
#include "varint.h"

/* ---------------------------------------------------------------------------------------
 * Reference model, written from the spec text and independent of uniq.c's structure
 * ------------------------------------------------------------------------------------- */

static uint64_t ref_hash(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    x ^= x >> 33;
    return x;
}

/* Register index and rank of one id, the slow way: count zeros bit by bit. */
static void ref_register(uint64_t id, uint32_t *idx, uint8_t *rank)
{
    uint64_t h = ref_hash(id);
    *idx = (uint32_t)(h >> 50);
    uint8_t r = 1;
    for (int b = 49; b >= 0 && !((h >> b) & 1); b--)
        r++;
    *rank = r;
}

static void ref_add(uint8_t *reg, uint64_t id)
{
    uint32_t i;
    uint8_t r;
    ref_register(id, &i, &r);
    if (reg[i] < r)
        reg[i] = r;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sort and drop duplicates in place; returns the distinct count. */
static size_t sort_unique(uint64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_u64);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[k - 1])
            v[k++] = v[i];
    return k;
}

/* The canonical exact encoding of distinct ascending ids: both forms, keep the varint one only
 * if strictly shorter. */
static size_t ref_encode_exact(const uint64_t *ids, size_t n, uint8_t *out)
{
    uint8_t a[4096], b[4096];
    size_t la = 0, lb = 0;
    a[la++] = 0;
    la += la_uvarint_put(a + la, n);
    b[lb++] = 1;
    lb += la_uvarint_put(b + lb, n);
    for (size_t i = 0; i < n; i++) {
        la_put64(a + la, ids[i]);
        la += 8;
        lb += la_uvarint_put(b + lb, i == 0 ? ids[0] : ids[i] - ids[i - 1] - 1);
    }
    if (lb < la) {
        memcpy(out, b, lb);
        return lb;
    }
    memcpy(out, a, la);
    return la;
}

/* The sketch encodings of registers: both spellings, and the canonical one of each form (SPEC
 * §11.3): sparse while at most 4096 registers are non-zero (LA_UNIQ_FORM_REGISTERS), or, in
 * rollup files before version 3, while the sparse form is strictly shorter than the dense. */
static size_t ref_sparse(const uint8_t *reg, uint8_t *sp)
{
    size_t k = 0, ls = 0;
    for (int i = 0; i < 16384; i++)
        k += reg[i] != 0;
    sp[ls++] = 2;
    ls += la_uvarint_put(sp + ls, k);
    int prev = -1;
    for (int i = 0; i < 16384; i++) {
        if (reg[i]) {
            ls += la_uvarint_put(sp + ls, ((uint64_t)(i - prev - 1) << 6) | reg[i]);
            prev = i;
        }
    }
    return ls;
}

static size_t ref_dense(const uint8_t *reg, uint8_t *out)
{
    static uint32_t v[16384];
    for (int i = 0; i < 16384; i++)
        v[i] = reg[i];
    out[0] = 3;
    la_bitpack(out + 1, v, 16384, 6);
    return 1 + 12288;
}

static size_t ref_encode_sketch_as(const uint8_t *reg, int form, uint8_t *out)
{
    static uint8_t sp[4 * 16384 + 16];
    size_t k = 0, ls = ref_sparse(reg, sp);
    for (int i = 0; i < 16384; i++)
        k += reg[i] != 0;
    if (form == LA_UNIQ_FORM_REGISTERS ? k <= 4096 : ls < 1 + 12288) {
        memcpy(out, sp, ls);
        return ls;
    }
    return ref_dense(reg, out);
}

static size_t ref_encode_sketch(const uint8_t *reg, uint8_t *out)
{
    return ref_encode_sketch_as(reg, LA_UNIQ_FORM_REGISTERS, out);
}

/* Canonical encoding of the set of ids v[0..n) (duplicates allowed; v is reordered). */
static size_t ref_encode_ids(uint64_t *v, size_t n, uint8_t *out)
{
    size_t k = sort_unique(v, n);
    if (k <= LA_DISTINCT_EXACT_MAX)
        return ref_encode_exact(v, k, out);
    static uint8_t reg[16384];
    memset(reg, 0, sizeof reg);
    for (size_t i = 0; i < k; i++)
        ref_add(reg, v[i]);
    return ref_encode_sketch(reg, out);
}

/* ---------------------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------------------- */

static uint8_t enc_a[LA_UNIQ_ENCODED_MAX], enc_b[LA_UNIQ_ENCODED_MAX], enc_c[LA_UNIQ_ENCODED_MAX];

static size_t enc(const la_uniq *u, uint8_t *out)
{
    size_t n = la_uniq_encoded_size(u);
    TU_CHECK(n >= 2 && n <= LA_UNIQ_ENCODED_MAX, "encoded size %zu", n);
    size_t w = la_uniq_encode(u, out);
    TU_CHECK(w == n, "encode wrote %zu, size said %zu", w, n);
    return n;
}

/* u and v encode to the same bytes (the same set, or the same registers). */
static void assert_same(const la_uniq *u, const la_uniq *v)
{
    size_t a = enc(u, enc_a), b = enc(v, enc_b);
    TU_CHECK(a == b && memcmp(enc_a, enc_b, a) == 0, "states differ (%zu vs %zu bytes)", a, b);
    int ea, eb;
    uint64_t ca = la_uniq_count(u, &ea, NULL), cb = la_uniq_count(v, &eb, NULL);
    TU_CHECK(ca == cb && ea == eb, "counts differ: %llu vs %llu", (unsigned long long)ca,
             (unsigned long long)cb);
}

static void build(la_uniq *u, const uint64_t *ids, size_t n)
{
    la_uniq_init(u);
    for (size_t i = 0; i < n; i++)
        TU_CHECK(la_uniq_add(u, ids[i]) == LA_OK, "add");
}

static void copy(la_uniq *dst, const la_uniq *src)
{
    la_uniq_init(dst);
    TU_CHECK(la_uniq_merge(dst, src) == LA_OK, "merge");
}

/* A heap copy of exactly n bytes, so that ASan reports any read past the end. */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    TU_CHECK(q != NULL, "malloc");
    if (n)
        memcpy(q, p, n);
    return q;
}

/* A heap copy of the n bytes, decoded as `form` into an empty state: its rc, and the count. */
static int decode_as(const uint8_t *bytes, size_t n, int form, uint64_t *count)
{
    uint8_t *p = dup_exact(bytes, n);
    la_uniq w;
    la_uniq_init(&w);
    const char *why = NULL;
    int rc = la_uniq_merge_encoded_as(&w, p, n, form, &why);
    TU_CHECK(rc == LA_OK || why != NULL, "rejected without a reason");
    *count = rc == LA_OK ? la_uniq_count(&w, NULL, NULL) : 0;
    la_uniq_free(&w);
    free(p);
    return rc;
}

static uint64_t *xids(size_t n)
{
    uint64_t *v = malloc((n ? n : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    return v;
}

/* ---------------------------------------------------------------------------------------
 * Exact mode and conversion
 * ------------------------------------------------------------------------------------- */

START_TEST(uniq_size_and_empty)
{
    ck_assert_uint_le(sizeof(la_uniq), 24);
    la_uniq z;
    memset(&z, 0, sizeof z); /* an all-zero struct is a valid empty state */
    int ex = -1;
    double se = -1;
    ck_assert_uint_eq(la_uniq_count(&z, &ex, &se), 0);
    ck_assert_int_eq(ex, 1);
    ck_assert(se == 0.0);
    ck_assert_int_eq(la_uniq_is_exact(&z), 1);
    ck_assert_uint_eq(enc(&z, enc_a), 2);
    ck_assert_uint_eq(enc_a[0], 0);
    ck_assert_uint_eq(enc_a[1], 0);
    la_uniq_free(&z);
    la_uniq_free(NULL);
    la_uniq_init(&z);
    la_uniq_free(&z);
    la_uniq_free(&z);
}
END_TEST

/* Known bytes, worked out by hand from the spec. */
START_TEST(uniq_known_bytes)
{
    la_uniq u;
    la_uniq_init(&u);
    ck_assert_int_eq(la_uniq_add(&u, 0), LA_OK);
    ck_assert_uint_eq(enc(&u, enc_a), 3);
    ck_assert(memcmp(enc_a, "\x01\x01\x00", 3) == 0);
    ck_assert_int_eq(la_uniq_add(&u, 300), LA_OK);
    ck_assert_int_eq(la_uniq_add(&u, 1), LA_OK);
    ck_assert_int_eq(la_uniq_add(&u, 1), LA_OK);
    /* {0, 1, 300}: varint form 0, gap 0, gap 298 = AA 02 */
    ck_assert_uint_eq(enc(&u, enc_a), 6);
    ck_assert(memcmp(enc_a, "\x01\x03\x00\x00\xAA\x02", 6) == 0);
    la_uniq_free(&u);

    la_uniq_init(&u);
    ck_assert_int_eq(la_uniq_add(&u, UINT64_MAX), LA_OK);
    ck_assert_uint_eq(enc(&u, enc_a), 10);
    ck_assert(memcmp(enc_a, "\x00\x01\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 10) == 0);
    la_uniq_free(&u);
}
END_TEST

START_TEST(uniq_exact_vs_bruteforce)
{
    uint64_t seed = 1;
    static const uint64_t ranges[] = {2, 5, 60, 250, 300, 1000, 0};
    uint64_t *all = xids(400), *dist = xids(400);
    for (int trial = 0; trial < 600; trial++) {
        uint64_t range = ranges[trial % 7];
        size_t n = (size_t)(tu_rand(&seed) % 400), d = 0;
        la_uniq u;
        la_uniq_init(&u);
        for (size_t i = 0; i < n; i++) {
            uint64_t id = range ? tu_rand(&seed) % range : tu_rand(&seed);
            if (tu_rand(&seed) % 17 == 0)
                id = 0;
            all[i] = id;
            TU_CHECK(la_uniq_add(&u, id) == LA_OK, "add");
            /* the model: a sorted array of the distinct ids seen so far */
            size_t at = 0;
            while (at < d && dist[at] < id)
                at++;
            if (at == d || dist[at] != id) {
                memmove(dist + at + 1, dist + at, (d - at) * sizeof *dist);
                dist[at] = id;
                d++;
            }
            int ex;
            uint64_t c = la_uniq_count(&u, &ex, NULL);
            if (d <= 256) {
                TU_CHECK(ex == 1 && c == d && la_uniq_is_exact(&u), "trial %d i %zu: %llu vs %zu",
                         trial, i, (unsigned long long)c, d);
            } else {
                TU_CHECK(ex == 0 && !la_uniq_is_exact(&u), "trial %d: not a sketch at %zu", trial,
                         d);
            }
        }
        size_t ln = enc(&u, enc_a);
        size_t lr = ref_encode_ids(all, n, enc_b);
        TU_CHECK(ln == lr && memcmp(enc_a, enc_b, ln) == 0, "trial %d: encoding differs", trial);
        la_uniq_free(&u);
    }
    free(all);
    free(dist);
}
END_TEST

START_TEST(uniq_convert_at_257)
{
    uint64_t ids[257];
    ids[0] = 0;
    ids[1] = UINT64_MAX;
    uint64_t seed = 7;
    for (int i = 2; i < 257; i++)
        ids[i] = tu_rand(&seed);
    la_uniq u;
    build(&u, ids, 256);
    int ex;
    double se;
    ck_assert_uint_eq(la_uniq_count(&u, &ex, &se), 256);
    ck_assert_int_eq(ex, 1);
    for (int i = 0; i < 256; i++) /* duplicates never convert */
        TU_CHECK(la_uniq_add(&u, ids[255 - i]) == LA_OK, "add");
    ck_assert_int_eq(la_uniq_is_exact(&u), 1);
    ck_assert_uint_eq(la_uniq_count(&u, NULL, NULL), 256);
    uint64_t s[256];
    memcpy(s, ids, sizeof s);
    size_t lr = ref_encode_ids(s, 256, enc_b);
    ck_assert_uint_eq(enc(&u, enc_a), lr);
    ck_assert(memcmp(enc_a, enc_b, lr) == 0);
    ck_assert_uint_eq(enc_a[0], 0); /* random ids: u64 form */

    ck_assert_int_eq(la_uniq_add(&u, ids[256]), LA_OK);
    ck_assert_int_eq(la_uniq_is_exact(&u), 0);
    uint64_t c = la_uniq_count(&u, &ex, &se);
    ck_assert_int_eq(ex, 0);
    ck_assert(fabs(se - 1.04 / 128.0) < 1e-12);
    ck_assert_uint_ge(c, 254);
    ck_assert_uint_le(c, 260);
    uint64_t s2[257];
    memcpy(s2, ids, sizeof s2);
    lr = ref_encode_ids(s2, 257, enc_b);
    ck_assert_uint_eq(enc(&u, enc_a), lr);
    ck_assert(memcmp(enc_a, enc_b, lr) == 0);
    ck_assert_uint_eq(enc_a[0], 2);
    la_uniq_free(&u);

    /* Sequential ids 1..256: the varint form, 1 byte each. */
    for (int i = 0; i < 256; i++)
        ids[i] = (uint64_t)i + 1;
    build(&u, ids, 256);
    ck_assert_uint_eq(enc(&u, enc_a), 1 + 2 + 256);
    ck_assert_uint_eq(enc_a[0], 1);
    ck_assert_int_eq(la_uniq_add(&u, 1000), LA_OK);
    ck_assert_int_eq(la_uniq_is_exact(&u), 0);
    la_uniq_free(&u);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * Merge
 * ------------------------------------------------------------------------------------- */

/* Sets A (na ids) and B (nb ids) sharing `common` ids; checks every merge law against the state
 * built from the union and against the reference encoding. */
static void check_merge(size_t na, size_t nb, size_t common, uint64_t seed, int sequential)
{
    size_t nu = na + nb - common;
    uint64_t *u = xids(nu), *t = xids(nu);
    for (size_t i = 0; i < nu; i++)
        u[i] = sequential ? seed * 1000000 + i : tu_rand(&seed);
    /* A = u[0..na), B = u[na-common .. nu) */
    la_uniq a, b, all, ab, ba, x;
    build(&a, u, na);
    build(&b, u + na - common, nb);
    build(&all, u, nu);
    ck_assert_int_eq(la_uniq_is_exact(&all), nu <= 256);

    copy(&ab, &a);
    ck_assert_int_eq(la_uniq_merge(&ab, &b), LA_OK);
    copy(&ba, &b);
    ck_assert_int_eq(la_uniq_merge(&ba, &a), LA_OK);
    assert_same(&ab, &all);
    assert_same(&ba, &all);
    memcpy(t, u, nu * sizeof *t);
    size_t lr = ref_encode_ids(t, nu, enc_c);
    size_t l = enc(&ab, enc_a);
    ck_assert_uint_eq(l, lr);
    ck_assert(memcmp(enc_a, enc_c, l) == 0);

    /* idempotent: with itself, with a part, with a copy of itself */
    ck_assert_int_eq(la_uniq_merge(&ab, &ab), LA_OK);
    assert_same(&ab, &all);
    ck_assert_int_eq(la_uniq_merge(&ab, &a), LA_OK);
    ck_assert_int_eq(la_uniq_merge(&ab, &b), LA_OK);
    assert_same(&ab, &all);
    copy(&x, &all);
    ck_assert_int_eq(la_uniq_merge(&x, &all), LA_OK);
    assert_same(&x, &all);
    la_uniq_free(&x);

    /* merge_encoded gives the same as merge, both ways */
    copy(&x, &a);
    l = enc(&b, enc_c);
    ck_assert_int_eq(la_uniq_merge_encoded(&x, enc_c, l, NULL), LA_OK);
    assert_same(&x, &all);
    la_uniq_free(&x);
    copy(&x, &b);
    l = enc(&a, enc_c);
    ck_assert_int_eq(la_uniq_merge_encoded(&x, enc_c, l, NULL), LA_OK);
    assert_same(&x, &all);
    la_uniq_free(&x);

    la_uniq_free(&a);
    la_uniq_free(&b);
    la_uniq_free(&all);
    la_uniq_free(&ab);
    la_uniq_free(&ba);
    free(u);
    free(t);
}

START_TEST(uniq_merge_exact_exact)
{
    check_merge(0, 0, 0, 1, 0);
    check_merge(0, 1, 0, 2, 0);
    check_merge(1, 1, 1, 3, 0);
    check_merge(2, 2, 1, 4, 1);
    check_merge(10, 20, 5, 5, 0);
    check_merge(200, 100, 44, 6, 0); /* union 256: stays exact */
    check_merge(200, 100, 43, 7, 0); /* union 257: converts */
    check_merge(256, 256, 0, 8, 1);
    check_merge(256, 256, 256, 9, 0);
}
END_TEST

START_TEST(uniq_merge_exact_sketch)
{
    check_merge(100, 5000, 50, 11, 0);
    check_merge(256, 300, 256, 12, 1);
    check_merge(3, 100000, 0, 13, 0);
}
END_TEST

START_TEST(uniq_merge_sketch_sketch)
{
    check_merge(300, 300, 100, 21, 0);
    check_merge(5000, 8000, 1000, 22, 1);
    check_merge(50000, 70000, 20000, 23, 0);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * Encoding round trips
 * ------------------------------------------------------------------------------------- */

static void roundtrip(const la_uniq *u, int expect_mode)
{
    size_t l = enc(u, enc_a);
    if (expect_mode >= 0)
        ck_assert_uint_eq(enc_a[0], (unsigned)expect_mode);
    uint8_t *p = dup_exact(enc_a, l);
    la_uniq v;
    la_uniq_init(&v);
    const char *why = NULL;
    ck_assert_int_eq(la_uniq_merge_encoded(&v, p, l, &why), LA_OK);
    size_t l2 = enc(&v, enc_b);
    ck_assert_uint_eq(l2, l);
    ck_assert(memcmp(enc_a, enc_b, l) == 0);
    assert_same(u, &v);
    /* merging it again changes nothing */
    ck_assert_int_eq(la_uniq_merge_encoded(&v, p, l, &why), LA_OK);
    assert_same(u, &v);
    la_uniq_free(&v);
    free(p);
}

START_TEST(uniq_roundtrip)
{
    la_uniq u;
    la_uniq_init(&u);
    roundtrip(&u, 0);
    uint64_t seed = 99;
    static const struct {
        size_t n;
        int sequential, mode;
    } cases[] = {
        {1, 0, 0},      {1, 1, 1},      {2, 0, 0},      {3, 1, 1},      {3, 0, 0},
        {100, 1, 1},    {256, 0, 0},    {256, 1, 1},    {257, 0, 2},    {300, 1, 2},
        {3500, 1, 2},   {4000, 0, 2},   {6000, 0, 3},   {15000, 1, 3},  {30000, 0, 3},
        {100000, 0, 3}, {1000000, 1, 3},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        la_uniq_init(&u);
        for (size_t i = 0; i < cases[c].n; i++)
            TU_CHECK(la_uniq_add(&u, cases[c].sequential ? i : tu_rand(&seed)) == LA_OK, "add");
        roundtrip(&u, cases[c].mode);
        la_uniq_free(&u);
    }
    /* A sketch whose register values reach far: dense with ranks up to 51 */
    la_uniq_init(&u);
    for (uint64_t i = 0; i < 300; i++)
        TU_CHECK(la_uniq_add(&u, i) == LA_OK, "add");
    ck_assert_int_eq(la_uniq_add(&u, 0), LA_OK); /* hash(0) = 0: register 0, rank 51 */
    roundtrip(&u, 2);
    la_uniq_free(&u);
}
END_TEST

/* Dense layout = SPEC §2.1 bit packing of width 6; register values come from the reference. */
START_TEST(uniq_dense_layout)
{
    la_uniq u;
    la_uniq_init(&u);
    static uint8_t reg[16384];
    memset(reg, 0, sizeof reg);
    uint64_t seed = 5;
    for (int i = 0; i < 200000; i++) {
        uint64_t id = tu_rand(&seed);
        TU_CHECK(la_uniq_add(&u, id) == LA_OK, "add");
        ref_add(reg, id);
    }
    size_t l = enc(&u, enc_a);
    ck_assert_uint_eq(l, 12289);
    ck_assert_uint_eq(enc_a[0], 3);
    static uint32_t v[16384];
    ck_assert_int_eq(la_bitunpack(enc_a + 1, 12288, v, 16384, 6), 0);
    for (int i = 0; i < 16384; i++)
        TU_CHECK(v[i] == reg[i], "register %d: %u vs %u", i, v[i], reg[i]);
    la_uniq_free(&u);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * Accuracy: p95 of the relative error at each size, over many streams
 * ------------------------------------------------------------------------------------- */

static const uint64_t acc_sizes[] = {257,   300,    500,    1000,    2000,   5000,  10000,
                                     20000, 50000, 100000, 300000, 1000000, 3000000};
static const int acc_trials[] = {400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 200, 150, 100};
#define ACC_NSIZES (sizeof acc_sizes / sizeof acc_sizes[0])
#define ACC_MAXTRIALS 400

/* Three kinds of id streams: random 64-bit ids, sequential small ids from an offset, and ids
 * whose low 20 bits are constant (a hash must spread them all). */
static uint64_t acc_id(int trial, uint64_t i, uint64_t *seed)
{
    switch (trial % 3) {
    case 0:
        return tu_rand(seed);
    case 1:
        return (uint64_t)trial * 100000000u + i;
    default:
        return ((i + 1) << 20) + (uint64_t)trial;
    }
}

START_TEST(uniq_accuracy)
{
    static double err[ACC_NSIZES][ACC_MAXTRIALS];
    for (int t = 0; t < ACC_MAXTRIALS; t++) {
        uint64_t seed = 0x5EED0000u + (uint64_t)t;
        la_uniq u;
        la_uniq_init(&u);
        uint64_t added = 0;
        for (size_t s = 0; s < ACC_NSIZES && acc_trials[s] > t; s++) {
            for (; added < acc_sizes[s]; added++)
                TU_CHECK(la_uniq_add(&u, acc_id(t, added, &seed)) == LA_OK, "add");
            int ex;
            uint64_t c = la_uniq_count(&u, &ex, NULL);
            TU_CHECK(ex == 0, "size %llu still exact", (unsigned long long)added);
            err[s][t] = fabs((double)c - (double)added) / (double)added;
        }
        la_uniq_free(&u);
    }
    int verbose = getenv("LA_TEST_VERBOSE") != NULL;
    for (size_t s = 0; s < ACC_NSIZES; s++) {
        int n = acc_trials[s];
        double *e = err[s], mean = 0, worst = 0;
        for (int i = 1; i < n; i++) { /* insertion sort: n <= 400 */
            double x = e[i];
            int j = i - 1;
            for (; j >= 0 && e[j] > x; j--)
                e[j + 1] = e[j];
            e[j + 1] = x;
        }
        for (int i = 0; i < n; i++)
            mean += e[i] * e[i];
        worst = e[n - 1];
        double p95 = e[(int)ceil(0.95 * n) - 1];
        if (verbose)
            fprintf(stderr, "uniq accuracy: n=%-8llu trials=%-3d p95=%.4f rms=%.4f max=%.4f\n",
                    (unsigned long long)acc_sizes[s], n, p95, sqrt(mean / n), worst);
        ck_assert_msg(p95 <= 0.02, "size %llu: p95 relative error %.4f",
                      (unsigned long long)acc_sizes[s], p95);
    }
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * Corrupt inputs
 * ------------------------------------------------------------------------------------- */

/* Merge p[0..n) (as an exact-size heap copy) into a copy of base. On LA_ECORRUPT the copy must
 * be unchanged; on LA_OK, merging p into an empty state must give back p exactly (canonical)
 * and the result must equal base merged with that state. Returns the code. */
static int try_merge(const la_uniq *base, const uint8_t *p, size_t n)
{
    uint8_t *q = dup_exact(p, n);
    la_uniq d, e;
    copy(&d, base);
    la_uniq_init(&e);
    const char *why = NULL;
    int rc = la_uniq_merge_encoded(&d, q, n, &why);
    TU_CHECK(rc == LA_OK || rc == LA_ECORRUPT, "rc %d", rc);
    int rc2 = la_uniq_merge_encoded(&e, q, n, NULL);
    TU_CHECK(rc2 == rc, "empty vs base disagree: %d %d", rc, rc2);
    if (rc == LA_ECORRUPT) {
        TU_CHECK(why != NULL && strncmp(why, "uniq: ", 6) == 0, "no reason");
        assert_same(&d, base);
        assert_same(&e, &(la_uniq){0});
    } else {
        size_t l = enc(&e, enc_c);
        TU_CHECK(l == n && memcmp(enc_c, q, n) == 0, "accepted a non-canonical encoding");
        la_uniq x;
        copy(&x, base);
        TU_CHECK(la_uniq_merge(&x, &e) == LA_OK, "merge");
        assert_same(&d, &x);
        la_uniq_free(&x);
    }
    la_uniq_free(&d);
    la_uniq_free(&e);
    free(q);
    return rc;
}

START_TEST(uniq_truncations_and_flips)
{
    static const struct {
        size_t n;
        int sequential;
    } cases[] = {{0, 0}, {1, 0}, {1, 1}, {3, 1}, {5, 0}, {256, 1}, {256, 0}, {400, 0}, {100000, 0}};
    uint64_t seed = 31;
    la_uniq small, big;
    uint64_t sids[] = {0, 5, 77};
    build(&small, sids, 3);
    la_uniq_init(&big);
    for (int i = 0; i < 1000; i++)
        TU_CHECK(la_uniq_add(&big, tu_rand(&seed)) == LA_OK, "add");
    const la_uniq *bases[3] = {&(la_uniq){0}, &small, &big};
    static uint8_t good[LA_UNIQ_ENCODED_MAX], bad[LA_UNIQ_ENCODED_MAX + 1];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        la_uniq u;
        la_uniq_init(&u);
        for (size_t i = 0; i < cases[c].n; i++)
            TU_CHECK(la_uniq_add(&u, cases[c].sequential ? i : tu_rand(&seed)) == LA_OK, "add");
        size_t l = enc(&u, good);
        ck_assert_int_eq(try_merge(bases[c % 3], good, l), LA_OK);
        /* Every proper prefix is corrupt (the dense form: a sample of them). */
        size_t step = l > 4000 ? 97 : 1;
        for (size_t k = 0; k < l; k += step)
            TU_CHECK(try_merge(bases[k % 3], good, k) == LA_ECORRUPT, "case %zu prefix %zu", c, k);
        /* A trailing byte is corrupt. */
        memcpy(bad, good, l);
        bad[l] = 0;
        ck_assert_int_eq(try_merge(bases[c % 3], bad, l + 1), LA_ECORRUPT);
        /* Bit flips: anything but a crash or a non-canonical acceptance. */
        size_t flips = l * 8 > 2400 ? 1200 : l * 8; /* every bit of short encodings */
        for (size_t f = 0; f < flips; f++) {
            memcpy(bad, good, l);
            size_t bit = l * 8 > 2400 ? tu_rand(&seed) % (l * 8) : f;
            bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            try_merge(bases[f % 3], bad, l);
        }
        la_uniq_free(&u);
    }
    /* Random bytes behind each mode byte. */
    for (int i = 0; i < 3000; i++) {
        size_t l = 1 + tu_rand(&seed) % 40;
        for (size_t k = 0; k < l; k++)
            bad[k] = (uint8_t)tu_rand(&seed);
        bad[0] = (uint8_t)(i % 5);
        if (i % 2)
            bad[1] = (uint8_t)(tu_rand(&seed) % 4);
        try_merge(bases[i % 3], bad, l);
    }
    la_uniq_free(&small);
    la_uniq_free(&big);
}
END_TEST

static int merge_bytes(const void *p, size_t n)
{
    return try_merge(&(la_uniq){0}, p, n);
}

START_TEST(uniq_rejects)
{
    /* empty, unknown modes, missing count */
    ck_assert_int_eq(merge_bytes("", 0), LA_ECORRUPT);
    ck_assert_int_eq(merge_bytes("\x04\x00", 2), LA_ECORRUPT);
    ck_assert_int_eq(merge_bytes("\xFF\x00", 2), LA_ECORRUPT);
    ck_assert_int_eq(merge_bytes("\x00", 1), LA_ECORRUPT);
    ck_assert_int_eq(merge_bytes("\x00\x00", 2), LA_OK);
    /* the empty set has one spelling */
    ck_assert_int_eq(merge_bytes("\x01\x00", 2), LA_ECORRUPT);
    ck_assert_int_eq(merge_bytes("\x00\x80\x00", 3), LA_ECORRUPT);
    /* {0}: varint form only, shortest varints only */
    ck_assert_int_eq(merge_bytes("\x01\x01\x00", 3), LA_OK);
    ck_assert_int_eq(merge_bytes("\x01\x01\x80\x00", 4), LA_ECORRUPT);
    ck_assert_int_eq(merge_bytes("\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00", 10), LA_ECORRUPT);
    /* u64 form: strictly ascending */
    uint8_t b[4096];
    b[0] = 0;
    b[1] = 2;
    la_put64(b + 2, 0xF000000000000000ull);
    la_put64(b + 10, 0xE000000000000000ull);
    ck_assert_int_eq(merge_bytes(b, 18), LA_ECORRUPT);
    la_put64(b + 10, 0xF000000000000000ull);
    ck_assert_int_eq(merge_bytes(b, 18), LA_ECORRUPT);
    la_put64(b + 10, 0xF000000000000001ull);
    ck_assert_int_eq(merge_bytes(b, 18), LA_ECORRUPT); /* varint form would be shorter */
    la_put64(b + 10, 0xF800000000000001ull);
    ck_assert_int_eq(merge_bytes(b, 18), LA_OK);
    /* varint form past 2^64 - 1 */
    ck_assert_int_eq(merge_bytes("\x01\x02\xFE\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01\x00", 13),
                     LA_OK);
    ck_assert_int_eq(merge_bytes("\x01\x02\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01\x00", 13),
                     LA_ECORRUPT);
    /* 257 ids in an exact form */
    b[0] = 1;
    size_t l = 1 + la_uvarint_put(b + 1, 257);
    memset(b + l, 0, 257);
    ck_assert_int_eq(merge_bytes(b, l + 257), LA_ECORRUPT);
    l = 1 + la_uvarint_put(b + 1, 256);
    memset(b + l, 0, 256);
    ck_assert_int_eq(merge_bytes(b, l + 256), LA_OK);

    /* sparse: one register of value 1..51, index < 16384, no zero entries, count >= 1 */
    ck_assert_int_eq(merge_bytes("\x02\x01\x01", 3), LA_OK);
    ck_assert_int_eq(merge_bytes("\x02\x01\x33", 3), LA_OK);
    ck_assert_int_eq(merge_bytes("\x02\x01\x34", 3), LA_ECORRUPT);
    ck_assert_int_eq(merge_bytes("\x02\x01\x00", 3), LA_ECORRUPT);
    ck_assert_int_eq(merge_bytes("\x02\x00", 2), LA_ECORRUPT);
    ck_assert_int_eq(merge_bytes("\x02\x02\x01", 3), LA_ECORRUPT);
    b[0] = 2;
    b[1] = 1;
    l = 2 + la_uvarint_put(b + 2, (16383ull << 6) | 9);
    ck_assert_int_eq(merge_bytes(b, l), LA_OK);
    l = 2 + la_uvarint_put(b + 2, (16384ull << 6) | 9);
    ck_assert_int_eq(merge_bytes(b, l), LA_ECORRUPT);
    b[1] = 2;
    l = 2 + la_uvarint_put(b + 2, (16383ull << 6) | 9);
    l += la_uvarint_put(b + l, 9);
    ck_assert_int_eq(merge_bytes(b, l), LA_ECORRUPT);
    l = 2 + la_uvarint_put(b + 2, UINT64_MAX);
    ck_assert_int_eq(merge_bytes(b, l), LA_ECORRUPT);

    /* dense vs sparse: every register set to 1 is dense; sparse then is corrupt */
    static uint8_t reg[16384];
    static uint8_t big[2 * 16384 + 16];
    memset(reg, 1, sizeof reg);
    size_t ld = ref_encode_sketch(reg, big);
    ck_assert_uint_eq(ld, 12289);
    ck_assert_int_eq(merge_bytes(big, ld), LA_OK);
    big[1 + 12288 / 2] |= 0x3F; /* some register becomes 63 */
    ck_assert_int_eq(merge_bytes(big, ld), LA_ECORRUPT);
    big[0] = 2;
    l = 1 + la_uvarint_put(big + 1, 16384);
    memset(big + l, 1, 16384);
    ck_assert_int_eq(merge_bytes(big, l + 16384), LA_ECORRUPT);
    /* one register set: dense form is corrupt, sparse is the spelling */
    memset(reg, 0, sizeof reg);
    reg[77] = 5;
    ld = ref_encode_sketch(reg, big);
    ck_assert_uint_eq(ld, 4);
    ck_assert_int_eq(merge_bytes(big, ld), LA_OK);
    static uint32_t v[16384];
    for (int i = 0; i < 16384; i++)
        v[i] = reg[i];
    big[0] = 3;
    la_bitpack(big + 1, v, 16384, 6);
    ck_assert_int_eq(merge_bytes(big, 12289), LA_ECORRUPT);
    ck_assert_int_eq(merge_bytes(big, 12290), LA_ECORRUPT);

    /* the form boundary: 4096 non-zero registers are sparse, 4097 dense; before rollup version
     * 3 both were sparse (shorter than dense: 2-byte entries) */
    memset(reg, 0, sizeof reg);
    for (int i = 0; i < 16384; i += 4)
        reg[i] = 7;
    uint64_t cnt;
    for (int extra = 0; extra < 2; extra++) {
        reg[1] = extra ? 9 : 0;
        size_t ls = ref_sparse(reg, big);
        ck_assert_uint_lt(ls, 12289);
        ck_assert_int_eq(decode_as(big, ls, LA_UNIQ_FORM_REGISTERS, &cnt), extra ? LA_ECORRUPT : LA_OK);
        ck_assert_int_eq(decode_as(big, ls, LA_UNIQ_FORM_SHORTER, &cnt), LA_OK);
        ld = ref_dense(reg, big);
        ck_assert_int_eq(decode_as(big, ld, LA_UNIQ_FORM_REGISTERS, &cnt), extra ? LA_OK : LA_ECORRUPT);
        ck_assert_int_eq(decode_as(big, ld, LA_UNIQ_FORM_SHORTER, &cnt), LA_ECORRUPT);
    }

    /* A crafted sketch with every register at 51 counts, without overflow. */
    memset(reg, 51, sizeof reg);
    ld = ref_encode_sketch(reg, big);
    la_uniq u;
    la_uniq_init(&u);
    ck_assert_int_eq(la_uniq_merge_encoded(&u, big, ld, NULL), LA_OK);
    int ex;
    ck_assert_uint_eq(la_uniq_count(&u, &ex, NULL), UINT64_MAX);
    ck_assert_int_eq(ex, 0);
    la_uniq_free(&u);
}
END_TEST

/* The count, the encoding and the decoding of sketches against the reference model, on
 * register arrays of many shapes: sketches of random sets, random registers with every share of
 * zeros (around the sparse/dense boundary in fine steps), long runs of zero registers (gaps of
 * 256 and more) and extreme values; and exact sets whose ids share long prefixes. */
static double ref_sigma(double x)
{
    if (x == 1.0)
        return INFINITY;
    double y = 1.0, z = x, zp;
    do {
        x = x * x;
        zp = z;
        z = z + x * y;
        y = 2 * y;
    } while (z != zp);
    return z;
}

static double ref_tau(double x)
{
    if (x == 0.0 || x == 1.0)
        return 0.0;
    double y = 1.0, z = 1.0 - x, zp;
    do {
        x = sqrt(x);
        zp = z;
        y = y / 2;
        z = z - (1 - x) * (1 - x) * y;
    } while (z != zp);
    return z / 3;
}

static uint64_t ref_count(const uint8_t *reg)
{
    uint32_t c[52] = {0};
    for (int i = 0; i < 16384; i++)
        c[reg[i]]++;
    if (c[0] == 16384)
        return 0;
    const double m = 16384;
    double z = m * ref_tau(1 - c[51] / m);
    for (int k = 50; k >= 1; k--)
        z = (z + c[k]) / 2;
    z = z + m * ref_sigma(c[0] / m);
    double est = m * m / (2 * log(2.0)) / z;
    if (!(est < 18446744073709551616.0))
        return UINT64_MAX;
    return (uint64_t)llround(est);
}

static void check_registers(const uint8_t *reg, const char *what, int shape)
{
    static uint8_t ref[LA_UNIQ_ENCODED_MAX], sparse[4 * 16384 + 16], dense[LA_UNIQ_ENCODED_MAX];
    size_t lr = ref_encode_sketch(reg, ref);
    uint8_t *p = dup_exact(ref, lr);
    la_uniq u;
    la_uniq_init(&u);
    TU_CHECK(la_uniq_merge_encoded(&u, p, lr, NULL) == LA_OK, "%s %d: rejected", what, shape);
    free(p);
    if (la_uniq_is_exact(&u)) { /* all-zero registers: canonical only as nothing */
        la_uniq_free(&u);
        return;
    }
    size_t ln = enc(&u, enc_c);
    TU_CHECK(ln == lr && memcmp(enc_c, ref, lr) == 0, "%s %d: encoding differs (%zu vs %zu)",
             what, shape, ln, lr);
    uint64_t want = ref_count(reg), got;
    TU_CHECK(la_uniq_count(&u, NULL, NULL) == want, "%s %d: count differs", what, shape);
    la_uniq_free(&u);
    /* each spelling is accepted by a form if and only if it is that form's canonical one, and
     * then counts the same */
    size_t ls = ref_sparse(reg, sparse), ld = ref_dense(reg, dense);
    static const int forms[] = {LA_UNIQ_FORM_REGISTERS, LA_UNIQ_FORM_SHORTER};
    for (int f = 0; f < 2; f++) {
        size_t lc = ref_encode_sketch_as(reg, forms[f], ref);
        int sparse_canonical = ref[0] == LA_UNIQ_MODE_SPARSE;
        TU_CHECK(lc == (sparse_canonical ? ls : ld), "%s %d: reference lengths", what, shape);
        int rc = decode_as(sparse, ls, forms[f], &got);
        TU_CHECK(rc == (sparse_canonical ? LA_OK : LA_ECORRUPT), "%s %d form %d: sparse rc %d", what,
                 shape, forms[f], rc);
        TU_CHECK(rc != LA_OK || got == want, "%s %d form %d: sparse count", what, shape, forms[f]);
        rc = decode_as(dense, ld, forms[f], &got);
        TU_CHECK(rc == (sparse_canonical ? LA_ECORRUPT : LA_OK), "%s %d form %d: dense rc %d", what,
                 shape, forms[f], rc);
        TU_CHECK(rc != LA_OK || got == want, "%s %d form %d: dense count", what, shape, forms[f]);
    }
}

START_TEST(uniq_fast_paths_vs_reference)
{
    static uint8_t reg[16384];
    uint64_t seed = 7;
    /* sketches of random sets */
    for (int t = 0; t < 60; t++) {
        memset(reg, 0, sizeof reg);
        size_t n = 257 + (size_t)(tu_rand(&seed) % (t < 40 ? 60000 : 3000000));
        for (size_t i = 0; i < n; i++)
            ref_add(reg, tu_rand(&seed));
        check_registers(reg, "random set", t);
    }
    /* random registers, zero with probability z/1000, in fine steps around the boundaries:
     * sparse shorter than dense (z about 300), at most 4096 non-zero (z = 750) */
    for (int z = 0; z <= 1000; z += (z >= 250 && z <= 400) || (z >= 730 && z <= 770) ? 3 : 37) {
        for (int t = 0; t < 2; t++) {
            for (int i = 0; i < 16384; i++)
                reg[i] = (int)(tu_rand(&seed) % 1000) < z ? 0 : (uint8_t)(1 + tu_rand(&seed) % 51);
            check_registers(reg, "zero share", z);
        }
    }
    /* runs of zero registers of assorted lengths (gaps of 2, 255, 256, 257 and more) */
    static const int runs[] = {1, 2, 3, 200, 255, 256, 257, 300, 1000, 5000};
    for (int t = 0; t < 300; t++) {
        int len = runs[t % 10];
        memset(reg, 0, sizeof reg);
        for (int i = 0; i < 16384;) {
            int r = (int)(tu_rand(&seed) % 4) == 0 ? len : 1 + (int)(tu_rand(&seed) % 3);
            if (t % 3 == 0)
                r = len; /* regular: one register then len zeros */
            reg[i] = (uint8_t)(1 + tu_rand(&seed) % 51);
            i += 1 + r;
        }
        if (t % 7 == 0)
            reg[0] = 0;
        if (t % 11 == 0)
            memset(reg + 16384 - 300, 0, 300);
        check_registers(reg, "zero runs", t);
    }
    /* extremes: every register 51 (count 2^64 - 1), 1, or a single register set */
    memset(reg, 51, sizeof reg);
    check_registers(reg, "all 51", 0);
    memset(reg, 1, sizeof reg);
    check_registers(reg, "all 1", 0);
    for (int j = 0; j < 16384; j += 4095) {
        memset(reg, 0, sizeof reg);
        reg[j] = 51;
        check_registers(reg, "single", j);
    }

    /* exact sets of ids with long common prefixes, clustered, or descending */
    uint64_t *ids = xids(256);
    for (int t = 0; t < 400; t++) {
        size_t n = (size_t)(tu_rand(&seed) % 257);
        uint64_t base = tu_rand(&seed), mask = ~0ull >> (tu_rand(&seed) % 64);
        la_uniq u;
        la_uniq_init(&u);
        for (size_t i = 0; i < n; i++) {
            uint64_t id;
            switch (t % 4) {
            case 0: id = base ^ (tu_rand(&seed) & mask); break;
            case 1: id = base + (uint64_t)(n - i) * (1 + (uint64_t)t % 5); break;
            case 2: id = (tu_rand(&seed) % 3) << 62 | (tu_rand(&seed) & 0xFFF); break;
            default: id = tu_rand(&seed) & (tu_rand(&seed) % 2 ? 0xFF : ~0ull); break;
            }
            ids[i] = id;
            TU_CHECK(la_uniq_add(&u, id) == LA_OK, "add");
        }
        size_t ln = enc(&u, enc_a), lr = ref_encode_ids(ids, n, enc_b);
        TU_CHECK(ln == lr && memcmp(enc_a, enc_b, ln) == 0, "exact %d: encoding differs", t);
        la_uniq_free(&u);
    }
    free(ids);
}
END_TEST


/* The AVX2 and SWAR unpacking of dense bodies agree with the SPEC's bit layout (§2.1, read back
 * with la_bitunpack) on every register, the non-zero count and the "above 51" verdict, for
 * random bytes (registers 0..63), sketch-like bodies and ones with a single bad register. */
START_TEST(uniq_dense_unpack_simd_matches_layout)
{
    static uint8_t body[12288 + 64], want_reg[16384], got_reg[2][16384];
    static uint32_t v[16384];
    uint64_t seed = 11;
    for (int t = 0; t < 300; t++) {
        for (int i = 0; i < 16384; i++) {
            uint64_t x = tu_rand(&seed);
            switch (t % 4) {
            case 0: v[i] = (uint32_t)(x & 63); break;                        /* any 6 bits */
            case 1: v[i] = (uint32_t)(x % 100 < 40 ? 0 : 1 + (x >> 8) % 51); break; /* valid */
            case 2: v[i] = (uint32_t)((x >> 3) % 1000 < (uint64_t)t ? 0 : 1 + x % 8); break;
            default: v[i] = i == t * 53 % 16384 ? 52 + (uint32_t)(x % 12) : (uint32_t)(x % 52); break;
            }
        }
        memset(body, 0xA5, sizeof body); /* bytes past the body must not matter */
        la_bitpack(body, v, 16384, 6);
        uint32_t want_nz = 0;
        int want_bad = 0;
        TU_CHECK(la_bitunpack(body, 12288, v, 16384, 6) == 0, "body %d: unpack", t);
        for (int i = 0; i < 16384; i++) {
            want_reg[i] = (uint8_t)v[i];
            want_nz += v[i] != 0;
            want_bad |= v[i] > 51;
        }
        for (int simd = 0; simd < 2; simd++) {
            uint32_t nz = 0;
            int bad = la_uniq_unpack_dense(body, got_reg[simd], &nz, simd);
            TU_CHECK(bad == want_bad, "body %d simd %d: verdict %d, want %d", t, simd, bad, want_bad);
            TU_CHECK(nz == want_nz, "body %d simd %d: %u non-zero, want %u", t, simd, nz, want_nz);
            TU_CHECK(memcmp(got_reg[simd], want_reg, 16384) == 0, "body %d simd %d: registers differ", t, simd);
        }
    }
}
END_TEST

/* Sparse sketches merged into a sketch whose register histogram is kept (it started from a
 * sparse form) or not (from a dense form), in every order: the count and the encoding equal
 * those of the registers' element-wise maximum, computed here. */
START_TEST(uniq_sparse_merges_keep_the_histogram)
{
    static uint8_t reg[3][16384], max[16384], bytes[3][LA_UNIQ_ENCODED_MAX], want[LA_UNIQ_ENCODED_MAX];
    size_t len[3];
    uint64_t seed = 13;
    for (int t = 0; t < 120; t++) {
        for (int s = 0; s < 3; s++) {
            /* s = 0 dense (about 9,000 non-zero), 1 and 2 sparse (a few to 3,800) */
            int share = s == 0 ? 550 : 1 + (int)(tu_rand(&seed) % 150);
            for (int i = 0; i < 16384; i++) {
                uint64_t x = tu_rand(&seed);
                reg[s][i] = (int)(x % 1000) < share ? (uint8_t)(1 + (x >> 16) % (t % 2 ? 51 : 4)) : 0;
            }
            if (s > 0 && tu_rand(&seed) % 4 == 0) /* sets sharing registers with the first */
                for (int i = 0; i < 16384; i += 7)
                    reg[s][i] = reg[0][i];
            len[s] = ref_encode_sketch(reg[s], bytes[s]);
        }
        memset(max, 0, sizeof max);
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 16384; i++)
                if (reg[s][i] > max[i])
                    max[i] = reg[s][i];
        TU_CHECK(bytes[0][0] == LA_UNIQ_MODE_DENSE && bytes[1][0] == LA_UNIQ_MODE_SPARSE &&
                     bytes[2][0] == LA_UNIQ_MODE_SPARSE,
                 "case %d: forms %d %d %d", t, bytes[0][0], bytes[1][0], bytes[2][0]);
        size_t lw = ref_encode_sketch(max, want);
        static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
        for (int o = 0; o < 6; o++) {
            la_uniq u;
            la_uniq_init(&u);
            for (int j = 0; j < 3; j++) {
                const int s = orders[o][j];
                uint8_t *p = dup_exact(bytes[s], len[s]);
                TU_CHECK(la_uniq_merge_encoded(&u, p, len[s], NULL) == LA_OK, "case %d order %d: rejected", t, o);
                free(p);
            }
            TU_CHECK(la_uniq_count(&u, NULL, NULL) == ref_count(max), "case %d order %d: count", t, o);
            size_t l = enc(&u, enc_a);
            TU_CHECK(l == lw && memcmp(enc_a, want, l) == 0, "case %d order %d: encoding", t, o);
            la_uniq_free(&u);
        }
    }
}
END_TEST


/* The AVX2 and scalar register histograms equal a brute-force tally, for sketches of random
 * sets from 300 to 10^9 ids (registers mostly below 16, then mostly above), random registers
 * 0..51, and arrays with a few high registers placed in chosen chunks. */
START_TEST(uniq_register_histogram_simd_matches_tally)
{
    static uint8_t reg[16384];
    uint64_t seed = 17;
    for (int t = 0; t < 120; t++) {
        memset(reg, 0, sizeof reg);
        if (t < 40) {
            static const double sizes[] = {300, 5000, 12000, 1e5, 1e6, 1e7, 1e8, 1e9};
            double n = sizes[t % 8];
            /* a sketch of n random ids: each register the maximum rank that n/16384 ids
             * give it, drawn directly (ranks are geometric) */
            for (int i = 0; i < 16384; i++) {
                double ids = n / 16384.0 * (0.5 + (double)(tu_rand(&seed) % 1000) / 1000.0);
                uint8_t r = 0;
                for (double d = 0; d < ids && d < 64; d += 1) {
                    uint64_t x = tu_rand(&seed);
                    uint8_t rank = (uint8_t)(x ? __builtin_ctzll(x) + 1 : 51);
                    rank = rank > 51 ? 51 : rank;
                    r = rank > r ? rank : r;
                }
                if (ids >= 64) /* many ids: about log2 of them */
                    r = (uint8_t)(log2(ids) + (double)(tu_rand(&seed) % 4));
                reg[i] = r > 51 ? 51 : r;
            }
        } else if (t < 80) {
            for (int i = 0; i < 16384; i++)
                reg[i] = (uint8_t)(tu_rand(&seed) % 52);
        } else {
            for (int i = 0; i < 16384; i++)
                reg[i] = (uint8_t)(tu_rand(&seed) % 16);
            for (int h = 0; h < (t - 80) * 4; h++) /* up to 156 chunks with a high register */
                reg[tu_rand(&seed) % 16384] = (uint8_t)(16 + tu_rand(&seed) % 36);
        }
        uint32_t want[52] = {0}, got[2][52];
        for (int i = 0; i < 16384; i++)
            want[reg[i]]++;
        for (int simd = 0; simd < 2; simd++) {
            la_uniq_register_histogram(reg, got[simd], simd);
            TU_CHECK(memcmp(got[simd], want, sizeof want) == 0, "case %d simd %d: histogram differs", t, simd);
        }
    }
}
END_TEST

static Suite *uniq_suite(void)
{
    Suite *s = suite_create("uniq");
    TCase *tc = tcase_create("exact");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, uniq_size_and_empty);
    tcase_add_test(tc, uniq_known_bytes);
    tcase_add_test(tc, uniq_exact_vs_bruteforce);
    tcase_add_test(tc, uniq_convert_at_257);
    suite_add_tcase(s, tc);

    tc = tcase_create("merge");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, uniq_merge_exact_exact);
    tcase_add_test(tc, uniq_merge_exact_sketch);
    tcase_add_test(tc, uniq_merge_sketch_sketch);
    suite_add_tcase(s, tc);

    tc = tcase_create("encoding");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, uniq_roundtrip);
    tcase_add_test(tc, uniq_dense_layout);
    tcase_add_test(tc, uniq_truncations_and_flips);
    tcase_add_test(tc, uniq_rejects);
    tcase_add_test(tc, uniq_fast_paths_vs_reference);
    tcase_add_test(tc, uniq_dense_unpack_simd_matches_layout);
    tcase_add_test(tc, uniq_register_histogram_simd_matches_tally);
    tcase_add_test(tc, uniq_sparse_merges_keep_the_histogram);
    suite_add_tcase(s, tc);

    tc = tcase_create("accuracy");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, uniq_accuracy);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(uniq_suite)
