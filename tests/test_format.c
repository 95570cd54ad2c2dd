/* test_format.c — unit tests of the pure byte codecs in format/: CRC-32C, varints, bit packing,
 * compression codecs and the column encodings, against hand-computed bytes and independent
 * reference implementations, plus truncation, trailing-byte and random-input robustness. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "la.h"
#include "testutil.h"

#include "bitpack.h"
#include "block.h"
#include "codec.h"
#include "column.h"
#include "crc32c.h"
#include "segment.h"
#include "varint.h"

/* A heap copy of exactly n bytes, so that ASan reports any read past the end. */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n);
    ck_assert(q != NULL || n == 0);
    if (n > 0)
        memcpy(q, p, n);
    return q;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void fill_random(uint8_t *p, size_t n, uint64_t *seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)tu_rand(seed);
}

/* ---------------------------------------------------------------------------------------
 * crc32c
 * ------------------------------------------------------------------------------------- */

/* Bit-at-a-time CRC-32C straight from the definition: the independent reference. */
static uint32_t crc_ref(uint32_t crc, const uint8_t *p, size_t n)
{
    uint32_t c = ~crc;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

START_TEST(crc_check_value)
{
    ck_assert_uint_eq(la_crc32c(0, "123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(la_crc32c_sw(0, "123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(crc_ref(0, (const uint8_t *)"123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(la_crc32c(0, "", 0), 0);
    ck_assert_uint_eq(la_crc32c(0x12345678u, "", 0), 0x12345678u);
    ck_assert_uint_eq(la_crc32c_sw(0x12345678u, NULL, 0), 0x12345678u);
}
END_TEST

/* RFC 3720 appendix B.4 test vectors. */
START_TEST(crc_rfc3720)
{
    uint8_t buf[32];
    uint32_t (*const fns[2])(uint32_t, const void *, size_t) = {la_crc32c, la_crc32c_sw};
    for (int f = 0; f < 2; f++) {
        memset(buf, 0, 32);
        ck_assert_uint_eq(fns[f](0, buf, 32), 0x8A9136AAu);
        memset(buf, 0xFF, 32);
        ck_assert_uint_eq(fns[f](0, buf, 32), 0x62A8AB43u);
        for (int i = 0; i < 32; i++)
            buf[i] = (uint8_t)i;
        ck_assert_uint_eq(fns[f](0, buf, 32), 0x46DD794Eu);
        for (int i = 0; i < 32; i++)
            buf[i] = (uint8_t)(31 - i);
        ck_assert_uint_eq(fns[f](0, buf, 32), 0x113FDB5Cu);
    }
}
END_TEST

START_TEST(crc_random_vs_reference)
{
    uint64_t seed = 1;
    enum { MAX = 1100 };
    uint8_t *buf = xmalloc(MAX + 16);
    fill_random(buf, MAX + 16, &seed);
    for (size_t len = 0; len <= MAX; len += (len < 80 ? 1 : 37)) {
        for (size_t off = 0; off < 8; off++) { /* every alignment */
            uint8_t *p = dup_exact(buf + off, len);
            uint32_t want = crc_ref(0, p, len);
            ck_assert_uint_eq(la_crc32c(0, p, len), want);
            ck_assert_uint_eq(la_crc32c_sw(0, p, len), want);
            free(p);
        }
    }
    free(buf);
}
END_TEST

START_TEST(crc_chaining)
{
    uint64_t seed = 2;
    enum { N = 300 };
    uint8_t buf[N];
    fill_random(buf, N, &seed);
    uint32_t whole = la_crc32c(0, buf, N);
    ck_assert_uint_eq(whole, crc_ref(0, buf, N));
    for (size_t split = 0; split <= N; split++) {
        ck_assert_uint_eq(la_crc32c(la_crc32c(0, buf, split), buf + split, N - split), whole);
        ck_assert_uint_eq(la_crc32c_sw(la_crc32c_sw(0, buf, split), buf + split, N - split), whole);
        /* Mixing the two implementations mid-stream must agree too. */
        ck_assert_uint_eq(la_crc32c_sw(la_crc32c(0, buf, split), buf + split, N - split), whole);
    }
    /* Byte at a time. */
    uint32_t c = 0;
    for (size_t i = 0; i < N; i++)
        c = la_crc32c(c, buf + i, 1);
    ck_assert_uint_eq(c, whole);
}
END_TEST

START_TEST(crc_large)
{
    uint64_t seed = 3;
    size_t n = (1u << 20) + 13;
    uint8_t *buf = xmalloc(n);
    fill_random(buf, n, &seed);
    uint32_t want = crc_ref(0, buf, n);
    ck_assert_uint_eq(la_crc32c(0, buf, n), want);
    ck_assert_uint_eq(la_crc32c_sw(0, buf, n), want);
    buf[n / 2] ^= 1; /* a single flipped bit changes the checksum */
    ck_assert_uint_ne(la_crc32c(0, buf, n), want);
    free(buf);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * varint
 * ------------------------------------------------------------------------------------- */

static void check_varint_bytes(uint64_t v, const uint8_t *want, size_t wlen)
{
    uint8_t buf[LA_VARINT_MAX + 2];
    memset(buf, 0xEE, sizeof buf);
    size_t n = la_uvarint_put(buf, v);
    ck_assert_uint_eq(n, wlen);
    ck_assert_mem_eq(buf, want, wlen);
    ck_assert_uint_eq(buf[wlen], 0xEE); /* nothing written past the varint */
    uint8_t *p = dup_exact(want, wlen);
    size_t pos = 0;
    uint64_t got = ~v;
    ck_assert_int_eq(la_uvarint_get(p, wlen, &pos, &got), 0);
    ck_assert_uint_eq(pos, wlen);
    ck_assert_uint_eq(got, v);
    free(p);
}

START_TEST(varint_known)
{
    check_varint_bytes(0, (const uint8_t[]){0x00}, 1);
    check_varint_bytes(1, (const uint8_t[]){0x01}, 1);
    check_varint_bytes(127, (const uint8_t[]){0x7F}, 1);
    check_varint_bytes(128, (const uint8_t[]){0x80, 0x01}, 2);
    check_varint_bytes(300, (const uint8_t[]){0xAC, 0x02}, 2);
    check_varint_bytes(16383, (const uint8_t[]){0xFF, 0x7F}, 2);
    check_varint_bytes(16384, (const uint8_t[]){0x80, 0x80, 0x01}, 3);
    check_varint_bytes(0xFFFFFFFFu, (const uint8_t[]){0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, 5);
    check_varint_bytes(UINT64_C(1) << 63,
                       (const uint8_t[]){0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
                       10);
    check_varint_bytes(UINT64_MAX,
                       (const uint8_t[]){0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01},
                       10);
}
END_TEST

START_TEST(varint_zigzag)
{
    ck_assert_uint_eq(la_zigzag(0), 0);
    ck_assert_uint_eq(la_zigzag(-1), 1);
    ck_assert_uint_eq(la_zigzag(1), 2);
    ck_assert_uint_eq(la_zigzag(-2), 3);
    ck_assert_uint_eq(la_zigzag(INT64_MAX), UINT64_MAX - 1);
    ck_assert_uint_eq(la_zigzag(INT64_MIN), UINT64_MAX);
    const int64_t vals[] = {0, 1, -1, 63, -64, 64, -65, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN,
                            INT64_MAX - 1, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        ck_assert_int_eq(la_unzigzag(la_zigzag(vals[i])), vals[i]);
    uint64_t seed = 4;
    for (int i = 0; i < 10000; i++) {
        uint64_t u = tu_rand(&seed);
        ck_assert_uint_eq(la_zigzag(la_unzigzag(u)), u);
    }
}
END_TEST

START_TEST(varint_round_trip)
{
    uint64_t seed = 5;
    enum { N = 5000 };
    uint8_t *buf = xmalloc(N * LA_VARINT_MAX);
    uint64_t *vals = xmalloc(N * sizeof *vals);
    size_t len = 0;
    for (int i = 0; i < N; i++) {
        unsigned bits = (unsigned)(tu_rand(&seed) % 65); /* 0..64 significant bits */
        uint64_t v = bits == 0 ? 0 : tu_rand(&seed) >> (64 - bits);
        vals[i] = v;
        size_t k = la_uvarint_put(buf + len, v);
        unsigned sig = v ? 64u - (unsigned)__builtin_clzll(v) : 1u;
        ck_assert_uint_eq(k, (sig + 6) / 7);
        len += k;
    }
    uint8_t *p = dup_exact(buf, len);
    size_t pos = 0;
    for (int i = 0; i < N; i++) {
        uint64_t v;
        ck_assert_int_eq(la_uvarint_get(p, len, &pos, &v), 0);
        ck_assert_uint_eq(v, vals[i]);
    }
    ck_assert_uint_eq(pos, len);
    uint64_t v;
    ck_assert_int_eq(la_uvarint_get(p, len, &pos, &v), LA_ECORRUPT); /* at the end: nothing left */
    ck_assert_uint_eq(pos, len);
    free(p);
    free(vals);
    free(buf);
}
END_TEST

START_TEST(varint_truncated)
{
    const uint64_t vals[] = {128, 300, 16384, UINT64_C(1) << 35, UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint8_t buf[LA_VARINT_MAX];
        size_t n = la_uvarint_put(buf, vals[i]);
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *p = dup_exact(buf, cut);
            size_t pos = 0;
            uint64_t v = 77;
            ck_assert_int_eq(la_uvarint_get(p, cut, &pos, &v), LA_ECORRUPT);
            ck_assert_uint_eq(pos, 0); /* a failed read does not advance */
            free(p);
        }
    }
    /* A varint that starts mid-buffer and runs off the end. */
    const uint8_t b[] = {0x05, 0x80, 0x80};
    uint8_t *p = dup_exact(b, sizeof b);
    size_t pos = 0;
    uint64_t v;
    ck_assert_int_eq(la_uvarint_get(p, 3, &pos, &v), 0);
    ck_assert_uint_eq(v, 5);
    ck_assert_int_eq(la_uvarint_get(p, 3, &pos, &v), LA_ECORRUPT);
    ck_assert_uint_eq(pos, 1);
    free(p);
}
END_TEST

START_TEST(varint_overflow)
{
    /* 10th byte 0x02: bit 64 would be set. */
    const uint8_t over[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02};
    /* 10th byte with a continuation bit: 11 bytes. */
    const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00};
    /* 10th byte 0x7F and 0x80: also too large / too long. */
    const uint8_t big[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F};
    const uint8_t cont[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    const struct {
        const uint8_t *p;
        size_t n;
    } cases[] = {{over, sizeof over}, {eleven, sizeof eleven}, {big, sizeof big}, {cont, sizeof cont}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *p = dup_exact(cases[i].p, cases[i].n);
        size_t pos = 0;
        uint64_t v;
        ck_assert_int_eq(la_uvarint_get(p, cases[i].n, &pos, &v), LA_ECORRUPT);
        ck_assert_uint_eq(pos, 0);
        free(p);
    }
    /* The largest legal 10th byte is 1. */
    const uint8_t max[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    size_t pos = 0;
    uint64_t v;
    ck_assert_int_eq(la_uvarint_get(max, sizeof max, &pos, &v), 0);
    ck_assert_uint_eq(v, UINT64_C(1) << 63);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * bitpack
 * ------------------------------------------------------------------------------------- */

/* Bit-at-a-time reference packer and extractor, written from SPEC.md §2.1. */
static void pack_ref(uint8_t *out, const uint32_t *v, size_t n, unsigned w)
{
    memset(out, 0, la_bitpack_bytes(n, w));
    for (size_t i = 0; i < n; i++)
        for (unsigned k = 0; k < w; k++)
            if ((v[i] >> k) & 1u) {
                size_t b = i * w + k;
                out[b / 8] |= (uint8_t)(1u << (b % 8));
            }
}

static uint32_t extract_ref(const uint8_t *in, size_t i, unsigned w)
{
    uint32_t v = 0;
    for (unsigned k = 0; k < w; k++) {
        size_t b = i * w + k;
        v |= (uint32_t)((in[b / 8] >> (b % 8)) & 1u) << k;
    }
    return v;
}

static uint32_t wmask(unsigned w) { return w == 32 ? 0xFFFFFFFFu : (1u << w) - 1u; }

START_TEST(bitpack_bits_needed)
{
    ck_assert_uint_eq(la_bits_needed(0), 0);
    ck_assert_uint_eq(la_bits_needed(1), 1);
    ck_assert_uint_eq(la_bits_needed(2), 2);
    ck_assert_uint_eq(la_bits_needed(3), 2);
    ck_assert_uint_eq(la_bits_needed(4), 3);
    ck_assert_uint_eq(la_bits_needed(255), 8);
    ck_assert_uint_eq(la_bits_needed(256), 9);
    ck_assert_uint_eq(la_bits_needed(0x7FFFFFFFu), 31);
    ck_assert_uint_eq(la_bits_needed(0x80000000u), 32);
    ck_assert_uint_eq(la_bits_needed(UINT32_MAX), 32);
    for (unsigned w = 1; w <= 32; w++) {
        ck_assert_uint_eq(la_bits_needed(wmask(w)), w);
        ck_assert_uint_eq(la_bits_needed((uint32_t)1 << (w - 1)), w);
    }
}
END_TEST

START_TEST(bitpack_bytes)
{
    ck_assert_uint_eq(la_bitpack_bytes(0, 0), 0);
    ck_assert_uint_eq(la_bitpack_bytes(0, 17), 0);
    ck_assert_uint_eq(la_bitpack_bytes(1000, 0), 0);
    ck_assert_uint_eq(la_bitpack_bytes(1, 1), 1);
    ck_assert_uint_eq(la_bitpack_bytes(3, 3), 2);
    ck_assert_uint_eq(la_bitpack_bytes(8, 3), 3);
    ck_assert_uint_eq(la_bitpack_bytes(9, 7), 8);
    ck_assert_uint_eq(la_bitpack_bytes(10, 32), 40);
    ck_assert_uint_eq(la_bitpack_bytes(1u << 20, 20), (size_t)20 << 17);
    for (size_t n = 0; n < 100; n++)
        for (unsigned w = 0; w <= 32; w++)
            ck_assert_uint_eq(la_bitpack_bytes(n, w), (n * w + 7) / 8);
}
END_TEST

START_TEST(bitpack_known)
{
    uint8_t out[16];
    memset(out, 0xEE, sizeof out);
    la_bitpack(out, (const uint32_t[]){1, 2, 3, 4, 5}, 5, 3);
    /* 1 | 2<<3 | 3<<6 | 4<<9 | 5<<12 = 0x58D1, little-endian. */
    ck_assert_mem_eq(out, ((const uint8_t[]){0xD1, 0x58}), 2);
    ck_assert_uint_eq(out[2], 0xEE);

    memset(out, 0xEE, sizeof out);
    la_bitpack(out, (const uint32_t[]){1, 0, 1, 1, 0, 0, 0, 0, 1}, 9, 1);
    ck_assert_mem_eq(out, ((const uint8_t[]){0x0D, 0x01}), 2);
    ck_assert_uint_eq(out[2], 0xEE);

    memset(out, 0xEE, sizeof out);
    la_bitpack(out, (const uint32_t[]){0x12345678u, 0xDEADBEEFu}, 2, 32);
    ck_assert_mem_eq(out, ((const uint8_t[]){0x78, 0x56, 0x34, 0x12, 0xEF, 0xBE, 0xAD, 0xDE}), 8);
    ck_assert_uint_eq(out[8], 0xEE);

    memset(out, 0xEE, sizeof out);
    la_bitpack(out, (const uint32_t[]){0x3FF, 0x001, 0x2AA}, 3, 10);
    /* 0x3FF | 1<<10 | 0x2AA<<20 = 0x2AA007FF over 30 bits -> 4 bytes. */
    ck_assert_mem_eq(out, ((const uint8_t[]){0xFF, 0x07, 0xA0, 0x2A}), 4);
    ck_assert_uint_eq(out[4], 0xEE);

    uint32_t v[5];
    const uint8_t in[] = {0xD1, 0x58};
    ck_assert_int_eq(la_bitunpack(in, 2, v, 5, 3), 0);
    for (uint32_t i = 0; i < 5; i++)
        ck_assert_uint_eq(v[i], i + 1);
}
END_TEST

/* Every width, many lengths: pack against the reference, unpack the packed bytes back. */
START_TEST(bitpack_vs_reference)
{
    uint64_t seed = 6;
    const size_t lens[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 257, 1000, 4099};
    for (unsigned w = 0; w <= 32; w++) {
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t n = lens[li], nb = la_bitpack_bytes(n, w);
            uint32_t *v = xmalloc(n * sizeof *v), *back = xmalloc(n * sizeof *back);
            for (size_t i = 0; i < n; i++)
                v[i] = (uint32_t)tu_rand(&seed) & wmask(w);
            if (n > 0 && w > 0)
                v[n - 1] = wmask(w); /* the last value at full width exercises the tail */
            uint8_t *want = xmalloc(nb), *got = xmalloc(nb + 8);
            pack_ref(want, v, n, w);
            memset(got, 0xEE, nb + 8);
            la_bitpack(got, v, n, w);
            if (nb > 0)
                ck_assert_mem_eq(got, want, nb);
            for (size_t k = 0; k < 8; k++)
                ck_assert_uint_eq(got[nb + k], 0xEE); /* writes exactly nb bytes */
            uint8_t *in = dup_exact(got, nb);
            for (size_t i = 0; i < n; i++)
                back[i] = 0xA5A5A5A5u;
            ck_assert_int_eq(la_bitunpack(in, nb, back, n, w), 0);
            for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(back[i], v[i]);
            free(in);
            free(want);
            free(got);
            free(v);
            free(back);
        }
    }
}
END_TEST

/* Unpack arbitrary bytes (not produced by la_bitpack) and compare with the bit-wise extractor. */
START_TEST(bitpack_unpack_arbitrary)
{
    uint64_t seed = 7;
    for (unsigned w = 0; w <= 32; w++) {
        for (size_t n = 0; n < 140; n += 1 + (n > 40) * 6) {
            size_t nb = la_bitpack_bytes(n, w);
            uint8_t *tmp = xmalloc(nb);
            fill_random(tmp, nb, &seed);
            uint8_t *in = dup_exact(tmp, nb);
            uint32_t *out = xmalloc(n * sizeof *out + 4);
            ck_assert_int_eq(la_bitunpack(in, nb, out, n, w), 0);
            for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(out[i], extract_ref(in, i, w));
            free(out);
            free(in);
            free(tmp);
        }
    }
}
END_TEST

START_TEST(bitpack_width0)
{
    uint32_t v[10] = {0}, out[10];
    uint8_t sentinel = 0xEE;
    la_bitpack(&sentinel, v, 10, 0);
    ck_assert_uint_eq(sentinel, 0xEE); /* width 0 writes nothing */
    memset(out, 0xFF, sizeof out);
    ck_assert_int_eq(la_bitunpack(NULL, 0, out, 10, 0), 0);
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(out[i], 0);
    ck_assert_int_eq(la_bitunpack(&sentinel, 1, out, 10, 0), LA_ECORRUPT);
}
END_TEST

START_TEST(bitpack_errors)
{
    uint8_t in[64] = {0};
    uint32_t out[16];
    ck_assert_int_eq(la_bitunpack(in, la_bitpack_bytes(16, 32), out, 16, 33), LA_ECORRUPT);
    ck_assert_int_eq(la_bitunpack(in, 0, out, 0, 255), LA_ECORRUPT);
    for (unsigned w = 1; w <= 32; w++) {
        size_t nb = la_bitpack_bytes(13, w);
        ck_assert_int_eq(la_bitunpack(in, nb - 1, out, 13, w), LA_ECORRUPT);
        ck_assert_int_eq(la_bitunpack(in, nb + 1, out, 13, w), LA_ECORRUPT);
        ck_assert_int_eq(la_bitunpack(in, nb, out, 13, w), 0);
    }
    ck_assert_int_eq(la_bitunpack(in, 0, out, 0, 7), 0);
    ck_assert_int_eq(la_bitunpack(in, 1, out, 0, 7), LA_ECORRUPT);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * codec
 * ------------------------------------------------------------------------------------- */

static const int codecs[] = {LA_CODEC_ID_NONE, LA_CODEC_ID_LZ4, LA_CODEC_ID_ZSTD};

/* Compress src with codec into an exact-size heap buffer (*out, *out_len). */
static void compress_exact(int codec, int level, const uint8_t *src, size_t n, uint8_t **out,
                           size_t *out_len)
{
    size_t cap = la_codec_bound(codec, n);
    ck_assert(cap >= n);
    uint8_t *tmp = xmalloc(cap);
    ck_assert_int_eq(la_codec_compress(codec, level, src, n, tmp, cap, out_len), 0);
    ck_assert_uint_le(*out_len, cap);
    *out = dup_exact(tmp, *out_len);
    free(tmp);
}

static void codec_round_trip(int codec, int level, const uint8_t *src, size_t n)
{
    uint8_t *c;
    size_t clen;
    compress_exact(codec, level, src, n, &c, &clen);
    if (codec == LA_CODEC_ID_NONE) {
        ck_assert_uint_eq(clen, n);
    }
    uint8_t *dst = xmalloc(n);
    ck_assert_int_eq(la_codec_decompress(codec, c, clen, dst, n), 0);
    if (n > 0)
        ck_assert_mem_eq(dst, src, n);
    /* Any other expected size is corruption. */
    uint8_t *big = xmalloc(n + 1);
    ck_assert_int_eq(la_codec_decompress(codec, c, clen, big, n + 1), LA_ECORRUPT);
    if (n > 0)
        ck_assert_int_eq(la_codec_decompress(codec, c, clen, dst, n - 1), LA_ECORRUPT);
    free(big);
    free(dst);
    free(c);
}

START_TEST(codec_bound)
{
    ck_assert_uint_eq(la_codec_bound(LA_CODEC_ID_NONE, 1234), 1234);
    ck_assert_uint_eq(la_codec_bound(LA_CODEC_ID_NONE, 0), 0);
    ck_assert_uint_ge(la_codec_bound(LA_CODEC_ID_LZ4, 1234), 1234);
    ck_assert_uint_ge(la_codec_bound(LA_CODEC_ID_ZSTD, 1234), 1234);
    ck_assert_uint_gt(la_codec_bound(LA_CODEC_ID_LZ4, 0), 0);
    ck_assert_uint_gt(la_codec_bound(LA_CODEC_ID_ZSTD, 0), 0);
    ck_assert_uint_eq(la_codec_bound(LA_CODEC_ID_COUNT, 10), 0);
    ck_assert_uint_eq(la_codec_bound(-1, 10), 0);
    ck_assert_uint_eq(la_codec_bound(LA_CODEC_ID_LZ4, (size_t)INT_MAX + 1), 0);
}
END_TEST

START_TEST(codec_round_trips)
{
    uint64_t seed = 8;
    const size_t sizes[] = {0, 1, 2, 15, 100, 4096, 65536 + 7, 300000};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        uint8_t *rnd = xmalloc(n), *txt = xmalloc(n), *zero = xmalloc(n);
        fill_random(rnd, n, &seed);
        static const char words[] = "click lead sale https://example.com/a?utm=x ";
        for (size_t i = 0; i < n; i++) {
            txt[i] = (uint8_t)words[(i * 7 + (tu_rand(&seed) % 3 == 0)) % (sizeof words - 1)];
            zero[i] = 0;
        }
        for (size_t c = 0; c < 3; c++) {
            codec_round_trip(codecs[c], 3, rnd, n);
            codec_round_trip(codecs[c], 3, txt, n);
            codec_round_trip(codecs[c], 3, zero, n);
        }
        codec_round_trip(LA_CODEC_ID_ZSTD, 1, txt, n);
        codec_round_trip(LA_CODEC_ID_ZSTD, 19, txt, n);
        if (n >= 4096) { /* compressible data does compress */
            size_t clen;
            uint8_t *c;
            compress_exact(LA_CODEC_ID_LZ4, 0, zero, n, &c, &clen);
            ck_assert_uint_lt(clen, n / 10);
            free(c);
            compress_exact(LA_CODEC_ID_ZSTD, 3, txt, n, &c, &clen);
            ck_assert_uint_lt(clen, n / 2);
            free(c);
        }
        free(rnd);
        free(txt);
        free(zero);
    }
}
END_TEST

START_TEST(codec_compress_errors)
{
    uint8_t src[100] = {1, 2, 3}, dst[1000];
    size_t out_len = 0;
    ck_assert_int_eq(la_codec_compress(LA_CODEC_ID_COUNT, 3, src, 100, dst, 1000, &out_len), LA_EINVAL);
    ck_assert_int_eq(la_codec_compress(-1, 3, src, 100, dst, 1000, &out_len), LA_EINVAL);
    for (size_t c = 0; c < 3; c++) {
        size_t b = la_codec_bound(codecs[c], 100);
        ck_assert_int_eq(la_codec_compress(codecs[c], 3, src, 100, dst, b - 1, &out_len), LA_EINVAL);
    }
    ck_assert_int_eq(la_codec_compress(LA_CODEC_ID_ZSTD, 0, src, 100, dst, 1000, &out_len), LA_EINVAL);
    ck_assert_int_eq(la_codec_compress(LA_CODEC_ID_ZSTD, -5, src, 100, dst, 1000, &out_len), LA_EINVAL);
    ck_assert_int_eq(la_codec_compress(LA_CODEC_ID_ZSTD, 1000, src, 100, dst, 1000, &out_len), LA_EINVAL);
}
END_TEST

START_TEST(codec_decompress_errors)
{
    uint8_t src[16] = {0}, dst[16];
    ck_assert_int_eq(la_codec_decompress(LA_CODEC_ID_COUNT, src, 16, dst, 16), LA_ECORRUPT);
    ck_assert_int_eq(la_codec_decompress(-1, src, 16, dst, 16), LA_ECORRUPT);
    ck_assert_int_eq(la_codec_decompress(LA_CODEC_ID_NONE, src, 16, dst, 15), LA_ECORRUPT);
    ck_assert_int_eq(la_codec_decompress(LA_CODEC_ID_NONE, src, 15, dst, 16), LA_ECORRUPT);
    ck_assert_int_eq(la_codec_decompress(LA_CODEC_ID_LZ4, src, 0, dst, 16), LA_ECORRUPT);
    ck_assert_int_eq(la_codec_decompress(LA_CODEC_ID_ZSTD, src, 0, dst, 16), LA_ECORRUPT);
    ck_assert_int_eq(la_codec_decompress(LA_CODEC_ID_ZSTD, src, 16, dst, 16), LA_ECORRUPT);
    ck_assert_int_eq(la_codec_decompress(LA_CODEC_ID_LZ4, src, 16, dst, (size_t)INT_MAX + 1),
                     LA_ECORRUPT);
    ck_assert_int_eq(la_codec_decompress(LA_CODEC_ID_NONE, NULL, 0, NULL, 0), 0);
}
END_TEST

/* zstd parts are exactly one frame: trailing bytes or a second frame are corruption. */
START_TEST(codec_zstd_one_frame)
{
    uint8_t src[500];
    for (int i = 0; i < 500; i++)
        src[i] = (uint8_t)(i % 13);
    uint8_t *c;
    size_t clen;
    compress_exact(LA_CODEC_ID_ZSTD, 3, src, 500, &c, &clen);
    uint8_t *two = xmalloc(2 * clen + 1), *dst = xmalloc(1000);
    memcpy(two, c, clen);
    memcpy(two + clen, c, clen);
    ck_assert_int_eq(la_codec_decompress(LA_CODEC_ID_ZSTD, two, 2 * clen, dst, 1000), LA_ECORRUPT);
    two[clen] = 0;
    ck_assert_int_eq(la_codec_decompress(LA_CODEC_ID_ZSTD, two, clen + 1, dst, 500), LA_ECORRUPT);
    ck_assert_int_eq(la_codec_decompress(LA_CODEC_ID_ZSTD, two, clen, dst, 500), 0);
    ck_assert_mem_eq(dst, src, 500);
    free(two);
    free(dst);
    free(c);
}
END_TEST

/* Every prefix and many corruptions of valid compressed parts: LA_ECORRUPT or exactly raw_len
 * bytes, never a crash or an access outside the buffers (run under ASan). */
START_TEST(codec_truncated_and_corrupted)
{
    uint64_t seed = 9;
    enum { N = 3000 };
    uint8_t *src = xmalloc(N);
    for (size_t i = 0; i < N; i++)
        src[i] = (uint8_t)((i % 97 < 40) ? i % 7 : tu_rand(&seed));
    for (size_t ci = 0; ci < 3; ci++) {
        int codec = codecs[ci];
        uint8_t *c;
        size_t clen;
        compress_exact(codec, 3, src, N, &c, &clen);
        uint8_t *dst = xmalloc(N);
        for (size_t cut = 0; cut < clen; cut++) {
            uint8_t *p = dup_exact(c, cut);
            int rc = la_codec_decompress(codec, p, cut, dst, N);
            if (codec == LA_CODEC_ID_NONE)
                ck_assert_int_eq(rc, LA_ECORRUPT);
            else
                ck_assert(rc == LA_ECORRUPT || rc == 0);
            free(p);
        }
        for (int trial = 0; trial < 2000; trial++) {
            uint8_t *p = dup_exact(c, clen);
            int flips = 1 + (int)(tu_rand(&seed) % 4);
            for (int f = 0; f < flips; f++) {
                size_t at = tu_rand(&seed) % clen;
                if (tu_rand(&seed) & 1)
                    p[at] ^= (uint8_t)(1u << (tu_rand(&seed) % 8));
                else
                    p[at] = (uint8_t)tu_rand(&seed);
            }
            int rc = la_codec_decompress(codec, p, clen, dst, N);
            ck_assert(rc == LA_ECORRUPT || rc == 0);
            free(p);
        }
        /* Pure garbage of assorted sizes, for assorted expected sizes. */
        for (int trial = 0; trial < 500; trial++) {
            size_t gl = tu_rand(&seed) % 200, rl = tu_rand(&seed) % 400;
            uint8_t *g = xmalloc(gl);
            fill_random(g, gl, &seed);
            if (gl >= 4 && codec == LA_CODEC_ID_ZSTD && (trial & 1)) {
                g[0] = 0x28, g[1] = 0xB5, g[2] = 0x2F, g[3] = 0xFD; /* zstd magic: go deeper */
            }
            uint8_t *p = dup_exact(g, gl), *d = xmalloc(rl);
            int rc = la_codec_decompress(codec, p, gl, d, rl);
            ck_assert(rc == LA_ECORRUPT || rc == 0);
            free(p);
            free(d);
            free(g);
        }
        free(dst);
        free(c);
    }
    free(src);
}
END_TEST


/* A block stores a part compressed only when that saves at least an eighth of it (SPEC §2.2):
 * timestamps with random gaps (their encoding is mostly incompressible varints) stay raw with
 * every codec, evenly spaced ones (all-zero deltas of deltas) are compressed by LZ4 and zstd.
 * Either way the column decodes to the input. */
START_TEST(codec_block_part_raw_unless_an_eighth_saved)
{
    enum { N = 16384 };
    la_schema schema;
    ck_assert_int_eq(la_schema_init(&schema, NULL, 0), 0);
    int64_t *ts = xmalloc(N * sizeof *ts), *back = xmalloc(N * sizeof *back);
    uint32_t *none = calloc(N, sizeof *none);
    ck_assert_ptr_nonnull(none);
    uint64_t seed = 5;
    for (int even = 0; even < 2; even++) {
        int64_t t = 1700000000000;
        for (size_t i = 0; i < N; i++)
            ts[i] = t += even ? 1000 : (int64_t)(tu_rand(&seed) % 5000000);
        for (size_t ci = 0; ci < 3; ci++) {
            la_block_in in;
            memset(&in, 0, sizeof in);
            in.schema = &schema;
            in.nrows = N;
            in.kind = LA_BLOCK_APPEND;
            in.codec = codecs[ci];
            in.level = 3;
            for (uint32_t c = 0; c < schema.ncols; c++) {
                in.col[c].i64 = ts;
                in.col[c].present = (const uint8_t *)none; /* no values */
                in.col[c].ids = none;                       /* every string absent */
            }
            size_t cap = la_block_bound(&in), len = 0;
            uint8_t *frame = xmalloc(cap);
            ck_assert_int_eq(la_block_encode(&in, frame, cap, &len), 0);
            la_block_view v;
            ck_assert_int_eq(la_block_parse(frame, len, &schema, &v, NULL), 0);
            const la_col_desc *d = &v.col[LA_C_TS];
            int compressed = even && codecs[ci] != LA_CODEC_ID_NONE;
            ck_assert_int_eq(d->data_codec, (compressed ? codecs[ci] : LA_CODEC_ID_NONE));
            if (compressed)
                ck_assert_uint_le(d->data_stored, d->data_raw - d->data_raw / 8);
            else
                ck_assert_uint_eq(d->data_stored, d->data_raw);
            uint8_t *raw = xmalloc(d->data_raw);
            ck_assert_int_eq(la_block_part(&v, LA_C_TS, 1, raw, NULL), 0);
            ck_assert_int_eq(la_ts_decode(raw, d->data_raw, back, N, NULL), 0);
            ck_assert(memcmp(back, ts, N * sizeof *ts) == 0);
            free(raw);
            free(frame);
        }
    }
    free(none);
    free(back);
    free(ts);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * column_ts
 * ------------------------------------------------------------------------------------- */

/* Encode, check the length against the bound, decode an exact-size copy and compare. */
static void ts_round_trip(const int64_t *v, size_t n)
{
    uint8_t *buf = xmalloc(la_ts_bound(n));
    size_t len = la_ts_encode(buf, v, n);
    ck_assert_uint_le(len, la_ts_bound(n));
    uint8_t *in = dup_exact(buf, len);
    int64_t *out = xmalloc(n * sizeof *out);
    const char *why = NULL;
    ck_assert_int_eq(la_ts_decode(in, len, out, n, &why), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(out[i], v[i]);
    for (size_t upto = 0; upto <= n && n > 0; upto += 1 + upto / 3) { /* the first upto values alone */
        memset(out, 0xAB, n * sizeof *out);
        ck_assert_int_eq(la_ts_decode_prefix(in, len, out, n, upto, &why), 0);
        for (size_t i = 0; i < upto; i++)
            ck_assert_int_eq(out[i], v[i]);
    }
    ck_assert_int_eq(la_ts_decode_prefix(in, len, out, n, n + 1, &why), LA_ECORRUPT);
    free(out);
    free(in);
    free(buf);
}

/* Every proper prefix, every row count off by one and one trailing byte must be rejected. */
static void ts_reject_damage(const int64_t *v, size_t n)
{
    uint8_t *buf = xmalloc(la_ts_bound(n) + 1);
    size_t len = la_ts_encode(buf, v, n);
    int64_t *out = xmalloc((n + 1) * sizeof *out);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *in = dup_exact(buf, cut);
        const char *why = NULL;
        ck_assert_int_eq(la_ts_decode(in, cut, out, n, &why), LA_ECORRUPT);
        ck_assert_ptr_nonnull(why);
        ck_assert_int_eq(la_ts_decode(in, cut, out, n, NULL), LA_ECORRUPT);
        free(in);
    }
    buf[len] = 0;
    uint8_t *in = dup_exact(buf, len + 1);
    const char *why = NULL;
    ck_assert_int_eq(la_ts_decode(in, len + 1, out, n, &why), LA_ECORRUPT);
    ck_assert_ptr_nonnull(why);
    free(in);
    in = dup_exact(buf, len);
    ck_assert_int_eq(la_ts_decode(in, len, out, n + 1, &why), LA_ECORRUPT);
    if (n > 0)
        ck_assert_int_eq(la_ts_decode(in, len, out, n - 1, &why), LA_ECORRUPT);
    free(in);
    free(out);
    free(buf);
}

START_TEST(ts_known)
{
    const int64_t v[] = {1000, 1010, 1020, 1025};
    uint8_t buf[64];
    size_t len = la_ts_encode(buf, v, 4);
    /* 1000 LE; delta 10 -> zigzag 20; dod 0 -> 0; dod -5 -> zigzag 9. */
    const uint8_t want[] = {0xE8, 0x03, 0, 0, 0, 0, 0, 0, 0x14, 0x00, 0x09};
    ck_assert_uint_eq(len, sizeof want);
    ck_assert_mem_eq(buf, want, sizeof want);
    ts_round_trip(v, 4);
    ts_reject_damage(v, 4);

    const int64_t one[] = {-2};
    len = la_ts_encode(buf, one, 1);
    ck_assert_uint_eq(len, 8);
    ck_assert_mem_eq(buf, ((const uint8_t[]){0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), 8);
    ts_round_trip(one, 1);
    ts_reject_damage(one, 1);
}
END_TEST

START_TEST(ts_empty)
{
    uint8_t buf[16] = {0};
    int64_t out[1];
    ck_assert_uint_eq(la_ts_encode(buf, NULL, 0), 0);
    ck_assert_int_eq(la_ts_decode(buf, 0, out, 0, NULL), 0);
    const char *why = NULL;
    ck_assert_int_eq(la_ts_decode(buf, 1, out, 0, &why), LA_ECORRUPT);
    ck_assert_ptr_nonnull(why);
    ck_assert_int_eq(la_ts_decode(buf, 8, out, 0, &why), LA_ECORRUPT);
    ck_assert_uint_eq(la_ts_bound(0), 8);
}
END_TEST

START_TEST(ts_extremes)
{
    int64_t v[64];
    for (int i = 0; i < 64; i++)
        v[i] = (i % 2) ? INT64_MAX : INT64_MIN;
    ts_round_trip(v, 64);
    ts_reject_damage(v, 10);
    for (int i = 0; i < 64; i++)
        v[i] = (i % 3 == 0) ? INT64_MIN : (i % 3 == 1) ? INT64_MAX : 0;
    ts_round_trip(v, 64);
    for (int i = 0; i < 64; i++)
        v[i] = INT64_MAX - i;
    ts_round_trip(v, 64);
    for (int i = 0; i < 64; i++)
        v[i] = INT64_MIN + i * i;
    ts_round_trip(v, 64);
}
END_TEST

START_TEST(ts_all_equal)
{
    enum { N = 1000 };
    int64_t *v = xmalloc(N * sizeof *v);
    for (int i = 0; i < N; i++)
        v[i] = 1700000000123;
    uint8_t *buf = xmalloc(la_ts_bound(N));
    /* Delta 0 and every delta of delta 0: one byte per later row. */
    ck_assert_uint_eq(la_ts_encode(buf, v, N), 8 + (N - 1));
    ts_round_trip(v, N);
    for (int i = 0; i < N; i++)
        v[i] = 1700000000000 + 1000 * (int64_t)i;
    /* Constant step: the first delta (zigzag 2000) takes 2 bytes, every later row 1. */
    ck_assert_uint_eq(la_ts_encode(buf, v, N), 8 + 2 + (N - 2));
    ts_round_trip(v, N);
    free(buf);
    free(v);
}
END_TEST

START_TEST(ts_random)
{
    uint64_t seed = 10;
    for (int round = 0; round < 40; round++) {
        size_t n = (size_t)(tu_rand(&seed) % 3000);
        int64_t *v = xmalloc(n * sizeof *v);
        int64_t t = 1700000000000;
        for (size_t i = 0; i < n; i++) {
            switch (round % 4) {
            case 0: t += (int64_t)(tu_rand(&seed) % 50); break;            /* sorted, jittery */
            case 1: t = 1700000000000 + (int64_t)(tu_rand(&seed) % 86400000); break; /* unsorted */
            case 2: t = (int64_t)tu_rand(&seed); break;                    /* full range */
            default: t += (int64_t)(tu_rand(&seed) % 2000) - 1000; break;  /* wandering */
            }
            v[i] = t;
        }
        ts_round_trip(v, n);
        if (round < 4)
            ts_reject_damage(v, n < 200 ? n : 200);
        free(v);
    }
}
END_TEST

START_TEST(ts_malformed)
{
    int64_t out[4];
    const char *why = NULL;
    /* Short first value. */
    const uint8_t s7[7] = {0};
    ck_assert_int_eq(la_ts_decode(s7, 7, out, 1, &why), LA_ECORRUPT);
    /* An 11-byte varint where a delta should be. */
    uint8_t b[8 + 11];
    memset(b, 0, 8);
    memset(b + 8, 0x80, 10);
    b[18] = 0;
    why = NULL;
    ck_assert_int_eq(la_ts_decode(b, sizeof b, out, 2, &why), LA_ECORRUPT);
    ck_assert_ptr_nonnull(why);
    /* Varint overflowing 64 bits. */
    memset(b + 8, 0xFF, 9);
    b[17] = 0x02;
    ck_assert_int_eq(la_ts_decode(b, 18, out, 2, &why), LA_ECORRUPT);
    b[17] = 0x01; /* legal: zigzag UINT64_MAX -> delta INT64_MIN */
    ck_assert_int_eq(la_ts_decode(b, 18, out, 2, &why), 0);
    ck_assert_int_eq(out[0], 0);
    ck_assert_int_eq(out[1], INT64_MIN);
}
END_TEST

/* Random bytes with random row counts: only 0 or LA_ECORRUPT, no out-of-bounds access. */
START_TEST(ts_random_input)
{
    uint64_t seed = 11;
    for (int trial = 0; trial < 3000; trial++) {
        size_t len = tu_rand(&seed) % 64, n = tu_rand(&seed) % 40;
        uint8_t *tmp = xmalloc(len);
        fill_random(tmp, len, &seed);
        for (size_t i = 8; i < len; i++)
            if (tu_rand(&seed) % 3)
                tmp[i] &= 0x7F; /* mostly short varints, so that some inputs decode */
        uint8_t *in = dup_exact(tmp, len);
        int64_t *out = xmalloc(n * sizeof *out);
        const char *why = NULL;
        int rc = la_ts_decode(in, len, out, n, &why);
        ck_assert(rc == 0 || (rc == LA_ECORRUPT && why != NULL));
        free(out);
        free(in);
        free(tmp);
    }
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * column_ids
 * ------------------------------------------------------------------------------------- */

static void ids_round_trip(const uint32_t *ids, size_t n, uint32_t max_id)
{
    uint8_t *buf = xmalloc(la_ids_bound(n));
    size_t len = la_ids_encode(buf, ids, n);
    ck_assert_uint_le(len, la_ids_bound(n));
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++)
        m = ids[i] > m ? ids[i] : m;
    ck_assert_uint_eq(buf[0], la_bits_needed(m)); /* the smallest width */
    ck_assert_uint_eq(len, 1 + la_bitpack_bytes(n, buf[0]));
    uint8_t *in = dup_exact(buf, len);
    uint32_t *out = xmalloc(n * sizeof *out);
    const char *why = NULL;
    ck_assert_int_eq(la_ids_decode(in, len, out, n, max_id, &why), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(out[i], ids[i]);
    /* rows [from, to) alone, at every alignment to the groups of 8 and the column's end */
    uint64_t seed = n * 31 + buf[0];
    for (int k = 0; k < 12 && n > 0; k++) {
        size_t from = (size_t)(tu_rand(&seed) % (n + 1)), to = from + (size_t)(tu_rand(&seed) % (n - from + 1));
        if (k == 0)
            from = 0, to = n;
        memset(out, 0xAB, n * sizeof *out);
        ck_assert_int_eq(la_ids_decode_range(in, len, out, n, from, to, max_id, &why), 0);
        for (size_t i = from; i < to; i++)
            ck_assert_uint_eq(out[i], ids[i]);
    }
    if (n > 0)
        ck_assert_int_eq(la_ids_decode_range(in, len, out, n, 1, n + 1, max_id, &why), LA_ECORRUPT);
    free(out);
    free(in);
    free(buf);
}

static void ids_reject_damage(const uint32_t *ids, size_t n, uint32_t max_id)
{
    uint8_t *buf = xmalloc(la_ids_bound(n) + 1);
    size_t len = la_ids_encode(buf, ids, n);
    uint32_t *out = xmalloc((n + 1) * sizeof *out);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *in = dup_exact(buf, cut);
        const char *why = NULL;
        ck_assert_int_eq(la_ids_decode(in, cut, out, n, max_id, &why), LA_ECORRUPT);
        ck_assert_ptr_nonnull(why);
        free(in);
    }
    buf[len] = 0;
    uint8_t *in = dup_exact(buf, len + 1);
    const char *why = NULL;
    ck_assert_int_eq(la_ids_decode(in, len + 1, out, n, max_id, &why), LA_ECORRUPT);
    ck_assert_ptr_nonnull(why);
    free(in);
    free(out);
    free(buf);
}

START_TEST(ids_known)
{
    uint8_t buf[16];
    size_t len = la_ids_encode(buf, (const uint32_t[]){0, 1, 2, 3}, 4);
    ck_assert_uint_eq(len, 2);
    ck_assert_mem_eq(buf, ((const uint8_t[]){0x02, 0xE4}), 2); /* 0b11'10'01'00 */
    len = la_ids_encode(buf, (const uint32_t[]){5, 5, 1}, 3);
    /* width 3: 5 | 5<<3 | 1<<6 = 0x6D */
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(buf, ((const uint8_t[]){0x03, 0x6D, 0x00}), 3);
    uint32_t out[4];
    ck_assert_int_eq(la_ids_decode(buf, 3, out, 3, 5, NULL), 0);
    ck_assert_uint_eq(out[0], 5);
    ck_assert_uint_eq(out[1], 5);
    ck_assert_uint_eq(out[2], 1);
    ids_reject_damage((const uint32_t[]){0, 1, 2, 3}, 4, 3);
}
END_TEST

START_TEST(ids_empty_and_zero)
{
    uint8_t buf[16];
    uint32_t out[100];
    ck_assert_uint_eq(la_ids_encode(buf, NULL, 0), 1);
    ck_assert_uint_eq(buf[0], 0);
    ck_assert_int_eq(la_ids_decode(buf, 1, out, 0, 0, NULL), 0);
    ck_assert_int_eq(la_ids_decode(buf, 0, out, 0, 0, NULL), LA_ECORRUPT);
    uint32_t zeros[100] = {0};
    ck_assert_uint_eq(la_ids_encode(buf, zeros, 100), 1); /* width 0: just the width byte */
    ck_assert_uint_eq(buf[0], 0);
    memset(out, 0xFF, sizeof out);
    ck_assert_int_eq(la_ids_decode(buf, 1, out, 100, 0, NULL), 0);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(out[i], 0);
    ids_round_trip(zeros, 1, 0);
    ids_round_trip((const uint32_t[]){7}, 1, 7);
    ids_reject_damage(zeros, 100, 0);
    ids_reject_damage((const uint32_t[]){7}, 1, 7);
}
END_TEST

START_TEST(ids_width32)
{
    const uint32_t ids[] = {UINT32_MAX, 0, 1, 0x80000000u, UINT32_MAX - 1};
    uint8_t buf[32];
    size_t len = la_ids_encode(buf, ids, 5);
    ck_assert_uint_eq(buf[0], 32);
    ck_assert_uint_eq(len, 1 + 20);
    ids_round_trip(ids, 5, UINT32_MAX);
    uint32_t out[5];
    const char *why = NULL;
    ck_assert_int_eq(la_ids_decode(buf, len, out, 5, UINT32_MAX - 1, &why), LA_ECORRUPT);
    ck_assert_ptr_nonnull(why);
    ids_reject_damage(ids, 5, UINT32_MAX);
}
END_TEST

START_TEST(ids_max_id)
{
    uint64_t seed = 12;
    enum { N = 777 };
    uint32_t ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = (uint32_t)(tu_rand(&seed) % 1000);
    ids[123] = 1000; /* the largest id, in the middle */
    uint8_t buf[1 + 4 * N];
    size_t len = la_ids_encode(buf, ids, N);
    uint32_t out[N];
    ck_assert_int_eq(la_ids_decode(buf, len, out, N, 1000, NULL), 0);
    ck_assert_int_eq(la_ids_decode(buf, len, out, N, 5000, NULL), 0);
    const char *why = NULL;
    ck_assert_int_eq(la_ids_decode(buf, len, out, N, 999, &why), LA_ECORRUPT);
    ck_assert_ptr_nonnull(why);
    ck_assert_int_eq(la_ids_decode(buf, len, out, N, 0, NULL), LA_ECORRUPT);
    /* max_id not of the form 2^w - 1, with an id exactly one above it at the very end. */
    const uint32_t tail[] = {1, 2, 3, 4, 5, 6};
    len = la_ids_encode(buf, tail, 6);
    ck_assert_int_eq(la_ids_decode(buf, len, out, 6, 5, NULL), LA_ECORRUPT);
    ck_assert_int_eq(la_ids_decode(buf, len, out, 6, 6, NULL), 0);
}
END_TEST

START_TEST(ids_malformed)
{
    uint8_t buf[64] = {0};
    uint32_t out[8];
    const char *why = NULL;
    buf[0] = 33;
    ck_assert_int_eq(la_ids_decode(buf, 1 + la_bitpack_bytes(8, 33), out, 8, UINT32_MAX, &why),
                     LA_ECORRUPT);
    ck_assert_ptr_nonnull(why);
    buf[0] = 255;
    ck_assert_int_eq(la_ids_decode(buf, 1, out, 0, UINT32_MAX, NULL), LA_ECORRUPT);
    /* Nonzero padding bits in the last byte: 3 values of width 3 use 9 bits of 2 bytes. */
    buf[0] = 3;
    buf[1] = 0;
    buf[2] = 0x02;
    why = NULL;
    ck_assert_int_eq(la_ids_decode(buf, 3, out, 3, UINT32_MAX, &why), LA_ECORRUPT);
    ck_assert_ptr_nonnull(why);
    buf[2] = 0x01; /* bit 8 belongs to value 2: legal */
    ck_assert_int_eq(la_ids_decode(buf, 3, out, 3, UINT32_MAX, NULL), 0);
    ck_assert_uint_eq(out[2], 4);
}
END_TEST

START_TEST(ids_random)
{
    uint64_t seed = 13;
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)(tu_rand(&seed) % 5000);
        unsigned w = (unsigned)(tu_rand(&seed) % 33);
        uint32_t *ids = xmalloc(n * sizeof *ids);
        for (size_t i = 0; i < n; i++)
            ids[i] = (uint32_t)tu_rand(&seed) & wmask(w);
        ids_round_trip(ids, n, UINT32_MAX);
        if (round < 20)
            ids_reject_damage(ids, n < 300 ? n : 300, UINT32_MAX);
        free(ids);
    }
}
END_TEST

START_TEST(ids_random_input)
{
    uint64_t seed = 14;
    for (int trial = 0; trial < 3000; trial++) {
        size_t n = tu_rand(&seed) % 50;
        unsigned w = (unsigned)(tu_rand(&seed) % 36);
        /* Usually the right length for (n, w), sometimes not. */
        size_t len = 1 + (w <= 32 ? la_bitpack_bytes(n, w) : tu_rand(&seed) % 100);
        if (tu_rand(&seed) % 4 == 0)
            len = tu_rand(&seed) % 100;
        uint8_t *tmp = xmalloc(len);
        fill_random(tmp, len, &seed);
        if (len > 0)
            tmp[0] = (uint8_t)w;
        uint8_t *in = dup_exact(tmp, len);
        uint32_t *out = xmalloc(n * sizeof *out);
        const char *why = NULL;
        int rc = la_ids_decode(in, len, out, n, (uint32_t)tu_rand(&seed), &why);
        ck_assert(rc == 0 || (rc == LA_ECORRUPT && why != NULL));
        free(out);
        free(in);
        free(tmp);
    }
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * column_opt
 * ------------------------------------------------------------------------------------- */

static void opt_round_trip(const int64_t *v, const uint8_t *present, size_t n)
{
    uint8_t *buf = xmalloc(la_opt_i64_bound(n));
    size_t len = la_opt_i64_encode(buf, v, present, n);
    ck_assert_uint_le(len, la_opt_i64_bound(n));
    uint8_t *in = dup_exact(buf, len);
    int64_t *out = xmalloc(n * sizeof *out);
    uint8_t *pr = xmalloc(n);
    memset(out, 0x5A, n * sizeof *out);
    memset(pr, 0x5A, n);
    const char *why = NULL;
    ck_assert_int_eq(la_opt_i64_decode(in, len, out, pr, n, &why), 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(pr[i], present[i] ? 1 : 0);
        ck_assert_int_eq(out[i], present[i] ? v[i] : 0);
    }
    free(pr);
    free(out);
    free(in);
    free(buf);
}

static void opt_reject_damage(const int64_t *v, const uint8_t *present, size_t n)
{
    uint8_t *buf = xmalloc(la_opt_i64_bound(n) + 1);
    size_t len = la_opt_i64_encode(buf, v, present, n);
    int64_t *out = xmalloc((n + 1) * sizeof *out);
    uint8_t *pr = xmalloc(n + 1);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *in = dup_exact(buf, cut);
        const char *why = NULL;
        ck_assert_int_eq(la_opt_i64_decode(in, cut, out, pr, n, &why), LA_ECORRUPT);
        ck_assert_ptr_nonnull(why);
        free(in);
    }
    buf[len] = 0;
    uint8_t *in = dup_exact(buf, len + 1);
    const char *why = NULL;
    ck_assert_int_eq(la_opt_i64_decode(in, len + 1, out, pr, n, &why), LA_ECORRUPT);
    ck_assert_ptr_nonnull(why);
    free(in);
    free(pr);
    free(out);
    free(buf);
}

START_TEST(opt_known)
{
    const int64_t v[] = {5, 99, -1};
    const uint8_t present[] = {1, 0, 1};
    uint8_t buf[64];
    size_t len = la_opt_i64_encode(buf, v, present, 3);
    /* mode 1, bitmap 0b101, zigzag(5) = 10, zigzag(-1) = 1 */
    ck_assert_uint_eq(len, 4);
    ck_assert_mem_eq(buf, ((const uint8_t[]){0x01, 0x05, 0x0A, 0x01}), 4);
    opt_round_trip(v, present, 3);
    opt_reject_damage(v, present, 3);

    /* Any nonzero byte means present. */
    const uint8_t present2[] = {0, 7, 0};
    len = la_opt_i64_encode(buf, v, present2, 3);
    ck_assert_mem_eq(buf, ((const uint8_t[]){0x01, 0x02, 0xC6, 0x01}), 4); /* zigzag(99) = 198 */
    opt_round_trip(v, present2, 3);
}
END_TEST

START_TEST(opt_empty_and_absent)
{
    uint8_t buf[64];
    int64_t out[20];
    uint8_t pr[20];
    ck_assert_uint_eq(la_opt_i64_encode(buf, NULL, NULL, 0), 1);
    ck_assert_uint_eq(buf[0], 0);
    ck_assert_int_eq(la_opt_i64_decode(buf, 1, out, pr, 0, NULL), 0);
    ck_assert_int_eq(la_opt_i64_decode(buf, 0, out, pr, 0, NULL), LA_ECORRUPT);

    int64_t v[20];
    uint8_t none[20] = {0};
    for (int i = 0; i < 20; i++)
        v[i] = 1000 + i; /* values of absent rows are ignored */
    ck_assert_uint_eq(la_opt_i64_encode(buf, v, none, 20), 1);
    ck_assert_uint_eq(buf[0], 0);
    memset(out, 0x77, sizeof out);
    memset(pr, 0x77, sizeof pr);
    ck_assert_int_eq(la_opt_i64_decode(buf, 1, out, pr, 20, NULL), 0);
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(out[i], 0);
        ck_assert_uint_eq(pr[i], 0);
    }
    opt_round_trip(v, none, 20);
    opt_reject_damage(v, none, 20);

    /* Mode 1 with an all-zero bitmap is valid too. */
    const uint8_t m1[] = {0x01, 0x00, 0x00};
    ck_assert_int_eq(la_opt_i64_decode(m1, 3, out, pr, 16, NULL), 0);
    ck_assert_int_eq(la_opt_i64_decode(m1, 3, out, pr, 9, NULL), 0);
    ck_assert_int_eq(la_opt_i64_decode(m1, 3, out, pr, 8, NULL), LA_ECORRUPT);
    ck_assert_int_eq(la_opt_i64_decode(m1, 1, out, pr, 0, NULL), 0);

    uint8_t one = 1;
    opt_round_trip((const int64_t[]){-7}, &one, 1);
    opt_reject_damage((const int64_t[]){-7}, &one, 1);
}
END_TEST

START_TEST(opt_extremes)
{
    const int64_t v[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN + 1, INT64_MAX - 1, 12345};
    const uint8_t all[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    opt_round_trip(v, all, 8);
    opt_reject_damage(v, all, 8);
    uint8_t buf[128];
    /* INT64_MIN and INT64_MAX take the full 10 bytes. */
    size_t len = la_opt_i64_encode(buf, v, all, 2);
    ck_assert_uint_eq(len, 1 + 1 + 10 + 10);
    const uint8_t some[8] = {0, 1, 0, 0, 1, 1, 0, 1};
    opt_round_trip(v, some, 8);
    opt_reject_damage(v, some, 8);
}
END_TEST

START_TEST(opt_malformed)
{
    int64_t out[16];
    uint8_t pr[16];
    const char *why = NULL;
    const uint8_t mode2[] = {0x02};
    ck_assert_int_eq(la_opt_i64_decode(mode2, 1, out, pr, 0, &why), LA_ECORRUPT);
    ck_assert_ptr_nonnull(why);
    const uint8_t mode0_trail[] = {0x00, 0x00};
    ck_assert_int_eq(la_opt_i64_decode(mode0_trail, 2, out, pr, 3, NULL), LA_ECORRUPT);
    /* Bit 3 set with only 3 rows. */
    const uint8_t pad[] = {0x01, 0x09, 0x02};
    why = NULL;
    ck_assert_int_eq(la_opt_i64_decode(pad, 3, out, pr, 3, &why), LA_ECORRUPT);
    ck_assert_ptr_nonnull(why);
    ck_assert_int_eq(la_opt_i64_decode(pad, 3, out, pr, 4, NULL), LA_ECORRUPT); /* 2 rows, 1 varint */
    /* Overflowing varint. */
    const uint8_t over[] = {0x01, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02};
    ck_assert_int_eq(la_opt_i64_decode(over, sizeof over, out, pr, 1, NULL), LA_ECORRUPT);
    /* Bitmap shorter than the rows need. */
    const uint8_t shortbm[] = {0x01, 0x00};
    ck_assert_int_eq(la_opt_i64_decode(shortbm, 2, out, pr, 9, NULL), LA_ECORRUPT);
}
END_TEST

START_TEST(opt_random)
{
    uint64_t seed = 15;
    for (int round = 0; round < 100; round++) {
        size_t n = (size_t)(tu_rand(&seed) % 3000);
        unsigned density = (unsigned)(tu_rand(&seed) % 5); /* 0 = none .. 4 = all */
        int64_t *v = xmalloc(n * sizeof *v);
        uint8_t *present = xmalloc(n);
        for (size_t i = 0; i < n; i++) {
            present[i] = (uint8_t)(tu_rand(&seed) % 4 < density);
            uint64_t r = tu_rand(&seed);
            v[i] = (round % 2) ? (int64_t)r : (int64_t)(r % 200000) - 100000;
        }
        opt_round_trip(v, present, n);
        if (round < 10)
            opt_reject_damage(v, present, n < 200 ? n : 200);
        free(present);
        free(v);
    }
}
END_TEST

START_TEST(opt_random_input)
{
    uint64_t seed = 16;
    for (int trial = 0; trial < 3000; trial++) {
        size_t len = tu_rand(&seed) % 48, n = tu_rand(&seed) % 40;
        uint8_t *tmp = xmalloc(len);
        fill_random(tmp, len, &seed);
        if (len > 0 && tu_rand(&seed) % 4)
            tmp[0] = (uint8_t)(tu_rand(&seed) % 2);
        for (size_t i = 1 + n / 8 + (n % 8 != 0); i < len; i++)
            if (tu_rand(&seed) % 3)
                tmp[i] &= 0x7F;
        uint8_t *in = dup_exact(tmp, len);
        int64_t *out = xmalloc(n * sizeof *out);
        uint8_t *pr = xmalloc(n);
        const char *why = NULL;
        int rc = la_opt_i64_decode(in, len, out, pr, n, &why);
        ck_assert(rc == 0 || (rc == LA_ECORRUPT && why != NULL));
        if (rc == 0)
            for (size_t i = 0; i < n; i++)
                ck_assert(pr[i] <= 1 && (pr[i] || out[i] == 0));
        free(pr);
        free(out);
        free(in);
        free(tmp);
    }
}
END_TEST

/* A tail record round-trips; one whose workspace, link or event type is absent does not parse
 * (every event has them: found by fuzz_db_open, whose scan returned a row without a
 * workspace), while an absent dimension does. */
START_TEST(tail_required_strings)
{
    uint8_t buf[512];
    for (uint32_t absent = 0; absent < 5; absent++) {
        la_row r;
        memset(&r, 0, sizeof r);
        r.ts = 1793491200000;
        r.visitor = 7;
        r.nstr = 5;
        const char *s[5] = {"ws", "link", "click", "DE", "Berlin"};
        for (uint32_t i = 0; i < 5; i++)
            r.str[i] = i == absent ? (la_str){NULL, 0} : (la_str){s[i], (uint32_t)strlen(s[i])};
        size_t len = la_tail_record_encode(buf, 99, 42, &r);
        la_row back;
        size_t got = la_tail_record_decode(buf, len, 99, 42, 5, &back, 1);
        if (absent < 3) {
            ck_assert_uint_eq(got, 0);
        } else {
            ck_assert_uint_eq(got, len);
            ck_assert_ptr_null(back.str[absent].data);
            ck_assert_int_eq(back.str[0].len, 2);
        }
    }
}
END_TEST

static Suite *format_suite(void)
{
    Suite *s = suite_create("format");

    TCase *tc = tcase_create("crc32c");
    tcase_add_test(tc, crc_check_value);
    tcase_add_test(tc, crc_rfc3720);
    tcase_add_test(tc, crc_random_vs_reference);
    tcase_add_test(tc, crc_chaining);
    tcase_add_test(tc, crc_large);
    suite_add_tcase(s, tc);

    tc = tcase_create("varint");
    tcase_add_test(tc, varint_known);
    tcase_add_test(tc, varint_zigzag);
    tcase_add_test(tc, varint_round_trip);
    tcase_add_test(tc, varint_truncated);
    tcase_add_test(tc, varint_overflow);
    suite_add_tcase(s, tc);

    tc = tcase_create("bitpack");
    tcase_add_test(tc, bitpack_bits_needed);
    tcase_add_test(tc, bitpack_bytes);
    tcase_add_test(tc, bitpack_known);
    tcase_add_test(tc, bitpack_vs_reference);
    tcase_add_test(tc, bitpack_unpack_arbitrary);
    tcase_add_test(tc, bitpack_width0);
    tcase_add_test(tc, bitpack_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("codec");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, codec_bound);
    tcase_add_test(tc, codec_round_trips);
    tcase_add_test(tc, codec_compress_errors);
    tcase_add_test(tc, codec_decompress_errors);
    tcase_add_test(tc, codec_zstd_one_frame);
    tcase_add_test(tc, codec_truncated_and_corrupted);
    tcase_add_test(tc, codec_block_part_raw_unless_an_eighth_saved);
    suite_add_tcase(s, tc);

    tc = tcase_create("column_ts");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, ts_known);
    tcase_add_test(tc, ts_empty);
    tcase_add_test(tc, ts_extremes);
    tcase_add_test(tc, ts_all_equal);
    tcase_add_test(tc, ts_random);
    tcase_add_test(tc, ts_malformed);
    tcase_add_test(tc, ts_random_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("column_ids");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, ids_known);
    tcase_add_test(tc, ids_empty_and_zero);
    tcase_add_test(tc, ids_width32);
    tcase_add_test(tc, ids_max_id);
    tcase_add_test(tc, ids_malformed);
    tcase_add_test(tc, ids_random);
    tcase_add_test(tc, ids_random_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("column_opt");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, opt_known);
    tcase_add_test(tc, opt_empty_and_absent);
    tcase_add_test(tc, opt_extremes);
    tcase_add_test(tc, opt_malformed);
    tcase_add_test(tc, opt_random);
    tcase_add_test(tc, opt_random_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("tail_record");
    tcase_add_test(tc, tail_required_strings);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(format_suite)
