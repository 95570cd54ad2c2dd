/* rollstore.c — a database's rollups on disk and in memory (see rollstore.h).
 *
 * The rows of a day's segment are the truth; rollups are a function of them. A day file says
 * how many rows of its day it includes (its watermark); the rows after it live in memory as a
 * delta: a writer adds the rows each seal makes durable, and any handle replays rows from the
 * segment when its delta is missing or behind (after open, after a failure). A checkpoint
 * writes the hour file, then the day file, then the files of complete weeks, months and years,
 * each atomically; a file that a crash left behind the others is detected by its sources and
 * never used (SPEC.md §10.5). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "error.h"
#include "io.h"

#define DEFAULT_CHECKPOINT_ROWS (1u << 20)
#define ENC_KEEP_BYTES ((size_t)64 << 20) /* the encode buffer kept between files */

static uint32_t cap_for(const char *dim)
{
    static const char *const exact[] = {"country", "device", "browser"};
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (strcmp(dim, exact[i]) == 0)
            return 4096;
    return 64;
}

static int fday_add(la_rstate *rs, int32_t day)
{
    size_t lo = 0, hi = rs->nfdays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rs->fdays[mid] == day)
            return LA_OK;
        if (rs->fdays[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (rs->nfdays == rs->fdays_cap) {
        size_t cap = rs->fdays_cap ? rs->fdays_cap * 2 : 64;
        int32_t *f = realloc(rs->fdays, cap * sizeof *f);
        if (!f)
            return la_err(LA_ENOMEM, "out of memory");
        rs->fdays = f;
        rs->fdays_cap = cap;
    }
    memmove(rs->fdays + lo + 1, rs->fdays + lo, (rs->nfdays - lo) * sizeof *rs->fdays);
    rs->fdays[lo] = day;
    rs->nfdays++;
    return LA_OK;
}

/* The days that have a day file, from the directory. */
static int fdays_scan(la_db *db)
{
    DIR *dir = opendir(db->path);
    if (!dir)
        return la_err_errno(errno, "opendir", db->path);
    int rc = LA_OK;
    struct dirent *e;
    db->roll.nfdays = 0;
    while (rc == LA_OK && (e = readdir(dir)) != NULL) {
        int level;
        int32_t first;
        if (la_roll_name_parse(e->d_name, &level, &first) == 0 && level == LA_BUCKET_DAY)
            rc = fday_add(&db->roll, first);
    }
    closedir(dir);
    return rc;
}

int32_t la_rs_next_data_day(la_db *db, int32_t day)
{
    int32_t best = INT32_MAX;
    la_rstate *rs = &db->roll;
    size_t lo = 0, hi = rs->nfdays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rs->fdays[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < rs->nfdays)
        best = rs->fdays[lo];
    for (lo = 0, hi = db->ndays; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        if (db->days[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < db->ndays && db->days[lo].day < best)
        best = db->days[lo].day;
    return best;
}

int la_rs_init(la_db *db, const la_options *o)
{
    la_rstate *rs = &db->roll;
    for (uint32_t i = 0; i < la_db_ndims(db); i++)
        rs->caps[i] = cap_for(la_db_dim_name(db, i));
    rs->checkpoint_rows = o->checkpoint_rows ? o->checkpoint_rows : DEFAULT_CHECKPOINT_ROWS;
    rs->off = o->no_rollups != 0;
    rs->work_wanted = !db->readonly && !rs->off && !o->no_rollup_thread && sysconf(_SC_NPROCESSORS_ONLN) > 1;
    rs->epoch = 1;
    return fdays_scan(db);
}

static void delta_drop(la_rdelta *rd)
{
    la_cellset_free(rd->cs);
    rd->cs = NULL;
    for (int r = 0; r < 3 + LA_MAX_DIMS; r++) {
        free(rd->memo[r]);
        rd->memo[r] = NULL;
        rd->memo_n[r] = 0;
    }
}

static void file_drop(la_rfile *f)
{
    la_roll_close(&f->v);
    if (f->map)
        la_io_current()->unmap(f->map, f->len);
    f->map = NULL;
    f->present = 0;
}

void la_rs_free(la_db *db)
{
    la_rstate *rs = &db->roll;
    la_rollwork_free(rs->work); /* counts what is queued, then stops */
    la_rollbatch_free(&rs->batch);
    for (size_t i = 0; i < rs->nfiles; i++) {
        file_drop(rs->files[i]);
        free(rs->files[i]);
    }
    free(rs->files);
    for (size_t i = 0; i < rs->ndeltas; i++)
        delta_drop(&rs->deltas[i]);
    free(rs->deltas);
    la_cellset_free(rs->strings);
    free(rs->enc);
    free(rs->fdays);
    memset(rs, 0, sizeof *rs);
}

void la_rs_begin(la_db *db)
{
    la_rstate *rs = &db->roll;
    rs->query++;
    /* A writer replaces rollup files by renaming, which changes the directory. Checking each
     * file only when it did saves a stat per file per query. A change this check misses (the
     * same mtime tick) is still safe: every file is used only after its watermarks agree with
     * the files it is combined with, so a stale file is either consistent or set aside. While
     * the directory watch (read by la_db_refresh_days first) reports no rename since the last
     * look, the directory is as that look found it: no stat either. */
    if (rs->dir_known && la_db_dir_same_since(db, rs->dir_known_epoch))
        return;
    uint64_t ino = 0, size = 0;
    int64_t mt = 0;
    int known = la_io_current()->identity(db->path, &ino, &mt, &size) == 0;
    rs->dir_known = known;
    rs->dir_known_epoch = db->dir_epoch;
    if (!known || mt != rs->dir_mtime_ns || ino != rs->dir_ino || size != rs->dir_size) {
        rs->epoch++;
        rs->dir_mtime_ns = mt;
        rs->dir_ino = ino;
        rs->dir_size = size;
        if (fdays_scan(db) != LA_OK)
            la_err_clear(); /* a missed day file only makes a query skip a day with no segment */
    }
}

static char *file_path(const la_db *db, int level, int32_t first_day, const char *suffix)
{
    char name[40];
    la_roll_name(name, sizeof name, level, first_day);
    size_t n = strlen(db->path) + strlen(name) + strlen(suffix) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s", db->path, name, suffix);
    return p;
}

static int file_load(la_db *db, la_rfile *f)
{
    const la_io *io = la_io_current();
    char *path = file_path(db, f->level, f->first_day, "");
    if (!path)
        return la_err(LA_ENOMEM, "out of memory");
    int rc = LA_OK;
    f->epoch = db->roll.epoch;
    if (io->identity(path, &f->ino, &f->mtime_ns, &f->size) != 0) {
        rc = errno == ENOENT ? LA_OK : la_err_errno(errno, "stat", path);
        goto out;
    }
    int fd = io->open(path, O_RDONLY, 0);
    if (fd < 0) {
        rc = errno == ENOENT ? LA_OK : la_err_errno(errno, "open", path);
        goto out;
    }
    uint64_t size;
    if (io->size(fd, &size) != 0) {
        rc = la_err_errno(errno, "stat", path);
        io->close(fd);
        goto out;
    }
    f->len = (size_t)size;
    f->map = size ? io->map(fd, f->len, 0) : NULL;
    io->close(fd);
    if (size && !f->map) {
        rc = la_err_errno(errno, "mmap", path);
        goto out;
    }
    const char *why = "empty file";
    uint64_t off = 0;
    rc = size ? la_roll_open(&f->v, f->map, f->len, la_db_ndims(db), &why, &off) : LA_ECORRUPT;
    if (rc == LA_ECORRUPT)
        rc = la_err_corrupt(path, (int64_t)off, why);
    else if (rc != LA_OK)
        rc = la_err(rc, "%s: %s", path, why);
    if (rc != LA_OK) {
        file_drop(f);
        goto out;
    }
    f->present = 1;
out:
    free(path);
    return rc;
}

static int file_cmp(int level, int32_t day, const la_rfile *f)
{
    if (level != f->level)
        return level < f->level ? -1 : 1;
    return (day > f->first_day) - (day < f->first_day);
}

static la_rfile *file_slot(la_db *db, int level, int32_t first_day, int *rc)
{
    la_rstate *rs = &db->roll;
    size_t lo = 0, hi = rs->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = file_cmp(level, first_day, rs->files[mid]);
        if (c == 0)
            return rs->files[mid];
        if (c > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (rs->nfiles == rs->files_cap) {
        size_t cap = rs->files_cap ? rs->files_cap * 2 : 64;
        la_rfile **files = realloc(rs->files, cap * sizeof *files);
        if (!files) {
            *rc = la_err(LA_ENOMEM, "out of memory");
            return NULL;
        }
        rs->files = files;
        rs->files_cap = cap;
    }
    la_rfile *f = calloc(1, sizeof *f);
    if (!f) {
        *rc = la_err(LA_ENOMEM, "out of memory");
        return NULL;
    }
    f->level = level;
    f->first_day = first_day;
    memmove(rs->files + lo + 1, rs->files + lo, (rs->nfiles - lo) * sizeof *rs->files);
    rs->files[lo] = f;
    rs->nfiles++;
    if ((*rc = file_load(db, f)) != LA_OK)
        f->epoch = 0; /* try again next time */
    return f;
}

int la_rs_file(la_db *db, int level, int32_t first_day, const la_roll_view **out)
{
    *out = NULL;
    int rc = LA_OK;
    la_rfile *f = file_slot(db, level, first_day, &rc);
    if (!f || rc != LA_OK)
        return rc;
    if (f->epoch != db->roll.epoch && (db->readonly || f->epoch == 0)) {
        /* read-only: a writer may have replaced the file since we mapped it */
        uint64_t ino = 0, size = 0;
        int64_t mt = 0;
        char *path = file_path(db, level, first_day, "");
        if (!path)
            return la_err(LA_ENOMEM, "out of memory");
        int exists = la_io_current()->identity(path, &ino, &mt, &size) == 0;
        free(path);
        if (f->epoch == 0 || exists != f->present || (exists && (ino != f->ino || mt != f->mtime_ns || size != f->size))) {
            file_drop(f);
            if ((rc = file_load(db, f)) != LA_OK) {
                f->epoch = 0;
                return rc;
            }
        }
        f->epoch = db->roll.epoch;
    }
    *out = f->present ? &f->v : NULL;
    return LA_OK;
}

/* The writer replaced a file: forget the cached one. */
static void file_forget(la_db *db, int level, int32_t first_day)
{
    la_rstate *rs = &db->roll;
    for (size_t i = 0; i < rs->nfiles; i++)
        if (rs->files[i]->level == level && rs->files[i]->first_day == first_day) {
            file_drop(rs->files[i]);
            rs->files[i]->epoch = 0;
        }
}

int la_rs_day_wm(la_db *db, int32_t day, int64_t *wm)
{
    const la_roll_view *v;
    int rc = la_rs_file(db, LA_BUCKET_DAY, day, &v);
    *wm = rc == LA_OK && v ? la_roll_source_rows(v, day) : -1;
    return rc;
}

/* Whether the week/month/year file of the bucket [first, first + ndays), v (NULL: no file,
 * which includes nothing), includes for every day exactly the rows its day file includes (none
 * without a day file) — for days[0..n) the rows w[j] instead (what their day files held before
 * a checkpoint; 0 = none). */
static int coarse_check(la_db *db, const la_roll_view *v, int32_t first, uint32_t ndays,
                        const int32_t *days, const uint64_t *w, size_t n, int *valid)
{
    *valid = 1;
    for (uint32_t i = 0; i < ndays && *valid; i++) {
        int32_t d = first + (int32_t)i;
        size_t j = 0;
        while (j < n && days[j] != d)
            j++;
        int64_t want = j < n ? (w[j] ? (int64_t)w[j] : -1) : 0;
        if (j == n) {
            int rc = la_rs_day_wm(db, d, &want);
            if (rc != LA_OK)
                return rc;
        }
        *valid = (v ? la_roll_source_rows(v, d) : -1) == want;
    }
    return LA_OK;
}

int la_rs_coarse_valid(la_db *db, const la_roll_view *v, int *valid)
{
    return coarse_check(db, v, v->h.first_day, v->h.ndays, NULL, NULL, 0, valid);
}

int la_rs_hours_valid(la_db *db, int32_t day, const la_roll_view *h, int *valid)
{
    int64_t wm;
    int rc = la_rs_day_wm(db, day, &wm);
    *valid = rc == LA_OK && h && wm >= 0 && la_roll_source_rows(h, day) == wm;
    return rc;
}

/* ---- deltas ------------------------------------------------------------------------------ */

/* An empty delta: a writer's share one dictionary, a reader's each have their own (a reader's
 * deltas are rebuilt one by one, so a shared dictionary would only grow). */
static la_cellset *delta_new(la_db *db)
{
    la_rstate *rs = &db->roll;
    if (db->readonly)
        return la_cellset_new(la_db_ndims(db), rs->caps);
    if (!rs->strings && !(rs->strings = la_cellset_new(la_db_ndims(db), rs->caps)))
        return NULL;
    return la_cellset_new_shared(rs->strings);
}

static la_rdelta *delta_find(la_db *db, int32_t day)
{
    la_rstate *rs = &db->roll;
    for (size_t i = 0; i < rs->ndeltas; i++)
        if (rs->deltas[i].day == day)
            return &rs->deltas[i];
    return NULL;
}

/* Wait for the worker; a delta it could not count in full is dropped (replayed when next
 * needed). Before anything reads or changes a delta. */
static void work_drain(la_db *db)
{
    la_rstate *rs = &db->roll;
    if (!rs->work)
        return;
    la_rollwork_drain(rs->work);
    for (size_t i = 0; i < rs->ndeltas; i++)
        if (rs->deltas[i].cs && rs->deltas[i].cs->uncounted)
            delta_drop(&rs->deltas[i]);
}

static la_rdelta *delta_add(la_db *db, int32_t day)
{
    la_rstate *rs = &db->roll;
    if (rs->ndeltas == rs->deltas_cap) {
        size_t cap = rs->deltas_cap ? rs->deltas_cap * 2 : 16;
        la_rdelta *d = realloc(rs->deltas, cap * sizeof *d);
        if (!d)
            return NULL;
        rs->deltas = d;
        rs->deltas_cap = cap;
    }
    la_rdelta *d = &rs->deltas[rs->ndeltas++];
    memset(d, 0, sizeof *d);
    d->day = day;
    return d;
}

/* The order of rows 0..n-1 grouped by link id (a counting sort): a link's cell and its
 * workspace's then stay in cache across the link's rows, instead of a cache miss per row.
 * Cells are sums and sets, so the order changes nothing else. NULL when out of memory. */
static uint32_t *by_link(const uint32_t *link_ids, uint32_t n)
{
    uint32_t top = 0;
    for (uint32_t i = 0; i < n; i++)
        top = link_ids[i] > top ? link_ids[i] : top;
    uint32_t *order = malloc(((size_t)n + 1) * sizeof *order), *start = calloc((size_t)top + 2, sizeof *start);
    if (!order || !start) {
        free(order);
        free(start);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        start[link_ids[i] + 1]++;
    for (uint32_t k = 1; k <= top + 1; k++)
        start[k] += start[k - 1];
    for (uint32_t i = 0; i < n; i++)
        order[start[link_ids[i]]++] = i;
    free(start);
    return order;
}

/* A batch column's dictionary ids mapped to a set's ids, each string interned once per
 * dictionary instead of once per row (interning hashes the string: eight per row). Only a
 * day's own dictionary keeps its ids from batch to batch; a tail batch numbers its strings
 * afresh in the same arrays, so replay() starts a new map at each. */
typedef struct id_memo {
    const la_str *dict; /* the dictionary the map is for */
    uint32_t *map;      /* batch id -> set id, 0 = not looked up yet */
    uint32_t cap, used; /* map[0..used) may be non-zero */
} id_memo;

static uint32_t memo_lookup(id_memo *m, la_cellset *cs, const la_str_column *col, uint32_t id)
{
    if (!id)
        return 0; /* absent */
    if (m->dict != col->dict) {
        if (m->used) /* map is NULL until the first lookup */
            memset(m->map, 0, m->used * sizeof *m->map);
        m->dict = col->dict;
        m->used = 0;
    }
    if (id >= m->cap) {
        uint32_t cap = m->cap ? m->cap : 1024;
        while (cap <= id)
            cap *= 2;
        uint32_t *map = realloc(m->map, (size_t)cap * sizeof *map);
        if (!map)
            return 0;
        memset(map + m->cap, 0, (size_t)(cap - m->cap) * sizeof *map);
        m->map = map;
        m->cap = cap;
    }
    if (!m->map[id]) {
        la_str s = col->dict[id];
        m->map[id] = la_dict_intern_str(cs->dict, s.data, s.len);
        if (id >= m->used)
            m->used = id + 1;
    }
    return m->map[id];
}

/* Add the rows of `day` with seq in [lo, hi) to cs. */
static int replay(la_db *db, int32_t day, la_cellset *cs, uint64_t lo, uint64_t hi)
{
    la_cursor *c;
    int rc = la_scan_seq_locked(db, NULL, day, lo, hi, &c);
    if (rc != LA_OK)
        return rc;
    uint32_t nroles = 3 + la_db_ndims(db), id[3 + LA_MAX_DIMS];
    id_memo memo[3 + LA_MAX_DIMS];
    memset(memo, 0, sizeof memo);
    la_batch b;
    int n;
    while (rc == LA_OK && (n = la_cursor_next_locked(c, &b)) == 1) {
        const la_str_column *col[3 + LA_MAX_DIMS] = {&b.workspace, &b.link, &b.event_type};
        for (uint32_t r = 3; r < nroles; r++)
            col[r] = &b.dims[r - 3];
        if (la_cursor_batch_from_tail(c))
            for (uint32_t r = 0; r < nroles; r++)
                memo[r].dict = NULL; /* its ids are its own: the next lookup starts a new map */
        uint32_t *order = b.nrows <= UINT32_MAX ? by_link(b.link.ids, (uint32_t)b.nrows) : NULL;
        if (!order)
            rc = la_err(LA_ENOMEM, "out of memory");
        for (size_t j = 0; j < b.nrows && rc == LA_OK; j++) {
            uint32_t i = order[j];
            for (uint32_t r = 0; r < nroles; r++) {
                uint32_t sid = col[r]->ids[i];
                if (!(id[r] = memo_lookup(&memo[r], cs, col[r], sid)) && sid)
                    rc = LA_ENOMEM;
            }
            if (rc == LA_OK)
                rc = la_cellset_add(cs, (int32_t)(b.ts[i] / 3600000), id, b.visitor_id[i],
                                    b.session_id[i], b.has_value[i] ? b.value[i] : 0);
            if (rc != LA_OK)
                rc = la_err(rc, "out of memory");
        }
        free(order);
    }
    if (rc == LA_OK && n < 0)
        rc = n;
    for (uint32_t r = 0; r < nroles; r++)
        free(memo[r].map);
    la_cursor_close(c);
    return rc;
}

int la_rs_recompute(la_db *db, int32_t day, uint64_t rows, la_cellset *cs)
{
    return replay(db, day, cs, 0, rows);
}

/* The day's delta, covering its rows from the watermark up to at least `upto` (replayed from
 * the segment where needed). *out = NULL when the day has no segment. */
static int delta_ensure(la_db *db, la_day *d, uint64_t upto, la_rdelta **out)
{
    *out = NULL;
    la_rdelta *rd = delta_find(db, d->day);
    if (!db->readonly && rd && rd->cs && rd->to >= upto) {
        *out = rd; /* the writer's files change only by its own checkpoints */
        return LA_OK;
    }
    int64_t wm;
    int rc = la_rs_day_wm(db, d->day, &wm);
    if (rc != LA_OK)
        return rc;
    uint64_t from = wm < 0 ? 0 : (uint64_t)wm;
    if (!rd && !(rd = delta_add(db, d->day)))
        return la_err(LA_ENOMEM, "out of memory");
    if (!rd->cs || rd->from != from || rd->to > (upto > from ? upto : from)) {
        delta_drop(rd);
        if (!(rd->cs = delta_new(db)))
            return la_err(LA_ENOMEM, "out of memory");
        rd->from = rd->to = from;
    }
    if (rd->to < upto) {
        if ((rc = replay(db, d->day, rd->cs, rd->to, upto)) != LA_OK) {
            delta_drop(rd); /* replayed again next time */
            return rc;
        }
        rd->to = upto;
    }
    *out = rd;
    return LA_OK;
}

int la_rs_delta(la_db *db, int32_t day, la_cellset **out, uint64_t *raw_from, uint64_t *rows)
{
    work_drain(db);
    *out = NULL;
    *raw_from = *rows = 0;
    la_day *d;
    int rc = la_db_day(db, day, 0, &d);
    if (rc == LA_ENOTFOUND) {
        la_err_clear();
        return LA_OK;
    }
    if (rc != LA_OK)
        return rc;
    if (db->roll.off)
        return LA_OK;
    la_rdelta *rd = delta_find(db, day);
    if (db->readonly && (!rd || rd->epoch != db->roll.query)) {
        if ((rc = la_db_day_fresh(db, day, &d)) == LA_ENOTFOUND) {
            la_err_clear();
            return LA_OK;
        }
        if (rc != LA_OK)
            return rc;
    }
    /* a writer's delta follows sealed rows (la_rs_on_seal); a reader replays every row */
    uint64_t upto = d->commit.rows_in_blocks + (db->readonly ? d->tail_rows : 0);
    if ((rc = delta_ensure(db, d, upto, &rd)) != LA_OK)
        return rc;
    rd->epoch = db->roll.query;
    *out = rd->cs;
    *raw_from = rd->to;
    *rows = d->commit.rows_in_blocks + d->tail_rows;
    return LA_OK;
}

/* The shared-dictionary id of the string a day's dictionary holds as `sid` for `role`. */
static uint32_t memo_id(la_rdelta *rd, la_day *d, uint32_t role, uint32_t sid)
{
    uint32_t col = role < 3 ? LA_C_WORKSPACE + role : LA_NFIXED + role - 3;
    if (sid >= rd->memo_n[role]) {
        uint32_t n = la_dict_size(d->dict[col]) + 1, cap = rd->memo_n[role] ? rd->memo_n[role] : 64;
        while (cap < n)
            cap *= 2;
        uint32_t *m = realloc(rd->memo[role], cap * sizeof *m);
        if (!m)
            return 0;
        memset(m + rd->memo_n[role], 0, (cap - rd->memo_n[role]) * sizeof *m);
        rd->memo[role] = m;
        rd->memo_n[role] = cap;
    }
    uint32_t *slot = &rd->memo[role][sid];
    if (!*slot) {
        la_str s = la_dict_strs(d->dict[col])[sid];
        *slot = la_dict_intern_str(rd->cs->dict, s.data, s.len);
    }
    return *slot;
}

/* The sealed rows into b, grouped by link, with the delta's ids; LA_ENOMEM on failure. */
static int fill_batch(la_db *db, la_rdelta *rd, la_day *d, const la_sealed *s, la_rollbatch *b)
{
    uint32_t nroles = 3 + la_db_ndims(db);
    uint32_t *order = by_link(s->ids[LA_C_LINK], s->n);
    if (!order)
        return LA_ENOMEM;
    for (uint32_t j = 0; j < s->n; j++) {
        uint32_t i = order[j], *id = b->id + (size_t)j * nroles;
        for (uint32_t r = 0; r < nroles; r++) {
            uint32_t col = r < 3 ? LA_C_WORKSPACE + r : LA_NFIXED + r - 3, sid = s->ids[col][i];
            id[r] = sid ? memo_id(rd, d, r, sid) : 0;
            if (sid && !id[r]) {
                free(order);
                return LA_ENOMEM;
            }
        }
        b->hour[j] = (int32_t)(s->ts[i] / 3600000);
        b->visitor[j] = s->visitor[i];
        b->session[j] = s->session[i];
        b->value[j] = s->has_value[i] ? s->value[i] : 0;
    }
    free(order);
    b->n = s->n;
    b->cs = rd->cs;
    return LA_OK;
}

/* The rows to the worker, when there is one and the delta is exactly up to them. */
static int seal_to_worker(la_db *db, la_day *d, const la_sealed *s)
{
    la_rstate *rs = &db->roll;
    la_rdelta *rd = delta_find(db, d->day);
    if (!rd || !rd->cs || rd->to != s->first_seq)
        return 0;
    if (!rs->work && rs->work_wanted) {
        rs->work_wanted = 0; /* one try: without a thread, rows are counted here */
        rs->work = la_rollwork_new(3 + la_db_ndims(db));
    }
    if (!rs->work)
        return 0;
    la_rollbatch *b = la_rollwork_reserve(rs->work, s->n);
    if (!b || fill_batch(db, rd, d, s, b) != LA_OK)
        return 0;
    la_rollwork_submit(rs->work, rd->cs);
    rd->to += s->n;
    return 1;
}

void la_rs_on_seal(void *ctx, la_day *d, const la_sealed *s)
{
    la_db *db = ctx;
    la_rstate *rs = &db->roll;
    if (rs->off || seal_to_worker(db, d, s))
        return;
    work_drain(db);
    la_rdelta *rd;
    if (delta_ensure(db, d, s->first_seq, &rd) != LA_OK || !rd || rd->to != s->first_seq) {
        la_err_clear(); /* the rows are stored; their rollups are replayed when next needed */
        return;
    }
    uint32_t nroles = 3 + la_db_ndims(db);
    if (!la_rollbatch_reserve(&rs->batch, s->n, nroles) || fill_batch(db, rd, d, s, &rs->batch) != LA_OK ||
        la_rollbatch_count(&rs->batch, nroles) != LA_OK) {
        delta_drop(rd);
        return;
    }
    rd->to += s->n;
}

/* ---- checkpoints ------------------------------------------------------------------------- */

static int write_set(la_db *db, la_cellset *cs, const la_cellset *links, int level, int32_t first_day,
                     const int32_t *sd, const uint64_t *sr, uint32_t ns)
{
    la_rstate *rs = &db->roll;
    size_t len;
    int rc = la_cellset_encode(cs, links, level, first_day, sd, sr, ns, &rs->enc, &rs->enc_cap, &len);
    if (rc != LA_OK)
        return la_err(rc, "out of memory");
    uint8_t *buf = rs->enc;
    char name[40];
    la_roll_name(name, sizeof name, level, first_day);
    rc = la_write_atomic(db->path, name, buf, len);
    if (rs->enc_cap > ENC_KEEP_BYTES) { /* a large month or year file's: not held until the next */
        free(rs->enc);
        rs->enc = NULL;
        rs->enc_cap = 0;
    }
    file_forget(db, level, first_day);
    if (level == LA_BUCKET_DAY) { /* even after an error: the rename may have happened */
        int rc2 = fday_add(rs, first_day);
        rc = rc ? rc : rc2;
    }
    return rc;
}

/* One day's checkpointed rows into the buckets of `level`: the link cells of its delta (per
 * day already) and its workspace hours summed per day (sum). */
static int merge_day(la_cellset *cs, const la_cellset *delta, const la_cellset *sum, int level)
{
    int rc = la_cellset_merge_all(cs, delta, LA_CELLS_LINKS, LA_BUCKET_HOUR, level);
    return rc == LA_OK ? la_cellset_merge_all(cs, sum, LA_CELLS_ALL, LA_BUCKET_DAY, level) : rc;
}

/* The week, month or year file of bucket `first` after the days of a checkpoint went into
 * their day files: day[i]'s rows [w_old[i], w_new[i]) are the link cells of delta[i] and the
 * workspace cells of sum[i]. */
static int checkpoint_coarse(la_db *db, int level, int32_t first, size_t nday, const int32_t *day,
                             la_cellset *const *delta, la_cellset *const *sum, const uint64_t *w_old,
                             const uint64_t *w_new)
{
    uint32_t ndays = la_bucket_ndays(level, first);
    la_cellset *cs = nday ? la_cellset_new_shared(delta[0]) : delta_new(db);
    int32_t sd[366];
    uint64_t sr[366];
    uint32_t ns = 0;
    if (!cs)
        return la_err(LA_ENOMEM, "out of memory");
    /* no file counts as an empty one: up to date when nothing of the bucket was in files */
    const la_roll_view *v;
    int valid = 0, rc = la_rs_file(db, level, first, &v);
    if (rc == LA_OK)
        rc = coarse_check(db, v, first, ndays, day, w_old, nday, &valid);
    if (rc == LA_OK && valid) {
        if (v)
            rc = la_cellset_merge_view(cs, db->path, v, level);
        for (size_t j = 0; j < nday && rc == LA_OK; j++)
            rc = merge_day(cs, delta[j], sum[j], level);
        for (uint32_t i = 0; i < ndays; i++) {
            int32_t d = first + (int32_t)i;
            size_t j = 0;
            while (j < nday && day[j] != d)
                j++;
            int64_t had = v ? la_roll_source_rows(v, d) : -1;
            if (j < nday) {
                sd[ns] = d;
                sr[ns++] = w_new[j];
            } else if (had >= 0) {
                sd[ns] = d;
                sr[ns++] = (uint64_t)had;
            }
        }
    } else if (rc == LA_OK) {
        /* missing or left behind by a crash: rebuild from the day files (a year from its
         * up-to-date month files where it can) */
        for (uint32_t i = 0; rc == LA_OK && i < ndays;) {
            int32_t d = first + (int32_t)i;
            const la_roll_view *mv = NULL;
            int mvalid = 0;
            if (level == LA_BUCKET_YEAR && (rc = la_rs_file(db, LA_BUCKET_MONTH, d, &mv)) == LA_OK && mv &&
                (rc = coarse_check(db, mv, d, mv->h.ndays, NULL, NULL, 0, &mvalid)) == LA_OK && mvalid) {
                rc = la_cellset_merge_view(cs, db->path, mv, level);
                for (uint32_t k = 0; k < mv->h.nsources; k++, ns++)
                    la_roll_source_at(mv, k, &sd[ns], &sr[ns]);
                i += mv->h.ndays;
                continue;
            }
            const la_roll_view *dv;
            i++;
            if (rc != LA_OK || (rc = la_rs_file(db, LA_BUCKET_DAY, d, &dv)) != LA_OK || !dv)
                continue;
            if ((rc = la_cellset_merge_view(cs, db->path, dv, level)) == LA_OK) {
                sd[ns] = d;
                sr[ns++] = (uint64_t)la_roll_source_rows(dv, d);
            }
        }
    }
    if (rc == LA_OK && ns == 0) { /* no day of the bucket has a day file: nothing to write */
        la_cellset_free(cs);
        return LA_OK;
    }
    if (rc == LA_OK)
        rc = write_set(db, cs, NULL, level, first, sd, sr, ns);
    la_cellset_free(cs);
    return rc == LA_ENOMEM ? la_err(rc, "out of memory") : rc;
}

/* The hour and day files of one day. On success the day's delta starts empty at *w_new; the
 * old delta is *delta_out, and *daysum (sharing its dictionary: the caller frees it first)
 * holds its workspace cells summed over the day: with the delta's link cells, what the week,
 * month and year files need. */
static int checkpoint_day(la_db *db, int32_t day, la_cellset **delta_out, la_cellset **daysum,
                          uint64_t *w_old, uint64_t *w_new)
{
    *delta_out = *daysum = NULL;
    la_cellset *delta;
    uint64_t unsealed;
    uint64_t rows;
    int rc = la_rs_delta(db, day, &delta, &unsealed, &rows);
    if (rc != LA_OK || !delta)
        return rc;
    la_rdelta *rd = delta_find(db, day);
    if (rd->to == rd->from)
        return LA_OK;
    la_day *d;
    if ((rc = la_db_day(db, day, 0, &d)) != LA_OK || (rc = la_day_flush(d)) != LA_OK)
        return rc;
    *w_old = rd->from;
    *w_new = rd->to;
    /* the day's workspace cells, summed over its hours; its link cells are per day already */
    la_cellset *sum = la_cellset_new_shared(delta), *cs = NULL;
    if (!sum || (rc = la_cellset_merge_all(sum, delta, LA_CELLS_WORKSPACE, LA_BUCKET_HOUR, LA_BUCKET_DAY)) != LA_OK)
        goto fail;

    /* hour file: the old one if it matches the day file, else rebuilt from the segment */
    const la_roll_view *h;
    int valid = 0;
    if ((rc = la_rs_file(db, LA_BUCKET_HOUR, day, &h)) != LA_OK ||
        (rc = la_rs_hours_valid(db, day, h, &valid)) != LA_OK)
        goto fail;
    if (!valid && !*w_old) {
        rc = write_set(db, delta, NULL, LA_BUCKET_HOUR, day, &day, w_new, 1); /* the delta is all */
    } else {
        if (!(cs = la_cellset_new_shared(delta)))
            goto fail;
        rc = valid ? la_cellset_merge_view(cs, db->path, h, LA_BUCKET_HOUR) : replay(db, day, cs, 0, *w_old);
        if (rc == LA_OK &&
            (rc = la_cellset_merge_all(cs, delta, LA_CELLS_WORKSPACE, LA_BUCKET_HOUR, LA_BUCKET_HOUR)) == LA_OK)
            rc = write_set(db, cs, NULL, LA_BUCKET_HOUR, day, &day, w_new, 1);
        la_cellset_free(cs);
        cs = NULL;
    }
    if (rc != LA_OK)
        goto fail;

    /* day file: once it is written, the delta's rows are in the files */
    const la_roll_view *dv;
    if ((rc = la_rs_file(db, LA_BUCKET_DAY, day, &dv)) != LA_OK)
        goto fail;
    if (!dv) {
        rc = write_set(db, sum, delta, LA_BUCKET_DAY, day, &day, w_new, 1);
    } else {
        if (!(cs = la_cellset_new_shared(delta)))
            goto fail;
        rc = la_cellset_merge_view(cs, db->path, dv, LA_BUCKET_DAY);
        if (rc == LA_OK && (rc = merge_day(cs, delta, sum, LA_BUCKET_DAY)) == LA_OK)
            rc = write_set(db, cs, NULL, LA_BUCKET_DAY, day, &day, w_new, 1);
        la_cellset_free(cs);
        cs = NULL;
    }
    if (rc != LA_OK)
        goto fail;
    rd->cs = NULL; /* detached: the caller frees it */
    delta_drop(rd);
    rd->from = rd->to = *w_new;
    *delta_out = delta;
    *daysum = sum;
    if (!(rd->cs = delta_new(db)))
        return la_err(LA_ENOMEM, "out of memory");
    return LA_OK;
fail:
    la_cellset_free(cs);
    la_cellset_free(sum);
    /* A write that failed may still have replaced its file (the directory sync failed after
     * the rename): rebuild the delta from whatever the files now say. */
    delta_drop(rd);
    return rc == LA_OK || rc == LA_ENOMEM ? la_err(LA_ENOMEM, "out of memory") : rc;
}

/* A week, month or year that ended more than a day before `newest`: late events aside, it
 * gets no more rows, so it is worth a file of its own. */
static int complete(int level, int32_t first, int32_t newest)
{
    return first + (int32_t)la_bucket_ndays(level, first) <= newest - 1;
}

/* Checkpoint days[0..n): their hour and day files, then each week, month and year file they
 * touch, once. */
static int checkpoint_days(la_db *db, const int32_t *days, size_t n)
{
    work_drain(db);
    int32_t *day = malloc((n + 1) * sizeof *day);
    la_cellset **sum = calloc(n + 1, sizeof *sum), **delta = calloc(n + 1, sizeof *delta);
    uint64_t *w_old = malloc((n + 1) * sizeof *w_old), *w_new = malloc((n + 1) * sizeof *w_new);
    int rc = LA_OK;
    size_t m = 0;
    if (!day || !sum || !delta || !w_old || !w_new)
        rc = la_err(LA_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == LA_OK; i++) {
        rc = checkpoint_day(db, days[i], &delta[m], &sum[m], &w_old[m], &w_new[m]);
        if (sum[m])
            day[m++] = days[i];
    }
    /* Week, month and year files are written once their bucket is complete (it ended more
     * than a day before the newest segment's day); until then queries combine day files. Even
     * after a failure above: the days already in their day files must reach those files. */
    int rc2 = LA_OK;
    int32_t newest = db->ndays ? db->days[db->ndays - 1].day : 0;
    for (int lv = LA_BUCKET_WEEK; lv <= LA_BUCKET_YEAR && rc2 == LA_OK; lv++) {
        /* the bucket that the newest day may just have completed, if it lacks a good file */
        int32_t done_first = la_bucket_first_day(lv, newest - 2);
        if (complete(lv, done_first, newest)) {
            const la_roll_view *v;
            int valid = 0;
            if ((rc2 = la_rs_file(db, lv, done_first, &v)) == LA_OK && v)
                rc2 = coarse_check(db, v, done_first, v->h.ndays, day, w_old, m, &valid);
            int touched = 0;
            for (size_t i = 0; i < m; i++)
                touched |= la_bucket_first_day(lv, day[i]) == done_first;
            if (rc2 == LA_OK && !valid && !touched)
                rc2 = checkpoint_coarse(db, lv, done_first, 0, NULL, NULL, NULL, NULL, NULL);
        }
        for (size_t i = 0; i < m && rc2 == LA_OK; i++) {
            int32_t first = la_bucket_first_day(lv, day[i]);
            if (!complete(lv, first, newest))
                continue;
            size_t k = 0;
            while (k < i && la_bucket_first_day(lv, day[k]) != first)
                k++;
            if (k < i)
                continue; /* done with an earlier day of the same bucket */
            int32_t bd[366];
            la_cellset *br[366], *bs[366];
            uint64_t bo[366], bn[366];
            size_t nb = 0;
            for (size_t j = i; j < m; j++)
                if (la_bucket_first_day(lv, day[j]) == first) {
                    bd[nb] = day[j], br[nb] = delta[j], bs[nb] = sum[j], bo[nb] = w_old[j], bn[nb] = w_new[j];
                    nb++;
                }
            rc2 = checkpoint_coarse(db, lv, first, nb, bd, br, bs, bo, bn);
        }
    }
    for (size_t i = 0; i < m; i++) {
        la_cellset_free(sum[i]);
        la_cellset_free(delta[i]);
    }
    free(day);
    free(sum);
    free(delta);
    free(w_old);
    free(w_new);
    return rc != LA_OK ? rc : rc2;
}

int la_rs_checkpoint_due(la_db *db, int all)
{
    la_rstate *rs = &db->roll;
    if (rs->off)
        return LA_OK;
    uint64_t pending = 0;
    for (size_t i = 0; i < rs->ndeltas; i++)
        pending += rs->deltas[i].to - rs->deltas[i].from;
    if (pending == 0 || (!all && pending < rs->checkpoint_rows))
        return LA_OK;
    int rc = la_db_seal_ended_tails(db);
    if (rc != LA_OK)
        return rc;
    int32_t *days = malloc((rs->ndeltas + 1) * sizeof *days);
    if (!days)
        return la_err(LA_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < rs->ndeltas; i++)
        if (rs->deltas[i].to > rs->deltas[i].from)
            days[n++] = rs->deltas[i].day;
    rc = checkpoint_days(db, days, n);
    free(days);
    int empty = rc == LA_OK;
    for (size_t i = 0; i < rs->ndeltas && empty; i++)
        empty = rs->deltas[i].to == rs->deltas[i].from;
    if (empty && rs->strings) {
        /* nothing refers to the strings any more: start a fresh dictionary */
        for (size_t i = 0; i < rs->ndeltas; i++)
            delta_drop(&rs->deltas[i]);
        la_cellset_free(rs->strings);
        rs->strings = NULL;
    }
    return rc;
}

int la_rs_checkpoint_days(la_db *db, const int32_t *days, size_t n)
{
    return db->roll.off || n == 0 ? LA_OK : checkpoint_days(db, days, n);
}

void la_rs_forget_day(la_db *db, int32_t day)
{
    work_drain(db);
    file_forget(db, LA_BUCKET_HOUR, day);
    la_rstate *rs = &db->roll;
    la_rdelta *rd = delta_find(db, day);
    if (rd) {
        delta_drop(rd);
        size_t i = (size_t)(rd - rs->deltas);
        memmove(rd, rd + 1, (rs->ndeltas - i - 1) * sizeof *rd);
        rs->ndeltas--;
    }
}
