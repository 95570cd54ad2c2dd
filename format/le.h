/* le.h — little-endian loads and stores: every multi-byte integer on disk goes through these,
 * never through a struct cast over mapped bytes (SPEC.md §1, "Conventions"). */
#ifndef LA_FORMAT_LE_H
#define LA_FORMAT_LE_H

#include <stdint.h>
#include <string.h>

static inline uint16_t la_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t la_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t la_le64(const uint8_t *p)
{
    return (uint64_t)la_le32(p) | ((uint64_t)la_le32(p + 4) << 32);
}
static inline void la_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void la_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void la_put64(uint8_t *p, uint64_t v)
{
    la_put32(p, (uint32_t)v);
    la_put32(p + 4, (uint32_t)(v >> 32));
}

#endif
