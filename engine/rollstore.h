/* rollstore.h — a database's rollups: its rollup files (cached and validated), the cells of
 * the rows each day's files do not include yet, and checkpoints that merge those cells into the
 * files (SPEC.md §10). Every call expects db->mu held. */
#ifndef LA_ENGINE_ROLLSTORE_H
#define LA_ENGINE_ROLLSTORE_H

#include <stdint.h>

#include "rollfile.h"
#include "rollup.h"
#include "rollwork.h"

typedef struct la_db la_db;

typedef struct la_rfile {
    int level;
    int32_t first_day;
    int present;               /* 0: there is no such file */
    uint8_t *map;
    size_t len;
    la_roll_view v;
    uint64_t ino, size;        /* identity when loaded, for read-only handles */
    int64_t mtime_ns;
    uint64_t epoch;            /* read-only handles: the query that last checked the identity */
} la_rfile;

/* The rows [from, to) of a day's segment that its rollup files do not include, as cells. */
typedef struct la_rdelta {
    int32_t day;
    la_cellset *cs;
    uint64_t from, to;
    uint64_t epoch;
    uint32_t *memo[3 + LA_MAX_DIMS]; /* writer: day dictionary id -> cs dictionary id, per role */
    uint32_t memo_n[3 + LA_MAX_DIMS];
} la_rdelta;

typedef struct la_rstate {
    uint32_t caps[LA_MAX_DIMS];
    la_rfile **files;          /* sorted by (level, first_day) */
    size_t nfiles, files_cap;
    la_rdelta *deltas;         /* sorted by day */
    size_t ndeltas, deltas_cap;
    uint64_t epoch;            /* read-only: bumped when the directory changed (files to re-check) */
    uint64_t query;            /* read-only: bumped by every query (segments to refresh) */
    int64_t dir_mtime_ns;
    uint64_t dir_size, dir_ino;
    int dir_known;             /* dir_* were read, in directory epoch (la_db.dir_epoch) */
    uint64_t dir_known_epoch;  /* dir_known_epoch */
    uint64_t checkpoint_rows;  /* pending rows that make the next flush checkpoint */
    int off;                   /* la_options.no_rollups: no deltas, no checkpoints */
    int32_t *fdays;            /* days that have a day file, sorted (queries skip days with
                                * neither a day file nor a segment) */
    size_t nfdays, fdays_cap;
    uint8_t *enc;              /* writer: the buffer files are encoded into, kept between files
                                * while at most 64 MiB */
    size_t enc_cap;
    la_cellset *strings;       /* writer: owns the dictionary every delta shares, so that
                                * checkpoints merge days without string lookups; renewed when
                                * a checkpoint leaves every delta empty */
    struct la_rollwork *work;  /* writer: counts sealed rows into deltas (rollwork.h), started
                                * at the first seal; NULL: counted on the appending thread */
    int work_wanted;           /* a worker is to be started (not no_rollup_thread, > 1 CPU) */
    la_rollbatch batch;        /* the appending thread's own, when there is no worker */
} la_rstate;

int la_rs_init(la_db *db, const la_options *o);
void la_rs_free(la_db *db);

/* Read-only handles: look again at files and segments (a writer may have changed them). */
void la_rs_begin(la_db *db);

/* The first day >= day that has a segment or a day file (INT32_MAX if none). */
int32_t la_rs_next_data_day(la_db *db, int32_t day);

/* The file of a bucket; *out = NULL when there is none. */
int la_rs_file(la_db *db, int level, int32_t first_day, const la_roll_view **out);
/* Rows of `day` its day file includes; -1 when there is no day file. */
int la_rs_day_wm(la_db *db, int32_t day, int64_t *wm);
/* 1 if a week/month/year file includes exactly what the day files of its bucket include. */
int la_rs_coarse_valid(la_db *db, const la_roll_view *v, int *valid);
/* 1 if the day's hour file includes exactly what its day file includes. */
int la_rs_hours_valid(la_db *db, int32_t day, const la_roll_view *h, int *valid);

/* The cells of the day's rows that its files do not include (replaying them from the segment
 * when needed); *out = NULL when the day has no segment. The delta covers rows up to
 * *raw_from: a writer's follows sealed rows, so a query reads the rows from there (the tail)
 * raw, up to *rows, the day's rows now. */
int la_rs_delta(la_db *db, int32_t day, la_cellset **out, uint64_t *raw_from, uint64_t *rows);
/* The la_day seal callback (la_seal_fn) of a writer's days: sealed rows join the delta. */
void la_rs_on_seal(void *ctx, la_day *d, const la_sealed *rows);

/* Rows [0, rows) of the day's segment, as hour cells in cs (what its files should hold). */
int la_rs_recompute(la_db *db, int32_t day, uint64_t rows, la_cellset *cs);

/* Checkpoint the deltas that are due (all = every one), e.g. at flush and close. */
int la_rs_checkpoint_due(la_db *db, int all);

/* Retention and sealing: checkpoint days[0..n) (their hour and day files, then each week,
 * month or year file they touch, once: sealing passes every day it is about to seal, so that
 * a month file is rewritten once, not once per day); forget what is held of a day whose
 * segment was deleted or replaced (its delta maps the old file's dictionary ids, its hour file
 * view is reloaded when next needed). */
int la_rs_checkpoint_days(la_db *db, const int32_t *days, size_t n);
void la_rs_forget_day(la_db *db, int32_t day);

#endif
