/* crc32c.c — CRC-32C (Castagnoli): SSE4.2 instruction when the CPU has it, slicing-by-8 otherwise. */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#include "le.h"

#define POLY 0x82F63B78u

/* Slicing-by-8 tables: table[k][b] is the CRC of byte b followed by k zero bytes. Filled once
 * on first use (pthread_once) rather than hard-coded: 8 KiB of literals would be unreviewable,
 * and deriving them from the polynomial is the specification. */
static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (POLY & (0u - (c & 1u)));
        table[0][b] = c;
    }
    for (uint32_t b = 0; b < 256; b++)
        for (int k = 1; k < 8; k++)
            table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xFF];
}

static uint32_t crc_sw(uint32_t c, const uint8_t *p, size_t n)
{
    pthread_once(&table_once, table_init);
    while (n >= 8) {
        uint32_t lo = la_le32(p) ^ c, hi = la_le32(p + 4);
        c = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^
            table[4][lo >> 24] ^ table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^
            table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xFF];
    return c;
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define LA_CRC_HW 1
#include <nmmintrin.h>

/* One dependent crc32 instruction per 8 bytes: ~3 cycles latency each, i.e. several GB/s,
 * which is far beyond what the callers (checksumming pages and blocks) need. */
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const uint8_t *p, size_t n)
{
#if defined(__x86_64__)
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8); /* x86 is little-endian, as the CRC's byte order requires */
        c64 = _mm_crc32_u64(c64, w);
        p += 8;
        n -= 8;
    }
    c = (uint32_t)c64;
#endif
    while (n >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        c = _mm_crc32_u32(c, w);
        p += 4;
        n -= 4;
    }
    while (n--)
        c = _mm_crc32_u8(c, *p++);
    return c;
}
#endif

uint32_t la_crc32c(uint32_t crc, const void *data, size_t n)
{
    const uint8_t *p = data;
    uint32_t c = ~crc;
    if (n == 0)
        return crc;
#ifdef LA_CRC_HW
    if (__builtin_cpu_supports("sse4.2"))
        return ~crc_hw(c, p, n);
#endif
    return ~crc_sw(c, p, n);
}

uint32_t la_crc32c_sw(uint32_t crc, const void *data, size_t n)
{
    return n == 0 ? crc : ~crc_sw(~crc, data, n);
}
