/* crc32c.h — CRC-32C (Castagnoli), the checksum of every record, block and header on disk. */
#ifndef LA_FORMAT_CRC32C_H
#define LA_FORMAT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Reflected polynomial 0x82F63B78, initial value 0xFFFFFFFF, final xor 0xFFFFFFFF (the iSCSI
 * CRC). `crc` is the result of a previous call to continue a running checksum, 0 to start:
 * la_crc32c(la_crc32c(0, a, n), b, m) == la_crc32c(0, a||b, n+m).
 * Check value: la_crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t la_crc32c(uint32_t crc, const void *data, size_t n);

/* The portable table-driven implementation that la_crc32c falls back to on CPUs without a CRC
 * instruction; same contract. Exposed so that tests cover it on every machine. */
uint32_t la_crc32c_sw(uint32_t crc, const void *data, size_t n);

#endif
