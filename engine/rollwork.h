/* rollwork.h — rollup counting on a worker thread: a writer's seal hands the sealed rows, their
 * strings already mapped to the delta's dictionary ids, to a thread that adds them to the
 * delta's cells while the writer goes on appending. Counting is most of what rollups cost an
 * append (cache misses on cells); the mapping stays on the writer because it reads the day's
 * dictionary, which appends grow. Whoever reads or changes a delta drains first. */
#ifndef LA_ENGINE_ROLLWORK_H
#define LA_ENGINE_ROLLWORK_H

#include <stdint.h>

#include "rollup.h"

typedef struct la_rollwork la_rollwork;

#define LA_ROLLWORK_THREAD_NAME "la-rollups"

/* Rows to count: row i is hour[i], id[i * nroles ..], visitor[i], session[i], value[i]. */
typedef struct la_rollbatch {
    la_cellset *cs;
    uint32_t n, cap;
    int32_t *hour;
    uint32_t *id;
    uint64_t *visitor, *session;
    int64_t *value;
} la_rollbatch;

/* A batch's arrays for n rows (b->n = 0); 0 when out of memory. */
int la_rollbatch_reserve(la_rollbatch *b, uint32_t n, uint32_t nroles);
/* Add the batch's rows to b->cs: LA_OK or LA_ENOMEM (some rows may have been added). */
int la_rollbatch_count(const la_rollbatch *b, uint32_t nroles);
void la_rollbatch_free(la_rollbatch *b);

/* A worker for rows with nroles ids each (3 + dimensions); NULL when no thread could start
 * (the caller counts on its own thread). */
la_rollwork *la_rollwork_new(uint32_t nroles);
/* Drain, stop the thread, free. Accepts NULL. */
void la_rollwork_free(la_rollwork *w);

/* A batch to fill with up to n rows (it waits while the queue is full); NULL when out of
 * memory. Nothing else may be reserved until it is submitted. */
la_rollbatch *la_rollwork_reserve(la_rollwork *w, uint32_t n);
/* Queue the reserved batch: its b->n rows go to cs. */
void la_rollwork_submit(la_rollwork *w, la_cellset *cs);

/* Wait until every submitted batch is counted. A set whose rows could not all be counted (out
 * of memory) has cs->uncounted set: its owner drops it and replays the rows. */
void la_rollwork_drain(la_rollwork *w);

#endif
