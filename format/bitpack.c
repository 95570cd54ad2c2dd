/* bitpack.c — fixed-width bit packing of uint32 values, LSB first (SPEC.md §2.3); the id
 * columns of every scanned block go through la_bitunpack, so it is written for speed. */
#include "bitpack.h"

#include <string.h>

#include "la.h"
#include "le.h"

unsigned la_bits_needed(uint32_t maxv)
{
    return maxv ? 32u - (unsigned)__builtin_clz(maxv) : 0u;
}

size_t la_bitpack_bytes(size_t n, unsigned width)
{
    /* Split n = 8q + r so that n * width cannot overflow for any n a caller can allocate. */
    return (n / 8) * width + ((n % 8) * width + 7) / 8;
}

void la_bitpack(uint8_t *out, const uint32_t *v, size_t n, unsigned width)
{
    if (width == 0 || n == 0)
        return;
    uint64_t mask = (width == 32) ? 0xFFFFFFFFu : ((1u << width) - 1u);
    uint64_t acc = 0;
    unsigned nb = 0; /* bits pending in acc, always < 32 between values */
    for (size_t i = 0; i < n; i++) {
        acc |= ((uint64_t)v[i] & mask) << nb;
        nb += width;
        if (nb >= 32) {
            la_put32(out, (uint32_t)acc);
            out += 4;
            acc >>= 32;
            nb -= 32;
        }
    }
    for (; nb > 0; nb = nb > 8 ? nb - 8 : 0) {
        *out++ = (uint8_t)acc;
        acc >>= 8;
    }
}

/* Eight values of width w take exactly w bytes, so a group's byte offsets are constants once w
 * is; with w a literal (see the switch below) each value is one unaligned load, shift and mask.
 * Valid only while in + 8 bytes past the group's last value byte stays inside the input. */
static inline __attribute__((always_inline)) void unpack_groups(const uint8_t *in, uint32_t *out,
                                                                size_t groups, unsigned w)
{
    const uint64_t mask = (w == 32) ? 0xFFFFFFFFu : ((1ull << w) - 1u);
    for (size_t g = 0; g < groups; g++) {
        for (unsigned j = 0; j < 8; j++) {
            unsigned bit = j * w;
            out[j] = (uint32_t)((la_le64(in + (bit >> 3)) >> (bit & 7)) & mask);
        }
        in += w;
        out += 8;
    }
}

/* Values from index i on, one at a time; loads that would cross the end of the input come
 * from a zero-padded copy of its last bytes. */
static void unpack_tail(const uint8_t *in, size_t len, uint32_t *out, size_t i, size_t n,
                        unsigned w)
{
    const uint64_t mask = (w == 32) ? 0xFFFFFFFFu : ((1ull << w) - 1u);
    uint8_t pad[16] = {0};
    size_t base = len >= 8 ? len - 8 : 0;
    if (len > base)
        memcpy(pad, in + base, len - base);
    for (; i < n; i++) {
        size_t bit = i * w, byte = bit >> 3;
        uint64_t x = byte + 8 <= len ? la_le64(in + byte) : la_le64(pad + (byte - base));
        out[i] = (uint32_t)((x >> (bit & 7)) & mask);
    }
}

int la_bitunpack_range(const uint8_t *in, size_t len, uint32_t *out, size_t n, unsigned width, size_t from,
                       size_t to)
{
    if (width > 32 || len != la_bitpack_bytes(n, width) || from > to || to > n)
        return LA_ECORRUPT;
    if (width == 0) {
        if (to > from)
            memset(out + from, 0, (to - from) * sizeof *out);
        return 0;
    }
    /* Group g reads up to byte g*w + (7w >> 3) + 7; keep that below len. */
    size_t reach = ((7u * width) >> 3) + 8u, groups = 0;
    if (len >= reach)
        groups = (len - reach) / width + 1;
    if (groups > n / 8)
        groups = n / 8;
    size_t g0 = from / 8, g1 = (to + 7) / 8;
    if (g1 > groups)
        g1 = groups;
    if (g1 > g0) {
        const uint8_t *gin = in + g0 * width;
        uint32_t *gout = out + g0 * 8;
        switch (width) {
#define LA_CASE(W)                                                                                 \
    case W: unpack_groups(gin, gout, g1 - g0, W); break;
            LA_CASE(1) LA_CASE(2) LA_CASE(3) LA_CASE(4) LA_CASE(5) LA_CASE(6) LA_CASE(7) LA_CASE(8)
            LA_CASE(9) LA_CASE(10) LA_CASE(11) LA_CASE(12) LA_CASE(13) LA_CASE(14) LA_CASE(15)
            LA_CASE(16) LA_CASE(17) LA_CASE(18) LA_CASE(19) LA_CASE(20) LA_CASE(21) LA_CASE(22)
            LA_CASE(23) LA_CASE(24) LA_CASE(25) LA_CASE(26) LA_CASE(27) LA_CASE(28) LA_CASE(29)
            LA_CASE(30) LA_CASE(31) LA_CASE(32)
#undef LA_CASE
        default: break;
        }
    }
    size_t done = g1 > g0 ? g1 * 8 : from;
    unpack_tail(in, len, out, done > from ? done : from, to, width);
    return 0;
}

int la_bitunpack(const uint8_t *in, size_t len, uint32_t *out, size_t n, unsigned width)
{
    return la_bitunpack_range(in, len, out, n, width, 0, n);
}
