/* codec.h — the block compression codecs: none, LZ4 (block format) and zstd (frame format). */
#ifndef LA_FORMAT_CODEC_H
#define LA_FORMAT_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Codec ids as stored on disk (SPEC.md §2.5); equal to LA_CODEC_* in la.h. */
enum { LA_CODEC_ID_NONE = 0, LA_CODEC_ID_LZ4 = 1, LA_CODEC_ID_ZSTD = 2, LA_CODEC_ID_COUNT = 3 };

/* Worst-case compressed size of n bytes under `codec` (n for none). 0 for an unknown codec. */
size_t la_codec_bound(int codec, size_t n);

/* Compress src[0..n) into dst (capacity cap >= la_codec_bound(codec, n)); level is used by zstd
 * only (1..19). Stores the compressed size in *out_len. Returns 0, LA_EINVAL (unknown codec,
 * small cap) or LA_ENOMEM. */
int la_codec_compress(int codec, int level, const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
                      size_t *out_len);

/* Decompress src[0..n) into dst, which must come out exactly raw_len bytes. Returns 0, or
 * LA_ECORRUPT for an unknown codec, malformed input, or a size other than raw_len. Never reads
 * outside src[0..n) nor writes outside dst[0..raw_len), whatever the input. */
int la_codec_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t raw_len);

#endif
