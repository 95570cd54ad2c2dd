/* fuzz_roundtrip_block.c — rows made from the input are encoded into a block with each codec,
 * parsed and decoded again: everything must come back exactly, and each part must be compressed
 * exactly when that saves an eighth of it. */
#include <string.h>

#include "codec.h"
#include "column.h"

#include "fuzz.h"

#define ROWS_MAX 64

typedef struct batch {
    la_schema schema;
    uint32_t nrows;
    uint64_t first_seq;
    uint8_t kind;
    int64_t i64[2][ROWS_MAX]; /* ts, value */
    uint8_t present[ROWS_MAX];
    uint32_t ids[LA_MAX_COLS][ROWS_MAX];
    uint32_t base[LA_MAX_COLS], count[LA_MAX_COLS];
    la_str str[LA_MAX_COLS][ROWS_MAX];
    uint64_t u64[LA_MAX_COLS][ROWS_MAX];
} batch;

static void make_batch(batch *b, fz *f)
{
    fz_schema_default(&b->schema);
    b->nrows = 1 + (uint32_t)(fz_take(f, 1) % ROWS_MAX);
    b->first_seq = fz_take(f, 5);
    b->kind = (uint8_t)(fz_take(f, 1) & 1);
    for (uint32_t c = 0; c < b->schema.ncols; c++) {
        uint8_t t = b->schema.type[c];
        if (t != LA_COL_STR && t != LA_COL_U64)
            continue;
        b->base[c] = (uint32_t)fz_take(f, 1);
        b->count[c] = (uint32_t)(fz_take(f, 1) % (b->nrows + 1));
        for (uint32_t i = 0; i < b->count[c]; i++) {
            if (t == LA_COL_U64) {
                b->u64[c][i] = fz_take(f, 8);
            } else {
                /* Strings point into the input itself, as far as it reaches. */
                size_t len = (size_t)fz_take(f, 1) % 16;
                len = len < f->n ? len : f->n;
                b->str[c][i].data = (const char *)f->p;
                b->str[c][i].len = (uint32_t)len;
                f->p += len;
                f->n -= len;
            }
        }
        uint32_t lim = b->base[c] + b->count[c] + 1;
        for (uint32_t r = 0; r < b->nrows; r++)
            b->ids[c][r] = (uint32_t)(fz_take(f, 2) % lim);
    }
    for (uint32_t r = 0; r < b->nrows; r++) {
        b->i64[0][r] = (int64_t)fz_take(f, 8);
        b->present[r] = (uint8_t)(fz_take(f, 1) & 1);
        b->i64[1][r] = b->present[r] ? (int64_t)fz_take(f, 8) : 0;
    }
}

/* A part is compressed with the block's codec exactly when that saves an eighth of it. */
static void check_codec_rule(int codec, int level, int used, const uint8_t *raw, uint32_t raw_len, uint32_t stored)
{
    if (used != LA_CODEC_ID_NONE) {
        FZ_ASSERT(used == codec && stored <= raw_len - raw_len / 8);
        return;
    }
    FZ_ASSERT(stored == raw_len);
    if (codec == LA_CODEC_ID_NONE || raw_len == 0)
        return;
    size_t cap = la_codec_bound(codec, raw_len), got = 0;
    uint8_t *out = fz_alloc(cap);
    FZ_ASSERT(la_codec_compress(codec, level, raw, raw_len, out, cap, &got) == 0);
    FZ_ASSERT(got > raw_len - raw_len / 8);
    free(out);
}

static void check_column(const la_block_view *v, const batch *b, uint32_t c, int codec, int level)
{
    const la_col_desc *cd = &v->col[c];
    uint8_t t = b->schema.type[c];
    size_t n = b->nrows;
    uint8_t *dict = fz_alloc(cd->dict_raw), *data = fz_alloc(cd->data_raw);
    FZ_ASSERT(la_block_check(v, c, NULL) == 0);
    FZ_ASSERT(la_block_part(v, c, 0, dict, NULL) == 0 && la_block_part(v, c, 1, data, NULL) == 0);
    if (t == LA_COL_STR) {
        FZ_ASSERT(cd->dict_count == b->count[c]);
        la_str *e = fz_alloc(cd->dict_count * sizeof *e);
        FZ_ASSERT(la_dict_str_parse(dict, cd->dict_raw, cd->dict_count, e, NULL) == 0);
        for (uint32_t i = 0; i < cd->dict_count; i++)
            FZ_ASSERT(e[i].len == b->str[c][i].len &&
                      (!e[i].len || memcmp(e[i].data, b->str[c][i].data, e[i].len) == 0));
        free(e);
    } else if (t == LA_COL_U64) {
        FZ_ASSERT(cd->dict_count == b->count[c]);
        uint64_t *u = fz_alloc(cd->dict_count * sizeof *u);
        FZ_ASSERT(la_dict_u64_parse(dict, cd->dict_raw, cd->dict_count, u, NULL) == 0);
        FZ_ASSERT(!cd->dict_count || memcmp(u, b->u64[c], cd->dict_count * sizeof *u) == 0);
        free(u);
    } else {
        FZ_ASSERT(cd->dict_count == 0 && cd->dict_raw == 0);
    }
    check_codec_rule(codec, level, cd->codec, dict, cd->dict_raw, cd->dict_stored);
    check_codec_rule(codec, level, cd->data_codec, data, cd->data_raw, cd->data_stored);
    if (t == LA_COL_TS || t == LA_COL_OPT_I64) {
        int64_t v64[ROWS_MAX];
        uint8_t has[ROWS_MAX];
        if (t == LA_COL_TS) {
            FZ_ASSERT(la_ts_decode(data, cd->data_raw, v64, n, NULL) == 0);
            FZ_ASSERT(memcmp(v64, b->i64[0], n * sizeof *v64) == 0);
        } else {
            FZ_ASSERT(la_opt_i64_decode(data, cd->data_raw, v64, has, n, NULL) == 0);
            FZ_ASSERT(memcmp(v64, b->i64[1], n * sizeof *v64) == 0 && memcmp(has, b->present, n) == 0);
        }
    } else {
        uint32_t ids[ROWS_MAX];
        FZ_ASSERT(la_ids_decode(data, cd->data_raw, ids, n, b->base[c] + b->count[c], NULL) == 0);
        FZ_ASSERT(memcmp(ids, b->ids[c], n * sizeof *ids) == 0);
    }
    free(dict);
    free(data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f = {data, size};
    static batch b;
    memset(&b, 0, sizeof b);
    make_batch(&b, &f);
    la_block_in in;
    memset(&in, 0, sizeof in);
    in.schema = &b.schema;
    in.nrows = b.nrows;
    in.first_seq = b.first_seq;
    in.kind = b.kind;
    for (uint32_t c = 0; c < b.schema.ncols; c++) {
        la_col_in *ci = &in.col[c];
        ci->i64 = c == LA_C_TS ? b.i64[0] : b.i64[1];
        ci->present = b.present;
        ci->ids = b.ids[c];
        ci->dict_base = b.base[c];
        ci->new_count = b.count[c];
        ci->new_str = b.str[c];
        ci->new_u64 = b.u64[c];
    }
    int64_t min_ts = INT64_MAX, max_ts = INT64_MIN;
    for (uint32_t r = 0; r < b.nrows; r++) {
        min_ts = b.i64[0][r] < min_ts ? b.i64[0][r] : min_ts;
        max_ts = b.i64[0][r] > max_ts ? b.i64[0][r] : max_ts;
    }
    /* a sorted block's key range: ids of workspace and link, none of them 0 */
    uint32_t keys[4] = {UINT32_MAX, 0, UINT32_MAX, 0};
    int has_zero = 0;
    for (uint32_t r = 0; r < b.nrows; r++) {
        uint32_t w = b.ids[LA_C_WORKSPACE][r], l = b.ids[LA_C_LINK][r];
        has_zero |= w == 0 || l == 0;
        keys[0] = w < keys[0] ? w : keys[0];
        keys[1] = w > keys[1] ? w : keys[1];
        keys[2] = l < keys[2] ? l : keys[2];
        keys[3] = l > keys[3] ? l : keys[3];
    }
    if (b.kind != LA_BLOCK_SORTED)
        keys[0] = keys[1] = keys[2] = keys[3] = 0;
    for (int codec = 0; codec < LA_CODEC_ID_COUNT; codec++) {
        in.codec = codec;
        in.level = 1;
        size_t cap = la_block_bound(&in), len = 0;
        uint8_t *frame = fz_alloc(cap);
        if (b.kind == LA_BLOCK_SORTED && has_zero) {
            FZ_ASSERT(la_block_encode(&in, frame, cap, &len) == LA_EINVAL);
            free(frame);
            continue;
        }
        FZ_ASSERT(la_block_encode(&in, frame, cap, &len) == 0 && len <= cap);
        uint8_t *exact = fz_dup(frame, len); /* parse from exactly len bytes, for ASan */
        la_block_view v;
        FZ_ASSERT(la_block_parse(exact, len, &b.schema, &v, NULL) == 0);
        FZ_ASSERT(v.frame_len == len && v.nrows == b.nrows && v.ncols == b.schema.ncols &&
                  v.first_seq == b.first_seq && v.kind == b.kind && v.min_ts == min_ts &&
                  v.max_ts == max_ts);
        FZ_ASSERT(v.ws_min == keys[0] && v.ws_max == keys[1] && v.link_min == keys[2] &&
                  v.link_max == keys[3]);
        for (uint32_t c = 0; c < v.ncols; c++)
            check_column(&v, &b, c, codec, in.level);
        free(exact);
        free(frame);
    }
    return 0;
}
