/* labench.c — the benchmark: one generated click stream stored by la and by SQLite in the same
 * run, timed as medians of repeated runs, printed as a table and written as JSON. Timings
 * live here and nowhere in the tests. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"
#include "io.h"
#include "la.h"
#include "lactl.h"
#include "textid.h"
#include "timefmt.h"
#include "tsv.h"

typedef struct stream {
    la_event *ev;
    la_str *dims;        /* GEN_NDIMS per event */
    char **strings;      /* interned strings, owned */
    size_t n, nstrings, cap_strings;
    /* open-addressing intern table */
    uint64_t *slot_hash;
    uint32_t *slot_idx;
    size_t nslots;
} stream;

typedef struct opts {
    gen_options g;
    int runs;
    const char *dir, *json;
    int sqlite;
    const char *only; /* NULL = every phase; else "append", "scan", "query", "open", "retention" or "ingest" */
} opts;

static int phase(const opts *o, const char *name) { return !o->only || strcmp(o->only, name) == 0; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "labench: %s: %s %s\n", what, rc < 0 ? la_strerror(rc) : strerror(errno),
            rc < 0 ? la_errmsg() : "");
    exit(1);
}

/* "YYYY-MM-DD" of a time (the stream's dates) */
static void date_of(int64_t ms, char buf[TIMEFMT_MAX])
{
    timefmt_format(ms, buf);
    buf[10] = '\0';
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "labench: out of memory\n");
        exit(1);
    }
    return p;
}

/* Keep one copy of each distinct string so that millions of events fit in memory. */
static la_str intern(stream *s, la_str v)
{
    if (!v.data)
        return v;
    if (s->nstrings * 2 >= s->nslots) {
        size_t n = s->nslots ? s->nslots * 2 : 1 << 16;
        uint64_t *h = xmalloc(n * sizeof *h);
        uint32_t *ix = xmalloc(n * sizeof *ix);
        memset(ix, 0xff, n * sizeof *ix);
        for (size_t i = 0; i < s->nslots; i++)
            if (s->slot_idx[i] != UINT32_MAX) {
                size_t j = s->slot_hash[i] & (n - 1);
                while (ix[j] != UINT32_MAX)
                    j = (j + 1) & (n - 1);
                h[j] = s->slot_hash[i];
                ix[j] = s->slot_idx[i];
            }
        free(s->slot_hash);
        free(s->slot_idx);
        s->slot_hash = h;
        s->slot_idx = ix;
        s->nslots = n;
    }
    uint64_t h = la_hash_id(v.data, v.len);
    size_t j = h & (s->nslots - 1);
    for (; s->slot_idx[j] != UINT32_MAX; j = (j + 1) & (s->nslots - 1)) {
        const char *c = s->strings[s->slot_idx[j]];
        if (s->slot_hash[j] == h && strlen(c) == v.len && memcmp(c, v.data, v.len) == 0)
            return (la_str){c, v.len};
    }
    if (s->nstrings == s->cap_strings) {
        s->cap_strings = s->cap_strings ? s->cap_strings * 2 : 4096;
        char **p = realloc(s->strings, s->cap_strings * sizeof *p);
        if (!p)
            die("intern", 0);
        s->strings = p;
    }
    char *c = xmalloc(v.len + 1);
    memcpy(c, v.data, v.len);
    c[v.len] = '\0';
    s->slot_hash[j] = h;
    s->slot_idx[j] = (uint32_t)s->nstrings;
    s->strings[s->nstrings++] = c;
    return (la_str){c, v.len};
}

static void make_stream(stream *s, const gen_options *go)
{
    memset(s, 0, sizeof *s);
    gen *g;
    if (gen_create(&g, go) != 0) {
        fprintf(stderr, "labench: bad generator options\n");
        exit(2);
    }
    s->ev = xmalloc(go->events * sizeof *s->ev);
    s->dims = xmalloc(go->events * GEN_NDIMS * sizeof *s->dims);
    la_event e;
    while (gen_next(g, &e) == 1) {
        la_event *o = &s->ev[s->n];
        *o = e;
        o->workspace = intern(s, e.workspace);
        o->link = intern(s, e.link);
        o->event_type = intern(s, e.event_type);
        la_str *d = &s->dims[s->n * GEN_NDIMS];
        for (uint32_t k = 0; k < GEN_NDIMS; k++)
            d[k] = k < e.ndims ? intern(s, e.dims[k]) : (la_str){NULL, 0};
        o->dims = d;
        o->ndims = GEN_NDIMS;
        s->n++;
    }
    gen_free(g);
}

static void free_stream(stream *s)
{
    for (size_t i = 0; i < s->nstrings; i++)
        free(s->strings[i]);
    free(s->strings);
    free(s->slot_hash);
    free(s->slot_idx);
    free(s->ev);
    free(s->dims);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void rmrf(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "labench: could not remove %s\n", path);
}

/* Bytes allocated on disk by the files in dir whose name ends with suffix ("" = all; sparse
 * holes do not count). */
static uint64_t disk_bytes(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        die(dir, 0);
    uint64_t total = 0;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d))) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t nl = strlen(e->d_name), sl = strlen(suffix);
        if (e->d_name[0] != '.' && nl >= sl && strcmp(e->d_name + nl - sl, suffix) == 0 &&
            stat(path, &st) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_blocks * 512;
    }
    closedir(d);
    return total;
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* ---- la ------------------------------------------------------------------------------ */

/* Where scan checksums go so that the compiler keeps the reads. */
static volatile uint64_t sink;

/* The dashboard queries, each timed as median and p99 of repeated runs. */
enum { Q_DAILY_WS, Q_DAILY_LINK, Q_MONTHLY_WS, Q_TOP_COUNTRIES, Q_HOURLY_LINK, Q_WEEK_ALL_WS, NQ };
static const char *const q_names[NQ] = {"30-day daily series, largest workspace",
                                        "30-day daily series, its largest link",
                                        "12-month monthly series, largest workspace",
                                        "top-10 countries, 30 days, its largest link",
                                        "hourly series, one day, its largest link",
                                        "totals + unique visitors, one week, every workspace"};
static const char *const q_keys[NQ] = {"q_daily_ws", "q_daily_link", "q_monthly_ws",
                                       "q_top_countries_link", "q_hourly_link", "q_week_all_workspaces"};

typedef struct result {
    double append_eps, append_norollup_eps, close_s, sustained_eps, sustained_norollup_eps, ingest_rps, bytes_per_event, roll_bytes_per_event,
        scan_rps, filtered_scan_rps, open_s;
    double single_eps, single_flush_eps, group_eps;
    double open_rw_s, open_crash_s, crash_events, first_query_s, first_query_crash_s;
    double hot_seg_bytes_per_event, sealed_seg_bytes_per_event, seal_s_per_day, sealed_bytes_per_event,
        sealed_filtered_scan_rps, mid_scan_rps, sealed_mid_scan_rps, retention_ms_per_day, retention_unlink_ms_per_day, retention_days;
    double q_med_ms[NQ], q_p99_ms[NQ];
    double live_med_ms, live_p99_ms; /* la_live_top, top-10 links of the largest workspace */
    double live_new_minute_ms;       /* the same, the first board of a minute */
    uint64_t bytes, scanned, filtered_rows;
    uint64_t q_check[NQ]; /* events the query counted: la and SQLite must agree */
} result;

/* The stream's times lie in the past, so against the wall clock the realtime layer would
 * count nothing. A clock through the I/O seam follows the stream instead: before each batch it
 * reads the newest time appended so far, as if the events arrived live, and afterwards it
 * stays at the stream's end, so that the realtime query sees the stream's last minutes. */
static int64_t sim_now;
static int64_t sim_clock(void) { return sim_now; }
static la_io sim_io;

/* Switch a handle's realtime layer on (it starts at the first realtime call), so that the
 * appends timed after this feed it, as in an application that shows a live dashboard. */
static void realtime_on(la_db *db)
{
    la_live_stats st = LA_LIVE_STATS_INIT;
    int rc = la_live(db, (la_str){"-", 1}, (la_str){NULL, 0}, &st);
    if (rc != LA_OK)
        die("la_live", rc);
}

static void la_append_run(const stream *s, const char *db_dir, int no_rollups, double *eps,
                          double *close_s)
{
    rmrf(db_dir);
    sim_now = 0;
    la_db *db;
    la_options lo = LA_OPTIONS_INIT;
    lo.no_rollups = no_rollups;
    lo.no_auto_seal = 1; /* sealing is measured on its own */
    lo.no_auto_retention = 1; /* every run stores the whole stream, however many days */
    int rc = la_open(&db, db_dir, LA_OPEN_CREATE, &lo);
    if (rc)
        die("la_open", rc);
    realtime_on(db);
    double t0 = now_s();
    const size_t chunk = 4096; /* what an app batching a few ms of clicks would pass */
    for (size_t i = 0; i < s->n; i += chunk) {
        size_t k = s->n - i < chunk ? s->n - i : chunk, done;
        for (size_t j = i; j < i + k; j++)
            sim_now = s->ev[j].ts > sim_now ? s->ev[j].ts : sim_now;
        if ((rc = la_append_batch(db, s->ev + i, k, &done)) != LA_OK)
            die("la_append_batch", rc);
    }
    double t1 = now_s();
    if ((rc = la_flush(db)) != LA_OK)
        die("la_flush", rc);
    la_close(db);
    *eps = (double)s->n / (t1 - t0);
    *close_s = now_s() - t1;
}

/* One event per la_append() call, each one kill -9 safe when the call returns (it is in the
 * mapped segment): the rate of the calls, and with the one la_flush() at the end (the
 * checkpoint of every day's rollups) counted too. */
static double la_single_run(const stream *s, const char *db_dir, double *with_flush_eps)
{
    rmrf(db_dir);
    sim_now = 0;
    la_db *db;
    la_options lo = LA_OPTIONS_INIT;
    lo.no_auto_seal = 1;
    int rc = la_open(&db, db_dir, LA_OPEN_CREATE, &lo);
    if (rc)
        die("la_open", rc);
    realtime_on(db);
    double t0 = now_s();
    for (size_t i = 0; i < s->n; i++) {
        sim_now = s->ev[i].ts > sim_now ? s->ev[i].ts : sim_now;
        if ((rc = la_append(db, &s->ev[i])) != LA_OK)
            die("la_append", rc);
    }
    double t1 = now_s();
    if ((rc = la_flush(db)) != LA_OK)
        die("la_flush", rc);
    double t2 = now_s();
    la_close(db);
    *with_flush_eps = (double)s->n / (t2 - t0);
    return (double)s->n / (t1 - t0);
}

/* Group commit: GROUP_THREADS threads append one event per call and call la_flush() after
 * every GROUP_EVENTS of their own, so each event is power-loss safe within one group. */
#define GROUP_THREADS 4
#define GROUP_EVENTS 1000
typedef struct group_arg {
    la_db *db;
    const stream *s;
    size_t t;
} group_arg;

static void *group_worker(void *p)
{
    group_arg *g = p;
    size_t mine = 0;
    int rc;
    for (size_t i = g->t; i < g->s->n; i += GROUP_THREADS) {
        if ((rc = la_append(g->db, &g->s->ev[i])) != LA_OK)
            die("la_append", rc);
        if (++mine % GROUP_EVENTS == 0 && (rc = la_flush(g->db)) != LA_OK)
            die("la_flush", rc);
    }
    if ((rc = la_flush(g->db)) != LA_OK)
        die("la_flush", rc);
    return NULL;
}

static double la_group_run(const stream *s, const char *db_dir)
{
    rmrf(db_dir);
    sim_now = INT64_MAX / 2; /* threads append out of time order: keep every event "now" */
    la_db *db;
    la_options lo = LA_OPTIONS_INIT;
    lo.no_auto_seal = 1;
    lo.future_skew_ms = -1;
    int rc = la_open(&db, db_dir, LA_OPEN_CREATE, &lo);
    if (rc)
        die("la_open", rc);
    realtime_on(db);
    pthread_t th[GROUP_THREADS];
    group_arg ga[GROUP_THREADS];
    double t0 = now_s();
    for (size_t t = 0; t < GROUP_THREADS; t++) {
        ga[t] = (group_arg){db, s, t};
        if (pthread_create(&th[t], NULL, group_worker, &ga[t]) != 0)
            die("pthread_create", 0);
    }
    for (size_t t = 0; t < GROUP_THREADS; t++)
        pthread_join(th[t], NULL);
    double t = now_s() - t0;
    la_close(db);
    return (double)s->n / t;
}

/* Read every column of every row, as a dashboard query would, on an open read-only handle. */
static uint64_t la_scan_run(la_db *db, const la_filter *f, double *secs)
{
    double t0 = now_s();
    la_cursor *cur;
    int rc = la_scan(db, f, &cur);
    if (rc != LA_OK)
        die("la_scan", rc);
    la_batch b;
    uint64_t rows = 0, sum = 0;
    uint32_t ndims = la_db_ndims(db);
    while ((rc = la_cursor_next(cur, &b)) == 1) {
        for (size_t r = 0; r < b.nrows; r++) {
            sum += (uint64_t)b.ts[r] + b.workspace.ids[r] + b.link.ids[r] + b.event_type.ids[r] +
                   b.visitor_id[r] + b.session_id[r] + (uint64_t)b.value[r];
            for (uint32_t d = 0; d < ndims; d++)
                sum += b.dims[d].ids[r];
        }
        rows += b.nrows;
    }
    if (rc < 0)
        die("la_cursor_next", rc);
    la_cursor_close(cur);
    *secs = now_s() - t0;
    sink += sum;
    return rows;
}

/* The workspace with the most events: what the dashboard's biggest customer asks about. */

/* The link of workspace ws with the most events. */
static const size_t *rank_counts;
static int cmp_rank(const void *a, const void *b)
{
    size_t x = rank_counts[*(const size_t *)a], y = rank_counts[*(const size_t *)b];
    return (x < y) - (x > y);
}

/* The workspace with the rank-th most events (0 = the largest): a mid-sized one shows what
 * the key ranges of sealed days save, which a workspace present in most blocks does not. */
static la_str ranked_workspace(const stream *s, size_t rank)
{
    const char **keys = xmalloc(s->nstrings * sizeof *keys);
    size_t *counts = xmalloc(s->nstrings * sizeof *counts), nkeys = 0;
    memset(counts, 0, s->nstrings * sizeof *counts);
    for (size_t i = 0; i < s->n; i++) {
        size_t k;
        for (k = 0; k < nkeys && keys[k] != s->ev[i].workspace.data; k++)
            ;
        if (k == nkeys)
            keys[nkeys++] = s->ev[i].workspace.data;
        counts[k]++;
    }
    size_t *order = xmalloc((nkeys + 1) * sizeof *order);
    for (size_t k = 0; k < nkeys; k++)
        order[k] = k;
    rank_counts = counts;
    qsort(order, nkeys, sizeof *order, cmp_rank);
    size_t pick = order[rank < nkeys ? rank : nkeys - 1];
    la_str w = {keys[pick], (uint32_t)strlen(keys[pick])};
    free(order);
    free(keys);
    free(counts);
    return w;
}

static la_str largest_workspace(const stream *s) { return ranked_workspace(s, 0); }

static la_str largest_link(const stream *s, la_str ws)
{
    const char **keys = xmalloc(s->nstrings * sizeof *keys);
    size_t *counts = xmalloc(s->nstrings * sizeof *counts), nkeys = 0, best = 0;
    memset(counts, 0, s->nstrings * sizeof *counts);
    for (size_t i = 0; i < s->n && nkeys < 65536; i++) {
        if (s->ev[i].workspace.data != ws.data)
            continue;
        size_t k;
        for (k = 0; k < nkeys && keys[k] != s->ev[i].link.data; k++)
            ;
        if (k == nkeys)
            keys[nkeys++] = s->ev[i].link.data;
        if (++counts[k] > counts[best])
            best = k;
    }
    la_str l = {nkeys ? keys[best] : "", nkeys ? (uint32_t)strlen(keys[best]) : 0};
    free(keys);
    free(counts);
    return l;
}

typedef struct qspec {
    int64_t from, to;
    la_str ws, link;
    const la_str *all_ws; /* Q_WEEK_ALL_WS: every workspace */
    size_t n_ws;
} qspec;

/* Every workspace of the stream (strings are interned: one pointer each). */
static la_str *all_workspaces(const stream *s, size_t *n)
{
    la_str *w = xmalloc((s->nstrings + 1) * sizeof *w);
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t j = 0;
        while (j < k && w[j].data != s->ev[i].workspace.data)
            j++;
        if (j == k)
            w[k++] = s->ev[i].workspace;
    }
    *n = k;
    return w;
}

static void q_setup(const opts *o, int q, la_str ws, la_str link, const la_str *all_ws, size_t n_ws, qspec *qs)
{
    const int64_t day = 86400000;
    qs->ws = ws;
    qs->link = (q == Q_DAILY_LINK || q == Q_TOP_COUNTRIES || q == Q_HOURLY_LINK) ? link : (la_str){NULL, 0};
    qs->all_ws = all_ws;
    qs->n_ws = n_ws;
    qs->from = o->g.start_ms;
    qs->to = q == Q_MONTHLY_WS ? o->g.start_ms + 365 * day : q == Q_HOURLY_LINK ? o->g.start_ms + day
                                                                               : o->g.start_ms + 30 * day;
    if (q == Q_WEEK_ALL_WS) { /* the first whole ISO week (Monday to Sunday) of the stream */
        int64_t d = (o->g.start_ms + day - 1) / day;
        while ((d + 3) % 7 != 0) /* day 0, 1970-01-01, was a Thursday */
            d++;
        qs->from = d * day;
        qs->to = qs->from + 7 * day;
    }
}

/* A series' events in all; its distinct counts go to the sink. */
static uint64_t series_events(la_db *db, const la_query *lq)
{
    la_point *p;
    size_t n;
    int rc = la_query_series(db, lq, &p, &n);
    if (rc != LA_OK)
        die("la_query_series", rc);
    uint64_t events = 0;
    for (size_t i = 0; i < n; i++) {
        events += p[i].events;
        sink += p[i].visitors.count + p[i].sessions.count;
    }
    la_series_free(p);
    return events;
}

/* One run of query q on la; returns the events it counted. */
static uint64_t la_query_run(la_db *db, int q, const qspec *qs)
{
    la_query lq = LA_QUERY_INIT;
    lq.workspace = qs->ws;
    lq.link = qs->link;
    lq.from = qs->from;
    lq.to = qs->to;
    uint64_t events = 0;
    int rc;
    if (q == Q_WEEK_ALL_WS) { /* one week bucket per workspace: its totals and distinct counts */
        lq.bucket = LA_BUCKET_WEEK;
        for (size_t w = 0; w < qs->n_ws; w++) {
            lq.workspace = qs->all_ws[w];
            events += series_events(db, &lq);
        }
        return events;
    }
    if (q == Q_TOP_COUNTRIES) {
        la_top *t;
        if ((rc = la_query_top(db, &lq, la_db_dim_index(db, "country"), 10, &t)) != LA_OK)
            die("la_query_top", rc);
        events = t->total;
        la_top_free(t);
        return events;
    }
    lq.bucket = q == Q_MONTHLY_WS ? LA_BUCKET_MONTH : q == Q_HOURLY_LINK ? LA_BUCKET_HOUR : LA_BUCKET_DAY;
    return series_events(db, &lq);
}

static double percentile(double *v, int n, double pct)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i = (int)(pct * (n - 1) + 0.5);
    return v[i];
}

#define QUERY_REPS 200

/* The first answer after an open: the daily series of the largest workspace over the whole
 * stream, which after a crash rebuilds the rollup deltas of the unflushed rows (a handle
 * rebuilds a day's delta when it first needs it, not at open). */
static double first_query(la_db *db, const opts *o, la_str ws)
{
    la_query q = LA_QUERY_INIT;
    q.workspace = ws;
    q.from = o->g.start_ms;
    q.to = o->g.start_ms + ((int64_t)o->g.days + 1) * 86400000;
    la_point *p;
    size_t n;
    double t0 = now_s();
    int rc = la_query_series(db, &q, &p, &n);
    if (rc != LA_OK)
        die("la_query_series", rc);
    double t = now_s() - t0;
    la_series_free(p);
    return t;
}

/* la_open(), read-write, as an application starting up, and its first dashboard answer:
 * after a clean close, and after a writer appended the stream's newest tenth again and was
 * killed (SIGKILL) before any flush, so that the open recovers the segments' tails and the
 * first query rebuilds the rollup deltas from the rows past the files' watermarks (the
 * checkpoint at the la_close that follows is not timed). */
static void open_runs(const stream *s, const opts *o, const char *db_src, la_str big_ws, result *res)
{
    /* on a copy: the killed writers' rows must not change what the later phases measure */
    char db_dir[4096], cmd[8300];
    snprintf(db_dir, sizeof db_dir, "%s/la-crash.db", o->dir);
    rmrf(db_dir);
    snprintf(cmd, sizeof cmd, "cp -a --sparse=always '%s' '%s'", db_src, db_dir);
    if (system(cmd) != 0)
        die("copying the database", 0);
    la_options lo = LA_OPTIONS_INIT;
    lo.no_auto_seal = 1;
    lo.no_auto_retention = 1;
    double *t = xmalloc(sizeof(double) * (size_t)o->runs * 4), *u = t + o->runs, *tq = u + o->runs,
           *uq = tq + o->runs;
    size_t k = s->n / 10;
    for (int r = 0; r < o->runs; r++) {
        la_db *db;
        double t0 = now_s();
        int rc = la_open(&db, db_dir, 0, &lo);
        if (rc != LA_OK)
            die("la_open", rc);
        t[r] = now_s() - t0;
        tq[r] = first_query(db, o, big_ws);
        la_close(db);
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
            die("fork", 0);
        if (pid == 0) {
            if (la_open(&db, db_dir, 0, &lo) != LA_OK)
                _exit(1);
            size_t done;
            for (size_t i = s->n - k; i < s->n; i += 4096)
                if (la_append_batch(db, s->ev + i, s->n - i < 4096 ? s->n - i : 4096, &done) != LA_OK)
                    _exit(1);
            kill(getpid(), SIGKILL);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status))
            die("the writer to kill", 0);
        t0 = now_s();
        if ((rc = la_open(&db, db_dir, 0, &lo)) != LA_OK)
            die("la_open after the crash", rc);
        u[r] = now_s() - t0;
        uq[r] = first_query(db, o, big_ws);
        la_close(db);
        fprintf(stderr,
                "  la open run %d: after a clean close %.3f s, first query %.3f s; after a crash with %zu "
                "events unflushed %.3f s, first query %.3f s\n",
                r + 1, t[r], tq[r], k, u[r], uq[r]);
    }
    res->open_rw_s = median(t, o->runs);
    res->open_crash_s = median(u, o->runs);
    res->first_query_s = median(tq, o->runs);
    res->first_query_crash_s = median(uq, o->runs);
    res->crash_events = (double)k;
    free(t);
    rmrf(db_dir);
}

static void bench_la(const stream *s, const opts *o, la_str big_ws, result *res)
{
    char db_dir[4096], tsv[4096];
    snprintf(db_dir, sizeof db_dir, "%s/la.db", o->dir);
    snprintf(tsv, sizeof tsv, "%s/events.tsv", o->dir);
    la_str mid_ws = ranked_workspace(s, 9);
    double *a = calloc((size_t)o->runs * 7, sizeof(double));
    if (!a)
        die("out of memory", 0);
    double *c = a + o->runs, *x = c + o->runs, *nr = x + o->runs, *cn = nr + o->runs, *sa = cn + o->runs,
           *sn = sa + o->runs;
    for (int r = 0; r < o->runs && (phase(o, "append") || phase(o, "scan") || phase(o, "query") ||
                                    phase(o, "open") || phase(o, "retention"));
         r++) {
        la_append_run(s, db_dir, 1, &nr[r], &cn[r]);
        la_append_run(s, db_dir, 0, &a[r], &c[r]);
        /* the checkpoints la_flush and la_close do are part of ingesting with rollups */
        sa[r] = (double)s->n / ((double)s->n / a[r] + c[r]);
        sn[r] = (double)s->n / ((double)s->n / nr[r] + cn[r]);
        fprintf(stderr, "  la append run %d: %.0f events/s (without rollups %.0f); with flush + close %.0f (%.0f)\n",
                r + 1, a[r], nr[r], sa[r], sn[r]);
    }
    res->append_eps = median(a, o->runs);
    res->append_norollup_eps = median(nr, o->runs);
    res->sustained_eps = median(sa, o->runs);
    res->sustained_norollup_eps = median(sn, o->runs);
    for (int r = 0; r < o->runs && phase(o, "append"); r++) {
        x[r] = la_single_run(s, db_dir, &cn[r]);
        nr[r] = la_group_run(s, db_dir);
        fprintf(stderr,
                "  la one event per call run %d: %.0f events/s (%.0f with the final flush); group commit: %.0f "
                "events/s\n",
                r + 1, x[r], cn[r], nr[r]);
    }
    if (phase(o, "append")) {
        res->single_eps = median(x, o->runs);
        res->single_flush_eps = median(cn, o->runs);
        res->group_eps = median(nr, o->runs);
    }
    la_append_run(s, db_dir, 0, &a[0], &c[0]); /* the database the figures below describe */
    res->close_s = median(c, o->runs);
    res->bytes = disk_bytes(db_dir, "");
    res->bytes_per_event = (double)res->bytes / (double)s->n;
    res->roll_bytes_per_event = (double)disk_bytes(db_dir, ".roll") / (double)s->n;
    res->hot_seg_bytes_per_event = (double)disk_bytes(db_dir, ".seg") / (double)s->n;

    double *op = calloc((size_t)o->runs, sizeof(double));
    if (!op)
        die("out of memory", 0);
    for (int r = 0; r < o->runs && phase(o, "scan"); r++) {
        la_db *db;
        double t0 = now_s(), secs;
        int rc = la_open(&db, db_dir, LA_OPEN_READONLY, NULL);
        if (rc != LA_OK)
            die("la_open", rc);
        op[r] = now_s() - t0;
        res->scanned = la_scan_run(db, NULL, &secs);
        a[r] = (double)res->scanned / secs;
        la_filter f = LA_FILTER_INIT;
        f.workspace = big_ws;
        res->filtered_rows = la_scan_run(db, &f, &secs);
        c[r] = (double)s->n / secs; /* rows considered per second */
        f.workspace = mid_ws;
        la_scan_run(db, &f, &secs);
        x[r] = (double)s->n / secs;
        la_close(db);
    }
    if (phase(o, "scan")) { /* else a, c and x hold the append runs' figures */
        res->mid_scan_rps = median(x, o->runs);
        res->open_s = median(op, o->runs);
        res->scan_rps = median(a, o->runs);
        res->filtered_scan_rps = median(c, o->runs);
    }
    if (phase(o, "scan") && res->scanned != s->n)
        fprintf(stderr, "labench: scanned %llu of %zu events\n", (unsigned long long)res->scanned,
                s->n);

    /* Seal the days that are due (all but the newest three), as la_flush() would on its own. */
    if (phase(o, "append") || phase(o, "scan") || phase(o, "query")) {
        la_db *db;
        la_options lo = LA_OPTIONS_INIT;
        lo.no_auto_seal = 1;
        int rc = la_open(&db, db_dir, 0, &lo);
        la_compact_stats st;
        double t0 = now_s();
        if (rc != LA_OK || (rc = la_compact(db, 0, &st)) != LA_OK)
            die("la_compact", rc);
        double secs = now_s() - t0;
        la_close(db);
        res->seal_s_per_day = st.days ? secs / st.days : 0;
        res->sealed_seg_bytes_per_event = st.rows ? (double)st.bytes_after / (double)st.rows : 0;
        res->sealed_bytes_per_event = (double)disk_bytes(db_dir, "") / (double)s->n;
        fprintf(stderr, "  la seal: %u days, %llu rows, %.3f s per day, %.2f bytes/event sealed\n", st.days,
                (unsigned long long)st.rows, res->seal_s_per_day, res->sealed_seg_bytes_per_event);
    }
    for (int r = 0; r < o->runs && phase(o, "scan"); r++) {
        la_db *db;
        double secs;
        int rc = la_open(&db, db_dir, LA_OPEN_READONLY, NULL);
        if (rc != LA_OK)
            die("la_open", rc);
        la_filter f = LA_FILTER_INIT;
        f.workspace = big_ws;
        if (la_scan_run(db, &f, &secs) != res->filtered_rows)
            fprintf(stderr, "labench: the sealed days gave other rows for the filtered scan\n");
        c[r] = (double)s->n / secs;
        f.workspace = mid_ws;
        la_scan_run(db, &f, &secs);
        x[r] = (double)s->n / secs;
        la_close(db);
    }
    if (phase(o, "scan")) {
        res->sealed_filtered_scan_rps = median(c, o->runs);
        res->sealed_mid_scan_rps = median(x, o->runs);
    }
    free(op);

    if (phase(o, "query")) {
        la_db *db;
        int rc = la_open(&db, db_dir, LA_OPEN_READONLY, NULL);
        if (rc != LA_OK)
            die("la_open", rc);
        la_str link = largest_link(s, big_ws);
        size_t n_ws;
        la_str *all_ws = all_workspaces(s, &n_ws);
        double t[QUERY_REPS];
        for (int q = 0; q < NQ; q++) {
            qspec qs;
            q_setup(o, q, big_ws, link, all_ws, n_ws, &qs);
            res->q_check[q] = la_query_run(db, q, &qs); /* first run loads the files */
            for (int r = 0; r < QUERY_REPS; r++) {
                double t0 = now_s();
                sink += la_query_run(db, q, &qs);
                t[r] = (now_s() - t0) * 1e3;
            }
            res->q_med_ms[q] = percentile(t, QUERY_REPS, 0.5);
            res->q_p99_ms[q] = percentile(t, QUERY_REPS, 0.99);
            fprintf(stderr, "  la %s: median %.3f ms, p99 %.3f ms\n", q_names[q], res->q_med_ms[q],
                    res->q_p99_ms[q]);
        }
        la_live_board *b;
        for (int r = 0; r <= QUERY_REPS; r++) {
            double t0 = now_s();
            if ((rc = la_live_top(db, big_ws, 10, &b)) != LA_OK)
                die("la_live_top", rc);
            t[r % QUERY_REPS] = (now_s() - t0) * 1e3; /* run 0 (the first catch-up) is overwritten */
            if (r == QUERY_REPS)
                fprintf(stderr, "  la realtime top-10 links: %llu events in the last %u min over %llu links\n",
                        (unsigned long long)b->events, b->window_min, (unsigned long long)b->links);
            la_live_board_free(b);
        }
        res->live_med_ms = percentile(t, QUERY_REPS, 0.5);
        res->live_p99_ms = percentile(t, QUERY_REPS, 0.99);
        fprintf(stderr, "  la realtime top-10 links: median %.3f ms, p99 %.3f ms\n", res->live_med_ms,
                res->live_p99_ms);
        /* The first board of a minute sums every link's window; later boards of that minute
         * read the sums (la.h). Nine boards, each a minute after the last (the window then
         * holds 29/30 down to 21/30 of the stream's last 30 minutes). */
        enum { NEW_MINUTES = 9 };
        for (int r = 0; r < NEW_MINUTES; r++) {
            sim_now += 60000;
            double t0 = now_s();
            if ((rc = la_live_top(db, big_ws, 10, &b)) != LA_OK)
                die("la_live_top", rc);
            t[r] = (now_s() - t0) * 1e3;
            la_live_board_free(b);
        }
        res->live_new_minute_ms = percentile(t, NEW_MINUTES, 0.5);
        fprintf(stderr, "  la realtime top-10 links, first board of a minute: median %.3f ms\n",
                res->live_new_minute_ms);
        la_close(db);
        free(all_ws);
    }

    if (phase(o, "open"))
        open_runs(s, o, db_dir, big_ws, res);

    if (phase(o, "retention")) {
        /* every day but the newest two expires; their rollups are complete (checkpointed at
         * close), so this is the unlink path: per day, the hour file and the segment */
        la_db *db;
        la_options lo = LA_OPTIONS_INIT;
        lo.retention_days = 1;
        lo.no_auto_retention = 1;
        int rc = la_open(&db, db_dir, 0, &lo);
        if (rc != LA_OK)
            die("la_open", rc);
        la_retention_stats st;
        /* listing first opens each expired day and its day file (the check that its rollups
         * are complete); what la_retention adds is the deleting */
        double t0 = now_s();
        if ((rc = la_retention_list(db, NULL, NULL, &st)) != LA_OK)
            die("la_retention_list", rc);
        struct rusage u0, u1;
        getrusage(RUSAGE_SELF, &u0);
        double t1 = now_s();
        if ((rc = la_retention(db, &st)) != LA_OK)
            die("la_retention", rc);
        double t2 = now_s();
        getrusage(RUSAGE_SELF, &u1);
        double user = (double)(u1.ru_utime.tv_sec - u0.ru_utime.tv_sec) +
                      (double)(u1.ru_utime.tv_usec - u0.ru_utime.tv_usec) / 1e6;
        la_close(db);
        res->retention_days = st.days;
        res->retention_ms_per_day = st.days ? (t2 - t0) * 1e3 / st.days : 0;
        res->retention_unlink_ms_per_day = st.days ? (t2 - t1) * 1e3 / st.days : 0;
        fprintf(stderr,
                "  la retention: %u days, %.1f MB, %.3f ms per day, of which %.3f ms deleting (%.3f ms "
                "of it in user space, the rest in the kernel: unlink, freeing blocks)\n",
                st.days, (double)st.bytes / 1e6, res->retention_ms_per_day, res->retention_unlink_ms_per_day,
                st.days ? user * 1e3 / st.days : 0);
    }

    if (!phase(o, "ingest")) {
        rmrf(db_dir);
        free(a);
        return;
    }
    /* lactl ingest of the same stream as TSV */
    FILE *f = fopen(tsv, "w");
    gen *g;
    if (!f || gen_create(&g, &o->g) != 0 || gen_write_tsv(g, f) != 0 || fclose(f) != 0)
        die("writing the TSV", 0);
    gen_free(g);
    for (int r = 0; r < o->runs; r++) {
        rmrf(db_dir);
        char *argv[] = {"ingest", db_dir, tsv, "--quiet", NULL};
        double t0 = now_s();
        if (lactl_ingest(4, argv) != LACTL_OK)
            die("lactl ingest", 0);
        x[r] = (double)s->n / (now_s() - t0);
        fprintf(stderr, "  lactl ingest run %d: %.0f rows/s\n", r + 1, x[r]);
    }
    res->ingest_rps = median(x, o->runs);
    if (!o->sqlite)
        unlink(tsv); /* else SQLite loads it too */
    rmrf(db_dir);
    free(a);
}

/* ---- SQLite: the original design's table (a row per click, metadata as JSON) ---------- */

static void sql_ok(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "labench: sqlite %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static void json_str(char **p, const char *key, la_str v, int *first)
{
    if (!v.data)
        return;
    *p += sprintf(*p, "%s\"%s\":\"", *first ? "" : ",", key);
    *first = 0;
    for (uint32_t i = 0; i < v.len; i++) {
        unsigned char ch = (unsigned char)v.data[i];
        if (ch == '"' || ch == '\\')
            *(*p)++ = '\\', *(*p)++ = (char)ch;
        else if (ch < 0x20)
            *p += sprintf(*p, "\\u%04x", ch);
        else
            *(*p)++ = (char)ch;
    }
    *(*p)++ = '"';
}

#define LINK_EVENTS_SCHEMA                                                                               \
    "CREATE TABLE link_events(id INTEGER PRIMARY KEY, workspace_id TEXT NOT NULL,"                  \
    " link_id TEXT NOT NULL, event_type TEXT NOT NULL, visitor_id INTEGER,"                         \
    " session_id INTEGER, value INTEGER, metadata TEXT, created_at INTEGER NOT NULL);"              \
    "CREATE INDEX ev_ws_time ON link_events(workspace_id, created_at);"                             \
    "CREATE INDEX ev_link_time ON link_events(link_id, created_at);"
#define LINK_EVENTS_INSERT                                                                               \
    "INSERT INTO link_events(workspace_id, link_id, event_type, visitor_id,"                        \
    " session_id, value, metadata, created_at) VALUES(?,?,?,?,?,?,?,?)"

/* Bind one event to LINK_EVENTS_INSERT, its dimensions as the JSON metadata blob of the original
 * design (json: room for it). */
static void bind_event(sqlite3_stmt *st, const la_event *e, char *json)
{
    static const char *const names[GEN_NDIMS] = {"country", "city", "device", "browser", "referrer"};
    char *p = json;
    int first = 1;
    *p++ = '{';
    for (int d = 0; d < GEN_NDIMS; d++)
        json_str(&p, names[d], e->dims[d], &first);
    *p++ = '}';
    sqlite3_bind_text(st, 1, e->workspace.data, (int)e->workspace.len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->link.data, (int)e->link.len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, e->event_type.data, (int)e->event_type.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)e->visitor_id);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)e->session_id);
    if (e->has_value)
        sqlite3_bind_int64(st, 6, e->value);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_text(st, 7, json, (int)(p - json), SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, e->ts);
}

static double sqlite_insert_run(const stream *s, const char *path)
{
    unlink(path);
    sqlite3 *db;
    sql_ok(NULL, sqlite3_open(path, &db), "open");
    sql_ok(db, sqlite3_exec(db, LINK_EVENTS_SCHEMA, NULL, NULL, NULL), "create");
    sqlite3_stmt *st;
    sql_ok(db, sqlite3_prepare_v2(db, LINK_EVENTS_INSERT, -1, &st, NULL), "prepare");
    char json[4096];
    double t0 = now_s();
    sql_ok(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
    for (size_t i = 0; i < s->n; i++) {
        bind_event(st, &s->ev[i], json);
        sql_ok(db, sqlite3_step(st), "insert");
        sqlite3_reset(st);
    }
    sql_ok(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    double t = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return (double)s->n / t;
}

static uint64_t sqlite_scan_run(const char *path, const char *where_ws)
{
    sqlite3 *db;
    sql_ok(NULL, sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), "open");
    sqlite3_stmt *st;
    const char *sql = where_ws ? "SELECT created_at, workspace_id, link_id, event_type, visitor_id,"
                                 " session_id, value, metadata FROM link_events WHERE workspace_id = ?"
                               : "SELECT created_at, workspace_id, link_id, event_type, visitor_id,"
                                 " session_id, value, metadata FROM link_events";
    sql_ok(db, sqlite3_prepare_v2(db, sql, -1, &st, NULL), "prepare");
    if (where_ws)
        sqlite3_bind_text(st, 1, where_ws, -1, SQLITE_STATIC);
    uint64_t rows = 0, sum = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sum += (uint64_t)sqlite3_column_int64(st, 0) + (uint64_t)sqlite3_column_bytes(st, 1) +
               (uint64_t)sqlite3_column_bytes(st, 2) + (uint64_t)sqlite3_column_bytes(st, 3) +
               (uint64_t)sqlite3_column_int64(st, 4) + (uint64_t)sqlite3_column_int64(st, 5) +
               (uint64_t)sqlite3_column_int64(st, 6) + (uint64_t)sqlite3_column_bytes(st, 7);
        rows++;
    }
    sql_ok(db, rc, "scan");
    sqlite3_finalize(st);
    sqlite3_close(db);
    sink += sum;
    return rows;
}

/* The original design's answers to the same questions, in SQL over its table. */
static uint64_t sqlite_query_run(sqlite3 *db, int q, const qspec *qs)
{
    static const char *const sql[NQ] = {
        "SELECT date(created_at/1000, 'unixepoch') d, count(*), sum(event_type='click'),"
        " sum(event_type='lead'), sum(event_type='sale'), total(value), count(DISTINCT visitor_id),"
        " count(DISTINCT session_id) FROM link_events WHERE workspace_id=?1 AND created_at>=?3"
        " AND created_at<?4 GROUP BY d",
        "SELECT date(created_at/1000, 'unixepoch') d, count(*), sum(event_type='click'),"
        " sum(event_type='lead'), sum(event_type='sale'), total(value), count(DISTINCT visitor_id),"
        " count(DISTINCT session_id) FROM link_events WHERE link_id=?2 AND workspace_id=?1"
        " AND created_at>=?3 AND created_at<?4 GROUP BY d",
        "SELECT strftime('%Y-%m', created_at/1000, 'unixepoch') d, count(*), sum(event_type='click'),"
        " sum(event_type='lead'), sum(event_type='sale'), total(value), count(DISTINCT visitor_id),"
        " count(DISTINCT session_id) FROM link_events WHERE workspace_id=?1 AND created_at>=?3"
        " AND created_at<?4 GROUP BY d",
        "SELECT json_extract(metadata, '$.country') c, count(*) n FROM link_events WHERE link_id=?2"
        " AND workspace_id=?1 AND created_at>=?3 AND created_at<?4 GROUP BY c ORDER BY n DESC LIMIT 10",
        "SELECT created_at/3600000 h, count(*), sum(event_type='click'), sum(event_type='lead'),"
        " sum(event_type='sale'), total(value), count(DISTINCT visitor_id), count(DISTINCT session_id)"
        " FROM link_events WHERE link_id=?2 AND workspace_id=?1 AND created_at>=?3 AND created_at<?4"
        " GROUP BY h",
        "SELECT workspace_id, count(*), sum(event_type='click'), sum(event_type='lead'),"
        " sum(event_type='sale'), total(value), count(DISTINCT visitor_id), count(DISTINCT session_id)"
        " FROM link_events WHERE created_at>=?3 AND created_at<?4 AND ?1 IS NOT NULL"
        " GROUP BY workspace_id",
    };
    sqlite3_stmt *st;
    sql_ok(db, sqlite3_prepare_v2(db, sql[q], -1, &st, NULL), "prepare query");
    sqlite3_bind_text(st, 1, qs->ws.data, (int)qs->ws.len, SQLITE_STATIC);
    if (qs->link.data)
        sqlite3_bind_text(st, 2, qs->link.data, (int)qs->link.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, qs->from);
    sqlite3_bind_int64(st, 4, qs->to);
    uint64_t events = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        events += (uint64_t)sqlite3_column_int64(st, 1);
    sql_ok(db, rc, "query");
    sqlite3_finalize(st);
    if (q == Q_TOP_COUNTRIES) { /* la's total counts every event, not only the top 10 */
        sql_ok(db, sqlite3_prepare_v2(db, "SELECT count(*) FROM link_events WHERE link_id=?2 AND"
                                          " workspace_id=?1 AND created_at>=?3 AND created_at<?4",
                                      -1, &st, NULL), "prepare");
        sqlite3_bind_text(st, 1, qs->ws.data, (int)qs->ws.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, qs->link.data, (int)qs->link.len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, qs->from);
        sqlite3_bind_int64(st, 4, qs->to);
        sql_ok(db, sqlite3_step(st) == SQLITE_ROW ? SQLITE_OK : SQLITE_ERROR, "count");
        events = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return events;
}

#define SQLITE_QUERY_REPS 5

/* The original design's per-click work: insert the event and upsert its realtime counter, one
 * transaction per click (SQLite's defaults: rollback journal, synchronous FULL). Slow, so timed
 * over the first SINGLE_MAX events or SINGLE_SECONDS, whichever comes first. */
#define SINGLE_MAX 20000
#define SINGLE_SECONDS 10.0
static double sqlite_single_run(const stream *s, const char *path)
{
    unlink(path);
    sqlite3 *db;
    sql_ok(NULL, sqlite3_open(path, &db), "open");
    sql_ok(db,
           sqlite3_exec(db,
                        "CREATE TABLE link_events(id INTEGER PRIMARY KEY, workspace_id TEXT NOT NULL,"
                        " link_id TEXT NOT NULL, event_type TEXT NOT NULL, visitor_id INTEGER,"
                        " created_at INTEGER NOT NULL);"
                        "CREATE TABLE realtime(workspace_id TEXT, link_id TEXT, clicks INTEGER,"
                        " PRIMARY KEY(workspace_id, link_id));",
                        NULL, NULL, NULL),
           "create");
    sqlite3_stmt *ins, *up;
    sql_ok(db,
           sqlite3_prepare_v2(db,
                              "INSERT INTO link_events(workspace_id, link_id, event_type, visitor_id,"
                              " created_at) VALUES(?,?,?,?,?)",
                              -1, &ins, NULL),
           "prepare");
    sql_ok(db,
           sqlite3_prepare_v2(db,
                              "INSERT INTO realtime VALUES(?,?,1) ON CONFLICT(workspace_id, link_id)"
                              " DO UPDATE SET clicks = clicks + 1",
                              -1, &up, NULL),
           "prepare");
    double t0 = now_s(), t = 0;
    size_t i = 0;
    for (; i < s->n && i < SINGLE_MAX && (t = now_s() - t0) < SINGLE_SECONDS; i++) {
        const la_event *e = &s->ev[i];
        sql_ok(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
        sqlite3_bind_text(ins, 1, e->workspace.data, (int)e->workspace.len, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, e->link.data, (int)e->link.len, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, e->event_type.data, (int)e->event_type.len, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 4, (sqlite3_int64)e->visitor_id);
        sqlite3_bind_int64(ins, 5, e->ts);
        sql_ok(db, sqlite3_step(ins), "insert");
        sqlite3_reset(ins);
        sqlite3_bind_text(up, 1, e->workspace.data, (int)e->workspace.len, SQLITE_STATIC);
        sqlite3_bind_text(up, 2, e->link.data, (int)e->link.len, SQLITE_STATIC);
        sql_ok(db, sqlite3_step(up), "upsert");
        sqlite3_reset(up);
        sql_ok(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    }
    t = now_s() - t0;
    sqlite3_finalize(ins);
    sqlite3_finalize(up);
    sqlite3_close(db);
    unlink(path);
    return (double)i / t;
}

/* Open read-write after a clean close, then the first query: la's daily series of the largest
 * workspace over every day (first_query), in SQL. Returns the open time. */
static double sqlite_open_run(const char *path, const opts *o, la_str ws, double *first_query_s)
{
    sqlite3 *db;
    double t0 = now_s();
    sql_ok(NULL, sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), "open");
    double t1 = now_s();
    qspec qs = {.ws = ws, .from = o->g.start_ms, .to = o->g.start_ms + ((int64_t)o->g.days + 1) * 86400000};
    sink += sqlite_query_run(db, Q_DAILY_WS, &qs);
    *first_query_s = now_s() - t1;
    sqlite3_close(db);
    return t1 - t0;
}

/* la_live_top's question in SQL: the workspace's 10 links with the most events in the 30
 * minutes up to `now`, with their visitors of the last 5 minutes and newest event. */
static double sqlite_live_run(sqlite3 *db, la_str ws, int64_t now)
{
    sqlite3_stmt *st;
    sql_ok(db,
           sqlite3_prepare_v2(db,
                              "SELECT link_id, count(*) n, count(DISTINCT CASE WHEN created_at > ?3 THEN"
                              " visitor_id END), max(created_at) FROM link_events WHERE workspace_id = ?1"
                              " AND created_at > ?2 AND created_at <= ?4 GROUP BY link_id"
                              " ORDER BY n DESC, link_id LIMIT 10",
                              -1, &st, NULL),
           "prepare live");
    double t0 = now_s();
    sqlite3_bind_text(st, 1, ws.data, (int)ws.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now - 30 * 60000);
    sqlite3_bind_int64(st, 3, now - 5 * 60000);
    sqlite3_bind_int64(st, 4, now);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        sink += (uint64_t)sqlite3_column_int64(st, 1);
    sql_ok(db, rc, "live");
    double t = (now_s() - t0) * 1e3;
    sqlite3_finalize(st);
    return t;
}

/* Group commit in SQLite: GROUP_THREADS connections in WAL mode with synchronous=FULL, each
 * committing a transaction per GROUP_EVENTS of its events (a commit syncs the WAL: power-loss
 * safe); SQLite runs one writer at a time, the others wait on its lock. Timed over the first
 * SQLITE_GROUP_MAX events. */
#define SQLITE_GROUP_MAX 500000
typedef struct sqlite_group_arg {
    const char *path;
    const stream *s;
    size_t t, n;
} sqlite_group_arg;

static void *sqlite_group_worker(void *p)
{
    sqlite_group_arg *g = p;
    sqlite3 *db;
    sql_ok(NULL, sqlite3_open(g->path, &db), "open");
    sqlite3_busy_timeout(db, 600000);
    sql_ok(db, sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL), "pragma");
    sqlite3_stmt *st;
    sql_ok(db, sqlite3_prepare_v2(db, LINK_EVENTS_INSERT, -1, &st, NULL), "prepare");
    char json[4096];
    size_t mine = 0;
    sql_ok(db, sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "begin");
    for (size_t i = g->t; i < g->n; i += GROUP_THREADS) {
        bind_event(st, &g->s->ev[i], json);
        sql_ok(db, sqlite3_step(st), "insert");
        sqlite3_reset(st);
        if (++mine % GROUP_EVENTS == 0) {
            sql_ok(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
            sql_ok(db, sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "begin");
        }
    }
    sql_ok(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return NULL;
}

static double sqlite_group_run(const stream *s, const char *path)
{
    char wal[4300], shm[4300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    sqlite3 *db;
    sql_ok(NULL, sqlite3_open(path, &db), "open");
    sql_ok(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL;" LINK_EVENTS_SCHEMA, NULL, NULL, NULL), "create");
    size_t n = s->n < SQLITE_GROUP_MAX ? s->n : SQLITE_GROUP_MAX;
    pthread_t th[GROUP_THREADS];
    sqlite_group_arg ga[GROUP_THREADS];
    double t0 = now_s();
    for (size_t t = 0; t < GROUP_THREADS; t++) {
        ga[t] = (sqlite_group_arg){path, s, t, n};
        if (pthread_create(&th[t], NULL, sqlite_group_worker, &ga[t]) != 0)
            die("pthread_create", 0);
    }
    for (size_t t = 0; t < GROUP_THREADS; t++)
        pthread_join(th[t], NULL);
    double t = now_s() - t0;
    sqlite3_close(db);
    unlink(path);
    unlink(wal);
    unlink(shm);
    return (double)n / t;
}

/* The original design's retention: a DELETE of each expired day's rows, oldest first, each its
 * own transaction (the days la's retention phase deletes: all but the newest two). Returns ms
 * per day; the file keeps its size (freed pages are reused, not returned). */
static double sqlite_retention_run(const char *path, int64_t first_day, int64_t newest_day, uint32_t *days)
{
    sqlite3 *db;
    sql_ok(NULL, sqlite3_open(path, &db), "open");
    sqlite3_stmt *st;
    sql_ok(db, sqlite3_prepare_v2(db, "DELETE FROM link_events WHERE created_at < ?", -1, &st, NULL),
           "prepare delete");
    *days = 0;
    double t0 = now_s();
    for (int64_t d = first_day; d <= newest_day - 2; d++, (*days)++) {
        sqlite3_bind_int64(st, 1, (d + 1) * 86400000);
        sql_ok(db, sqlite3_step(st), "delete");
        sqlite3_reset(st);
    }
    double t = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return *days ? t * 1e3 / *days : 0;
}

/* The original design loading the TSV `lactl ingest` reads: each line parsed (the same
 * parser and id mapping as lactl), its dimensions made a JSON blob, inserted in one
 * transaction. Returns rows/s. */
static double sqlite_tsv_run(const char *tsv, const char *path)
{
    unlink(path);
    FILE *in = fopen(tsv, "r");
    tsv_reader *rd = in ? tsv_reader_new(in) : NULL;
    if (!rd)
        die(tsv, 0);
    sqlite3 *db;
    sql_ok(NULL, sqlite3_open(path, &db), "open");
    sql_ok(db, sqlite3_exec(db, LINK_EVENTS_SCHEMA, NULL, NULL, NULL), "create");
    sqlite3_stmt *st;
    sql_ok(db, sqlite3_prepare_v2(db, LINK_EVENTS_INSERT, -1, &st, NULL), "prepare");
    char json[4096], *line;
    size_t len, rows = 0;
    int got;
    double t0 = now_s();
    sql_ok(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
    while ((got = tsv_reader_next(rd, &line, &len)) > 0) {
        if (got == 2) { /* the buffer is full of lines already inserted */
            tsv_reader_release(rd);
            continue;
        }
        tsv_field f[3 + 3 + 1 + GEN_NDIMS];
        const char *why;
        if (tsv_split(line, len, f, 12, &why) != 12)
            die("a TSV line without 12 fields", 0);
        if (tsv_reader_lineno(rd) == 1)
            continue; /* the header */
        la_str dims[GEN_NDIMS];
        for (int d = 0; d < GEN_NDIMS; d++)
            dims[d] = (la_str){f[7 + d].data, f[7 + d].len};
        la_event e = {.ts = strtoll(f[0].data, NULL, 10),
                      .workspace = {f[1].data, f[1].len},
                      .link = {f[2].data, f[2].len},
                      .event_type = {f[3].data, f[3].len},
                      .visitor_id = textid_parse(f[4].data, f[4].len),
                      .session_id = textid_parse(f[5].data, f[5].len),
                      .has_value = f[6].data != NULL,
                      .value = f[6].data ? strtoll(f[6].data, NULL, 10) : 0,
                      .dims = dims,
                      .ndims = GEN_NDIMS};
        bind_event(st, &e, json);
        sql_ok(db, sqlite3_step(st), "insert");
        sqlite3_reset(st);
        rows++;
    }
    if (got < 0)
        die(tsv, 0);
    sql_ok(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    double t = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    tsv_reader_free(rd);
    fclose(in);
    unlink(path);
    return (double)rows / t;
}

static void bench_sqlite(const stream *s, const opts *o, const char *big_ws, result *res)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/sqlite.db", o->dir);
    double *a = xmalloc(sizeof(double) * (size_t)o->runs * 2), *c = a + o->runs;
    for (int r = 0; r < o->runs; r++) {
        a[r] = sqlite_insert_run(s, path);
        fprintf(stderr, "  sqlite insert run %d: %.0f events/s\n", r + 1, a[r]);
    }
    res->append_eps = median(a, o->runs);
    for (int r = 0; r < o->runs; r++) {
        char single[4200];
        snprintf(single, sizeof single, "%s.single", path);
        c[r] = sqlite_single_run(s, single);
        fprintf(stderr, "  sqlite insert + upsert per click, run %d: %.0f events/s\n", r + 1, c[r]);
    }
    res->single_eps = median(c, o->runs);
    for (int r = 0; r < o->runs; r++) {
        char group[4200];
        snprintf(group, sizeof group, "%s.group", path);
        c[r] = sqlite_group_run(s, group);
        fprintf(stderr, "  sqlite group commit, %d threads, commit per %d, run %d: %.0f events/s\n",
                GROUP_THREADS, GROUP_EVENTS, r + 1, c[r]);
    }
    res->group_eps = median(c, o->runs);
    char tsv[4096], tsv_db[4200];
    snprintf(tsv, sizeof tsv, "%s/events.tsv", o->dir);
    snprintf(tsv_db, sizeof tsv_db, "%s.tsv", path);
    for (int r = 0; r < o->runs; r++) {
        c[r] = sqlite_tsv_run(tsv, tsv_db);
        fprintf(stderr, "  sqlite TSV load run %d: %.0f rows/s\n", r + 1, c[r]);
    }
    res->ingest_rps = median(c, o->runs);
    unlink(tsv);
    struct stat st;
    if (stat(path, &st) != 0)
        die(path, 0);
    res->bytes = (uint64_t)st.st_blocks * 512;
    res->bytes_per_event = (double)res->bytes / (double)s->n;
    for (int r = 0; r < o->runs; r++) {
        double t0 = now_s();
        res->scanned = sqlite_scan_run(path, NULL);
        a[r] = (double)res->scanned / (now_s() - t0);
        t0 = now_s();
        res->filtered_rows = sqlite_scan_run(path, big_ws);
        c[r] = (double)s->n / (now_s() - t0);
    }
    res->scan_rps = median(a, o->runs);
    res->filtered_scan_rps = median(c, o->runs);
    sqlite3 *db;
    sql_ok(NULL, sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), "open");
    la_str ws = {big_ws, (uint32_t)strlen(big_ws)}, link = largest_link(s, ws);
    size_t n_ws;
    la_str *all_ws = all_workspaces(s, &n_ws);
    for (int q = 0; q < NQ; q++) {
        qspec qs;
        q_setup(o, q, ws, link, all_ws, n_ws, &qs);
        double t[SQLITE_QUERY_REPS];
        for (int r = 0; r < SQLITE_QUERY_REPS; r++) {
            double t0 = now_s();
            res->q_check[q] = sqlite_query_run(db, q, &qs);
            t[r] = (now_s() - t0) * 1e3;
        }
        res->q_med_ms[q] = percentile(t, SQLITE_QUERY_REPS, 0.5);
        res->q_p99_ms[q] = percentile(t, SQLITE_QUERY_REPS, 0.99);
        fprintf(stderr, "  sqlite %s: median %.3f ms\n", q_names[q], res->q_med_ms[q]);
    }
    int64_t first_ts = INT64_MAX, last_ts = INT64_MIN;
    for (size_t i = 0; i < s->n; i++) {
        first_ts = s->ev[i].ts < first_ts ? s->ev[i].ts : first_ts;
        last_ts = s->ev[i].ts > last_ts ? s->ev[i].ts : last_ts;
    }
    double t[SQLITE_QUERY_REPS];
    for (int r = 0; r < SQLITE_QUERY_REPS && s->n; r++)
        t[r] = sqlite_live_run(db, ws, last_ts);
    res->live_med_ms = s->n ? percentile(t, SQLITE_QUERY_REPS, 0.5) : 0;
    fprintf(stderr, "  sqlite realtime top-10 links: median %.3f ms\n", res->live_med_ms);
    free(all_ws);
    sqlite3_close(db);
    for (int r = 0; r < o->runs; r++) {
        a[r] = sqlite_open_run(path, o, ws, &c[r]);
        fprintf(stderr, "  sqlite open run %d: %.4f s, first query %.3f s\n", r + 1, a[r], c[r]);
    }
    res->open_rw_s = median(a, o->runs);
    res->first_query_s = median(c, o->runs);
    if (s->n) {
        uint32_t days;
        res->retention_ms_per_day = sqlite_retention_run(path, first_ts / 86400000, last_ts / 86400000, &days);
        struct stat after;
        if (stat(path, &after) != 0)
            die(path, 0);
        fprintf(stderr, "  sqlite retention: %u days, %.1f ms per day; the file still takes %.1f MB\n", days,
                res->retention_ms_per_day, (double)after.st_blocks * 512 / 1e6);
    }
    unlink(path);
    free(a);
}

/* ---- report -------------------------------------------------------------------------- */

typedef struct row {
    const char *name, *unit, *key;
    double la, sq; /* sq < 0: no SQLite figure */
} row;

static void report(const opts *o, const stream *s, const row *rows, size_t nrows)
{
    printf("\nla benchmark: %zu events over %u days, seed %llu, median of %d runs\n\n", s->n,
           o->g.days, (unsigned long long)o->g.seed, o->runs);
    printf("%-58s %12s %12s %10s\n", "figure", "la", "sqlite", "la/sqlite");
    for (size_t i = 0; i < nrows; i++) {
        char sq[32] = "-", ratio[32] = "-";
        if (rows[i].sq > 0) {
            snprintf(sq, sizeof sq, "%.4g", rows[i].sq);
            double r = rows[i].la / rows[i].sq; /* below 1/100 as 1/N: 1/11709x, not 8.54e-05x */
            if (r >= 1000)
                snprintf(ratio, sizeof ratio, "%.0fx", r);
            else if (r >= 0.01)
                snprintf(ratio, sizeof ratio, "%.3gx", r);
            else if (1 / r >= 1000)
                snprintf(ratio, sizeof ratio, "1/%.0fx", 1 / r);
            else
                snprintf(ratio, sizeof ratio, "1/%.3gx", 1 / r);
        }
        char name[96];
        snprintf(name, sizeof name, "%s (%s)", rows[i].name, rows[i].unit);
        printf("%-58s %12.4g %12s %10s\n", name, rows[i].la, sq, ratio);
    }
    printf("peak RSS %.0f MiB (includes the in-memory stream)\n", (double)peak_rss_kib() / 1024);
    if (!o->json)
        return;
    FILE *f = fopen(o->json, "w");
    if (!f)
        die(o->json, 0);
    char first[TIMEFMT_MAX];
    date_of(o->g.start_ms, first);
    fprintf(f, "{\"events\": %zu, \"days\": %u, \"first_day\": \"%s\", \"seed\": %llu, \"runs\": %d, \"peak_rss_kib\": %ld",
            s->n, o->g.days, first, (unsigned long long)o->g.seed, o->runs, peak_rss_kib());
    for (size_t i = 0; i < nrows; i++) {
        fprintf(f, ",\n \"%s\": {\"la\": %.6g", rows[i].key, rows[i].la);
        if (rows[i].sq > 0)
            fprintf(f, ", \"sqlite\": %.6g, \"ratio\": %.4g", rows[i].sq, rows[i].la / rows[i].sq);
        fprintf(f, ", \"unit\": \"%s\"}", rows[i].unit);
    }
    fprintf(f, "\n}\n");
    if (fclose(f) != 0)
        die(o->json, 0);
    printf("JSON written to %s\n", o->json);
}

static int usage(FILE *to)
{
    fprintf(to, "usage: labench [--events N] [--days D] [--seed S] [--runs R] [--dir DIR]\n"
                "               [--json FILE] [--no-sqlite] [--only append|scan|query|open|retention|ingest]\n"
                "  Generate a click stream, store it with la and with SQLite, and print append,\n"
                "  ingest, size and scan figures (medians of R runs, default 3) with la/SQLite\n"
                "  ratios. DIR (default ./bench-out) holds the databases while it runs.\n");
    return to == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    opts o = {.runs = 3, .dir = "bench-out", .sqlite = 1};
    gen_options_default(&o.g);
    o.g.events = 2000000;
    o.g.days = 7;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0)
            return usage(stdout);
        if (strcmp(a, "--no-sqlite") == 0) {
            o.sqlite = 0;
            continue;
        }
        if (strcmp(a, "--only") == 0 && v) {
            o.only = v;
            o.sqlite = 0;
            i++;
            continue;
        }
        if (!v)
            return usage(stderr);
        i++;
        if (strcmp(a, "--events") == 0)
            o.g.events = strtoull(v, NULL, 10);
        else if (strcmp(a, "--days") == 0)
            o.g.days = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            o.g.seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--runs") == 0)
            o.runs = atoi(v);
        else if (strcmp(a, "--dir") == 0)
            o.dir = v;
        else if (strcmp(a, "--json") == 0)
            o.json = v;
        else
            return usage(stderr);
    }
    if (o.runs < 1 || o.g.events == 0 || o.g.days == 0)
        return usage(stderr);
    /* la refuses events more than an hour ahead of the clock: a long stream ends today */
    const int64_t day_ms = 86400000;
    int64_t today = (int64_t)time(NULL) / 86400 * day_ms;
    if (o.g.start_ms + (int64_t)o.g.days * day_ms > today)
        o.g.start_ms = today - (int64_t)o.g.days * day_ms;
    if (mkdir(o.dir, 0755) != 0 && errno != EEXIST)
        die(o.dir, 0);

    /* The dates move the figures: a 30-day query that is one calendar month reads one month
     * cell, any other 30 days read day cells (about ten times the work). */
    char first[TIMEFMT_MAX], last[TIMEFMT_MAX];
    date_of(o.g.start_ms, first);
    date_of(o.g.start_ms + ((int64_t)o.g.days - 1) * day_ms, last);
    fprintf(stderr, "generating %llu events over %u days, %s to %s...\n", (unsigned long long)o.g.events,
            o.g.days, first, last);
    stream s;
    make_stream(&s, &o.g);
    la_str big = largest_workspace(&s);
    result la = {0}, sq = {0};
    fprintf(stderr, "la:\n");
    sim_io = *la_io_posix();
    sim_io.now_ms = sim_clock;
    la_io_set(&sim_io);
    bench_la(&s, &o, big, &la);
    if (o.sqlite) {
        fprintf(stderr, "sqlite:\n");
        bench_sqlite(&s, &o, big.data, &sq);
        for (int q = 0; q < NQ; q++)
            if (la.q_check[q] && sq.q_check[q] != la.q_check[q])
                fprintf(stderr, "labench: la and sqlite disagree on %s (%llu vs %llu events)\n",
                        q_names[q], (unsigned long long)la.q_check[q], (unsigned long long)sq.q_check[q]);
        if (sq.filtered_rows != la.filtered_rows || sq.scanned != la.scanned)
            fprintf(stderr, "labench: la and sqlite disagree on row counts (%llu/%llu vs %llu/%llu)\n",
                    (unsigned long long)la.scanned, (unsigned long long)la.filtered_rows,
                    (unsigned long long)sq.scanned, (unsigned long long)sq.filtered_rows);
    }
    double nosq = -1;
    row rows[64] = {
        {"append, one thread", "events/s", "append_events_per_s", la.append_eps,
         o.sqlite ? sq.append_eps : nosq},
        {"append without rollups", "events/s", "append_norollup_events_per_s", la.append_norollup_eps, nosq},
        {"append, then flush + close (checkpoints included)", "events/s", "append_close_events_per_s",
         la.sustained_eps, nosq},
        {"the same without rollups", "events/s", "append_close_norollup_events_per_s", la.sustained_norollup_eps,
         nosq},
        {"append one event per call (kill -9 safe)", "events/s", "append_single_events_per_s", la.single_eps,
         o.sqlite ? sq.single_eps : nosq},
        {"the same, final flush counted (its checkpoint)", "events/s", "append_single_flush_events_per_s",
         la.single_flush_eps, nosq},
        {"group commit, 4 threads, flush per 1000 (power-loss safe)", "events/s", "group_commit_events_per_s",
         la.group_eps, o.sqlite ? sq.group_eps : nosq},
        {"lactl ingest TSV", "rows/s", "ingest_rows_per_s", la.ingest_rps, o.sqlite ? sq.ingest_rps : nosq},
        {"flush + close after append", "s", "close_s", la.close_s, nosq},
        {"on disk", "bytes/event", "bytes_per_event", la.bytes_per_event,
         o.sqlite ? sq.bytes_per_event : nosq},
        {"of which rollup files", "bytes/event", "rollup_bytes_per_event", la.roll_bytes_per_event, nosq},
        {"of which segments, all days hot (LZ4)", "bytes/event", "hot_segment_bytes_per_event",
         la.hot_seg_bytes_per_event, nosq},
        {"segments of sealed days (sorted, zstd)", "bytes/event", "sealed_segment_bytes_per_event",
         la.sealed_seg_bytes_per_event, nosq},
        {"on disk once due days are sealed", "bytes/event", "sealed_bytes_per_event", la.sealed_bytes_per_event,
         nosq},
        {"seal time per day", "s", "seal_s_per_day", la.seal_s_per_day, nosq},
        {"open read-only", "s", "open_readonly_s", la.open_s, nosq},
        {"open read-write after a clean close", "s", "open_clean_s", la.open_rw_s, o.sqlite ? sq.open_rw_s : nosq},
        {"  then the first query (daily series, largest workspace, all days)", "s", "first_query_s",
         la.first_query_s, o.sqlite ? sq.first_query_s : nosq},
        {"open after a kill -9 of a writer with 10% of the events unflushed", "s", "open_after_crash_s",
         la.open_crash_s, nosq},
        {"  then the first query (it replays the unflushed rows into the rollups)", "s",
         "first_query_after_crash_s", la.first_query_crash_s, nosq},
        {"full scan, all columns", "rows/s", "scan_rows_per_s", la.scan_rps,
         o.sqlite ? sq.scan_rps : nosq},
        {"scan workspace=largest", "events/s", "filtered_scan_events_per_s", la.filtered_scan_rps,
         o.sqlite ? sq.filtered_scan_rps : nosq},
        {"scan workspace=largest, due days sealed", "events/s", "sealed_filtered_scan_events_per_s",
         la.sealed_filtered_scan_rps, o.sqlite ? sq.filtered_scan_rps : nosq},
        {"scan workspace=10th largest, all days hot", "events/s", "mid_scan_events_per_s", la.mid_scan_rps, nosq},
        {"scan workspace=10th largest, due days sealed", "events/s", "sealed_mid_scan_events_per_s",
         la.sealed_mid_scan_rps, nosq},
        {"retention, per deleted day", "ms", "retention_ms_per_day", la.retention_ms_per_day,
         o.sqlite ? sq.retention_ms_per_day : nosq},
        {"of which unlinking files", "ms", "retention_unlink_ms_per_day", la.retention_unlink_ms_per_day, nosq},
    };
    size_t nrows = 0;
    while (rows[nrows].name)
        nrows++;
    if (phase(&o, "query")) {
        rows[nrows++] = (row){"realtime top-10 links, largest workspace", "median ms", "live_top_median_ms",
                              la.live_med_ms, o.sqlite ? sq.live_med_ms : nosq};
        rows[nrows++] = (row){"realtime top-10 links, largest workspace", "p99 ms", "live_top_p99_ms",
                              la.live_p99_ms, nosq};
        rows[nrows++] = (row){"realtime top-10 links, first board of a minute", "median ms",
                              "live_top_new_minute_ms", la.live_new_minute_ms, o.sqlite ? sq.live_med_ms : nosq};
    }
    static char keys[NQ][2][64];
    for (int q = 0; q < NQ && phase(&o, "query"); q++) {
        snprintf(keys[q][0], sizeof keys[q][0], "%s_median_ms", q_keys[q]);
        snprintf(keys[q][1], sizeof keys[q][1], "%s_p99_ms", q_keys[q]);
        rows[nrows++] = (row){q_names[q], "median ms", keys[q][0], la.q_med_ms[q], o.sqlite ? sq.q_med_ms[q] : nosq};
        rows[nrows++] = (row){q_names[q], "p99 ms", keys[q][1], la.q_p99_ms[q], nosq};
    }
    report(&o, &s, rows, nrows);
    free_stream(&s);
    rmdir(o.dir); /* only if we left it empty */
    return 0;
}
