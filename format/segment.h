/* segment.h — the bytes of a day segment file that are not blocks: the header page with the
 * schema and the two commit slots, and the tail records (SPEC.md §4, §5, §7). Pure codecs. */
#ifndef LA_FORMAT_SEGMENT_H
#define LA_FORMAT_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "la.h"

#define LA_SEG_MAGIC "LASEG\r\n\x1a"
#define LA_SEG_READ_VERSION 2  /* the newest versions this library reads and writes */
#define LA_SEG_WRITE_VERSION 2
/* What a file is written as: a day in append order stays readable by version-1 readers; a
 * sealed day holds sorted blocks, which they cannot read (SPEC.md §5.1). */
#define LA_SEG_VERSION_HOT 1
#define LA_SEG_VERSION_SEALED 2
#define LA_SEG_HEADER_SIZE 4096u
#define LA_SEG_SCHEMA_END 3068u /* header CRC at [3068, 3072) covers [0, 3068) */
#define LA_SEG_SLOT_OFF 3072u
#define LA_SEG_SLOT_SIZE 64u

/* Column types (SPEC.md §3). Column order is fixed: the first LA_NFIXED columns below, then
 * one LA_COL_STR column per dimension. */
enum {
    LA_COL_TS = 1,      /* int64 ms, ENC_TS_DOD */
    LA_COL_STR = 2,     /* dictionary string, ENC_DICT_STR */
    LA_COL_U64 = 3,     /* dictionary uint64, ENC_DICT_U64 */
    LA_COL_OPT_I64 = 4, /* optional int64, ENC_OPT_I64 */
};
enum {
    LA_C_TS, LA_C_WORKSPACE, LA_C_LINK, LA_C_TYPE, LA_C_VISITOR, LA_C_SESSION, LA_C_VALUE,
    LA_NFIXED
};
#define LA_MAX_COLS (LA_NFIXED + LA_MAX_DIMS)

typedef struct la_schema {
    uint32_t ncols;
    uint8_t type[LA_MAX_COLS];
    char name[LA_MAX_COLS][LA_MAX_DIM_NAME + 1];
} la_schema;

/* Fill the fixed columns and the given dimensions (each name 1..63 bytes); LA_EINVAL if too many. */
int la_schema_init(la_schema *s, const char *const *dims, uint32_t ndims);
static inline uint32_t la_schema_ndims(const la_schema *s) { return s->ncols - LA_NFIXED; }
/* 1 if the two schemas have the same columns in the same order. */
int la_schema_equal(const la_schema *a, const la_schema *b);
/* 1 if column c of s is never absent (id 0 in it is corruption): the uint64 columns, and the
 * workspace, link and event type, which every event has (SPEC.md §3.2). */
static inline int la_col_required(const la_schema *s, uint32_t c)
{
    return s->type[c] == LA_COL_U64 || c == LA_C_WORKSPACE || c == LA_C_LINK || c == LA_C_TYPE;
}
/* 1 if column c of s is required and one of its n decoded ids is 0 (corruption). */
static inline int la_col_missing(const la_schema *s, uint32_t c, const uint32_t *ids, uint32_t n)
{
    if (!la_col_required(s, c))
        return 0;
    for (uint32_t r = 0; r < n; r++)
        if (ids[r] == 0)
            return 1;
    return 0;
}

typedef struct la_seg_header {
    uint16_t read_version, write_version;
    int32_t day; /* days since 1970-01-01 (UTC) */
    la_schema schema;
} la_seg_header;

/* Encode the header page (without slots: bytes [3072, 4096) are left as they are).
 * p has LA_SEG_HEADER_SIZE bytes. */
int la_seg_header_encode(uint8_t *p, const la_seg_header *h);
/* Decode and validate [0, 3072) of the header page; n is the bytes available. */
int la_seg_header_decode(const uint8_t *p, size_t n, la_seg_header *out, const char **why);

/* A commit slot: the state a reader must start from (SPEC.md §5). */
typedef struct la_commit {
    uint64_t generation;     /* 0 = empty slot; the valid slot with the highest wins */
    uint64_t blocks_end;     /* blocks occupy [4096, blocks_end) back to back */
    uint32_t block_count;
    uint64_t rows_in_blocks; /* = sum of the blocks' row counts = seq of the first tail row */
    uint64_t tail_start;     /* first tail record; >= blocks_end */
    uint32_t tail_salt;      /* mixed into every tail record's checksum */
} la_commit;

void la_commit_encode(uint8_t *p, const la_commit *c);
/* LA_ECORRUPT if the slot's checksum fails or its fields are inconsistent; an all-zero slot
 * decodes as generation 0 (empty) with LA_OK. */
int la_commit_decode(const uint8_t *p, la_commit *out, const char **why);

/* Tail records (SPEC.md §7). */
#define LA_TAIL_REC_HEADER 16u
/* The largest payload a record may have with ns string columns. */
size_t la_tail_payload_max(uint32_t nstr);

/* One row as the tail stores it; strings point into the caller's or the record's bytes. */
typedef struct la_row {
    int64_t ts;
    uint64_t visitor, session;
    int64_t value;
    int has_value;
    uint32_t nstr;             /* number of string columns: 3 + ndims */
    la_str str[3 + LA_MAX_DIMS]; /* workspace, link, event type, dims...; data NULL = absent */
} la_row;

/* Bytes of the payload for row r. */
size_t la_tail_payload_size(const la_row *r);
/* Write a whole record (header + payload) for row r with sequence number seq at p (room for
 * LA_TAIL_REC_HEADER + la_tail_payload_size(r)); returns bytes written. */
size_t la_tail_record_encode(uint8_t *p, uint32_t salt, uint64_t seq, const la_row *r);
/* Try to read one record at p[0..n): returns its total size (> 0) and fills *row (strings
 * point into p) when it is valid with this salt and sequence number; returns 0 when there is
 * no valid record here (end of tail, torn or stale bytes). nstr is the schema's count.
 * check_crc = 0 skips only the checksum, for records this process already validated. */
size_t la_tail_record_decode(const uint8_t *p, size_t n, uint32_t salt, uint64_t seq,
                             uint32_t nstr, la_row *row, int check_crc);

/* Segment file name for a day: "YYYY-MM-DD.seg" (buf >= 16 bytes). Returns 0 or LA_ERANGE. */
int la_seg_name(int32_t day, char *buf, size_t cap);
/* Parse such a name back; 0 on success, LA_EINVAL if it is not a segment name. */
int la_seg_name_parse(const char *name, int32_t *day);

#endif
