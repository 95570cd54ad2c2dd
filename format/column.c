/* column.c — value encodings of the column types (SPEC.md §3): TS_DOD, bit-packed ids, OPT_I64. */
#include "column.h"

#include <string.h>

#include "bitpack.h"
#include "le.h"
#include "status.h"
#include "varint.h"

/* Most deltas of deltas and values are small: take varints of up to three bytes inline and
 * leave the general (and fully checked) case to la_uvarint_get. */
static inline int get_varint(const uint8_t *p, size_t n, size_t *pos, uint64_t *out)
{
    size_t i = *pos;
    if (i < n && p[i] < 0x80) {
        *out = p[i];
        *pos = i + 1;
        return 0;
    }
    if (i + 1 < n && p[i + 1] < 0x80) {
        *out = (uint64_t)(p[i] & 0x7F) | (uint64_t)p[i + 1] << 7;
        *pos = i + 2;
        return 0;
    }
    if (i + 2 < n && p[i + 1] >= 0x80 && p[i + 2] < 0x80) {
        *out = (uint64_t)(p[i] & 0x7F) | (uint64_t)(p[i + 1] & 0x7F) << 7 | (uint64_t)p[i + 2] << 14;
        *pos = i + 3;
        return 0;
    }
    return la_uvarint_get(p, n, pos, out);
}

/* ceil(n / 8) without overflow. */
static size_t bitmap_bytes(size_t n) { return n / 8 + (n % 8 != 0); }

size_t la_ts_bound(size_t n) { return 8 + LA_VARINT_MAX * n; }

size_t la_ts_encode(uint8_t *out, const int64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    la_put64(out, (uint64_t)v[0]);
    size_t pos = 8;
    /* Unsigned arithmetic: wraps modulo 2^64 as the format requires, with no signed overflow. */
    uint64_t prev = (uint64_t)v[0], prev_delta = 0;
    for (size_t i = 1; i < n; i++) {
        uint64_t cur = (uint64_t)v[i], delta = cur - prev;
        pos += la_uvarint_put(out + pos, la_zigzag((int64_t)(delta - prev_delta)));
        prev = cur;
        prev_delta = delta;
    }
    return pos;
}

int la_ts_decode(const uint8_t *in, size_t len, int64_t *out, size_t n, const char **why)
{
    return la_ts_decode_prefix(in, len, out, n, n, why);
}

int la_ts_decode_prefix(const uint8_t *in, size_t len, int64_t *out, size_t n, size_t upto, const char **why)
{
    if (upto > n)
        return la_corrupt(why, "timestamp rows outside the column");
    if (n == 0)
        return len == 0 ? 0 : la_corrupt(why, "timestamp column has bytes but no rows");
    if (len < 8)
        return la_corrupt(why, "timestamp column shorter than its first value");
    /* Every later row takes at least one byte: reject impossible lengths before the loop. */
    if (len - 8 < n - 1)
        return la_corrupt(why, "timestamp column too short for its rows");
    uint64_t prev = la_le64(in), delta = 0;
    out[0] = (int64_t)prev;
    size_t pos = 8;
    for (size_t i = 1; i < upto; i++) {
        uint64_t z;
        if (get_varint(in, len, &pos, &z) != 0)
            return la_corrupt(why, "timestamp column: truncated or malformed varint");
        delta += (uint64_t)la_unzigzag(z);
        prev += delta;
        out[i] = (int64_t)prev;
    }
    if (upto == n && pos != len)
        return la_corrupt(why, "timestamp column has trailing bytes");
    return 0;
}

size_t la_ids_bound(size_t n) { return 1 + 4 * n; }

size_t la_ids_encode(uint8_t *out, const uint32_t *ids, size_t n)
{
    uint32_t maxv = 0;
    for (size_t i = 0; i < n; i++)
        maxv = ids[i] > maxv ? ids[i] : maxv;
    unsigned w = la_bits_needed(maxv);
    out[0] = (uint8_t)w;
    la_bitpack(out + 1, ids, n, w);
    return 1 + la_bitpack_bytes(n, w);
}

int la_ids_decode_range(const uint8_t *in, size_t len, uint32_t *out, size_t n, size_t from, size_t to,
                        uint32_t max_id, const char **why)
{
    if (len < 1)
        return la_corrupt(why, "id column lacks its width byte");
    unsigned w = in[0];
    if (w > 32)
        return la_corrupt(why, "id column width above 32");
    if (from > to || to > n)
        return la_corrupt(why, "id rows outside the column");
    if (la_bitunpack_range(in + 1, len - 1, out, n, w, from, to) != 0)
        return la_corrupt(why, "id column length disagrees with its row count");
    unsigned tail_bits = (unsigned)(((n % 8) * w) % 8);
    if (tail_bits && (in[len - 1] >> tail_bits) != 0)
        return la_corrupt(why, "id column has nonzero padding bits");
    /* When every w-bit value is <= max_id no id can exceed it: skip the scan. */
    uint64_t wmax = (w == 32) ? 0xFFFFFFFFu : ((1ull << w) - 1);
    if (wmax > max_id) {
        uint32_t m = 0;
        for (size_t i = from; i < to; i++)
            m = out[i] > m ? out[i] : m;
        if (m > max_id)
            return la_corrupt(why, "id beyond the dictionary");
    }
    return 0;
}

int la_ids_decode(const uint8_t *in, size_t len, uint32_t *out, size_t n, uint32_t max_id,
                  const char **why)
{
    return la_ids_decode_range(in, len, out, n, 0, n, max_id, why);
}

size_t la_opt_i64_bound(size_t n) { return 1 + bitmap_bytes(n) + LA_VARINT_MAX * n; }

size_t la_opt_i64_encode(uint8_t *out, const int64_t *v, const uint8_t *present, size_t n)
{
    size_t any = 0;
    while (any < n && !present[any])
        any++;
    if (any == n) {
        out[0] = 0; /* mode 0: nothing present, nothing follows */
        return 1;
    }
    out[0] = 1;
    size_t bm = bitmap_bytes(n), pos = 1 + bm;
    memset(out + 1, 0, bm);
    for (size_t i = 0; i < n; i++) {
        if (present[i]) {
            out[1 + i / 8] |= (uint8_t)(1u << (i % 8));
            pos += la_uvarint_put(out + pos, la_zigzag(v[i]));
        }
    }
    return pos;
}

int la_opt_i64_decode(const uint8_t *in, size_t len, int64_t *out, uint8_t *present, size_t n,
                      const char **why)
{
    if (len < 1)
        return la_corrupt(why, "optional column lacks its mode byte");
    if (in[0] == 0) {
        if (len != 1)
            return la_corrupt(why, "optional column in mode 0 has trailing bytes");
        if (n > 0) {
            memset(out, 0, n * sizeof *out);
            memset(present, 0, n);
        }
        return 0;
    }
    if (in[0] != 1)
        return la_corrupt(why, "optional column has an unknown mode");
    size_t bm = bitmap_bytes(n);
    if (len - 1 < bm)
        return la_corrupt(why, "optional column shorter than its presence bitmap");
    const uint8_t *bits = in + 1;
    if (n % 8 && (bits[bm - 1] >> (n % 8)) != 0)
        return la_corrupt(why, "optional column bitmap has bits beyond its rows");
    size_t pos = 1 + bm;
    for (size_t i = 0; i < n; i++) {
        uint8_t p = (bits[i / 8] >> (i % 8)) & 1u;
        present[i] = p;
        out[i] = 0;
        if (p) {
            uint64_t z;
            if (get_varint(in, len, &pos, &z) != 0)
                return la_corrupt(why, "optional column: truncated or malformed varint");
            out[i] = la_unzigzag(z);
        }
    }
    if (pos != len)
        return la_corrupt(why, "optional column has trailing bytes");
    return 0;
}
