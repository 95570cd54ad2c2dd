/* la.h — the whole public interface of la, an embedded columnar store for link-click events.
 *
 * This header is the manual. Conventions:
 *  - Every call that can fail returns int: LA_OK (0) or a negative LA_E* code (values pinned
 *    below, never renumbered). la_strerror(code) names a code; la_errmsg() gives the detailed
 *    message of the calling thread's last failure (file, offset, reason).
 *  - Handles are opaque. Objects handed back through an `out` pointer are owned by the caller
 *    and released by the matching *_close / *_free, which accept NULL and cannot fail.
 *  - Times are int64 milliseconds since the Unix epoch, UTC. Ranges are half-open [from, to).
 *  - Strings are byte strings (any bytes, NUL included) passed as la_str; data == NULL means
 *    "absent", which is distinct from an empty string (data != NULL, len == 0).
 *
 * Threads: one la_db handle may be shared by any number of threads; appends, flushes and
 * cursors are serialized internally. A la_cursor belongs to one thread at a time. Every
 * cursor of a handle must be closed before la_close(handle), which no other thread may be
 * using at that moment. Calls that take no la_db (la_strerror, la_hash_id, la_verify,
 * la_version_number) may run on any thread at any time. A writer handle starts one thread of
 * its own, which counts rollups (la_options.no_rollup_thread; it blocks every signal and ends
 * with la_close). Do not fork() while a handle is open and use it in the child.
 * Memory: every input (paths, options, events, filters, queries) is only read during the
 * call; la copies what it keeps, so the caller may free or reuse it as soon as the call
 * returns. Pointers la hands out say how long they stay valid where they are described.
 * Processes: one writer process per database (a lock file; a second writer gets LA_EBUSY), and
 * any number of processes opening with LA_OPEN_READONLY, which see every flushed event. A
 * read-only handle looks for the writer's news at each call: one read of its directory watch
 * (inotify) and a look at the commit slots of the days it reads, in its mapping; it asks the
 * file system for more (a stat, a listing) only when one of those shows a change.
 */
#ifndef LA_H
#define LA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LA_VERSION_MAJOR 0
#define LA_VERSION_MINOR 1
#define LA_VERSION_PATCH 0
#define LA_VERSION_NUMBER (LA_VERSION_MAJOR * 10000 + LA_VERSION_MINOR * 100 + LA_VERSION_PATCH)
#define LA_VERSION_STRING "0.1.0"

#if defined(__GNUC__) && __GNUC__ >= 4
#define LA_API __attribute__((visibility("default")))
#else
#define LA_API
#endif

/*! la_version_number() : the library's LA_VERSION_NUMBER, to check header == library. */
LA_API int la_version_number(void);

/* ---------------------------------------------------------------------------------------
 * Error codes (stable values)
 * ------------------------------------------------------------------------------------- */
#define LA_OK 0
#define LA_EINVAL (-1)     /* bad argument: NULL handle, bad option, string too long, ... */
#define LA_ENOMEM (-2)     /* allocation failed */
#define LA_EIO (-3)        /* the OS refused a file operation; errno in la_errmsg() */
#define LA_ECORRUPT (-4)   /* a file failed a checksum or an invariant; la_errmsg() says where */
#define LA_EBUSY (-5)      /* another process holds the database for writing */
#define LA_ENOTFOUND (-6)  /* no database there (and no LA_OPEN_CREATE), or no such time zone */
#define LA_EVERSION (-7)   /* file written by a newer, incompatible format version */
#define LA_ENOSPC (-8)     /* disk full; nothing was lost, retry after freeing space */
#define LA_EREADONLY (-9)  /* write call on a handle opened with LA_OPEN_READONLY */
#define LA_ESCHEMA (-10)   /* options disagree with the existing database's schema */
#define LA_ETOOOLD (-11)   /* event older than the retention window (see la_append) */
#define LA_EFUTURE (-12)   /* event further in the future than future_skew_ms (see la_append) */
#define LA_ERANGE (-13)    /* timestamp outside the supported range (years 1970..9999) */
#define LA_ENOTKEPT (-14)  /* a query needs raw events or hourly rollups that retention deleted */

/*! la_strerror() : static, never-NULL text for an error code ("unknown error" otherwise). */
LA_API const char *la_strerror(int code);

/*! la_errmsg() : the detailed message of the calling thread's most recent failed call, or "".
 *  Thread-local: a failure on one thread never changes another thread's message. The string
 *  is owned by la and valid until the next la_* call on the same thread. */
LA_API const char *la_errmsg(void);

/* ---------------------------------------------------------------------------------------
 * Values
 * ------------------------------------------------------------------------------------- */

/* Maximum length in bytes of any string value (workspace, link, event type, dimension). */
#define LA_MAX_STR 255
/* Maximum number of dimensions (the five defaults included), and of a dimension name. */
#define LA_MAX_DIMS 32
#define LA_MAX_DIM_NAME 63

typedef struct la_str {
    const char *data; /* NULL = absent; otherwise len bytes, not necessarily NUL-terminated */
    uint32_t len;
} la_str;

/*! la_hash_id() : 64-bit id for any string (XXH3-64 with seed 0 over the bytes), so that apps
 *  can pass visitor and session identifiers they already have. Stable across versions:
 *  the value is part of the file format (lactl ingest stores hashed ids). */
LA_API uint64_t la_hash_id(const void *data, size_t len);

/* One event. Dimension values follow the database's dimension order (la_db_dim_name()). */
typedef struct la_event {
    int64_t ts;           /* ms since epoch, UTC */
    la_str workspace;     /* required (data != NULL) */
    la_str link;          /* required */
    la_str event_type;    /* required: "click", "lead", "sale" or any user-named type */
    uint64_t visitor_id;  /* e.g. la_hash_id(visitor string) */
    uint64_t session_id;
    int64_t value;        /* e.g. sale amount in cents; meaningful only if has_value */
    int has_value;
    const la_str *dims;   /* ndims values (NULL = all absent) */
    uint32_t ndims;       /* may be less than the database's count: the rest are absent */
} la_event;

/* ---------------------------------------------------------------------------------------
 * Opening a database
 * ------------------------------------------------------------------------------------- */

typedef struct la_db la_db;

#define LA_OPEN_CREATE 1u   /* create the directory and database if missing */
#define LA_OPEN_READONLY 2u /* no lock, no writes; sees every flushed event */

#define LA_CODEC_NONE 0
#define LA_CODEC_LZ4 1
#define LA_CODEC_ZSTD 2

typedef struct la_options {
    uint32_t version;        /* LA_OPTIONS_VERSION */
    uint32_t block_rows;     /* rows per sealed block; 0 = default 16384; 64..1048576 */
    int codec;               /* block codec for new blocks; default LA_CODEC_LZ4 */
    int zstd_level;          /* 1..19 when codec is zstd; 0 = default 3 */
    uint32_t retention_days; /* raw events of a UTC day are kept until the day ended this many
                              * days before the reference time (see "Retention"); 0 = the
                              * database's (la.meta, set at creation: this value or 30) */
    /* Dimensions beyond the defaults, used only when the database is created; NULL = none.
     * Names: 1..LA_MAX_DIM_NAME bytes of [a-z0-9_], unique, not a built-in column name. */
    const char *const *extra_dims;
    uint32_t n_extra_dims;
    int no_default_dims;     /* 1 = do not add country, city, device, browser, referrer */
    /* Version 2. Rollups (see "Dashboard queries"): rows appended since the last checkpoint
     * are held in memory (about 300 bytes each) and merged into the rollup files by the first
     * la_flush() after checkpoint_rows of them, and by la_close(). 0 = default 1048576. */
    uint32_t checkpoint_rows;
    int no_rollups;          /* 1 = this handle keeps no rollups; its queries read raw events */
    /* Version 3. The life of a day (see "Realtime", "Late events", "Sealing", "Retention"). */
    int64_t future_skew_ms;  /* events later than now + this are LA_EFUTURE; 0 = default 1 hour,
                              * -1 = accept any future time */
    uint32_t live_window_min; /* realtime sliding window in minutes; 0 = default 30, max 1440 */
    uint32_t live_active_min; /* "active visitors" window in minutes; 0 = default 5, at most
                               * live_window_min */
    uint32_t seal_after_days; /* a UTC day is sealed (sorted, zstd) once it ended this many days
                               * before the newest event's day; 0 = default 2 */
    int seal_level;           /* zstd level of sealed days, 1..19; 0 = default 9 */
    int no_auto_seal;         /* 1 = seal only through la_compact() */
    int no_auto_retention;    /* 1 = delete expired days only through la_retention() */
    /* Version 4. A writer counts the rollups of sealed rows on a thread of its own, started at
     * its first seal when more than one CPU is online, while the appending thread goes on
     * (see "Threads"). 1 = count them on the appending thread, start no thread. */
    int no_rollup_thread;
} la_options;

#define LA_OPTIONS_VERSION 4
#define LA_OPTIONS_INIT {LA_OPTIONS_VERSION, 0, LA_CODEC_LZ4, 0, 0, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

/*! la_open() : open the database in directory `path` (flags: LA_OPEN_*), options may be NULL.
 *  A writer recovers every day segment after a crash: torn tails are cut, nothing flushed is
 *  lost. On an existing database the stored schema wins; options that conflict with it
 *  (extra_dims) give LA_ESCHEMA, tunables (block_rows, codec) apply to new blocks.
 *  @param out    receives the handle (set to NULL on failure); free it with la_close().
 *  @param path   the database directory; copied.
 *  @param opts   read during the call only; a struct of an older LA_OPTIONS_VERSION is read up
 *                to its own last field, the rest taking defaults.
 *  @return LA_OK and *out, or LA_EINVAL (NULL out or path, an option out of range),
 *          LA_ENOTFOUND (no database and no LA_OPEN_CREATE), LA_EBUSY (another writer),
 *          LA_EVERSION, LA_ESCHEMA, LA_ECORRUPT, LA_EIO, LA_ENOSPC, LA_ENOMEM.
 *  Thread safety: any thread; opening the same directory twice for writing in one process
 *  gives LA_EBUSY like it does across processes. */
LA_API int la_open(la_db **out, const char *path, unsigned flags, const la_options *opts);

/*! la_close() : turn the tails of the days written into blocks, checkpoint the rollups, flush,
 *  unmap and release the lock (it does not seal days: see "Sealing days"). Accepts NULL.
 *  Events appended but not flushed are flushed first; an I/O failure there is reported by
 *  la_errmsg() but the handle is freed anyway (call la_flush() first to act on errors). */
LA_API void la_close(la_db *db);

/*! Dimension metadata: count and the name of dimension i (0-based; NULL if out of range or
 *  db is NULL). The name is owned by the handle and valid until la_close(). The schema never
 *  changes while a handle is open, so these need no locking. */
LA_API uint32_t la_db_ndims(const la_db *db);
LA_API const char *la_db_dim_name(const la_db *db, uint32_t i);
/*! la_db_dim_index() : index of the dimension named `name`, or -1. */
LA_API int la_db_dim_index(const la_db *db, const char *name);

/* ---------------------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------------------- */

/*! la_append() : append one event. When it returns LA_OK the event is in the memory-mapped
 *  segment of its UTC day and survives the process being killed (kill -9); it survives power
 *  loss once a later la_flush() returns LA_OK. Errors: LA_EINVAL (missing required string,
 *  string > LA_MAX_STR; reported before LA_ERANGE when both apply), LA_ERANGE, LA_EFUTURE,
 *  LA_ETOOOLD (in this order when several apply), LA_ENOSPC, LA_EIO, LA_EREADONLY. On error
 *  nothing of the event is stored.
 *  Event times: an event for an earlier day goes into that day's segment and is seen by scans
 *  and queries at once. LA_EFUTURE: ts > now + future_skew_ms (now = the wall clock; default
 *  one hour, -1 = no limit). LA_ETOOOLD: the event's UTC day ended more than retention_days
 *  before the reference time ref = min(now, the newest event stored), i.e.
 *  (floor(ts / 86400000) + 1 + retention_days) * 86400000 < ref — a day retention deletes —
 *  or a day retention already deleted (even if a larger retention_days would keep it now).
 *  Taking the newest event, not the clock alone, lets a database be fed old data in time
 *  order; taking the clock too means one far-future event cannot age out the history.
 *  The event and its strings are copied: the caller may reuse them when the call returns.
 *  Thread safety: any number of threads may append to one handle; their events are stored
 *  one at a time, in lock order. */
LA_API int la_append(la_db *db, const la_event *ev);

/*! la_append_batch() : append n events in order, under one lock. Stops at the first failing
 *  event: *n_done (may be NULL) is the number stored, the return value that event's error;
 *  la_errmsg() describes it. n == 0 stores nothing and returns LA_OK. Copies as la_append(). */
LA_API int la_append_batch(la_db *db, const la_event *evs, size_t n, size_t *n_done);

/*! la_flush() : make every event appended before the call durable (msync + fsync of the
 *  touched segments and directory). Returns LA_OK only if all of it reached stable storage.
 *  When checkpoint_rows rows have been appended since the last checkpoint it also writes the
 *  rollup files (see "Dashboard queries"), which takes longer; an error there is returned
 *  too, and loses nothing (the rollups are rebuilt from the events). On a read-only handle it
 *  does nothing and returns LA_OK. Errors: LA_EINVAL (NULL), LA_EIO, LA_ENOSPC (retry after
 *  freeing space: the events are still in the segments). Thread safety: any thread; appends
 *  on the same handle wait while it runs.
 *  Unless no_auto_seal, it then seals the days that are due (see "Sealing days"), holding the
 *  handle's lock meanwhile (appends from other threads wait; about a second per million
 *  rows). A sealing failure is not returned: the events are durable, and sealing is tried
 *  again once an event of a newer day arrives (or by la_compact(), which reports it).
 *  Unless no_auto_retention is set, la_flush also runs la_retention() when the oldest day
 *  present has expired (after making the events durable, before the checkpoint, so that the
 *  space freed helps it); its error, if any, is returned (the events are durable anyway). */
LA_API int la_flush(la_db *db);

/* ---------------------------------------------------------------------------------------
 * Sealing days
 *
 * A UTC day is appended to in arrival order, in LZ4 blocks. Once it ended seal_after_days
 * days (default 2) before the newest event's day, it is sealed: rewritten once, its rows
 * sorted by (workspace, link, ts) into zstd blocks (seal_level) that record their workspace
 * and link ranges, so a scan for one workspace or link reads only its blocks. The new file
 * is written beside the old one, synced and renamed over it: readers (cursors already open,
 * other processes) keep reading the file they opened; a crash leaves the old file or the new
 * one. An event that arrives for a sealed day is appended after its sorted blocks (never a
 * rewrite); a sealed day is sealed again once such late events reach 1/8 of its rows.
 * Sealing needs the day's rollups up to date, so it checkpoints them first.
 * Scans of a sealed day return its sorted rows first, then its late rows in arrival order.
 * ------------------------------------------------------------------------------------- */

#define LA_COMPACT_ALL 1u /* seal every day now, the newest too; re-seal any with late rows */

typedef struct la_compact_stats {
    uint32_t days;          /* days sealed by the call */
    uint64_t rows;          /* their rows */
    uint64_t bytes_before;  /* their files' sizes before (apparent size, sparse reserve
                             * included) and after */
    uint64_t bytes_after;
} la_compact_stats;

/*! la_compact() : seal the days that are due now (flags 0: what la_flush() does on its own),
 *  or with LA_COMPACT_ALL every day. out (may be NULL) says what was done. Stops at the first
 *  failure: the day being sealed keeps its old file. Errors: LA_EREADONLY, LA_ENOSPC, LA_EIO,
 *  LA_ECORRUPT, LA_ENOMEM; LA_EBUSY if the handle was opened with no_rollups and the day's
 *  rollup files lack some of its rows (sealing would make them unprovable). Thread-safe. */
LA_API int la_compact(la_db *db, unsigned flags, la_compact_stats *out);

/*! Progress of a long call: `done` of `total` steps are finished (the steps are named by each
 *  call that reports progress). Called on the thread of that call, with the handle's lock held:
 *  it must not call la_* functions on the same handle. done == total at the last call. */
typedef void (*la_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/*! la_set_progress() : from now on la_compact() on this handle reports each day it has
 *  considered (steps: the database's days) to fn (NULL: stop reporting); the sealing la_flush()
 *  does on its own reports nothing. ctx is passed to fn as is. Thread-safe. */
LA_API void la_set_progress(la_db *db, la_progress_fn fn, void *ctx);

/* ---------------------------------------------------------------------------------------
 * Reading: cursors over events, returned as column batches
 * ------------------------------------------------------------------------------------- */

/* Filter for la_scan(). Fields with data == NULL do not filter. */
typedef struct la_filter {
    int64_t from, to;     /* [from, to) in ms; use INT64_MIN / INT64_MAX for "unbounded" */
    la_str workspace;
    la_str link;
    la_str event_type;
    int dim;              /* dimension index, or -1 for no dimension filter */
    la_str dim_value;     /* data == NULL: match events where the dimension is absent */
} la_filter;

#define LA_FILTER_INIT {INT64_MIN, INT64_MAX, {NULL, 0}, {NULL, 0}, {NULL, 0}, -1, {NULL, 0}}

/* A string column of a batch: row r's value is dict[ids[r]]; dict[0] is always absent
 * ({NULL, 0}). */
typedef struct la_str_column {
    const uint32_t *ids;
    const la_str *dict;
} la_str_column;

/* A batch of matching events, in segment order (by day, then by append order within a day).
 * Every pointer in it (arrays, dictionary strings) stays valid until the next la_cursor_next()
 * or la_cursor_close() on the same cursor. Ids belong to their batch: in the next one the same
 * id may name another string, even where dict is the same pointer. */
typedef struct la_batch {
    size_t nrows;
    const int64_t *ts;
    la_str_column workspace, link, event_type;
    const uint64_t *visitor_id, *session_id;
    const int64_t *value;          /* 0 where has_value[r] == 0 */
    const uint8_t *has_value;
    const la_str_column *dims;     /* la_db_ndims() columns */
} la_batch;

typedef struct la_cursor la_cursor;

/*! la_scan() : open a cursor over the events matching `filter` (NULL = all). The cursor sees
 *  the events appended (by this handle) or flushed (by a writer process) before the call.
 *  It keeps every day it covers open (a descriptor and a mapping each) until it is closed;
 *  between calls a handle keeps at most 64 days open. The filter and its strings are copied. *out (NULL on failure) must be closed with
 *  la_cursor_close() before la_close(db). Errors: LA_EINVAL (NULL db or out, dimension out of
 *  range), LA_ENOMEM, LA_EIO, LA_ECORRUPT. */
LA_API int la_scan(la_db *db, const la_filter *filter, la_cursor **out);

/*! la_cursor_next() : the next non-empty batch. Returns 1 and fills *out, 0 at the end, or a
 *  negative error (LA_ECORRUPT names the file and offset). The batch's arrays and strings
 *  belong to the cursor; some point straight into the memory-mapped segment files, which the
 *  cursor keeps mapped: valid until the next la_cursor_next() or la_cursor_close() on this
 *  cursor, read-only (writing through them is undefined). Copy what must live longer. Other
 *  threads may append meanwhile: the cursor does not see their events. */
LA_API int la_cursor_next(la_cursor *cur, la_batch *out);

/*! la_cursor_close() : free the cursor. Accepts NULL. */
LA_API void la_cursor_close(la_cursor *cur);

/* ---------------------------------------------------------------------------------------
 * Dashboard queries: time series and top values, answered from rollups
 *
 * la keeps rollups in step with every append: per UTC day and month for each (workspace,
 * link), per UTC hour, day, ISO week, month and year for each workspace (all links), per event
 * type; a link's week is summed from its days and its year from its months. A query combines
 * the rollups of the whole buckets it covers with raw events for partial ones (and, for one
 * link, for anything shorter than a UTC day), so an answer always includes every event
 * appended (by this handle) or flushed (by a writer process) before the call.
 * ------------------------------------------------------------------------------------- */

#define LA_BUCKET_HOUR 0
#define LA_BUCKET_DAY 1
#define LA_BUCKET_WEEK 2   /* ISO week: starts Monday 00:00 */
#define LA_BUCKET_MONTH 3
#define LA_BUCKET_YEAR 4

/* What a query covers. Strings with data == NULL do not filter. */
typedef struct la_query {
    int64_t from, to;   /* [from, to) in ms, from < to */
    la_str workspace;   /* required */
    la_str link;        /* NULL = all links of the workspace */
    la_str event_type;  /* NULL = all types; otherwise every figure counts only this type */
    int dim;            /* dimension index for an equality filter, or -1 */
    la_str dim_value;   /* the value it must equal (data == NULL: the dimension is absent) */
    int bucket;         /* LA_BUCKET_*; la_query_top ignores it */
    const char *tz;     /* IANA zone name ("Europe/Berlin") from the system tzdata; NULL = UTC */
} la_query;

#define LA_QUERY_INIT {0, 0, {NULL, 0}, {NULL, 0}, {NULL, 0}, -1, {NULL, 0}, LA_BUCKET_DAY, NULL}

/* A distinct count. Exact while the set is small (at most LA_DISTINCT_EXACT_MAX ids in every
 * merged part); beyond, a HyperLogLog estimate whose relative standard error is rel_stderr. */
#define LA_DISTINCT_EXACT_MAX 256
typedef struct la_distinct {
    uint64_t count;
    int exact;          /* 1: count is exact; 0: an estimate */
    double rel_stderr;  /* 0 when exact; about 0.008 for an estimate */
} la_distinct;

/* One bucket of a series. Buckets are those of the zone `tz`: a DST day has 23 or 25 hours;
 * a bucket whose local midnight does not exist starts at the first instant of that date; when
 * clocks go back, the repeated local hour belongs to one hour bucket (two hours long), so an
 * hour series over that day has 24 points, not 25. The first and last points are clipped to
 * [from, to): a point covers [max(bucket_start, from), min(next bucket_start, to)). */
typedef struct la_point {
    int64_t bucket_start;  /* UTC ms of the bucket's first instant (not clipped) */
    int32_t utc_offset_s;  /* the zone's offset from UTC at bucket_start, seconds east */
    uint64_t events;       /* events of any type (after the event_type filter) */
    uint64_t clicks, leads, sales; /* events whose type is "click", "lead", "sale" */
    int64_t value;         /* sum of value over the events that have one (mod 2^64) */
    la_distinct visitors, sessions; /* distinct visitor_id / session_id */
} la_point;

/*! la_query_series() : one point per bucket of q->bucket intersecting [from, to), in time
 *  order, empty buckets included (all zero, exact). *out (free with la_series_free) holds *n
 *  points. At most 100000 buckets per call (LA_EINVAL beyond). Thread safety: a query holds
 *  the handle's lock while it reads (appends on the same handle wait; other handles and
 *  processes do not).
 *  Answerable: everything while raw events are kept (retention_days). After retention
 *  deleted a day's raw events and hourly rollups, unfiltered UTC day/week/month/year buckets
 *  still answer from the daily and coarser rollups; a query that needs that day's raw events
 *  (a dimension filter) or hours (an hour bucket, or a zone whose day boundaries are not UTC
 *  day boundaries) returns LA_ENOTKEPT. Errors: LA_EINVAL (missing workspace, from >= to,
 *  bad bucket or dimension), LA_ENOTFOUND (no such time zone), LA_ENOTKEPT, LA_ECORRUPT, LA_EIO. */
LA_API int la_query_series(la_db *db, const la_query *q, la_point **out, size_t *n);
/*! la_series_free() : free what la_query_series() returned. Accepts NULL. */
LA_API void la_series_free(la_point *points);

typedef struct la_top_entry {
    la_str value;    /* points into the la_top; never absent */
    uint64_t count;  /* a lower bound: count <= true count <= count + max_error */
} la_top_entry;

/* Top values of a dimension. The dimensions country, device and browser are counted exactly
 * (up to 4096 distinct values per rollup cell); the others (city, referrer, extra dimensions)
 * keep the 64 largest counts per rollup cell and an "other" remainder, so that merged answers
 * may be short by at most max_error per value. */
typedef struct la_top {
    size_t n;               /* entries, by count descending, then value bytes ascending */
    la_top_entry *entries;
    uint64_t total;         /* events counted (after filters) */
    uint64_t absent;        /* of them, events where the dimension is absent */
    uint64_t other;         /* total - absent - the sum of all entries' counts */
    uint64_t max_error;     /* 0 = every count is exact */
} la_top;

/*! la_query_top() : the k (1..10000) most frequent values of dimension `dim` among the events
 *  q selects in [from, to) (q->bucket is ignored; q->tz only matters for errors). Free *out
 *  with la_top_free; entries[i].value points into *out (copies of the strings, not into any
 *  file) and is valid until then. Errors and thread safety as la_query_series(). */
LA_API int la_query_top(la_db *db, const la_query *q, int dim, uint32_t k, la_top **out);
/*! la_top_free() : free what la_query_top() returned, its strings included. Accepts NULL. */
LA_API void la_top_free(la_top *top);

/* ---------------------------------------------------------------------------------------
 * Realtime: what is happening now
 *
 * Every handle keeps, in memory, per workspace and per (workspace, link): the events of a
 * sliding window of live_window_min minutes (la_options, default 30), the distinct visitors
 * active in its last live_active_min minutes (default 5; exact) and the newest event time.
 * "Now" is the wall clock read at each call. The window moves a minute at a time and never
 * resets: with N = the current UTC minute, an event counts while its minute lies in
 * [N - live_window_min + 1, N + F], F being future_skew_ms in whole minutes (default 60, at
 * most 1440; 1440 when the skew is unlimited). So an event stamped slightly in the future (a
 * client clock running fast) counts at once and stays counted until N passes its minute by
 * the window; a late event counts only while its own minute is in the window. An event stamped
 * beyond N + F is rejected by la_append (LA_EFUTURE) unless future_skew_ms is -1 or longer than
 * a day; stored so, it counts once N + F reaches its minute (the handle then counts the
 * window again from the segments, once). Active visitors likewise: a visitor counts
 * while one of their events has its minute in [N - live_active_min + 1, N + F].
 *
 * A handle builds it at its first realtime call (la_live, la_live_minutes, la_live_top) from
 * the raw events of the window's days, so a restart loses nothing, and a handle that never asks
 * pays nothing (at open or per append). From then on every append feeds it (a writer's answers
 * include every event appended before the call). Read-only handles catch up on each call with what a writer flushed
 * since (reading only the new rows of the window's days). Memory: about 4 * (window + F) + 200
 * bytes per workspace and per link with an event in the window plus 16 bytes per active
 * visitor; entries idle for a whole window are freed (checked once a minute). When the
 * clock's minute goes back (the system time was set back), the next call counts the window
 * again from the segments. The windows are options of each handle, not stored in the
 * database: a read-only handle may look at other windows than the writer.
 * ------------------------------------------------------------------------------------- */

#define LA_LIVE_VERSION 1

/* Figures for one workspace or one link. The caller sets version (LA_LIVE_STATS_INIT) so that
 * later versions can append fields. */
typedef struct la_live_stats {
    uint32_t version;          /* LA_LIVE_VERSION */
    uint32_t window_min;       /* out: the window, minutes */
    uint32_t active_min;       /* out: the active-visitor window, minutes */
    int64_t now;               /* out: start of the current minute N (ms), what the answer is for */
    uint64_t events;           /* out: events in the window */
    uint64_t active_visitors;  /* out: distinct visitor_id active in the last active_min minutes */
    int64_t last_ts;           /* out: newest event time in the window; -1 if none */
} la_live_stats;

#define LA_LIVE_STATS_INIT {LA_LIVE_VERSION, 0, 0, 0, 0, 0, -1}

/*! la_live() : the realtime figures of `workspace` (required), or of one of its links when
 *  link.data != NULL. An unknown workspace or link, or one idle for the whole window, gives
 *  zeros and last_ts -1 (not an error). out->version must be LA_LIVE_VERSION.
 *  Cost: a hash lookup plus the window's minutes and the active visitors of the entry; on a
 *  read-only handle also reading the rows a writer flushed since the last call.
 *  Thread safety: holds the handle's lock (appends on the same handle wait).
 *  Errors: LA_EINVAL (NULL argument, workspace absent, string > LA_MAX_STR, bad version),
 *  LA_ENOMEM, and on read-only handles (or after a failed rebuild) LA_EIO / LA_ECORRUPT from
 *  reading the segments. */
LA_API int la_live(la_db *db, la_str workspace, la_str link, la_live_stats *out);

/*! la_live_minutes() : events per minute of `workspace` (or of one of its links when
 *  link.data != NULL), for a sparkline: counts[i] gets the events of minute N - n + 1 + i, N
 *  being the current minute (counts[n - 1] is the current, partial one), for n minutes,
 *  1 <= n <= live_window_min. *first (may be NULL) gets the start of minute N - n + 1 (ms).
 *  Minutes ahead of N are not included: over the whole window, la_live()'s events equal the
 *  sum of counts plus the events stamped ahead. Errors and thread safety as la_live();
 *  LA_EINVAL also for n out of range or counts == NULL. */
LA_API int la_live_minutes(la_db *db, la_str workspace, la_str link, uint64_t *counts, uint32_t n,
                           int64_t *first);

/* One link of la_live_top(). */
typedef struct la_live_link {
    la_str link;               /* points into the la_live_board */
    uint64_t events;           /* events in the window */
    uint64_t active_visitors;  /* distinct visitors in the last active_min minutes */
    int64_t last_ts;           /* newest event time in the window */
} la_live_link;

/* The top links of a workspace right now, allocated by the library (fields may be appended
 * in later versions; free with la_live_board_free). */
typedef struct la_live_board {
    int64_t now;               /* start of the current minute (ms) */
    uint32_t window_min, active_min;
    uint64_t events;           /* the workspace: events in the window */
    uint64_t active_visitors;  /* the workspace: distinct active visitors */
    int64_t last_ts;           /* the workspace: newest event time in the window, -1 if none */
    uint64_t links;            /* links with at least one event in the window */
    size_t n;                  /* entries: min(k, links), by events descending, then link bytes
                                * ascending (a prefix first) */
    la_live_link *entries;
} la_live_board;

/*! la_live_top() : the k (1..10000) links of `workspace` with the most events in the window,
 *  with the workspace's own figures. *out is the caller's; free it with la_live_board_free().
 *  Cost: a sum per link of the workspace with events in the window, kept up to date by
 *  appends (read from one array per workspace); the first board of a minute moves each sum by
 *  the minutes that left and entered the window (after a pause of more than a quarter of the
 *  window it sums each window again); then a selection of the top k.
 *  Errors and thread safety as la_live(); LA_EINVAL also for k out of range. */
LA_API int la_live_top(la_db *db, la_str workspace, uint32_t k, la_live_board **out);
/*! la_live_board_free() : free a board and the link strings in it. Accepts NULL. */
LA_API void la_live_board_free(la_live_board *board);

/* ---------------------------------------------------------------------------------------
 * Retention: raw events are kept for retention_days after their UTC day ended
 *
 * The reference time is ref = min(wall clock, newest event stored). A UTC day D has expired
 * when it ended more than retention_days before ref: (D + 1 + retention_days) days < ref.
 * Deleting an expired day unlinks its segment and its hour rollup file (O(1) per day, no free
 * space needed: it works on a full disk). Its day rollup file and the week, month and year
 * files stay forever, so UTC day/week/month/year series keep answering for it; what needs its
 * raw events or hours gives LA_ENOTKEPT (see la_query_series). A day whose rollup files do
 * not yet include all its rows is first sealed and checkpointed (that needs space; on a full
 * disk the days that need nothing written are deleted first). A handle opened with no_rollups
 * deletes without that step: rows no day file includes are then gone from queries too.
 * Crash safety (SPEC.md §14): a crash at any point leaves each day whole, without its hour
 * file (hours then come from the segment), or deleted; verify stays clean.
 * Read-only handles (other processes) notice at their next scan or query: new scans skip the
 * day, a cursor that already reads it keeps its mapping until the handle closes. So does a
 * cursor of the handle that deletes the day (the mapping goes when the last cursor closes).
 * ------------------------------------------------------------------------------------- */

typedef struct la_retention_stats {
    int64_t ref_ms;     /* the reference time; INT64_MIN when the database holds no event, or
                         * when its newest day cannot be read (the call then fails) */
    int64_t cutoff_ms;  /* first instant of the first day kept (INT64_MIN: nothing expires) */
    uint32_t days;      /* days deleted (la_retention_list: expired days present) */
    uint32_t days_left; /* expired days an error left in place (la_retention) */
    uint64_t bytes;     /* bytes of the files deleted (la_retention_list: that would be) */
} la_retention_stats;

/*! la_retention() : delete the expired days now; *out (may be NULL) says what went, also on
 *  error. la_flush runs it on its own unless no_auto_retention. Errors: LA_EREADONLY,
 *  LA_EIO (an unlink or the directory sync failed: the days not reported deleted are whole),
 *  LA_ENOSPC (a day's rollups could not be completed: that day and the later ones stay),
 *  LA_EINVAL. Thread safety: takes the handle's lock like an append. */
LA_API int la_retention(la_db *db, la_retention_stats *out);

/*! la_expired_fn : one expired day for la_retention_list: the UTC ms of its first instant,
 *  the bytes its files take, and ready = 0 when its rollups need a checkpoint first. */
typedef void (*la_expired_fn)(void *ctx, int64_t day_start_ms, uint64_t bytes, int ready);

/*! la_retention_list() : what la_retention would delete now, without deleting: fn (may be
 *  NULL) is called per expired day, oldest first; *out (may be NULL) gets the totals. Works
 *  on read-only handles (with their retention_days option, or the database's). fn runs on
 *  the calling thread while the handle's lock is held: it must not call la_* on this handle.
 *  Errors: LA_EINVAL (NULL handle), LA_ENOMEM, LA_EIO, LA_ECORRUPT. */
LA_API int la_retention_list(la_db *db, la_expired_fn fn, void *ctx, la_retention_stats *out);

/* ---------------------------------------------------------------------------------------
 * Checking
 * ------------------------------------------------------------------------------------- */

/*! la_verify() callback: one problem found, with the file (relative to the database
 *  directory), the byte offset in it (-1 if none applies) and a message. Called on the thread
 *  that called la_verify(); `file` and `msg` are valid only during the call. */
typedef void (*la_problem_fn)(void *ctx, const char *file, int64_t offset, const char *msg);

/*! la_verify() : check every checksum and invariant of every file in the database directory
 *  at `path` without modifying anything (works while a writer runs). Calls `fn` once per
 *  problem (fn may be NULL to only count); *n_problems (may be NULL) gets the count. Returns
 *  LA_OK when the check ran (even with problems) or an error if it could not run (LA_EINVAL
 *  for a NULL path, LA_ENOTFOUND, LA_EIO, LA_ENOMEM). Needs no handle and takes no lock. */
LA_API int la_verify(const char *path, la_problem_fn fn, void *ctx, uint64_t *n_problems);

/*! la_verify_ex() : la_verify() that also reports each file it has finished checking to
 *  progress (may be NULL), with progress_ctx (steps: the day segments, then the rollup files). */
LA_API int la_verify_ex(const char *path, la_problem_fn fn, void *ctx, la_progress_fn progress,
                        void *progress_ctx, uint64_t *n_problems);

#ifdef __cplusplus
}
#endif
#endif /* LA_H */
