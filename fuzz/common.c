/* common.c — helpers shared by the fuzz targets: schema, checksum fix-ups, full block decode. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "column.h"
#include "crc32c.h"
#include "le.h"

#include "fuzz.h"

void *fz_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

uint8_t *fz_dup(const uint8_t *p, size_t n)
{
    uint8_t *q = fz_alloc(n);
    if (n)
        memcpy(q, p, n);
    return q;
}

void fz_clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        abort();
    struct dirent *e;
    char path[600];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

static char scratch[256]; /* one per process: each target makes one */

static void remove_scratch(void)
{
    fz_clear_dir(scratch);
    rmdir(scratch);
}

void fz_scratch_dir(const char *prefix, char *dir, size_t cap)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    if (scratch[0] || (size_t)snprintf(scratch, sizeof scratch, "%s/%s-XXXXXX", base, prefix) >= sizeof scratch ||
        !mkdtemp(scratch) || strlen(scratch) >= cap)
        abort();
    memcpy(dir, scratch, strlen(scratch) + 1);
    atexit(remove_scratch);
}

void fz_schema_default(la_schema *s)
{
    static const char *const dims[] = {"country", "city", "device", "browser", "referrer"};
    if (la_schema_init(s, dims, 5) != 0)
        abort();
}

void fz_fix_block(uint8_t *p, size_t n, uint32_t ncols)
{
    if (ncols > LA_MAX_COLS || n < LA_BLOCK_FIXED)
        return;
    size_t hdr = la_block_header_size(ncols, p[14]);
    if (n < hdr + 4)
        return;
    /* Column checksums live in the descriptors, which the header checksum covers: parts first. */
    size_t pos = hdr + 4;
    for (uint32_t c = 0; c < ncols; c++) {
        uint8_t *d = p + LA_BLOCK_FIXED + LA_BLOCK_DESC * c;
        size_t len = (size_t)la_le32(d + 12) + la_le32(d + 20);
        if (len > n - pos)
            break;
        la_put32(d + 24, la_crc32c(0, p + pos, len));
        pos += len;
    }
    la_put32(p + hdr, la_crc32c(0, p, hdr));
}

void fz_fix_tail_record(uint8_t *p, size_t n, uint32_t salt, uint64_t seq)
{
    if (n < LA_TAIL_REC_HEADER)
        return;
    size_t payload = la_le32(p);
    if (payload > n - LA_TAIL_REC_HEADER)
        return;
    la_put64(p + 8, seq);
    uint8_t s[4];
    la_put32(s, salt);
    la_put32(p + 4, la_crc32c(la_crc32c(0, s, 4), p + 8, 8 + payload));
}

static int decode_column(const la_block_view *v, uint32_t c, uint8_t type, uint32_t max_id)
{
    const la_col_desc *cd = &v->col[c];
    int rc = la_block_check(v, c, NULL);
    uint8_t *dict = fz_alloc(cd->dict_raw), *data = fz_alloc(cd->data_raw);
    if (rc == 0 && (rc = la_block_part(v, c, 0, dict, NULL)) == 0) {
        if (type == LA_COL_STR) {
            la_str *e = fz_alloc((size_t)cd->dict_count * sizeof *e);
            rc = la_dict_str_parse(dict, cd->dict_raw, cd->dict_count, e, NULL);
            for (uint32_t i = 0; rc == 0 && i < cd->dict_count; i++)
                FZ_ASSERT(e[i].len <= LA_MAX_STR && (const uint8_t *)e[i].data >= dict &&
                          (const uint8_t *)e[i].data + e[i].len <= dict + cd->dict_raw);
            free(e);
        } else if (type == LA_COL_U64) {
            uint64_t *u = fz_alloc((size_t)cd->dict_count * sizeof *u);
            rc = la_dict_u64_parse(dict, cd->dict_raw, cd->dict_count, u, NULL);
            free(u);
        }
    }
    if (rc == 0 && (rc = la_block_part(v, c, 1, data, NULL)) == 0) {
        size_t n = v->nrows;
        if (type == LA_COL_TS) {
            int64_t *ts = fz_alloc(n * sizeof *ts);
            rc = la_ts_decode(data, cd->data_raw, ts, n, NULL);
            free(ts);
        } else if (type == LA_COL_OPT_I64) {
            int64_t *val = fz_alloc(n * sizeof *val);
            uint8_t *has = fz_alloc(n);
            rc = la_opt_i64_decode(data, cd->data_raw, val, has, n, NULL);
            for (size_t i = 0; rc == 0 && i < n; i++)
                FZ_ASSERT(has[i] <= 1 && (has[i] || val[i] == 0));
            free(val);
            free(has);
        } else {
            uint32_t *ids = fz_alloc(n * sizeof *ids);
            rc = la_ids_decode(data, cd->data_raw, ids, n, max_id, NULL);
            for (size_t i = 0; rc == 0 && i < n; i++)
                FZ_ASSERT(ids[i] <= max_id);
            free(ids);
        }
    }
    free(dict);
    free(data);
    return rc;
}

int fz_block_decode(const la_block_view *v, const la_schema *s, const uint32_t *dict_base)
{
    int bad = 0;
    for (uint32_t c = 0; c < v->ncols; c++) {
        uint64_t max_id = (uint64_t)dict_base[c] + v->col[c].dict_count;
        bad |= decode_column(v, c, s->type[c], max_id > UINT32_MAX ? UINT32_MAX : (uint32_t)max_id) != 0;
    }
    return bad;
}

void fz_fix_segment(uint8_t *p, size_t n)
{
    if (n < LA_SEG_HEADER_SIZE)
        return;
    la_put32(p + LA_SEG_SCHEMA_END, la_crc32c(0, p, LA_SEG_SCHEMA_END));
    static const uint8_t zero[LA_SEG_SLOT_SIZE];
    la_commit c[2];
    int ok[2];
    for (int i = 0; i < 2; i++) {
        uint8_t *s = p + LA_SEG_SLOT_OFF + LA_SEG_SLOT_SIZE * i;
        if (memcmp(s, zero, LA_SEG_SLOT_SIZE) != 0) /* an empty slot must stay all zero */
            la_put32(s + 60, la_crc32c(0, s, 60));
        ok[i] = la_commit_decode(s, &c[i], NULL) == 0 && c[i].generation != 0;
    }
    la_seg_header h;
    if (la_seg_header_decode(p, n, &h, NULL) != 0 || (!ok[0] && !ok[1]))
        return;
    const la_commit *cm = &c[ok[0] && ok[1] ? c[1].generation > c[0].generation : ok[1]];
    if (cm->blocks_end > n)
        return;
    uint64_t off = LA_SEG_HEADER_SIZE, rows = 0;
    while (off < cm->blocks_end) {
        la_block_view v;
        size_t lim = (size_t)(cm->blocks_end - off);
        fz_fix_block(p + off, lim, h.schema.ncols);
        if (la_block_parse(p + off, lim, &h.schema, &v, NULL) != 0)
            return;
        rows += v.nrows;
        off += v.frame_len;
    }
    uint32_t nstr = h.schema.ncols - 4;
    for (uint64_t t = cm->tail_start, seq = rows; t < n; seq++) {
        fz_fix_tail_record(p + t, n - t, cm->tail_salt, seq);
        la_row row;
        size_t k = la_tail_record_decode(p + t, n - t, cm->tail_salt, seq, nstr, &row, 1);
        if (k == 0)
            break;
        t += k;
    }
}
