/* mix.h — murmur3's fmix64 finalizer: a bijection with full avalanche. The distinct-count
 * sketch hashes ids with it (part of the format, SPEC.md §11.1: never change it); in-memory hash
 * tables use it to spread integer keys. */
#ifndef LA_FORMAT_MIX_H
#define LA_FORMAT_MIX_H

#include <stdint.h>

static inline uint64_t la_fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    k *= 0xC4CEB9FE1A85EC53ull;
    k ^= k >> 33;
    return k;
}

#endif
