/* column.h — value encodings of the column types (SPEC.md §3): timestamps as delta-of-delta,
 * dictionary ids bit-packed, optional int64 as presence bitmap + zigzag varints, u64 raw.
 * Encoders write into a caller buffer of at least the *_bound() size; decoders check every
 * length and return LA_ECORRUPT (with a static reason in *why, may be NULL) on any
 * inconsistency, and must consume their input exactly. */
#ifndef LA_FORMAT_COLUMN_H
#define LA_FORMAT_COLUMN_H

#include <stddef.h>
#include <stdint.h>

/* Timestamps (ENC_TS_DOD): n == 0 -> empty. Otherwise v[0] as 8 bytes little-endian, then if
 * n > 1 zigzag-varint(v[1] - v[0]), then for i >= 2 zigzag-varint((v[i]-v[i-1]) - (v[i-1]-v[i-2])).
 * All arithmetic is modulo 2^64 (two's complement), so any int64 sequence round-trips. */
size_t la_ts_bound(size_t n);
size_t la_ts_encode(uint8_t *out, const int64_t *v, size_t n);
int la_ts_decode(const uint8_t *in, size_t len, int64_t *out, size_t n, const char **why);
/* The first `upto` of the n timestamps (each depends on all before it); whether the column
 * ends where its last value does is checked only when upto == n. */
int la_ts_decode_prefix(const uint8_t *in, size_t len, int64_t *out, size_t n, size_t upto, const char **why);

/* Dictionary ids (ENC_IDS_BITPACK): one byte width w (0..32), then la_bitpack of the n ids.
 * w is the smallest width holding the largest id. Decoding rejects ids > max_id. */
size_t la_ids_bound(size_t n);
size_t la_ids_encode(uint8_t *out, const uint32_t *ids, size_t n);
int la_ids_decode(const uint8_t *in, size_t len, uint32_t *out, size_t n, uint32_t max_id,
                  const char **why);
/* la_ids_decode of rows [from, to) only, into out[from..to) (out has room for n); the checks
 * on the column as a whole, the id bound on those rows. */
int la_ids_decode_range(const uint8_t *in, size_t len, uint32_t *out, size_t n, size_t from, size_t to,
                        uint32_t max_id, const char **why);

/* Optional int64 (ENC_OPT_I64): one mode byte. Mode 0: every value absent, nothing follows.
 * Mode 1: presence bitmap of ceil(n/8) bytes (bit i%8 of byte i/8 = row i present; unused high
 * bits zero), then zigzag-varint(v[i]) for each present row in order. Absent rows decode to
 * value 0, present[i] = 0. */
size_t la_opt_i64_bound(size_t n);
size_t la_opt_i64_encode(uint8_t *out, const int64_t *v, const uint8_t *present, size_t n);
int la_opt_i64_decode(const uint8_t *in, size_t len, int64_t *out, uint8_t *present, size_t n,
                      const char **why);

#endif
