/* db.h — the database handle's internals, shared by db.c (open/append/flush/close) and the
 * readers (scan.c). */
#ifndef LA_ENGINE_DB_H
#define LA_ENGINE_DB_H

#include <pthread.h>
#include <stdatomic.h>

#include "day.h"
#include "meta.h"
#include "rollstore.h"

typedef struct la_day_slot {
    int32_t day;
    la_day *d;      /* NULL until first used */
    uint8_t sealed; /* known sealed, and no late event since: automatic sealing skips it */
    int gone;       /* read-only: retention deleted the file; d keeps its mapping for open cursors */
    uint64_t used;  /* db->day_tick when d was last handed out: la_db_trim_days closes the oldest */
} la_day_slot;

struct la_db {
    char *path;
    int readonly;
    int lock_fd;
    int dir_watch;      /* read-only: the io seam's watch on the directory, or -1 */
    int dir_rescan_due; /* read-only: a change was seen and not yet listed */
    uint64_t dir_epoch; /* read-only: counts the looks at the directory that found (or could
                         * not rule out) a change; a day whose file identity was checked in
                         * this epoch needs no new check */
    la_meta meta;
    la_day_cfg cfg;
    pthread_mutex_t mu;
    la_day_slot *days; /* sorted by day */
    size_t ndays, days_cap;
    la_rstate roll;
    /* Sealing (compact.c). */
    uint32_t seal_after_days;
    int seal_level;
    int auto_seal;
    int dir_unsynced;           /* a rename's directory sync failed: la_flush() retries it */
    int32_t seal_failed_newest; /* auto-sealing failed while this was the newest day: wait for
                                 * a newer one before trying again (INT32_MIN = no failure) */
    /* Day handles replaced (sealed, or a reader saw the file change) while cursors may still
     * read them: freed once no cursor is open. */
    la_day **retired;
    size_t nretired, retired_cap;
    atomic_int open_cursors;
    _Atomic(struct la_cursor *) spare_cursor; /* a closed cursor kept for its row buffers */
    struct la_realtime *live;  /* the realtime layer (live.h) */
    /* the life of a day (retention.c) */
    uint32_t retention_days;
    int64_t future_skew_ms;   /* -1: no limit */
    int auto_retention;
    int newest_known;         /* writer: newest_ts is the newest event stored */
    int64_t newest_ts;        /* INT64_MIN: no event */
    /* Open day handles (each an fd and a mapping) are capped, least recently used closed first. */
    size_t days_open;
    uint64_t day_tick;
    la_progress_fn progress; /* la_set_progress() */
    void *progress_ctx;
};

/* Day handles a la_db keeps open once a call returns (more while one cursor spans more days). */
#define LA_DB_OPEN_DAYS 64

/* With db->mu held: the day's handle, opened (and with create, created) on first use. */
int la_db_day(la_db *db, int32_t day, int create, la_day **out);
/* With db->mu held: la_db_day(), and on a read-only handle also la_day_refresh(), after
 * reopening the day if a writer replaced its file (LA_ENOTFOUND if it was deleted). */
int la_db_day_fresh(la_db *db, int32_t day, la_day **out);

/* Read-only handles: whether the directory watch vouches that no file of the directory was
 * renamed, created or deleted since `epoch` (a value of db->dir_epoch). */
int la_db_dir_same_since(const la_db *db, uint64_t epoch);
/* Read-only handles: whether d's file was replaced or deleted since d opened it (a stat of its
 * name, skipped while la_db_dir_same_since() its last check). */
int la_db_day_replaced(la_db *db, la_day *d);
/* With db->mu held: forget the day's handle (the next la_db_day() opens the file again); it is
 * closed now or, while cursors are open, once they are closed. */
int la_db_day_retire(la_db *db, int32_t day);
/* With db->mu held: close retired days if no cursor is open. */
void la_db_free_retired(la_db *db);
/* With db->mu held, at the end of a public call (no la_day pointer held): close the least
 * recently used days beyond LA_DB_OPEN_DAYS, a writer's sealed and synced first (a day that
 * cannot be is kept); days open cursors read are retired instead, closed with the last cursor. */
void la_db_trim_days(la_db *db);
/* With db->mu held, read-only handles: pick up day files a writer created since. */
int la_db_rescan_days(la_db *db);
/* A read-only handle's view of the days brought up to date: listed again only when its
 * directory watch saw a change (or it has none). Nothing to do for a writer. */
int la_db_refresh_days(la_db *db);

/* Cursors for callers that hold db->mu (rollup replay, queries). la_scan_seq_locked reads
 * the rows of one day with seq in [seq_lo, seq_hi) that match f (NULL = all). */
int la_scan_locked(la_db *db, const la_filter *f, la_cursor **out);
int la_scan_seq_locked(la_db *db, const la_filter *f, int32_t day, uint64_t seq_lo, uint64_t seq_hi,
                       la_cursor **out);
int la_cursor_next_locked(la_cursor *c, la_batch *out);
/* Whether the last batch came from a segment's tail: such a batch numbers its strings afresh
 * (ids 1..n in arrays reused by the next tail batch), where a block's ids are its day's, the
 * same in every batch of that day. */
int la_cursor_batch_from_tail(const la_cursor *c);
/* The dimensions (bit d: dimension d) the caller of a cursor reads: blocks leave the others
 * undecoded (a query for one dimension, or none, need not decompress the rest) and batches
 * give them as absent. Every dimension until this is called. */
void la_cursor_dims(la_cursor *c, uint64_t mask);
/* Free the closed cursor the handle keeps for its buffers (la_close). */
void la_cursor_free_spare(la_db *db);

/* With db->mu held, a writer: seal the tails of the days before the newest one into blocks, so
 * that a checkpoint includes their rows (a day that ended gets few more; otherwise its files
 * would be rewritten again for its tail at la_close). */
int la_db_seal_ended_tails(la_db *db);

/* With db->mu held: la_compact() (compact.c); report: call la_set_progress()'s function. */
int la_compact_locked(la_db *db, unsigned flags, int report, la_compact_stats *st);
/* With db->mu held: close a day whose files retention deleted and forget its slot. */
void la_db_forget_day(la_db *db, int32_t day);

/* retention.c, with db->mu held. la_db_check_time: LA_EFUTURE / LA_ETOOOLD for an event time
 * (SPEC.md §14); la_db_auto_retention: the retention la_flush runs when a day expired. */
int la_db_check_time(la_db *db, int64_t ts);
int la_db_auto_retention(la_db *db);

#define LA_MS_PER_DAY 86400000LL
#define LA_MAX_DAY 2932896 /* 9999-12-31 */

static inline int64_t la_floor_div(int64_t a, int64_t b) { return a / b - ((a % b) != 0 && ((a < 0) != (b < 0))); }

#endif
