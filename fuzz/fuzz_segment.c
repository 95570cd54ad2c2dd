/* fuzz_segment.c — a whole segment file: header, both commit slots, the blocks up to the
 * active slot's blocks_end and the tail, in the engine's order and with its checks. Input
 * byte 0 odd: every checksum is made valid first (fz_fix_segment). */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fix = data[0] & 1;
    size_t n = size - 1;
    uint8_t *p = fz_dup(data + 1, n);
    if (fix)
        fz_fix_segment(p, n);
    la_seg_header h;
    if (la_seg_header_decode(p, n, &h, NULL) != 0)
        goto out;
    la_commit c[2];
    int ok[2];
    for (int i = 0; i < 2; i++)
        ok[i] = la_commit_decode(p + LA_SEG_SLOT_OFF + LA_SEG_SLOT_SIZE * i, &c[i], NULL) == 0 &&
                c[i].generation != 0;
    if (!ok[0] && !ok[1])
        goto out;
    const la_commit *cm = &c[ok[0] && ok[1] ? c[1].generation > c[0].generation : ok[1]];
    if (cm->blocks_end > n)
        goto out;

    uint32_t dict_end[LA_MAX_COLS] = {0};
    uint64_t off = LA_SEG_HEADER_SIZE, rows = 0;
    uint32_t nblocks = 0;
    while (off < cm->blocks_end) {
        la_block_view v;
        size_t lim = (size_t)(cm->blocks_end - off);
        if (la_block_parse(p + off, lim, &h.schema, &v, NULL) != 0 || v.first_seq != rows)
            goto out;
        FZ_ASSERT(v.frame_len <= lim);
        fz_block_decode(&v, &h.schema, dict_end);
        for (uint32_t col = 0; col < v.ncols; col++)
            dict_end[col] += v.col[col].dict_count;
        rows += v.nrows;
        off += v.frame_len;
        nblocks++;
    }
    if (off != cm->blocks_end || nblocks != cm->block_count || rows != cm->rows_in_blocks)
        goto out;

    uint32_t nstr = h.schema.ncols - 4;
    for (uint64_t t = cm->tail_start, seq = rows; t < n; seq++) {
        la_row row;
        size_t k = la_tail_record_decode(p + t, n - t, cm->tail_salt, seq, nstr, &row, 1);
        if (k == 0)
            break;
        FZ_ASSERT(k <= n - t && row.nstr == nstr);
        t += k;
    }
out:
    free(p);
    return 0;
}
