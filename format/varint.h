/* varint.h — unsigned LEB128 varints and zigzag mapping for signed values (SPEC.md §2.2). */
#ifndef LA_FORMAT_VARINT_H
#define LA_FORMAT_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define LA_VARINT_MAX 10 /* bytes of the longest uint64 varint */

/* Write v as LEB128 (7 bits per byte, least significant group first, high bit = more follows)
 * at p (room for LA_VARINT_MAX bytes); returns the number of bytes written (1..10). */
size_t la_uvarint_put(uint8_t *p, uint64_t v);

/* Read one varint from p[*pos .. n); advance *pos. Returns 0, or LA_ECORRUPT if the input ends
 * inside the varint, or it is longer than 10 bytes, or its value exceeds 64 bits. */
int la_uvarint_get(const uint8_t *p, size_t n, size_t *pos, uint64_t *out);

/* zigzag: 0,-1,1,-2,... -> 0,1,2,3,...  Defined for every int64 (no overflow). */
static inline uint64_t la_zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63)); }
static inline int64_t la_unzigzag(uint64_t u) { return (int64_t)(u >> 1) ^ -(int64_t)(u & 1); }

#endif
