/* rollup.h — rollup cells in memory: a set of cells keyed by (bucket, workspace, link, event
 * type) with their own string dictionary. The engine keeps one set per day for the rows that
 * the day's rollup files do not include yet, and builds sets to merge and write files. */
#ifndef LA_ENGINE_ROLLUP_H
#define LA_ENGINE_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include "dict.h"
#include "rollfile.h"
#include "segment.h"
#include "uniq.h"

/* Value counts of one dimension in one cell: string id -> count (open addressing, 0 = empty
 * slot), plus the parts a file summary carries (SPEC.md §10.4). */
typedef struct la_dimcount {
    uint32_t n, cap;           /* cap 0: the n <= 2 entries are inline (counts below 2^32) */
    union {
        struct {
            uint32_t sid[2], cnt[2];
        } in;
        struct {
            uint32_t *sid;
            uint64_t *cnt;
        } h;
    } u;
    uint64_t absent, other, err;
} la_dimcount;

/* Entries of a summary by slot: slots 0..la_dim_slots()-1, of which those with sid != 0 hold
 * an entry. */
static inline uint32_t la_dim_slots(const la_dimcount *d) { return d->cap ? d->cap : d->n; }
static inline uint32_t la_dim_sid(const la_dimcount *d, uint32_t i)
{
    return d->cap ? d->u.h.sid[i] : d->u.in.sid[i];
}
static inline uint64_t la_dim_cnt(const la_dimcount *d, uint32_t i)
{
    return d->cap ? d->u.h.cnt[i] : d->u.in.cnt[i];
}

typedef struct la_cell {
    int32_t t;                 /* bucket number: hour (ts / 3600000) or the bucket's first day */
    uint32_t ws, link, type;   /* ids in the set's dictionary; link 0 = all links */
    uint64_t events;
    int64_t value;             /* sum mod 2^64 */
    la_uniq vis, ses;
    la_dimcount *dims;         /* the set's ndims */
} la_cell;

typedef struct la_cellset {
    uint32_t ndims;
    const uint32_t *caps;      /* per dimension: values a written cell keeps (SPEC.md §10.4) */
    la_dict *dict;
    int own_dict;
    la_cell **cells;
    size_t n, cap;
    uint64_t *table;           /* 2 * cap slots: hash << 32 | (index + 1); 0 = empty */
    uint32_t types[16];        /* distinct type ids, for queries over all types */
    uint32_t ntypes;
    int many_types;            /* more than 16: queries look at every cell */
    uint64_t rows;             /* rows added with la_cellset_add */
    int uncounted;             /* a worker could not add some rows (rollwork.h): drop the set */
    uint8_t *arena;            /* cells are carved from chunks freed with the set */
    uint8_t *arena_next;
    size_t arena_left;
    size_t arena_chunk;        /* size of the last chunk; the next one is twice that */
} la_cellset;

la_cellset *la_cellset_new(uint32_t ndims, const uint32_t *caps);
/* A set that uses the dictionary of `with` (which must outlive it): merging between sets of
 * one dictionary needs no string lookups. */
la_cellset *la_cellset_new_shared(la_cellset *with);
void la_cellset_free(la_cellset *cs);

/* Add one event to its workspace's (all links) cell of `hour` and its link's cell of the day
 * (keyed by the day's first hour: links have no hour cells); id[] holds the set's ids of
 * workspace, link, event type and each dimension (0 = absent); value 0 when it has none.
 * LA_OK or LA_ENOMEM (the set may then hold part of the row: the caller drops the set). */
int la_cellset_add(la_cellset *cs, int32_t hour, const uint32_t *id, uint64_t visitor,
                   uint64_t session, int64_t value);

/* The cell of a key, created empty if `create`; NULL if absent (or out of memory: *rc). */
la_cell *la_cellset_get(la_cellset *cs, int32_t t, uint32_t ws, uint32_t link, uint32_t type,
                        int create, int *rc);

/* Cell i of a file of directory dir (NULL: named without one), as la_roll_cell_get; a bad
 * cell sets the error (la_err_corrupt) with the file's path and the cell's offset. */
int la_cell_read(const char *dir, const la_roll_view *v, uint32_t i, la_roll_cell *c);

/* dst += src, where src belongs to set `from` (its string ids are mapped through strings). */
int la_cell_merge(la_cellset *dst, la_cell *d, const la_cellset *from, const la_cell *s);
/* Which cells of a set an operation takes. */
#define LA_CELLS_ALL 0
#define LA_CELLS_WORKSPACE 1 /* the (workspace, all links) cells */
#define LA_CELLS_LINKS 2     /* the (workspace, link) cells */

/* The `which` cells of set `from`, whose t are buckets of from_level (hours or days), into the
 * buckets of `level` (an hour's or day's day, week, month or year). */
int la_cellset_merge_all(la_cellset *dst, const la_cellset *from, int which, int from_level, int level);
/* Every cell of a file, into the buckets of `level`: t = first_day * 24 + sub for hour files
 * read as hours, else the first day of the level's bucket holding the file's first day. */
int la_cellset_merge_view(la_cellset *dst, const char *dir, const la_roll_view *v, int level);

/* Encode the set as a rollup file of `level` starting at first_day with the given sources
 * (SPEC.md §10), into *out: a malloc'ed buffer of *cap bytes (NULL, 0 at first) that is grown
 * when too small and may be reused for the next file. *len gets the file's length. `links`,
 * if not NULL, is a set of the same dictionary whose link cells the file holds too, in place
 * of any of cs's: a writer's delta, whose link cells are already per day, next to the sum of
 * its workspace hours (nothing is copied). */
int la_cellset_encode(la_cellset *cs, const la_cellset *links, int level, int32_t first_day,
                      const int32_t *src_day, const uint64_t *src_rows, uint32_t nsources,
                      uint8_t **out, size_t *cap, size_t *len);

/* The bucket number of an hour at a level: the hour itself, or the first day of its bucket. */
int32_t la_level_t(int level, int32_t hour);

#endif
