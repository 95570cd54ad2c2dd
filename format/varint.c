/* varint.c — unsigned LEB128 varints (SPEC.md §2.2). */
#include "varint.h"

#include "la.h"

size_t la_uvarint_put(uint8_t *p, uint64_t v)
{
    size_t i = 0;
    while (v >= 0x80) {
        p[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[i++] = (uint8_t)v;
    return i;
}

int la_uvarint_get(const uint8_t *p, size_t n, size_t *pos, uint64_t *out)
{
    size_t i = *pos;
    uint64_t v = 0;
    for (unsigned k = 0; k < LA_VARINT_MAX; k++) {
        if (i >= n)
            return LA_ECORRUPT;
        uint8_t b = p[i++];
        /* The 10th byte carries bit 63 only: anything more would not fit in 64 bits, and a
         * continuation bit would make the varint longer than any uint64 needs. */
        if (k == LA_VARINT_MAX - 1 && b > 1)
            return LA_ECORRUPT;
        v |= (uint64_t)(b & 0x7F) << (7 * k);
        if (b < 0x80) {
            *pos = i;
            *out = v;
            return 0;
        }
    }
    return LA_ECORRUPT; /* unreachable: the 10th byte either ends the varint or was rejected */
}
