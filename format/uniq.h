/* uniq.h — the distinct-count state of a rollup cell ("unique visitors", "unique sessions"): an
 * exact set of at most LA_DISTINCT_EXACT_MAX 64-bit ids that becomes a HyperLogLog sketch
 * (p = 14) when it would grow beyond, and its canonical byte encoding (SPEC.md §11).
 * Pure code: no I/O. Not thread-safe; one state belongs to one thread at a time. */
#ifndef LA_FORMAT_UNIQ_H
#define LA_FORMAT_UNIQ_H

#include <stddef.h>
#include <stdint.h>

#include "la.h"

#define LA_UNIQ_P 14                            /* sketch precision: 2^14 registers */
#define LA_UNIQ_M (1u << LA_UNIQ_P)             /* registers of a sketch */
#define LA_UNIQ_MAX_RANK (64 - LA_UNIQ_P + 1)   /* largest register value, 51 */
#define LA_UNIQ_DENSE_BYTES (LA_UNIQ_M * 6 / 8) /* 16384 registers of 6 bits: 12288 bytes */
#define LA_UNIQ_ENCODED_MAX (1 + LA_UNIQ_DENSE_BYTES) /* no encoding is longer (dense) */

/* Which sketch form is canonical (SPEC.md §11.3). Since rollup files of version 3, sparse when
 * at most LA_UNIQ_SPARSE_MAX registers are non-zero: decoding the sparse form costs about ten
 * times as much per register as the dense one, so it is kept for sketches where it saves most
 * of the bytes. Before, sparse whenever it was shorter at all; readers still accept that rule
 * in older files. */
#define LA_UNIQ_SPARSE_MAX 4096
#define LA_UNIQ_FORM_SHORTER 1   /* rollup files of read_version 1 and 2 */
#define LA_UNIQ_FORM_REGISTERS 2 /* what la_uniq_encode writes */

/* Encoding modes (first byte of an encoded state). */
#define LA_UNIQ_MODE_EXACT_U64 0    /* exact, ids as u64 */
#define LA_UNIQ_MODE_EXACT_VARINT 1 /* exact, ids as varint gaps; only when strictly shorter */
#define LA_UNIQ_MODE_SPARSE 2       /* sketch, non-zero registers; only while few (above) */
#define LA_UNIQ_MODE_DENSE 3        /* sketch, every register, 6 bits each */

/* The fields are private; they are here so that a state can live inline in a rollup cell
 * (24 bytes) and sets of up to 2 ids need no heap. An all-zero struct is a valid empty state. */
typedef struct la_uniq {
    uint32_t n;       /* exact: distinct ids held (0..LA_DISTINCT_EXACT_MAX); sketch: 0 */
    uint8_t kind;     /* 0 = exact inline, 1 = exact table, 2 = sketch */
    uint8_t lgcap;    /* table: log2 of its number of slots */
    uint8_t has_zero; /* table: id 0 is a member (slots use 0 to mean empty) */
    uint8_t hist_ok;  /* sketch: the histogram after the registers is up to date */
    union {
        uint64_t ids[2]; /* inline: the n <= 2 ids, in insertion order */
        uint64_t *slots; /* table: 1 << lgcap slots, open addressing, 0 = empty */
        uint8_t *reg;    /* sketch: LA_UNIQ_M registers, one byte each (0..51), then the
                          * number of registers of each value (uint16_t[64]) */
    } u;
} la_uniq;

/* la_uniq_init() : an empty exact set. */
void la_uniq_init(la_uniq *u);

/* la_uniq_free() : release the state's memory; u becomes an empty exact set. Accepts NULL and
 * any initialized state. */
void la_uniq_free(la_uniq *u);

/* la_uniq_add() : add one id (any value, 0 included). Returns LA_OK, or LA_ENOMEM and leaves u
 * unchanged. */
int la_uniq_add(la_uniq *u, uint64_t id);

/* la_uniq_merge() : dst becomes the union of dst and src (src unchanged; dst == src is
 * allowed). Returns LA_OK or LA_ENOMEM; after LA_ENOMEM dst is a valid state holding its old
 * ids and possibly some of src's. */
int la_uniq_merge(la_uniq *dst, const la_uniq *src);

/* la_uniq_count() : the number of distinct ids, exact or estimated (Ertl's improved
 * estimator, rounded). *exact (may be NULL) is 1 for an exact set, 0 for a sketch;
 * *rel_stderr (may be NULL) is 0.0, or 1.04 / sqrt(LA_UNIQ_M) for a sketch. */
uint64_t la_uniq_count(const la_uniq *u, int *exact, double *rel_stderr);

/* la_uniq_is_exact() : 1 while u is an exact set, 0 once it is a sketch. */
int la_uniq_is_exact(const la_uniq *u);

/* la_uniq_encoded_size() : bytes of u's canonical encoding (2..LA_UNIQ_ENCODED_MAX). The
 * encoding is a function of the set for exact states and of the registers for sketches. */
size_t la_uniq_encoded_size(const la_uniq *u);

/* la_uniq_encode() : write exactly la_uniq_encoded_size(u) bytes at out and return that size. */
size_t la_uniq_encode(const la_uniq *u, uint8_t *out);

/* la_uniq_merge_encoded() : union the state encoded in p[0..len) into dst, without building a
 * temporary state. Returns LA_OK; LA_ECORRUPT (and *why, may be NULL, set to a static reason)
 * for any byte sequence that is not exactly one canonical encoding, with dst unchanged; or
 * LA_ENOMEM, after which dst is valid and may hold some of the encoded ids. */
int la_uniq_merge_encoded(la_uniq *dst, const uint8_t *p, size_t len, const char **why);

/* la_uniq_merge_encoded_as() : the same, for an encoding whose canonical sketch form is `form`
 * (LA_UNIQ_FORM_*; la_uniq_merge_encoded takes LA_UNIQ_FORM_REGISTERS). */
int la_uniq_merge_encoded_as(la_uniq *dst, const uint8_t *p, size_t len, int form, const char **why);

/* la_uniq_unpack_dense() : the 16384 registers of a dense body (the 12288 bytes after the mode
 * byte) into reg, and how many are not zero into *nonzero. Returns 1 if a register is above
 * 51, else 0. simd = 1 uses AVX2 where the CPU has it, 0 never: decoding uses 1, and the tests
 * compare the two. */
int la_uniq_unpack_dense(const uint8_t *body, uint8_t *reg, uint32_t *nonzero, int simd);

/* la_uniq_register_histogram() : c[k] = how many of the 16384 registers reg[] (each 0..51)
 * equal k, for k = 0..51: what a count needs. simd as for la_uniq_unpack_dense. */
void la_uniq_register_histogram(const uint8_t *reg, uint32_t c[LA_UNIQ_MAX_RANK + 1], int simd);

#endif
