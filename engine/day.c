/* day.c — a day segment's life in the engine: create, recover, append to the tail, seal the
 * tail into a block with the commit protocol of SPEC.md §5, flush. */
#include "day.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "block.h"
#include "error.h"
#include "io.h"

#define PAGE 4096u
#define MAP_MIN ((size_t)64 << 20)
#define TAIL_ALLOC_STEP ((uint64_t)1 << 20)

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
static uint64_t align_down(uint64_t v, uint64_t a) { return v / a * a; }
static uint32_t new_salt(uint32_t old);

int la_day_corrupt(const la_day *d, uint64_t off, const char *why)
{
    return la_err_corrupt(d->path, (int64_t)off, why);
}

static int is_dict_col(const la_day *d, uint32_t c)
{
    uint8_t t = d->cfg->schema.type[c];
    return t == LA_COL_STR || t == LA_COL_U64;
}

/* The dictionaries' sizes, so that a load or a seal that fails halfway can put them back: a
 * block's entries go in whole or not at all (ids after them must name the same strings). */
static void dicts_mark(const la_day *d, uint32_t mark[LA_MAX_COLS])
{
    for (uint32_t c = 0; c < d->cfg->schema.ncols; c++)
        mark[c] = is_dict_col(d, c) ? la_dict_size(d->dict[c]) : 0;
}

static void dicts_undo(la_day *d, const uint32_t mark[LA_MAX_COLS])
{
    for (uint32_t c = 0; c < d->cfg->schema.ncols; c++)
        if (is_dict_col(d, c))
            la_dict_truncate(d->dict[c], mark[c]);
}

/* Worst-case contribution of one row to the encoded block (see SPEC.md §5.3): with it the
 * writer knows, before a row enters the tail, that the block sealing it fits the reserve. */
static uint64_t row_estimate(const la_row *r)
{
    uint64_t n = 10 + 11 + 4 * (uint64_t)(r->nstr + 2) + 16;
    for (uint32_t i = 0; i < r->nstr; i++)
        if (r->str[i].data)
            n += r->str[i].len + 2;
    return n;
}

static uint64_t block_estimate(const la_day *d, uint64_t est)
{
    uint64_t ncols = d->cfg->schema.ncols;
    uint64_t overhead = LA_BLOCK_FIXED + LA_BLOCK_DESC * ncols + 4 + ncols * 2 * 80 + 32 + ncols;
    return overhead + est + est / 64 + 1;
}

/* Gap left between the blocks and a new tail: room for the next block. Sparse until used. */
static uint64_t reserve_for(const la_day *d)
{
    uint64_t max_row = 64 + 4 * (uint64_t)(d->cfg->schema.ncols) +
                       (uint64_t)(d->cfg->schema.ncols) * (LA_MAX_STR + 2);
    return align_up(block_estimate(d, (uint64_t)d->cfg->block_rows * 192 + 2 * max_row), PAGE);
}

uint32_t la_day_salt(uint32_t old) { return new_salt(old); }

static uint32_t new_salt(uint32_t old)
{
    static _Thread_local uint64_t s;
    if (!s) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = ((uint64_t)ts.tv_sec * 1000000007ull) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^
            (uint64_t)(uintptr_t)&ts;
    }
    uint32_t v;
    do {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        v = (uint32_t)(s >> 32);
    } while (v == old);
    return v;
}

static int map_file(la_day *d, uint64_t need)
{
    if (d->map && need <= d->map_len)
        return 0;
    size_t len = MAP_MIN;
    while (len < need)
        len *= 2;
    const la_io *io = la_io_current();
    if (d->map)
        io->unmap(d->map, d->map_len);
    d->map = io->map(d->fd, len, d->writable);
    if (!d->map) {
        d->map_len = 0;
        return la_err_errno(errno, "mmap", d->path);
    }
    d->map_len = len;
    return 0;
}

static int stat_and_map(la_day *d)
{
    if (la_io_current()->size(d->fd, &d->file_size) != 0)
        return la_err_errno(errno, "stat", d->path);
    return map_file(d, d->file_size);
}

/* Choose the commit slot to start from: the valid one with the highest generation. A slot
 * that is neither empty nor valid is damage: the writer writes a slot with one pwrite, so a
 * killed process never leaves half of one (SPEC.md §5.2). */
static int read_commit_from(const la_day *d, const uint8_t *slots, la_commit *out, int *slot)
{
    la_commit c[2];
    int ok[2];
    for (int i = 0; i < 2; i++) {
        const char *why;
        if (la_commit_decode(slots + LA_SEG_SLOT_SIZE * i, &c[i], &why) != 0)
            return la_day_corrupt(d, LA_SEG_SLOT_OFF + LA_SEG_SLOT_SIZE * (unsigned)i, why);
        ok[i] = c[i].generation != 0;
    }
    if (!ok[0] && !ok[1])
        return la_day_corrupt(d, LA_SEG_SLOT_OFF, "no valid commit slot");
    int i = ok[0] && ok[1] ? (c[1].generation > c[0].generation) : ok[1];
    *out = c[i];
    *slot = i;
    return 0;
}

static int read_commit(const la_day *d, la_commit *out, int *slot)
{
    return read_commit_from(d, d->map + LA_SEG_SLOT_OFF, out, slot);
}

/* Room for one more item in a doubling array holding n of *cap items of `elem` bytes: the
 * array (moved or not), or NULL when out of memory (the old one is then untouched). */
static void *grow_array(void *arr, uint64_t *cap, uint64_t n, size_t elem, uint64_t first)
{
    if (n < *cap)
        return arr;
    uint64_t c = *cap ? *cap * 2 : first;
    void *p = realloc(arr, c * elem);
    if (p)
        *cap = c;
    return p;
}

static int push_block(la_day *d, const la_block_view *v, uint64_t off)
{
    la_blkref *grown = grow_array(d->blocks, &d->blocks_cap, d->nblocks, sizeof *grown, 16);
    if (!grown)
        return la_err(LA_ENOMEM, "out of memory");
    d->blocks = grown;
    la_blkref *b = &d->blocks[d->nblocks++];
    memset(b, 0, sizeof *b);
    b->off = off;
    b->len = v->frame_len;
    b->nrows = v->nrows;
    b->first_seq = v->first_seq;
    b->min_ts = v->min_ts;
    b->max_ts = v->max_ts;
    const la_blkref *prev = d->nblocks > 1 ? &d->blocks[d->nblocks - 2] : NULL;
    for (uint32_t c = 0; c < d->cfg->schema.ncols; c++)
        b->dict_end[c] = (prev ? prev->dict_end[c] : 0) + v->col[c].dict_count;
    b->kind = v->kind;
    b->ws_min = v->ws_min;
    b->ws_max = v->ws_max;
    b->link_min = v->link_min;
    b->link_max = v->link_max;
    return 0;
}

/* What a sorted block must satisfy beyond its own checks: only sealed files hold them, before
 * every append block, with key ranges inside the dictionaries. NULL when it does. */
static const char *sorted_block_problem(const la_day *d, const la_blkref *b)
{
    if (b->kind != LA_BLOCK_SORTED)
        return NULL;
    if (d->version < LA_SEG_VERSION_SEALED)
        return "sorted block in a segment of read_version 1";
    if (d->nblocks > 1 && d->blocks[d->nblocks - 2].kind != LA_BLOCK_SORTED)
        return "sorted block after an append block";
    if (b->ws_max > b->dict_end[LA_C_WORKSPACE] || b->link_max > b->dict_end[LA_C_LINK])
        return "sorted block key range beyond the dictionary";
    return NULL;
}

int la_day_sealed(const la_day *d) { return d->nblocks > 0 && d->blocks[0].kind == LA_BLOCK_SORTED; }

uint64_t la_day_rows(const la_day *d) { return d->commit.rows_in_blocks + d->tail_rows; }

uint64_t la_day_late_rows(const la_day *d)
{
    uint64_t sorted = 0;
    for (uint32_t i = 0; i < d->nblocks && d->blocks[i].kind == LA_BLOCK_SORTED; i++)
        sorted += d->blocks[i].nrows;
    return sorted ? la_day_rows(d) - sorted : 0;
}

/* Walk block headers from the last known block to the commit's blocks_end. */
static int load_blocks(la_day *d, const la_commit *c)
{
    uint64_t off = d->nblocks ? d->blocks[d->nblocks - 1].off + d->blocks[d->nblocks - 1].len
                              : LA_SEG_HEADER_SIZE;
    uint64_t rows = d->nblocks ? d->blocks[d->nblocks - 1].first_seq + d->blocks[d->nblocks - 1].nrows : 0;
    if (c->blocks_end > d->file_size)
        return la_day_corrupt(d, off, "commit slot says blocks end past the end of the file");
    while (off < c->blocks_end) {
        la_block_view v;
        const char *why = NULL;
        int rc = la_block_parse(d->map + off, (size_t)(c->blocks_end - off), &d->cfg->schema, &v, &why);
        if (rc != 0)
            return la_day_corrupt(d, off, why);
        if (v.first_seq != rows)
            return la_day_corrupt(d, off, "block first_seq does not follow the previous block");
        if ((rc = push_block(d, &v, off)) != 0)
            return rc;
        if ((why = sorted_block_problem(d, &d->blocks[d->nblocks - 1])) != NULL) {
            d->nblocks--;
            return la_day_corrupt(d, off, why);
        }
        rows += v.nrows;
        off += v.frame_len;
    }
    if (off != c->blocks_end || d->nblocks != c->block_count || rows != c->rows_in_blocks)
        return la_day_corrupt(d, off, "blocks disagree with the commit slot");
    return 0;
}

static int tail_push(la_day *d, uint64_t off)
{
    uint64_t *grown = grow_array(d->tail_off, &d->tail_cap, d->tail_rows, sizeof *grown, 1024);
    if (!grown)
        return la_err(LA_ENOMEM, "out of memory");
    d->tail_off = grown;
    d->tail_off[d->tail_rows++] = off;
    return 0;
}

/* Keep the valid prefix of the tail, from where we stopped last time. */
static int scan_tail(la_day *d)
{
    uint32_t nstr = d->cfg->schema.ncols - 4;
    uint64_t off = d->tail_end;
    while (off < d->file_size) {
        la_row row;
        size_t n = la_tail_record_decode(d->map + off, (size_t)(d->file_size - off), d->commit.tail_salt,
                                         d->commit.rows_in_blocks + d->tail_rows, nstr, &row, 1);
        if (n == 0)
            break;
        int rc = tail_push(d, off);
        if (rc != 0)
            return rc;
        d->tail_est += row_estimate(&row);
        off += n;
    }
    d->tail_end = off;
    return 0;
}

static void reset_tail(la_day *d)
{
    d->tail_rows = 0;
    d->tail_est = 0;
    d->tail_end = d->commit.tail_start;
    d->alloc_end = d->commit.tail_start;
}

static int load_state(la_day *d)
{
    la_commit c;
    int slot, rc;
    if ((rc = read_commit(d, &c, &slot)) != 0)
        return rc;
    int same_lineage = d->commit.generation != 0 && c.blocks_end >= d->commit.blocks_end &&
                       c.block_count >= d->commit.block_count;
    if (!same_lineage)
        d->nblocks = 0;
    int new_gen = c.generation != d->commit.generation;
    if ((rc = load_blocks(d, &c)) != 0)
        return rc;
    if (d->dict_blocks > d->nblocks) /* the file was replaced: dictionaries start over */
        d->dict_blocks = 0;
    d->commit = c;
    d->slot = slot;
    if (new_gen)
        reset_tail(d);
    return scan_tail(d);
}

int la_day_replaced(const la_day *d)
{
    uint64_t ino, size;
    int64_t mtime;
    if (la_io_current()->identity(d->path, &ino, &mtime, &size) != 0)
        return errno == ENOENT;
    return d->ino != 0 && ino != d->ino;
}

/* The common case of a reader's look: no commit since the last one (the slots' bytes are
 * those of the loaded state), so the blocks stand and only tail records appended since need
 * reading. It costs no system call, where the full look asks the file's size. 1 = done; 0 =
 * take the full look: a commit, or a tail that may reach past the size known (the writer
 * extends the file before writing there). */
static int refresh_quick(la_day *d)
{
    if (!d->seen_valid || d->map_len < LA_SEG_SLOT_OFF + sizeof d->seen_slots ||
        memcmp(d->seen_slots, d->map + LA_SEG_SLOT_OFF, sizeof d->seen_slots) != 0)
        return 0;
    /* A commit with no gap before its tail (a sealed file's) has no tail to grow: a writer
     * appends only after a commit of its own, whose gap is the reserve (SPEC.md §5.4). */
    if (d->commit.tail_start == d->commit.blocks_end)
        return 1;
    uint64_t max_rec = LA_TAIL_REC_HEADER + la_tail_payload_max(d->cfg->schema.ncols - 4);
    if (d->tail_end + max_rec > d->file_size)
        return 0;
    return scan_tail(d) == 0 && d->tail_end + max_rec <= d->file_size;
}

int la_day_refresh(la_day *d)
{
    if (refresh_quick(d))
        return 0;
    d->seen_valid = 0;
    uint8_t seen[2 * LA_SEG_SLOT_SIZE]; /* the commit slots at the previous damaged look */
    int have_seen = 0;
    for (int attempt = 0; attempt < 100; attempt++) {
        int rc = stat_and_map(d);
        if (rc != 0)
            return rc;
        if ((rc = load_state(d)) == LA_ECORRUPT && attempt < 99) {
            /* A slot read while the writer's pwrite filled it looks damaged: look again after
             * a pause, for as long as the slots change between looks. Slots that stayed the
             * same are damaged for good (no writer was finishing them). */
            if (d->map_len < LA_SEG_SLOT_OFF + sizeof seen)
                return rc;
            const uint8_t *slots = d->map + LA_SEG_SLOT_OFF;
            if (have_seen && memcmp(seen, slots, sizeof seen) == 0)
                return rc;
            memcpy(seen, slots, sizeof seen);
            have_seen = 1;
            la_io_current()->pause_ms(1);
            continue;
        }
        if (rc != 0)
            return rc;
        /* A writer may have committed while we read: only a state whose slot did not change
         * under us is a consistent snapshot (blocks and tail of one generation). The bytes
         * checked are kept: the next look compares them to skip work when nothing changed. */
        la_commit again;
        int slot;
        memcpy(d->seen_slots, d->map + LA_SEG_SLOT_OFF, sizeof d->seen_slots);
        if (read_commit_from(d, d->seen_slots, &again, &slot) == 0 && again.generation == d->commit.generation) {
            d->seen_valid = 1;
            return 0;
        }
    }
    return la_err(LA_EBUSY, "%s: the writer kept committing while we read", d->path);
}

static int write_header_file(const la_day *d, const char *tmp, uint64_t reserve)
{
    const la_io *io = la_io_current();
    uint8_t *page = calloc(1, LA_SEG_HEADER_SIZE);
    if (!page)
        return la_err(LA_ENOMEM, "out of memory");
    la_seg_header h = {LA_SEG_VERSION_HOT, LA_SEG_VERSION_HOT, d->day, d->cfg->schema};
    la_seg_header_encode(page, &h);
    la_commit c = {1, LA_SEG_HEADER_SIZE, 0, 0, LA_SEG_HEADER_SIZE + reserve, new_salt(0)};
    la_commit_encode(page + LA_SEG_SLOT_OFF, &c);
    int rc = 0;
    int fd = io->open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        rc = la_err_errno(errno, "create", tmp);
    } else {
        if (io->pwrite(fd, page, LA_SEG_HEADER_SIZE, 0) != (ssize_t)LA_SEG_HEADER_SIZE)
            rc = la_err_errno(errno ? errno : EIO, "write", tmp);
        else if (io->fsync(fd) != 0)
            rc = la_err_errno(errno, "fsync", tmp);
        io->close(fd);
    }
    free(page);
    return rc;
}

/* A segment appears whole or not at all: written under a temporary name, synced, renamed. */
static int create_file(la_day *d, const char *dir)
{
    const la_io *io = la_io_current();
    size_t n = strlen(d->path) + 8;
    char *tmp = malloc(n);
    if (!tmp)
        return la_err(LA_ENOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp", d->path);
    int rc = write_header_file(d, tmp, reserve_for(d));
    if (rc == 0 && io->rename(tmp, d->path) != 0)
        rc = la_err_errno(errno, "rename", tmp);
    if (rc == 0 && io->sync_dir(dir) != 0)
        rc = la_err_errno(errno, "fsync directory", dir);
    if (rc != 0)
        io->unlink(tmp);
    free(tmp);
    return rc;
}

int la_day_open(la_day **out, const char *dir, int32_t day, const la_day_cfg *cfg, int writable,
                int create)
{
    const la_io *io = la_io_current();
    la_day *d = calloc(1, sizeof *d);
    if (!d)
        return la_err(LA_ENOMEM, "out of memory");
    d->day = day;
    d->cfg = cfg;
    d->fd = -1;
    d->writable = writable;
    int rc = la_seg_name(day, d->name, sizeof d->name);
    if (rc != 0) {
        free(d);
        return la_err(LA_ERANGE, "day %d out of range", (int)day);
    }
    size_t n = strlen(dir) + sizeof d->name + 2;
    d->path = malloc(n);
    if (!d->path) {
        free(d);
        return la_err(LA_ENOMEM, "out of memory");
    }
    snprintf(d->path, n, "%s/%s", dir, d->name);
    /* The inode the path names before and after the open is the one opened (a writer may
     * rename a sealed file over the path at any moment). */
    uint64_t ino_before = 0, size;
    int64_t mtime;
    for (int attempt = 0;; attempt++) {
        if (io->identity(d->path, &ino_before, &mtime, &size) != 0)
            ino_before = 0;
        /* O_NOFOLLOW: a symlinked day file would lead reads and writes out of the directory */
        d->fd = io->open(d->path, (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW, 0);
        if (d->fd < 0 && errno == ENOENT && create && writable) {
            if ((rc = create_file(d, dir)) != 0)
                goto fail;
            create = 0;
            continue;
        }
        if (d->fd < 0)
            break;
        if (io->identity(d->path, &d->ino, &mtime, &size) != 0) {
            d->ino = 0; /* unknown: la_day_replaced() cannot tell */
            break;
        }
        if (d->ino == ino_before || attempt == 100)
            break;
        io->close(d->fd);
        d->fd = -1;
    }
    if (d->fd < 0) {
        rc = errno == ENOENT ? la_err(LA_ENOTFOUND, "%s: no such segment", d->path)
                             : la_err_errno(errno, "open", d->path);
        goto fail;
    }
    if ((rc = stat_and_map(d)) != 0)
        goto fail;
    la_seg_header h;
    const char *why = NULL;
    rc = la_seg_header_decode(d->map, (size_t)d->file_size, &h, &why);
    if (rc == LA_EVERSION) {
        rc = la_err(rc, "%s: %s", d->path, why);
        goto fail;
    }
    if (rc != 0) {
        rc = la_day_corrupt(d, 0, why);
        goto fail;
    }
    d->version = h.read_version;
    if (writable && h.write_version > LA_SEG_WRITE_VERSION) {
        rc = la_err(LA_EVERSION, "%s: written by a newer format (write_version %u)", d->path,
                    h.write_version);
        goto fail;
    }
    if (h.day != day || !la_schema_equal(&h.schema, &cfg->schema)) {
        rc = la_day_corrupt(d, 16, "segment day or schema differs from its name and la.meta");
        goto fail;
    }
    for (uint32_t c = 0; c < cfg->schema.ncols; c++) {
        if (!is_dict_col(d, c))
            continue;
        if (!(d->dict[c] = la_dict_new(cfg->schema.type[c] == LA_COL_U64))) {
            rc = la_err(LA_ENOMEM, "out of memory");
            goto fail;
        }
    }
    if ((rc = writable ? load_state(d) : la_day_refresh(d)) != 0)
        goto fail;
    *out = d;
    return 0;
fail:
    la_day_close(d);
    return rc;
}

void la_day_close(la_day *d)
{
    if (!d)
        return;
    const la_io *io = la_io_current();
    if (d->map)
        io->unmap(d->map, d->map_len);
    if (d->fd >= 0)
        io->close(d->fd);
    for (uint32_t c = 0; c < LA_MAX_COLS; c++)
        la_dict_free(d->dict[c]);
    free(d->blocks);
    free(d->tail_off);
    free(d->path);
    free(d);
}

int la_day_load_dicts(la_day *d)
{
    uint8_t *buf = NULL;
    size_t cap = 0;
    la_str *ents = NULL;
    uint64_t *vals = NULL;
    int rc = 0;
    if (d->dict_blocks < d->nblocks) /* the blocks know how many entries are coming */
        for (uint32_t c = 0; c < d->cfg->schema.ncols; c++)
            if (is_dict_col(d, c) && la_dict_reserve(d->dict[c], d->blocks[d->nblocks - 1].dict_end[c]) != 0)
                return la_err(LA_ENOMEM, "out of memory");
    for (; d->dict_blocks < d->nblocks && rc == 0; d->dict_blocks++) {
        const la_blkref *b = &d->blocks[d->dict_blocks];
        la_block_view v;
        const char *why = NULL;
        if ((rc = la_block_parse(d->map + b->off, b->len, &d->cfg->schema, &v, &why)) != 0) {
            rc = la_day_corrupt(d, b->off, why);
            break;
        }
        uint32_t before[LA_MAX_COLS];
        dicts_mark(d, before);
        for (uint32_t c = 0; c < v.ncols && rc == 0; c++) {
            const la_col_desc *cd = &v.col[c];
            if (!is_dict_col(d, c) || cd->dict_count == 0)
                continue;
            if (cd->dict_raw > cap) {
                cap = cd->dict_raw;
                uint8_t *nb = realloc(buf, cap);
                if (!nb) {
                    rc = la_err(LA_ENOMEM, "out of memory");
                    break;
                }
                buf = nb;
            }
            la_str *ne = realloc(ents, cd->dict_count * sizeof *ents);
            uint64_t *nv = ne ? realloc(vals, cd->dict_count * sizeof *vals) : NULL;
            if (ne)
                ents = ne;
            if (nv)
                vals = nv;
            if (!ne || !nv) {
                rc = la_err(LA_ENOMEM, "out of memory");
                break;
            }
            if ((rc = la_block_part(&v, c, 0, buf, &why)) != 0) {
                rc = la_day_corrupt(d, b->off + cd->offset, why);
                break;
            }
            int is64 = d->cfg->schema.type[c] == LA_COL_U64;
            rc = is64 ? la_dict_u64_parse(buf, cd->dict_raw, cd->dict_count, vals, &why)
                      : la_dict_str_parse(buf, cd->dict_raw, cd->dict_count, ents, &why);
            if (rc != 0) {
                rc = la_day_corrupt(d, b->off + cd->offset, why);
                break;
            }
            for (uint32_t i = 0; i < cd->dict_count; i++) {
                uint32_t id = is64 ? la_dict_push_u64(d->dict[c], vals[i])
                                   : la_dict_push_str(d->dict[c], ents[i].data, ents[i].len);
                if (id == 0) {
                    rc = la_err(LA_ENOMEM, "out of memory");
                    break;
                }
            }
        }
        if (rc != 0) {
            dicts_undo(d, before);
            break;
        }
    }
    free(buf);
    free(ents);
    free(vals);
    return rc;
}

int la_day_tail_row(const la_day *d, uint64_t i, la_row *row)
{
    uint64_t off = d->tail_off[i];
    size_t n = la_tail_record_decode(d->map + off, (size_t)(d->file_size - off), d->commit.tail_salt,
                                     d->commit.rows_in_blocks + i, d->cfg->schema.ncols - 4, row, 0);
    return n ? 0 : la_day_corrupt(d, off, "tail record changed under us");
}

/* Allocate file space for [off, end) of the tail and extend the mapping. ENOSPC surfaces here,
 * before any byte is written, never as SIGBUS from a store into the map. */
static int ensure_tail_space(la_day *d, uint64_t end)
{
    if (end <= d->alloc_end && end <= d->file_size)
        return 0;
    uint64_t from = d->alloc_end;
    uint64_t to = align_up(end + (end - d->commit.tail_start) / 8 + TAIL_ALLOC_STEP, PAGE);
    if (la_io_current()->allocate(d->fd, (off_t)from, (off_t)(to - from)) != 0) {
        /* retry with exactly what this row needs before giving up */
        to = align_up(end, PAGE);
        if (la_io_current()->allocate(d->fd, (off_t)from, (off_t)(to - from)) != 0)
            return la_err_errno(errno, "allocate", d->path);
    }
    d->alloc_end = to;
    if (to > d->file_size)
        d->file_size = to;
    int rc = map_file(d, d->file_size);
    if (rc == 0) {
        uint64_t a = align_up(from, PAGE);
        if (to > a)
            la_io_current()->prefault(d->map + a, (size_t)(to - a));
    }
    return rc;
}

static int sync_range(la_day *d, uint64_t from, uint64_t to)
{
    uint64_t a = align_down(from, PAGE);
    if (to <= a)
        return 0;
    if (la_io_current()->sync(d->map + a, (size_t)(to - a)) != 0)
        return la_err_errno(errno, "msync", d->path);
    return 0;
}

/* Write commit c into the slot not holding the current commit, and make it durable: from the
 * moment this returns the new state is what every reader and every recovery starts from. */
static int publish(la_day *d, const la_commit *c)
{
    int slot = 1 - d->slot;
    uint8_t *p = d->map + LA_SEG_SLOT_OFF + LA_SEG_SLOT_SIZE * (unsigned)slot;
    uint8_t before[LA_SEG_SLOT_SIZE], next[LA_SEG_SLOT_SIZE];
    memcpy(before, p, sizeof before);
    la_commit_encode(next, c);
    /* one system call: a process killed here leaves the old slot or the new one, never a mix */
    if (la_io_current()->pwrite(d->fd, next, sizeof next,
                                (off_t)(LA_SEG_SLOT_OFF + LA_SEG_SLOT_SIZE * (unsigned)slot)) != (ssize_t)sizeof next)
        return la_err_errno(errno ? errno : EIO, "write commit slot of", d->path);
    int rc = sync_range(d, LA_SEG_SLOT_OFF, LA_SEG_HEADER_SIZE);
    if (rc != 0) {
        /* The state stays the old one: a commit we could not make durable must not be left in
         * the file, where recovery would prefer it over the tail we keep appending to. */
        memcpy(p, before, sizeof before);
        return rc;
    }
    d->commit = *c;
    d->slot = slot;
    return 0;
}

typedef struct seal_buf {
    int64_t *ts, *val;
    uint8_t *present;
    uint64_t *hash;                /* scratch: one column's value hashes */
    uint32_t *ids[LA_MAX_COLS];
    la_str *str[LA_MAX_COLS];      /* STR columns' values, pointing into the tail */
    uint64_t *u64[LA_MAX_COLS];    /* U64 columns' values */
} seal_buf;

static void seal_buf_free(seal_buf *s, uint32_t ncols)
{
    free(s->ts);
    free(s->val);
    free(s->present);
    free(s->hash);
    for (uint32_t c = 0; c < ncols; c++) {
        free(s->ids[c]);
        free(s->str[c]);
        free(s->u64[c]);
    }
}

/* Rows ahead whose table slot is fetched while the current row is interned: enough to cover
 * a cache miss with the work of the rows in between. */
#define PREFETCH_AHEAD 8

/* Intern column c of the n rows in sb (values decoded beforehand, so that every value's slot
 * can be prefetched a few rows ahead: the dictionaries of a busy day do not fit in cache). */
static int intern_column(la_dict *dict, seal_buf *sb, uint32_t c, int is64, uint32_t n)
{
    uint64_t *h = sb->hash;
    for (uint32_t i = 0; i < n; i++)
        h[i] = is64 ? la_dict_hash_u64(sb->u64[c][i])
               : sb->str[c][i].data ? la_dict_hash_str(sb->str[c][i].data, sb->str[c][i].len) : 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i + PREFETCH_AHEAD < n)
            la_dict_prefetch(dict, h[i + PREFETCH_AHEAD]);
        uint32_t id;
        if (is64)
            id = la_dict_intern_u64_h(dict, sb->u64[c][i], h[i]);
        else if (!sb->str[c][i].data)
            id = 0, sb->ids[c][i] = 0;
        else
            id = la_dict_intern_str_h(dict, sb->str[c][i].data, sb->str[c][i].len, h[i]);
        if (id == 0 && (is64 || sb->str[c][i].data))
            return -1;
        sb->ids[c][i] = id;
    }
    return 0;
}

/* Column index of string slot i of a row: workspace, link, type, then dimensions. */
static uint32_t str_col(uint32_t i) { return i < 3 ? LA_C_WORKSPACE + i : LA_NFIXED + i - 3; }

int la_day_seal(la_day *d)
{
    if (d->tail_rows == 0)
        return 0;
    int rc = la_day_load_dicts(d);
    if (rc != 0)
        return rc;
    const la_schema *s = &d->cfg->schema;
    uint32_t n = (uint32_t)d->tail_rows, ncols = s->ncols;
    uint32_t before[LA_MAX_COLS]; /* before anything can fail: undo puts every column back */
    dicts_mark(d, before);
    seal_buf sb;
    memset(&sb, 0, sizeof sb);
    la_block_in in;
    memset(&in, 0, sizeof in);
    uint8_t *frame = NULL;
    sb.ts = malloc(n * sizeof *sb.ts);
    sb.val = malloc(n * sizeof *sb.val);
    sb.present = malloc(n);
    sb.hash = malloc(n * sizeof *sb.hash);
    int oom = !sb.ts || !sb.val || !sb.present || !sb.hash;
    for (uint32_t c = 0; c < ncols && !oom; c++) {
        if (!is_dict_col(d, c))
            continue;
        sb.ids[c] = malloc(n * sizeof(uint32_t));
        if (s->type[c] == LA_COL_U64)
            oom |= !(sb.u64[c] = malloc(n * sizeof(uint64_t)));
        else
            oom |= !(sb.str[c] = malloc(n * sizeof(la_str)));
        oom |= !sb.ids[c];
    }
    if (oom) {
        rc = la_err(LA_ENOMEM, "out of memory");
        goto undo;
    }
    for (uint32_t i = 0; i < n; i++) {
        la_row row;
        if ((rc = la_day_tail_row(d, i, &row)) != 0)
            goto undo;
        sb.ts[i] = row.ts;
        sb.val[i] = row.value;
        sb.present[i] = (uint8_t)row.has_value;
        sb.u64[LA_C_VISITOR][i] = row.visitor;
        sb.u64[LA_C_SESSION][i] = row.session;
        for (uint32_t k = 0; k < row.nstr; k++)
            sb.str[str_col(k)][i] = row.str[k];
    }
    for (uint32_t c = 0; c < ncols; c++)
        if (is_dict_col(d, c) && intern_column(d->dict[c], &sb, c, s->type[c] == LA_COL_U64, n) != 0)
            goto nomem;
    in.schema = s;
    in.nrows = n;
    in.first_seq = d->commit.rows_in_blocks;
    in.kind = LA_BLOCK_APPEND;
    in.codec = d->cfg->codec;
    in.level = d->cfg->level;
    for (uint32_t c = 0; c < ncols; c++) {
        la_col_in *ci = &in.col[c];
        if (c == LA_C_TS) {
            ci->i64 = sb.ts;
        } else if (c == LA_C_VALUE) {
            ci->i64 = sb.val;
            ci->present = sb.present;
        } else {
            uint32_t after = la_dict_size(d->dict[c]);
            ci->ids = sb.ids[c];
            ci->dict_base = before[c];
            ci->new_count = after - before[c];
            if (s->type[c] == LA_COL_U64)
                ci->new_u64 = la_dict_u64s(d->dict[c]) + before[c] + 1;
            else
                ci->new_str = la_dict_strs(d->dict[c]) + before[c] + 1;
        }
    }
    size_t cap = la_block_bound(&in), len = 0;
    if (!(frame = malloc(cap)))
        goto nomem;
    if ((rc = la_block_encode(&in, frame, cap, &len)) != 0) {
        rc = la_err(rc, "%s: encoding a block failed", d->path);
        goto undo;
    }
    uint64_t at = d->commit.blocks_end;
    if (at + len > d->commit.tail_start) {
        /* Cannot happen if row_estimate() bounds la_block_bound(); refuse rather than overwrite. */
        rc = la_err(LA_EIO, "%s: internal error: block of %zu bytes exceeds the reserve", d->path, len);
        goto undo;
    }
    const la_io *io = la_io_current();
    if (io->allocate(d->fd, (off_t)at, (off_t)len) != 0) {
        rc = la_err_errno(errno, "allocate", d->path);
        goto undo;
    }
    if (at + len > d->file_size)
        d->file_size = at + len;
    if ((rc = map_file(d, d->file_size)) != 0)
        goto undo;
    memcpy(d->map + at, frame, len);
    if ((rc = sync_range(d, at, at + len)) != 0)
        goto undo;
    la_commit next = d->commit;
    next.generation++;
    next.blocks_end = at + len;
    next.block_count++;
    next.rows_in_blocks += n;
    next.tail_start = next.blocks_end + reserve_for(d);
    next.tail_salt = new_salt(d->commit.tail_salt);
    if ((rc = publish(d, &next)) != 0)
        goto undo;
    la_block_view v;
    const char *why;
    if (la_block_parse(frame, len, s, &v, &why) != 0 || push_block(d, &v, at) != 0) {
        free(frame);
        seal_buf_free(&sb, ncols);
        return la_err(LA_ENOMEM, "out of memory");
    }
    d->dict_blocks = d->nblocks;
    if (d->on_seal) {
        la_sealed sr = {next.rows_in_blocks - n, n, sb.ts, sb.val, sb.present,
                        sb.u64[LA_C_VISITOR], sb.u64[LA_C_SESSION], {0}};
        for (uint32_t c = 0; c < ncols; c++)
            sr.ids[c] = sb.ids[c];
        d->on_seal(d->on_seal_ctx, d, &sr);
    }
    reset_tail(d);
    d->dirty = 0;
    /* Everything after the blocks is dead now that the commit is durable (the old tail and
     * what was allocated ahead of it; the new tail is empty): give the space back. */
    uint64_t ps = align_up(next.blocks_end, PAGE), pe = align_down(d->file_size, PAGE);
    if (pe > ps)
        io->punch(d->fd, (off_t)ps, (off_t)(pe - ps));
    free(frame);
    seal_buf_free(&sb, ncols);
    return 0;
nomem:
    rc = la_err(LA_ENOMEM, "out of memory");
undo:
    dicts_undo(d, before);
    free(frame);
    seal_buf_free(&sb, ncols);
    return rc;
}

/* First write after open: start a tail generation with a fresh salt, so that stale records a
 * crash left after the valid prefix can never line up with new ones (SPEC.md §5.4). */
static int rotate(la_day *d)
{
    int rc;
    if (d->tail_rows > 0)
        rc = la_day_seal(d);
    else {
        la_commit c = d->commit;
        c.generation++;
        c.tail_salt = new_salt(c.tail_salt);
        if (c.tail_start - c.blocks_end < reserve_for(d))
            c.tail_start = c.blocks_end + reserve_for(d); /* a sealed file ends at its blocks */
        rc = publish(d, &c);
        if (rc == 0)
            reset_tail(d);
    }
    if (rc == 0)
        d->rotated = 1;
    return rc;
}

int la_day_append(la_day *d, const la_row *r)
{
    int rc;
    if (!d->rotated && (rc = rotate(d)) != 0)
        return rc;
    uint64_t est = row_estimate(r);
    uint64_t reserve = d->commit.tail_start - d->commit.blocks_end;
    if (d->tail_rows > 0 && (d->tail_rows >= d->cfg->block_rows ||
                             block_estimate(d, d->tail_est + est) > reserve)) {
        if ((rc = la_day_seal(d)) != 0)
            return rc;
    }
    size_t size = LA_TAIL_REC_HEADER + la_tail_payload_size(r);
    if ((rc = ensure_tail_space(d, d->tail_end + size)) != 0)
        return rc;
    if ((rc = tail_push(d, d->tail_end)) != 0)
        return rc;
    la_tail_record_encode(d->map + d->tail_end, d->commit.tail_salt,
                          d->commit.rows_in_blocks + d->tail_rows - 1, r);
    if (!d->dirty) {
        d->dirty = 1;
        d->dirty_from = d->tail_end;
    }
    d->tail_end += size;
    d->tail_est += est;
    return 0;
}

int la_day_flush(la_day *d)
{
    if (!d->dirty)
        return 0;
    int rc = sync_range(d, d->dirty_from, d->tail_end);
    if (rc == 0)
        d->dirty = 0;
    return rc;
}
