/* fuzz_rollfile.c — a rollup file from arbitrary bytes, through the validating reader the
 * engine and `lactl dump` use (la_roll_open, then la_roll_cell_get for each cell), every cell
 * read as queries read it and, if all are sound, the whole file merged into a cell set and
 * written again. The first input byte chooses whether the two checksums are made valid first,
 * so that mutated files reach the checks behind them. The number of dimensions comes from the
 * file itself so that every layout is reachable. Link cells of a version-1 hour file, or of a
 * week or year file before version 4, are not kept (SPEC.md §10.1): the file written again
 * lacks them. */
#include <string.h>

#include "crc32c.h"
#include "le.h"
#include "rollfile.h"
#include "rollup.h"

#include "fuzz.h"

static void fix_crcs(uint8_t *p, size_t n)
{
    if (n < LA_ROLL_HEADER + 4)
        return;
    la_put64(p + 48, n);
    la_put32(p + 60, la_crc32c(0, p, 60));
    la_put32(p + n - 4, la_crc32c(0, p + LA_ROLL_HEADER, n - LA_ROLL_HEADER - 4));
}

/* Events of the cells a merge keeps (all of them, or without an hour file's link cells); *kept
 * gets their number. */
/* Whether every cell parses; a bad one must also fail a merge that reads it. */
static int cells_sound(const la_roll_view *v)
{
    for (uint32_t i = 0; i < v->h.ncells; i++) {
        la_roll_cell c;
        const char *why = NULL;
        if (la_roll_cell_get(v, i, &c, &why) != LA_OK) {
            FZ_ASSERT(why);
            return 0;
        }
    }
    return 1;
}

static uint64_t total_events(const la_roll_view *v, int kept_only, uint32_t *kept)
{
    uint64_t sum = 0;
    *kept = 0;
    for (uint32_t i = 0; i < v->h.ncells; i++) {
        la_roll_cell c;
        la_roll_key k;
        const char *why;
        FZ_ASSERT(la_roll_cell_get(v, i, &c, &why) == LA_OK);
        la_roll_key_at(v, i, &k);
        if (kept_only && k.link && !la_roll_has_links(v->h.level, LA_ROLL_WRITE_VERSION))
            continue;
        ++*kept;
        sum += c.events;
        for (uint32_t d = 0; d < v->h.ndims; d++) {
            la_roll_dim rd;
            la_roll_cell_dim(&c, d, &rd);
            uint32_t sid, n = 0;
            uint64_t cnt, listed = 0;
            while (la_roll_dim_next(&rd, &sid, &cnt)) {
                FZ_ASSERT(sid >= 1 && sid <= v->h.nstrings && cnt >= 1);
                listed += cnt;
                n++;
            }
            FZ_ASSERT(n == rd.n && listed + rd.absent + rd.other == c.events);
        }
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fix = data[0] & 1;
    uint8_t *p = fz_dup(data + 1, size - 1);
    size_t n = size - 1;
    if (fix)
        fix_crcs(p, n);
    uint32_t ndims = n > 13 ? p[13] : 0;
    la_roll_view v;
    const char *why;
    uint64_t off;
    int sound = la_roll_open(&v, p, n, ndims, &why, &off) == LA_OK;
    if (sound && !cells_sound(&v)) {
        la_roll_close(&v);
        sound = 0;
    }
    if (sound) {
        FZ_ASSERT(off == 0);
        uint32_t cells, all_cells;
        total_events(&v, 0, &all_cells);
        FZ_ASSERT(all_cells == v.h.ncells);
        uint64_t events = total_events(&v, 1, &cells);
        for (uint32_t i = 0; i < v.h.nstrings; i++) {
            la_str s = la_roll_str(&v, i + 1);
            FZ_ASSERT(la_roll_find(&v, s.data, s.len) == i + 1);
        }
        uint32_t caps[LA_MAX_DIMS + 256];
        for (uint32_t i = 0; i < ndims; i++)
            caps[i] = 64;
        la_cellset *cs = la_cellset_new(ndims, caps);
        FZ_ASSERT(cs);
        /* distinct-count states are checked only when merged: a bad one fails the merge */
        if (la_cellset_merge_view(cs, NULL, &v, v.h.level) == LA_OK) {
            int32_t sd[366];
            uint64_t sr[366];
            for (uint32_t i = 0; i < v.h.nsources; i++)
                la_roll_source_at(&v, i, &sd[i], &sr[i]);
            uint8_t *out = NULL;
            size_t cap = 0, len;
            FZ_ASSERT(la_cellset_encode(cs, NULL, v.h.level, v.h.first_day, sd, sr, v.h.nsources, &out, &cap, &len) == LA_OK);
            la_roll_view w;
            FZ_ASSERT(la_roll_open(&w, out, len, ndims, &why, &off) == LA_OK);
            uint32_t wcells;
            FZ_ASSERT(total_events(&w, 0, &wcells) == events && wcells == cells && w.h.ncells == cells);
            la_roll_close(&w);
            free(out);
        }
        la_cellset_free(cs);
        la_roll_close(&v);
    }
    free(p);
    return 0;
}
