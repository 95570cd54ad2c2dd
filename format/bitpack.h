/* bitpack.h — fixed-width bit packing of uint32 values, least significant bit first (SPEC.md §2.1). */
#ifndef LA_FORMAT_BITPACK_H
#define LA_FORMAT_BITPACK_H

#include <stddef.h>
#include <stdint.h>

/* Bits needed to represent every value 0..maxv (0 for maxv == 0). */
unsigned la_bits_needed(uint32_t maxv);

/* Bytes taken by n values of `width` bits (0..32): ceil(n * width / 8). */
size_t la_bitpack_bytes(size_t n, unsigned width);

/* Value i occupies bits [i*width, (i+1)*width) of the little-endian bit stream out, where bit b
 * is bit (b % 8) of byte b / 8. Unused high bits of the last byte are zero. Each v[i] must fit
 * in width bits. Writes exactly la_bitpack_bytes(n, width) bytes. */
void la_bitpack(uint8_t *out, const uint32_t *v, size_t n, unsigned width);

/* Inverse of la_bitpack. Returns 0, or LA_ECORRUPT if len != la_bitpack_bytes(n, width) or
 * width > 32. */
int la_bitunpack(const uint8_t *in, size_t len, uint32_t *out, size_t n, unsigned width);

/* la_bitunpack of values [from, to) only, into out[from..to) (a few values before from and
 * after to, within the same groups of 8 and below n, may be written too). The same checks on
 * len and width; LA_ECORRUPT also if from > to or to > n. */
int la_bitunpack_range(const uint8_t *in, size_t len, uint32_t *out, size_t n, unsigned width, size_t from,
                       size_t to);

#endif
