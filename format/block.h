/* block.h — a sealed columnar block: header, column descriptors and compressed column parts
 * (SPEC.md §6). Encoding takes columns already mapped to dictionary ids; decoding validates the
 * header first (la_block_parse) and then yields each column part on demand. */
#ifndef LA_FORMAT_BLOCK_H
#define LA_FORMAT_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "segment.h"

#define LA_BLOCK_MAGIC "LABK"
#define LA_BLOCK_FIXED 40u   /* bytes before the column descriptors */
#define LA_BLOCK_DESC 32u    /* bytes per column descriptor */
#define LA_BLOCK_MAX_ROWS (1u << 20)
#define LA_BLOCK_KEYS 16u    /* sorted blocks: workspace and link id ranges after the descriptors */

/* Encodings (SPEC.md §3); version 1 uses exactly one per column type, numbered like the type. */
enum { LA_ENC_TS_DOD = 1, LA_ENC_DICT_STR = 2, LA_ENC_DICT_U64 = 3, LA_ENC_OPT_I64 = 4 };

/* Block kinds: rows in append order (hot), or sorted by workspace, link, ts (a sealed day). */
enum { LA_BLOCK_APPEND = 0, LA_BLOCK_SORTED = 1 };

/* Bytes of a block header before its checksum: a sorted block also carries its key range. */
static inline size_t la_block_header_size(uint32_t ncols, uint8_t kind)
{
    return LA_BLOCK_FIXED + (size_t)LA_BLOCK_DESC * ncols + (kind == LA_BLOCK_SORTED ? LA_BLOCK_KEYS : 0);
}

/* One column's input to the encoder; which fields are used depends on the column type. */
typedef struct la_col_in {
    const int64_t *i64;       /* TS, OPT_I64 */
    const uint8_t *present;   /* OPT_I64 */
    const uint32_t *ids;      /* STR, U64: ids into the segment dictionary (0 = absent) */
    uint32_t dict_base;       /* STR, U64: dictionary size before this block */
    uint32_t new_count;       /* STR, U64: entries this block adds (ids dict_base+1 ..) */
    const la_str *new_str;    /* STR */
    const uint64_t *new_u64;  /* U64 */
} la_col_in;

typedef struct la_block_in {
    const la_schema *schema;
    uint32_t nrows;           /* 1 .. LA_BLOCK_MAX_ROWS */
    uint64_t first_seq;
    uint8_t kind;
    int codec, level;
    la_col_in col[LA_MAX_COLS];
} la_block_in;

/* Upper bound of the encoded frame for this input. */
size_t la_block_bound(const la_block_in *in);
/* Encode into out (cap >= la_block_bound(in)); *out_len gets the frame length. A column part
 * is stored uncompressed (codec 0) when compression would not save an eighth of it. A sorted block
 * gets the range of its workspace and link ids, which must all be non-zero. Returns 0,
 * LA_EINVAL or LA_ENOMEM. */
int la_block_encode(const la_block_in *in, uint8_t *out, size_t cap, size_t *out_len);

typedef struct la_col_desc {
    uint8_t encoding;
    uint8_t codec;            /* of the dictionary part */
    uint8_t data_codec;       /* of the data part */
    uint32_t dict_count, dict_raw, dict_stored, data_raw, data_stored, crc;
    size_t offset;            /* of the dictionary part, from the frame start */
} la_col_desc;

typedef struct la_block_view {
    const uint8_t *base;
    uint32_t frame_len, nrows, ncols;
    uint8_t kind;
    uint64_t first_seq;
    int64_t min_ts, max_ts;
    /* sorted blocks: every row's workspace id is in [ws_min, ws_max], its link id in
     * [link_min, link_max] (all 0 in append blocks) */
    uint32_t ws_min, ws_max, link_min, link_max;
    la_col_desc col[LA_MAX_COLS];
} la_block_view;

/* Validate the frame header at p[0..n) against the schema: magic, header checksum, column
 * count, encodings and codecs known, every size within its limit and the parts inside
 * frame_len <= n. Does not read the parts (their checksums are la_block_check()). */
int la_block_parse(const uint8_t *p, size_t n, const la_schema *schema, la_block_view *out,
                   const char **why);
/* Verify the checksum of column c's stored parts. */
int la_block_check(const la_block_view *v, uint32_t c, const char **why);
/* Decompress part `which` (0 = dictionary, 1 = data) of column c into dst (room for
 * dict_raw / data_raw bytes). Checks the column checksum first. */
int la_block_part(const la_block_view *v, uint32_t c, int which, uint8_t *dst, const char **why);
/* la_block_part without the checksum: for a column whose checksum was checked before, in bytes
 * that cannot have changed since (a block is never rewritten in place). */
int la_block_part_checked(const la_block_view *v, uint32_t c, int which, uint8_t *dst, const char **why);

/* Parse a raw STR dictionary part of `count` entries into out[count] (pointing into raw). */
int la_dict_str_parse(const uint8_t *raw, size_t len, uint32_t count, la_str *out, const char **why);
/* Parse a raw U64 dictionary part of `count` entries. */
int la_dict_u64_parse(const uint8_t *raw, size_t len, uint32_t count, uint64_t *out, const char **why);

#endif
