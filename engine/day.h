/* day.h — one UTC day's segment file as the engine holds it: mapped, recovered, appended to,
 * sealed into blocks and flushed. Not thread-safe: the database's mutex guards every call. */
#ifndef LA_ENGINE_DAY_H
#define LA_ENGINE_DAY_H

#include <stddef.h>
#include <stdint.h>

#include "dict.h"
#include "segment.h"

typedef struct la_day_cfg {
    la_schema schema;
    uint32_t block_rows;
    int codec, level;
} la_day_cfg;

typedef struct la_blkref {
    uint64_t off;             /* frame offset in the file */
    uint32_t len, nrows;
    uint64_t first_seq;
    int64_t min_ts, max_ts;
    uint32_t dict_end[LA_MAX_COLS]; /* dictionary size after this block, per dictionary column */
    uint8_t kind;             /* LA_BLOCK_APPEND or LA_BLOCK_SORTED */
    uint32_t ws_min, ws_max, link_min, link_max; /* sorted blocks: their id ranges */
    uint64_t crc_ok;          /* columns whose checksum a scan has checked (bit c = column c) */
} la_blkref;

_Static_assert(LA_MAX_COLS <= 64, "la_blkref.crc_ok has a bit per column");

typedef struct la_day la_day;

/* The rows one seal turned into a block, as the block holds them: string and id columns as
 * ids into the day's dictionaries (valid for the life of the la_day). */
typedef struct la_sealed {
    uint64_t first_seq;
    uint32_t n;
    const int64_t *ts, *value;
    const uint8_t *has_value;
    const uint64_t *visitor, *session;
    const uint32_t *ids[LA_MAX_COLS]; /* per dictionary column */
} la_sealed;

/* Called after a seal made its block durable (rollups follow sealed rows this way). */
typedef void (*la_seal_fn)(void *ctx, la_day *d, const la_sealed *rows);

struct la_day {
    int32_t day;
    char name[16];            /* "YYYY-MM-DD.seg" */
    char *path;
    const la_day_cfg *cfg;
    int fd, writable;
    uint16_t version;         /* the header's read_version: 2 once sealed */
    uint64_t ino;             /* the file's inode: a read-only handle notices a replaced file */
    uint64_t ino_epoch;       /* read-only: the handle's directory epoch when ino was last
                               * compared with the name's (la_db_day_fresh) */
    uint8_t seen_slots[2 * LA_SEG_SLOT_SIZE]; /* read-only: the commit slots' bytes of the
                                               * loaded state (seen_valid), for la_day_refresh */
    int seen_valid;
    uint8_t *map;
    size_t map_len;
    uint64_t file_size;
    la_commit commit;
    int slot;                 /* index of the slot holding `commit` */
    la_blkref *blocks;
    uint32_t nblocks;
    uint64_t blocks_cap;
    uint64_t *tail_off;       /* offset of each tail record */
    uint64_t tail_rows, tail_cap, tail_end, tail_est;
    uint64_t alloc_end;       /* tail bytes [tail_start, alloc_end) are allocated */
    la_dict *dict[LA_MAX_COLS];
    uint32_t dict_blocks;     /* blocks whose dictionary parts are loaded */
    int rotated;              /* writer: a fresh tail generation was committed since open */
    uint64_t dirty_from;      /* writer: tail bytes from here are not yet synced */
    int dirty;
    la_seal_fn on_seal;
    void *on_seal_ctx;
};

/* Open (and with `create`, create) the segment of `day` in directory dir. A writer's open
 * recovers: picks the newest valid commit slot, walks the blocks and keeps the valid prefix of
 * the tail. LA_ENOTFOUND if the file does not exist and create == 0. */
int la_day_open(la_day **out, const char *dir, int32_t day, const la_day_cfg *cfg, int writable,
                int create);
void la_day_close(la_day *d);

/* Read-only handles: pick up what a writer process committed or appended since. */
int la_day_refresh(la_day *d);
/* 1 if the file at d's path is no longer the one d has open (a writer sealed the day and
 * renamed its new file over it, or retention deleted it). */
int la_day_replaced(const la_day *d);

/* A sealed day: its first blocks are sorted (SPEC.md §5.5). Rows after them (append blocks
 * and the tail) arrived late, after the day was sealed. */
int la_day_sealed(const la_day *d);
uint64_t la_day_rows(const la_day *d);
uint64_t la_day_late_rows(const la_day *d);

/* Append one row (its ts must fall in the day). */
int la_day_append(la_day *d, const la_row *r);
/* Seal the tail into a block if it holds rows. */
int la_day_seal(la_day *d);
/* Make every appended row durable. */
int la_day_flush(la_day *d);

/* Load dictionary parts of all blocks (needed to read ids). */
int la_day_load_dicts(la_day *d);
/* Decode tail row i (strings point into the map: valid until the next call on d). */
int la_day_tail_row(const la_day *d, uint64_t i, la_row *row);
/* A tail salt different from old (SPEC.md §5.3), also for the commit of a sealed file. */
uint32_t la_day_salt(uint32_t old);
/* Report corruption at a file offset: sets the message, returns LA_ECORRUPT. */
int la_day_corrupt(const la_day *d, uint64_t off, const char *why);

#endif
