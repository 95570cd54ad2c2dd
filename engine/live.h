/* live.h — the realtime layer: per (workspace, link) and per workspace, the events of a sliding
 * window of minutes, the visitors active in its last minutes and the newest event time, kept in
 * memory, fed by every append and rebuilt from the newest raw events when a database opens.
 * Every call expects db->mu held. */
#ifndef LA_ENGINE_LIVE_H
#define LA_ENGINE_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "la.h"

typedef struct la_db la_db;
typedef struct la_realtime la_realtime;

/* Set up db->live from the options (windows, future skew); it is built from the raw events of
 * the window around the io seam's now_ms() at the first realtime call. */
int la_live_open(la_db *db, const la_options *o);
void la_live_free(la_realtime *lv);

/* Read the clock once for the appends that follow (one batch): events are counted against
 * this reading. Also evicts what went idle when the minute changed. */
void la_live_tick(la_realtime *lv);
/* Count one appended event. Never fails: when memory runs out the layer marks itself stale
 * and the next la_live*() call rebuilds it from the segments. */
void la_live_add(la_realtime *lv, la_str ws, la_str link, int64_t ts, uint64_t visitor);

/* Entries (workspaces plus (workspace, link) pairs) held, and visitor slots in use: what
 * eviction keeps bounded. */
void la_live_usage(const la_realtime *lv, size_t *entries, size_t *visitors);

#endif
