/* rollfile.h — rollup files (SPEC.md §10): the cells of one bucket (an hour file holds the 24
 * hours of a UTC day; a day, ISO week, month or year file holds one cell per key), their string
 * table and sorted index. Pure bytes: the engine maps a file and hands the bytes here. */
#ifndef LA_FORMAT_ROLLFILE_H
#define LA_FORMAT_ROLLFILE_H

#include <stddef.h>
#include <stdint.h>

#include "la.h"

#define LA_ROLL_HEADER 64
#define LA_ROLL_SOURCE 16
#define LA_ROLL_ENTRY 24
/* Versions (SPEC.md §10.2): 1, the first; 2, an hour file that holds only all-links cells
 * (readers ignore the link cells of a version-1 hour file); 3, any level, whose distinct-count
 * states choose the sparse sketch form by registers (LA_UNIQ_FORM_REGISTERS), and whose hour
 * files hold only all-links cells; 4, a week or year file that holds only all-links cells
 * (readers ignore the link cells of older week and year files). Writers write 4 as the
 * write_version of every file, and as its read_version where a file's rules changed:
 * la_roll_read_version(). */
#define LA_ROLL_READ_VERSION 4
#define LA_ROLL_WRITE_VERSION 4
#define LA_ROLL_MAX_CELLS (1u << 28)

/* The read_version a writer gives a file of this level: 4 for weeks and years, 3 otherwise,
 * so that readers of specification version 5 keep reading hour, day and month files. */
unsigned la_roll_read_version(int level);
/* Whether a file of this level and read_version may hold (workspace, link) cells: day and
 * month files, and files written before their level lost them (SPEC.md §10.1). */
int la_roll_has_links(int level, unsigned read_version);

/* The header fields (SPEC.md §10.1). */
typedef struct la_roll_hdr {
    int level;             /* LA_BUCKET_* */
    uint32_t ndims;
    int32_t first_day;     /* first UTC day the file covers */
    uint32_t ndays;        /* days it covers */
    uint32_t nsources, nstrings, ncells;
    uint64_t strings_len, file_len;
    uint32_t read_version; /* decoded files only: 1, 2 (hour files only) or 3 */
} la_roll_hdr;

/* A cell's key: `sub` is the hour of the day in hour files, 0 elsewhere; ws, link and type are
 * string ids (1-based into the file's string table); link 0 means "all links". */
typedef struct la_roll_key {
    uint32_t sub, ws, link, type;
} la_roll_key;

/* A validated file. Every pointer points into the caller's bytes, which must outlive it. */
typedef struct la_roll_view {
    la_roll_hdr h;
    const uint8_t *base;
    const uint8_t *sources, *strings, *index, *cells;
    uint32_t *str_off;     /* offset of each string's length byte in `strings` */
    uint64_t *cell_off;    /* ncells + 1 offsets into `cells` */
} la_roll_view;

/* Validate a file's frame (CRC, header, sources, strings, index and cell bounds) for a database
 * with ndims dimensions; a cell's own structure is checked by la_roll_cell_get, when it is read
 * (a query reads a few of a file's tens of thousands of cells). LA_OK, LA_ENOMEM, LA_EVERSION or LA_ECORRUPT with a static
 * reason in *why and the offset of the fault in *off. */
int la_roll_open(la_roll_view *v, const uint8_t *p, size_t len, uint32_t ndims, const char **why,
                 uint64_t *off);
void la_roll_close(la_roll_view *v);

la_str la_roll_str(const la_roll_view *v, uint32_t sid);
/* The id of string s, 0 if the file has none. */
uint32_t la_roll_find(const la_roll_view *v, const char *s, uint32_t len);
void la_roll_key_at(const la_roll_view *v, uint32_t i, la_roll_key *k);
/* The first index position whose key is >= k (ncells if none). */
uint32_t la_roll_seek(const la_roll_view *v, const la_roll_key *k);
int la_roll_key_cmp(const la_roll_key *a, const la_roll_key *b);
const uint8_t *la_roll_cell_at(const la_roll_view *v, uint32_t i, size_t *len);
/* Rows of `day` the file includes (its source entry); -1 if the day is not a source. */
int64_t la_roll_source_rows(const la_roll_view *v, int32_t day);
void la_roll_source_at(const la_roll_view *v, uint32_t i, int32_t *day, uint64_t *rows);

/* A cell's payload (SPEC.md §10.4). */
typedef struct la_roll_cell {
    uint64_t events;
    int64_t value;
    const uint8_t *vis, *ses;     /* encoded distinct-count states (format/uniq.h) */
    size_t vis_len, ses_len;
    const uint8_t *dims;          /* ndims summaries, back to back */
    size_t dims_len;
    int uniq_form;                /* LA_UNIQ_FORM_* of vis and ses: from the file's version in
                                     la_roll_cell_get; la_roll_cell_parse says REGISTERS */
} la_roll_cell;

/* One dimension's summary inside a cell, read entry by entry. */
typedef struct la_roll_dim {
    uint32_t n;                   /* entries */
    uint64_t absent, other, err;
    const uint8_t *p;
    size_t len, pos;
    uint32_t left, sid;
} la_roll_dim;

/* Parse and check a cell whose strings are ids 1..nstrings. */
int la_roll_cell_parse(const uint8_t *p, size_t len, uint32_t ndims, uint32_t nstrings,
                       la_roll_cell *c, const char **why);
/* Parse and check cell i of an opened file: LA_OK, or LA_ECORRUPT with a static reason. Only
 * a cell it returned may go to la_roll_cell_dim. */
int la_roll_cell_get(const la_roll_view *v, uint32_t i, la_roll_cell *c, const char **why);
/* Summary of dimension `dim` of a parsed (hence checked) cell. */
void la_roll_cell_dim(const la_roll_cell *c, uint32_t dim, la_roll_dim *d);
/* Next entry of a summary: 1 with *sid and *count, 0 at the end. */
int la_roll_dim_next(la_roll_dim *d, uint32_t *sid, uint64_t *count);

/* Writing. A writer computes the sizes, then fills one buffer of file_len bytes:
 * header, sources, strings, index, cells, and finishes with the trailing CRC. */
void la_roll_put_header(uint8_t *p, const la_roll_hdr *h);
void la_roll_put_source(uint8_t *p, int32_t day, uint64_t rows);
void la_roll_put_entry(uint8_t *p, const la_roll_key *k, uint32_t cell_len);
void la_roll_finish(uint8_t *file, size_t len);

/* Cell encoding: what a writer knows about one dimension of a cell. sids strictly ascending. */
typedef struct la_roll_dim_src {
    uint32_t n;
    const uint32_t *sid;
    const uint64_t *count;
    uint64_t absent, other, err;
} la_roll_dim_src;
size_t la_roll_cell_bound(size_t vis_len, size_t ses_len, uint32_t ndims, const la_roll_dim_src *d);
size_t la_roll_cell_encode(uint8_t *out, uint64_t events, int64_t value, const uint8_t *vis,
                           size_t vis_len, const uint8_t *ses, size_t ses_len, uint32_t ndims,
                           const la_roll_dim_src *d);

/* File names (SPEC.md §10): YYYY-MM-DD.hr.roll, YYYY-MM-DD.roll, YYYY-Www.roll (ISO week),
 * YYYY-MM.roll, YYYY.roll. la_roll_name returns snprintf's count; la_roll_name_parse 0 or -1. */
int la_roll_name(char *buf, size_t cap, int level, int32_t first_day);
int la_roll_name_parse(const char *name, int *level, int32_t *first_day);

/* The bucket of `level` containing UTC day `day`: its first day and its length in days. */
int32_t la_bucket_first_day(int level, int32_t day);
uint32_t la_bucket_ndays(int level, int32_t first_day);

#endif
