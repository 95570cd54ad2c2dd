/* verify.c — la_verify(): read every byte of a database and check it against SPEC.md, without
 * trusting or changing anything. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "column.h"
#include "db.h"
#include "error.h"

typedef struct verifier {
    la_problem_fn fn;
    void *ctx;
    uint64_t n;
    la_progress_fn progress;
    void *progress_ctx;
    uint64_t done, total; /* files checked, files to check */
} verifier;

static void file_done(verifier *v)
{
    v->done++;
    if (v->progress)
        v->progress(v->progress_ctx, v->done, v->total);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void problem(verifier *v, const char *file, int64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(verifier *v, const char *file, int64_t off, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    v->n++;
    if (v->fn)
        v->fn(v->ctx, file, off, msg);
}

/* The last row of the previous sorted block of a day: sorted order runs across blocks. */
typedef struct sort_pos {
    int have;
    uint32_t ws, link;
    int64_t ts;
} sort_pos;

static int cmp_bytes(la_str a, la_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.data, b.data, n) : 0;
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* A sorted block: rows in (workspace, link, ts) order, continuing the previous block's, and
 * key range exactly the ids its rows hold (pruning trusts it). */
static void verify_sorted(verifier *v, la_day *d, const la_block_view *bv, uint64_t off, const int64_t *ts,
                          const uint32_t *ws, const uint32_t *link, sort_pos *pos)
{
    const la_str *wss = la_dict_strs(d->dict[LA_C_WORKSPACE]), *links = la_dict_strs(d->dict[LA_C_LINK]);
    uint32_t wlo = UINT32_MAX, whi = 0, llo = UINT32_MAX, lhi = 0;
    for (uint32_t r = 0; r < bv->nrows; r++) {
        wlo = ws[r] < wlo ? ws[r] : wlo;
        whi = ws[r] > whi ? ws[r] : whi;
        llo = link[r] < llo ? link[r] : llo;
        lhi = link[r] > lhi ? link[r] : lhi;
        if (pos->have) {
            int c = cmp_bytes(wss[pos->ws], wss[ws[r]]);
            if (!c)
                c = cmp_bytes(links[pos->link], links[link[r]]);
            if (c > 0 || (c == 0 && pos->ts > ts[r])) {
                problem(v, d->name, (int64_t)off, "sorted block row %u is out of (workspace, link, ts) order", r);
                return;
            }
        }
        *pos = (sort_pos){1, ws[r], link[r], ts[r]};
    }
    if (wlo != bv->ws_min || whi != bv->ws_max || llo != bv->link_min || lhi != bv->link_max)
        problem(v, d->name, (int64_t)off, "sorted block key range disagrees with its rows");
}

/* Decode every column of block bi fully and check it against the header and the day. */
static void verify_block(verifier *v, la_day *d, uint32_t bi, sort_pos *pos)
{
    const la_blkref *b = &d->blocks[bi];
    la_block_view bv;
    const char *why = NULL;
    if (la_block_parse(d->map + b->off, b->len, &d->cfg->schema, &bv, &why) != 0) {
        problem(v, d->name, (int64_t)b->off, "%s", why);
        return;
    }
    size_t cap = 0;
    for (uint32_t c = 0; c < bv.ncols; c++)
        cap = bv.col[c].data_raw > cap ? bv.col[c].data_raw : cap;
    uint8_t *raw = malloc(cap + 1);
    int64_t *ts = malloc(bv.nrows * sizeof *ts), *vals = malloc(bv.nrows * sizeof *vals);
    uint32_t *ids = malloc(bv.nrows * sizeof *ids);
    uint32_t *ws = malloc(bv.nrows * sizeof *ws), *link = malloc(bv.nrows * sizeof *link);
    uint8_t *hv = malloc(bv.nrows);
    int keys_ok = 1;
    if (!raw || !ts || !vals || !ids || !hv || !ws || !link) {
        problem(v, d->name, (int64_t)b->off, "out of memory while checking this block");
        goto out;
    }
    int64_t day_lo = (int64_t)d->day * LA_MS_PER_DAY, day_hi = day_lo + LA_MS_PER_DAY;
    for (uint32_t c = 0; c < bv.ncols; c++) {
        const la_col_desc *cd = &bv.col[c];
        int64_t at = (int64_t)(b->off + cd->offset);
        if (la_block_part(&bv, c, 1, raw, &why) != 0) {
            problem(v, d->name, at, "column %s: %s", d->cfg->schema.name[c], why);
            if (c == LA_C_TS || c == LA_C_WORKSPACE || c == LA_C_LINK)
                keys_ok = 0;
            continue;
        }
        int rc;
        switch (d->cfg->schema.type[c]) {
        case LA_COL_TS:
            if ((rc = la_ts_decode(raw, cd->data_raw, ts, bv.nrows, &why)) == 0) {
                int64_t lo = INT64_MAX, hi = INT64_MIN;
                for (uint32_t r = 0; r < bv.nrows; r++) {
                    lo = ts[r] < lo ? ts[r] : lo;
                    hi = ts[r] > hi ? ts[r] : hi;
                }
                if (lo != bv.min_ts || hi != bv.max_ts)
                    problem(v, d->name, (int64_t)b->off, "block min/max ts disagree with its rows");
                if (lo < day_lo || hi >= day_hi)
                    problem(v, d->name, at, "block holds a timestamp outside the file's day");
            }
            break;
        case LA_COL_OPT_I64: rc = la_opt_i64_decode(raw, cd->data_raw, vals, hv, bv.nrows, &why); break;
        default:
            rc = la_ids_decode(raw, cd->data_raw, ids, bv.nrows, b->dict_end[c], &why);
            if (rc == 0 && la_col_missing(&d->cfg->schema, c, ids, bv.nrows)) {
                rc = LA_ECORRUPT;
                why = "a required column has an absent id";
            }
            break;
        }
        if (rc != 0)
            problem(v, d->name, at, "column %s: %s", d->cfg->schema.name[c], why);
        if (c == LA_C_TS || c == LA_C_WORKSPACE || c == LA_C_LINK)
            keys_ok &= rc == 0;
        if (rc == 0 && (c == LA_C_WORKSPACE || c == LA_C_LINK))
            memcpy(c == LA_C_WORKSPACE ? ws : link, ids, bv.nrows * sizeof *ids);
    }
    if (bv.kind == LA_BLOCK_SORTED && keys_ok)
        verify_sorted(v, d, &bv, b->off, ts, ws, link, pos);
out:
    free(raw);
    free(ts);
    free(vals);
    free(ids);
    free(ws);
    free(link);
    free(hv);
}

static void verify_day(verifier *v, la_db *db, int32_t day)
{
    char name[16];
    la_seg_name(day, name, sizeof name);
    la_day *d;
    int rc = la_db_day(db, day, 0, &d);
    if (rc != 0) {
        int64_t off;
        const char *why;
        la_err_where(&off, &why);
        if (rc == LA_ECORRUPT)
            problem(v, name, off, "%s", why);
        else
            problem(v, name, -1, "%s", la_errmsg());
        return;
    }
    /* The slot not in use must be empty or valid: anything else is damage (a commit is one
     * 64-byte write inside one sector, which a crash does not tear). */
    la_commit other;
    const char *why = NULL;
    unsigned os = 1 - (unsigned)d->slot;
    if (la_commit_decode(d->map + LA_SEG_SLOT_OFF + LA_SEG_SLOT_SIZE * os, &other, &why) != 0)
        problem(v, name, LA_SEG_SLOT_OFF + LA_SEG_SLOT_SIZE * os, "inactive commit slot: %s", why);
    else if (other.generation >= d->commit.generation)
        problem(v, name, LA_SEG_SLOT_OFF + LA_SEG_SLOT_SIZE * os, "two commit slots with the same generation");
    if ((rc = la_day_load_dicts(d)) != 0) {
        int64_t off;
        la_err_where(&off, &why);
        problem(v, name, off, "%s", why);
        return;
    }
    sort_pos pos = {0};
    for (uint32_t bi = 0; bi < d->nblocks; bi++)
        verify_block(v, d, bi, &pos);
    int64_t day_lo = (int64_t)day * LA_MS_PER_DAY;
    for (uint64_t i = 0; i < d->tail_rows; i++) {
        la_row row;
        if (la_day_tail_row(d, i, &row) != 0)
            problem(v, name, (int64_t)d->tail_off[i], "tail record unreadable");
        else if (row.ts < day_lo || row.ts >= day_lo + LA_MS_PER_DAY)
            problem(v, name, (int64_t)d->tail_off[i], "tail record timestamp outside the file's day");
        else if (!row.str[0].data || !row.str[1].data || !row.str[2].data)
            problem(v, name, (int64_t)d->tail_off[i], "tail record lacks a required string");
    }
}

/* A day file against its segment: every cell's events and value must equal those recomputed
 * from the rows the file says it includes. */
static void verify_day_rollup(verifier *v, la_db *db, const char *name, const la_roll_view *rv)
{
    int32_t day = rv->h.first_day;
    int64_t wm = la_roll_source_rows(rv, day);
    la_day *d;
    if (la_db_day(db, day, 0, &d) != 0) {
        la_err_clear();
        return; /* raw events deleted (retention): nothing to compare with */
    }
    uint64_t rows = d->commit.rows_in_blocks + d->tail_rows;
    if ((uint64_t)wm > rows) {
        problem(v, name, LA_ROLL_HEADER + 8, "includes %lld rows of a segment that has %llu",
                (long long)wm, (unsigned long long)rows);
        return;
    }
    la_cellset *hours = la_cellset_new(rv->h.ndims, db->roll.caps), *days = NULL;
    if (!hours || !(days = la_cellset_new_shared(hours)) || la_rs_recompute(db, day, (uint64_t)wm, hours) != 0 ||
        la_cellset_merge_all(days, hours, LA_CELLS_ALL, LA_BUCKET_HOUR, LA_BUCKET_DAY) != 0) {
        problem(v, name, -1, "could not recompute from the segment: %s", la_errmsg());
        goto out;
    }
    size_t matched = 0;
    for (uint32_t i = 0; i < rv->h.ncells; i++) {
        la_roll_key k;
        la_roll_cell c;
        const char *why;
        la_roll_key_at(rv, i, &k);
        if (la_roll_cell_get(rv, i, &c, &why) != 0)
            continue;
        la_str ws = la_roll_str(rv, k.ws), ty = la_roll_str(rv, k.type), ln = {NULL, 0};
        if (k.link)
            ln = la_roll_str(rv, k.link);
        uint32_t wsid = la_dict_find_str(days->dict, ws.data, ws.len);
        uint32_t tid = la_dict_find_str(days->dict, ty.data, ty.len);
        uint32_t lid = k.link ? la_dict_find_str(days->dict, ln.data, ln.len) : 0;
        int rc;
        la_cell *e = wsid && tid && (!k.link || lid) ? la_cellset_get(days, day, wsid, lid, tid, 0, &rc) : NULL;
        if (!e || e->events != c.events || e->value != c.value)
            problem(v, name, (int64_t)(rv->cells - rv->base + rv->cell_off[i]),
                    "cell %.*s/%.*s/%.*s differs from the segment's rows", (int)ws.len, ws.data,
                    (int)ln.len, ln.data ? ln.data : "", (int)ty.len, ty.data);
        else
            matched++;
    }
    if (matched == rv->h.ncells && days->n != rv->h.ncells)
        problem(v, name, -1, "the segment's rows have %zu cells, the file %u", days->n, rv->h.ncells);
out:
    la_cellset_free(days);
    la_cellset_free(hours);
}

/* The names of the rollup files in the directory, sorted (problems then come in a stable
 * order); NULL with *n == 0 and a problem reported if it cannot be listed. */
static char **rollup_names(verifier *v, la_db *db, size_t *n)
{
    *n = 0;
    DIR *dir = opendir(db->path);
    if (!dir) {
        problem(v, ".", -1, "cannot list the directory: %s", strerror(errno));
        return NULL;
    }
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        int level;
        int32_t first;
        if (la_roll_name_parse(e->d_name, &level, &first) != 0)
            continue;
        if (*n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            char **grown = realloc(names, ncap * sizeof *names);
            if (!grown)
                break;
            names = grown, cap = ncap;
        }
        if (!(names[*n] = strdup(e->d_name)))
            break;
        ++*n;
    }
    if (e)
        problem(v, ".", -1, "out of memory listing the directory");
    closedir(dir);
    if (*n)
        qsort(names, *n, sizeof *names, cmp_names);
    return names;
}

/* Every rollup file: its structure (checksums, index, cells), every distinct-count state, and
 * day files against their segments. */
static void verify_rollups(verifier *v, la_db *db, char **names, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const char *name = names[k];
        int level;
        int32_t first;
        la_roll_name_parse(name, &level, &first);
        const la_roll_view *rv;
        int rc = la_rs_file(db, level, first, &rv);
        if (rc != 0 || !rv) {
            int64_t off = -1;
            const char *why = la_errmsg();
            if (rc == LA_ECORRUPT)
                la_err_where(&off, &why);
            problem(v, name, off, "%s", rc ? why : "vanished while being checked");
            file_done(v);
            continue;
        }
        for (uint32_t i = 0; i < rv->h.ncells; i++) {
            la_roll_cell c;
            const char *why = NULL;
            la_uniq u;
            la_uniq_init(&u);
            if (la_roll_cell_get(rv, i, &c, &why) != 0 ||
                la_uniq_merge_encoded_as(&u, c.vis, c.vis_len, c.uniq_form, &why) != 0 ||
                la_uniq_merge_encoded_as(&u, c.ses, c.ses_len, c.uniq_form, &why) != 0)
                problem(v, name, (int64_t)(rv->cells - rv->base + rv->cell_off[i]),
                        "cell %u: %s", i, why ? why : "out of memory");
            la_uniq_free(&u);
        }
        if (level == LA_BUCKET_DAY)
            verify_day_rollup(v, db, name, rv);
        file_done(v);
    }
}

int la_verify(const char *path, la_problem_fn fn, void *ctx, uint64_t *n_problems)
{
    return la_verify_ex(path, fn, ctx, NULL, NULL, n_problems);
}

int la_verify_ex(const char *path, la_problem_fn fn, void *ctx, la_progress_fn progress,
                 void *progress_ctx, uint64_t *n_problems)
{
    la_err_clear();
    verifier v = {fn, ctx, 0, progress, progress_ctx, 0, 0};
    la_db *db;
    int rc = la_open(&db, path, LA_OPEN_READONLY, NULL);
    if (rc == LA_ECORRUPT || rc == LA_EVERSION) {
        problem(&v, "la.meta", 0, "%s", la_errmsg());
        if (n_problems)
            *n_problems = v.n;
        return 0;
    }
    if (rc != 0)
        return rc;
    size_t nnames;
    char **names = rollup_names(&v, db, &nnames);
    v.total = db->ndays + nnames;
    for (size_t i = 0; i < db->ndays; i++) {
        verify_day(&v, db, db->days[i].day);
        file_done(&v);
    }
    pthread_mutex_lock(&db->mu);
    la_rs_begin(db);
    verify_rollups(&v, db, names, nnames);
    pthread_mutex_unlock(&db->mu);
    la_close(db);
    for (size_t k = 0; k < nnames; k++)
        free(names[k]);
    free(names);
    if (n_problems)
        *n_problems = v.n;
    return 0;
}
