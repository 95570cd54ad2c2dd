/* gen.h — a deterministic, realistic click stream for demos, tests and benchmarks.
 *
 * From a seed the generator produces events in arrival order: hundreds of workspaces with
 * Zipf-distributed sizes, links Zipf-distributed within them, returning visitors, sessions of
 * a few clicks within 30 minutes, a daily traffic curve, countries with their own cities,
 * devices, browsers, referrers (many direct = absent, a few big domains, a long tail of unique
 * URLs), mostly clicks with some leads and sales carrying amounts, and a few percent of events
 * arriving late (their timestamp minutes to days before their arrival). The same seed and
 * options always give the same stream, on every machine. */
#ifndef LA_TOOLS_GEN_H
#define LA_TOOLS_GEN_H

#include <stdint.h>
#include <stdio.h>

#include "la.h"

/* Dimension order of gen_next()'s dims: the database defaults. */
#define GEN_NDIMS 5

typedef struct gen_options {
    uint64_t seed;
    uint64_t events;       /* how many events in total */
    uint32_t days;         /* arrival times spread over this many UTC days */
    int64_t start_ms;      /* 00:00 UTC of the first day */
    uint32_t workspaces;   /* number of workspaces */
    uint32_t links;        /* number of links across all workspaces */
    double late_fraction;  /* share of events that arrive late (0..1) */
} gen_options;

/* Defaults: seed 1, 1M events, 7 days from 2026-11-01, 300 workspaces, 30000 links, 3% late. */
void gen_options_default(gen_options *o);

typedef struct gen gen;

/* Returns 0, or -1 if options are invalid (0 events is valid; 0 days, workspaces or links are
 * not; links >= workspaces). */
int gen_create(gen **out, const gen_options *o);
void gen_free(gen *g);

/* The next event in arrival order: 1 and *ev filled, or 0 when the stream is done. Every
 * pointer in *ev (strings, ev->dims) stays valid until the next gen_next() or gen_free().
 * visitor_id and session_id are la_hash_id() of the visitor and session strings that
 * gen_write_tsv() prints, so the TSV path and the direct path store identical events. */
int gen_next(gen *g, la_event *ev);

/* The visitor and session strings of the event gen_next() returned last. */
const char *gen_visitor(const gen *g);
const char *gen_session(const gen *g);

/* TSV as `lactl ingest` reads it: header line
 * ts workspace_id link_id event_type visitor_id session_id value country city device browser referrer
 * then one line per remaining event (ts as epoch ms, absent values as \N). Returns 0 or -1 on
 * a write error. */
int gen_write_tsv(gen *g, FILE *out);

#endif
