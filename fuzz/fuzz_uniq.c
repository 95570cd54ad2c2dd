/* fuzz_uniq.c — la_uniq_merge_encoded of arbitrary bytes, into an empty state and into exact
 * and sketch states. Encodings are canonical, so anything accepted into an empty state must
 * encode back to the input bytes; a rejected input must leave the state as it was; the older
 * form (la_uniq_merge_encoded_as) must agree with it; and the merge into a non-empty state (one
 * of three, picked by the input's last byte) must equal la_uniq_merge with the decoded state.
 * A dense body must unpack, and its registers count, the same with and without SIMD. */
#include <string.h>

#include "uniq.h"

#include "fuzz.h"

static uint8_t enc_x[LA_UNIQ_ENCODED_MAX], enc_y[LA_UNIQ_ENCODED_MAX];

/* Encodings of x and y are the same bytes (same set, or same registers). */
static int same(const la_uniq *x, const la_uniq *y)
{
    size_t a = la_uniq_encode(x, enc_x), b = la_uniq_encode(y, enc_y);
    FZ_ASSERT(a == la_uniq_encoded_size(x) && b == la_uniq_encoded_size(y));
    FZ_ASSERT(a <= LA_UNIQ_ENCODED_MAX && b <= LA_UNIQ_ENCODED_MAX);
    return a == b && memcmp(enc_x, enc_y, a) == 0 &&
           la_uniq_count(x, NULL, NULL) == la_uniq_count(y, NULL, NULL) &&
           la_uniq_is_exact(x) == la_uniq_is_exact(y);
}

/* Non-empty bases, built once: a few ids (exact table), 200 ids (exact), 1000 ids (sketch). */
#define NBASES 3
static la_uniq bases[NBASES];
static uint8_t base_enc[NBASES][LA_UNIQ_ENCODED_MAX]; /* their encodings, to check cheaply */
static size_t base_len[NBASES];

static void copy(la_uniq *dst, const la_uniq *src)
{
    la_uniq_init(dst);
    FZ_ASSERT(la_uniq_merge(dst, src) == LA_OK);
}

static void init_bases(void)
{
    static int done;
    static const unsigned sizes[NBASES] = {3, 200, 1000};
    if (done)
        return;
    for (int k = 0; k < NBASES; k++) {
        la_uniq_init(&bases[k]);
        for (unsigned i = 0; i < sizes[k]; i++)
            FZ_ASSERT(la_uniq_add(&bases[k], (uint64_t)i * 0x9E3779B97F4A7C15ull) == LA_OK);
        base_len[k] = la_uniq_encode(&bases[k], base_enc[k]);
    }
    done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = fz_dup(data, size);
    la_uniq e, again;
    la_uniq_init(&e);
    la_uniq_init(&again);
    const char *why = NULL;
    int rc = la_uniq_merge_encoded(&e, p, size, &why);
    FZ_ASSERT(rc == LA_OK || rc == LA_ECORRUPT);
    if (rc == LA_OK) {
        size_t n = la_uniq_encoded_size(&e);
        uint8_t *out = fz_alloc(n);
        FZ_ASSERT(la_uniq_encode(&e, out) == n);
        FZ_ASSERT(n == size && memcmp(out, p, size) == 0);
        FZ_ASSERT(la_uniq_merge_encoded(&again, out, n, NULL) == LA_OK);
        FZ_ASSERT(same(&e, &again));
        free(out);
    } else {
        FZ_ASSERT(why != NULL);
        FZ_ASSERT(same(&e, &again)); /* still empty */
    }

    /* The form of rollup files before version 3 (sparse while shorter than dense): exact sets
     * and rejections of damage are the same; a sketch it accepts is a valid state, equal to
     * the one the current form decodes when both accept the bytes. */
    {
        la_uniq o;
        la_uniq_init(&o);
        why = NULL;
        int ro = la_uniq_merge_encoded_as(&o, p, size, LA_UNIQ_FORM_SHORTER, &why);
        FZ_ASSERT(ro == LA_OK || (ro == LA_ECORRUPT && why != NULL));
        if (size && p[0] < LA_UNIQ_MODE_SPARSE)
            FZ_ASSERT(ro == rc);
        if (ro == LA_OK && rc == LA_OK)
            FZ_ASSERT(same(&o, &e));
        if (ro == LA_OK) {
            size_t n = la_uniq_encoded_size(&o);
            uint8_t *out = fz_alloc(n);
            FZ_ASSERT(la_uniq_encode(&o, out) == n);
            la_uniq r;
            la_uniq_init(&r);
            FZ_ASSERT(la_uniq_merge_encoded(&r, out, n, NULL) == LA_OK);
            FZ_ASSERT(same(&o, &r));
            la_uniq_free(&r);
            free(out);
        }
        la_uniq_free(&o);
    }

    /* A dense body unpacks, and its registers count, the same with and without SIMD. */
    if (size == 1 + LA_UNIQ_DENSE_BYTES) {
        static uint8_t reg_simd[LA_UNIQ_M], reg_swar[LA_UNIQ_M];
        uint32_t nz_simd, nz_swar;
        int bad_simd = la_uniq_unpack_dense(p + 1, reg_simd, &nz_simd, 1);
        int bad_swar = la_uniq_unpack_dense(p + 1, reg_swar, &nz_swar, 0);
        FZ_ASSERT(bad_simd == bad_swar && nz_simd == nz_swar && memcmp(reg_simd, reg_swar, LA_UNIQ_M) == 0);
        if (!bad_simd) { /* and registers of 0..51 make the same histogram both ways */
            uint32_t h_simd[LA_UNIQ_MAX_RANK + 1], h_swar[LA_UNIQ_MAX_RANK + 1];
            la_uniq_register_histogram(reg_simd, h_simd, 1);
            la_uniq_register_histogram(reg_simd, h_swar, 0);
            FZ_ASSERT(memcmp(h_simd, h_swar, sizeof h_simd) == 0);
        }
    }

    /* One base per input, chosen by its last byte: merging into all three made every input
     * pay for the sketch base's 16,384 registers several times over. */
    init_bases();
    {
        int k = size ? data[size - 1] % NBASES : 0;
        la_uniq b, x;
        copy(&b, &bases[k]);
        int rb = la_uniq_merge_encoded(&b, p, size, NULL);
        FZ_ASSERT(rb == rc);
        if (rb == LA_OK) {
            /* same as merging the decoded state, in either order */
            copy(&x, &bases[k]);
            FZ_ASSERT(la_uniq_merge(&x, &e) == LA_OK);
            FZ_ASSERT(same(&b, &x));
            la_uniq_free(&x);
            copy(&x, &e);
            FZ_ASSERT(la_uniq_merge(&x, &bases[k]) == LA_OK);
            FZ_ASSERT(same(&b, &x));
            la_uniq_free(&x);
            /* and its encoding round-trips */
            size_t n = la_uniq_encoded_size(&b);
            uint8_t *out = fz_alloc(n);
            FZ_ASSERT(la_uniq_encode(&b, out) == n);
            la_uniq_init(&x);
            FZ_ASSERT(la_uniq_merge_encoded(&x, out, n, NULL) == LA_OK);
            FZ_ASSERT(same(&b, &x));
            la_uniq_free(&x);
            free(out);
        } else {
            /* unchanged: the same encoding (a function of the set or registers) */
            size_t n = la_uniq_encode(&b, enc_x);
            FZ_ASSERT(n == base_len[k] && memcmp(enc_x, base_enc[k], n) == 0);
        }
        la_uniq_free(&b);
    }
    la_uniq_free(&e);
    la_uniq_free(&again);
    free(p);
    return 0;
}
