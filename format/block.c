/* block.c — encode and validate/decode sealed columnar blocks. */
#include "block.h"

#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "column.h"
#include "crc32c.h"
#include "le.h"
#include "status.h"
#include "varint.h"

static size_t dict_raw_bound(uint8_t type, const la_col_in *c)
{
    if (type == LA_COL_U64)
        return (size_t)c->new_count * 8;
    if (type != LA_COL_STR)
        return 0;
    size_t n = 0;
    for (uint32_t i = 0; i < c->new_count; i++)
        n += 2 + c->new_str[i].len;
    return n;
}

static size_t data_raw_bound(uint8_t type, size_t nrows)
{
    switch (type) {
    case LA_COL_TS: return la_ts_bound(nrows);
    case LA_COL_STR:
    case LA_COL_U64: return la_ids_bound(nrows);
    case LA_COL_OPT_I64: return la_opt_i64_bound(nrows);
    default: return 0;
    }
}

size_t la_block_bound(const la_block_in *in)
{
    size_t n = la_block_header_size(in->schema->ncols, LA_BLOCK_SORTED) + 4;
    for (uint32_t c = 0; c < in->schema->ncols; c++) {
        uint8_t t = in->schema->type[c];
        n += la_codec_bound(in->codec, dict_raw_bound(t, &in->col[c])) + 16;
        n += la_codec_bound(in->codec, data_raw_bound(t, in->nrows)) + 16;
    }
    return n;
}

/* Compress one part to dst, or store it raw when that does not save an eighth of it (SPEC
 * §2.2); returns the codec used. A part that barely compresses costs a reader its whole
 * decompression for little: sorted timestamps saved 4% with zstd, and storing them raw made
 * the hourly series of a link (which decodes them) a quarter faster. */
static int store_part(int codec, int level, const uint8_t *raw, size_t n, uint8_t *dst, size_t cap,
                      size_t *stored, int *codec_used)
{
    if (n > 0 && codec != LA_CODEC_ID_NONE) {
        int rc = la_codec_compress(codec, level, raw, n, dst, cap, stored);
        if (rc != 0)
            return rc;
        if (*stored <= n - n / 8) {
            *codec_used = codec;
            return 0;
        }
    }
    memcpy(dst, raw, n);
    *stored = n;
    *codec_used = LA_CODEC_ID_NONE;
    return 0;
}

static size_t encode_dict(uint8_t type, const la_col_in *c, uint8_t *raw)
{
    size_t n = 0;
    if (type == LA_COL_STR) {
        for (uint32_t i = 0; i < c->new_count; i++) {
            n += la_uvarint_put(raw + n, c->new_str[i].len);
            memcpy(raw + n, c->new_str[i].data, c->new_str[i].len);
            n += c->new_str[i].len;
        }
    } else if (type == LA_COL_U64) {
        for (uint32_t i = 0; i < c->new_count; i++)
            la_put64(raw + 8 * i, c->new_u64[i]);
        n = (size_t)c->new_count * 8;
    }
    return n;
}

static size_t encode_data(uint8_t type, const la_col_in *c, size_t nrows, uint8_t *raw)
{
    switch (type) {
    case LA_COL_TS: return la_ts_encode(raw, c->i64, nrows);
    case LA_COL_STR:
    case LA_COL_U64: return la_ids_encode(raw, c->ids, nrows);
    default: return la_opt_i64_encode(raw, c->i64, c->present, nrows);
    }
}

int la_block_encode(const la_block_in *in, uint8_t *out, size_t cap, size_t *out_len)
{
    const la_schema *s = in->schema;
    if (in->nrows == 0 || in->nrows > LA_BLOCK_MAX_ROWS || s->ncols > LA_MAX_COLS ||
        in->codec < 0 || in->codec >= LA_CODEC_ID_COUNT || cap < la_block_bound(in) ||
        in->kind > LA_BLOCK_SORTED)
        return LA_EINVAL;
    uint32_t keys[4] = {UINT32_MAX, 0, UINT32_MAX, 0}; /* ws min, max, link min, max */
    if (in->kind == LA_BLOCK_SORTED) {
        for (uint32_t r = 0; r < in->nrows; r++) {
            uint32_t w = in->col[LA_C_WORKSPACE].ids[r], l = in->col[LA_C_LINK].ids[r];
            if (w == 0 || l == 0)
                return LA_EINVAL;
            keys[0] = w < keys[0] ? w : keys[0];
            keys[1] = w > keys[1] ? w : keys[1];
            keys[2] = l < keys[2] ? l : keys[2];
            keys[3] = l > keys[3] ? l : keys[3];
        }
    }
    size_t scratch_cap = 1;
    for (uint32_t c = 0; c < s->ncols; c++) {
        size_t a = dict_raw_bound(s->type[c], &in->col[c]), b = data_raw_bound(s->type[c], in->nrows);
        scratch_cap = a > scratch_cap ? a : scratch_cap;
        scratch_cap = b > scratch_cap ? b : scratch_cap;
    }
    uint8_t *raw = malloc(scratch_cap);
    if (!raw)
        return LA_ENOMEM;

    int64_t min_ts = INT64_MAX, max_ts = INT64_MIN;
    for (uint32_t r = 0; r < in->nrows; r++) {
        int64_t t = in->col[LA_C_TS].i64[r];
        min_ts = t < min_ts ? t : min_ts;
        max_ts = t > max_ts ? t : max_ts;
    }
    size_t hdr = la_block_header_size(s->ncols, in->kind);
    size_t pos = hdr + 4;
    memset(out, 0, pos);
    int rc = 0;
    for (uint32_t c = 0; c < s->ncols && rc == 0; c++) {
        const la_col_in *ci = &in->col[c];
        uint8_t t = s->type[c];
        uint8_t *d = out + LA_BLOCK_FIXED + LA_BLOCK_DESC * c;
        size_t dict_stored = 0, data_stored = 0;
        int dict_codec = 0, data_codec = 0;
        size_t dict_raw = encode_dict(t, ci, raw);
        rc = store_part(in->codec, in->level, raw, dict_raw, out + pos, cap - pos, &dict_stored,
                        &dict_codec);
        if (rc != 0)
            break;
        size_t data_raw = encode_data(t, ci, in->nrows, raw);
        rc = store_part(in->codec, in->level, raw, data_raw, out + pos + dict_stored,
                        cap - pos - dict_stored, &data_stored, &data_codec);
        d[0] = t; /* encoding id == column type in format version 1 */
        d[1] = (uint8_t)dict_codec;
        d[2] = (uint8_t)data_codec;
        la_put32(d + 4, (t == LA_COL_STR || t == LA_COL_U64) ? ci->new_count : 0);
        la_put32(d + 8, (uint32_t)dict_raw);
        la_put32(d + 12, (uint32_t)dict_stored);
        la_put32(d + 16, (uint32_t)data_raw);
        la_put32(d + 20, (uint32_t)data_stored);
        la_put32(d + 24, la_crc32c(0, out + pos, dict_stored + data_stored));
        pos += dict_stored + data_stored;
    }
    free(raw);
    if (rc != 0)
        return rc;
    memcpy(out, LA_BLOCK_MAGIC, 4);
    la_put32(out + 4, (uint32_t)pos);
    la_put32(out + 8, in->nrows);
    la_put16(out + 12, (uint16_t)s->ncols);
    out[14] = in->kind;
    la_put64(out + 16, in->first_seq);
    la_put64(out + 24, (uint64_t)min_ts);
    la_put64(out + 32, (uint64_t)max_ts);
    if (in->kind == LA_BLOCK_SORTED)
        for (int i = 0; i < 4; i++)
            la_put32(out + LA_BLOCK_FIXED + LA_BLOCK_DESC * s->ncols + 4 * i, keys[i]);
    la_put32(out + hdr, la_crc32c(0, out, hdr));
    *out_len = pos;
    return 0;
}

int la_block_parse(const uint8_t *p, size_t n, const la_schema *schema, la_block_view *out,
                   const char **why)
{
    if (n < LA_BLOCK_FIXED + 4 || memcmp(p, LA_BLOCK_MAGIC, 4) != 0)
        return la_corrupt(why, "bad block magic");
    uint32_t ncols = la_le16(p + 12);
    if (ncols != schema->ncols)
        return la_corrupt(why, "block column count differs from the schema");
    if (p[14] > LA_BLOCK_SORTED || p[15] != 0)
        return la_corrupt(why, "unknown block kind");
    size_t hdr = la_block_header_size(ncols, p[14]);
    if (n < hdr + 4)
        return la_corrupt(why, "block header runs past the end of the file");
    if (la_le32(p + hdr) != la_crc32c(0, p, hdr))
        return la_corrupt(why, "block header checksum mismatch");
    memset(out, 0, sizeof *out);
    out->base = p;
    out->frame_len = la_le32(p + 4);
    out->nrows = la_le32(p + 8);
    out->ncols = ncols;
    out->kind = p[14];
    out->first_seq = la_le64(p + 16);
    out->min_ts = (int64_t)la_le64(p + 24);
    out->max_ts = (int64_t)la_le64(p + 32);
    if (out->frame_len > n || out->frame_len < hdr + 4)
        return la_corrupt(why, "block length runs past the end of the file");
    if (out->nrows == 0 || out->nrows > LA_BLOCK_MAX_ROWS)
        return la_corrupt(why, "block row count out of range");
    if (out->kind == LA_BLOCK_SORTED) {
        const uint8_t *k = p + LA_BLOCK_FIXED + (size_t)LA_BLOCK_DESC * ncols;
        out->ws_min = la_le32(k);
        out->ws_max = la_le32(k + 4);
        out->link_min = la_le32(k + 8);
        out->link_max = la_le32(k + 12);
        if (out->ws_min == 0 || out->ws_min > out->ws_max || out->link_min == 0 ||
            out->link_min > out->link_max)
            return la_corrupt(why, "sorted block key range is empty or holds id 0");
    }
    if (out->min_ts > out->max_ts)
        return la_corrupt(why, "block min_ts > max_ts");
    size_t pos = hdr + 4;
    for (uint32_t c = 0; c < ncols; c++) {
        const uint8_t *d = p + LA_BLOCK_FIXED + LA_BLOCK_DESC * c;
        la_col_desc *cd = &out->col[c];
        uint8_t t = schema->type[c];
        cd->encoding = d[0];
        cd->codec = d[1];
        uint8_t data_codec = d[2];
        cd->dict_count = la_le32(d + 4);
        cd->dict_raw = la_le32(d + 8);
        cd->dict_stored = la_le32(d + 12);
        cd->data_raw = la_le32(d + 16);
        cd->data_stored = la_le32(d + 20);
        cd->crc = la_le32(d + 24);
        cd->data_codec = data_codec;
        if (cd->encoding != t)
            return la_corrupt(why, "column encoding does not match its type");
        if (cd->codec >= LA_CODEC_ID_COUNT || data_codec >= LA_CODEC_ID_COUNT || d[3] != 0 ||
            la_le32(d + 28) != 0)
            return la_corrupt(why, "unknown codec or non-zero reserved descriptor bytes");
        int has_dict = t == LA_COL_STR || t == LA_COL_U64;
        size_t dict_max = t == LA_COL_U64 ? (size_t)cd->dict_count * 8
                                          : (size_t)cd->dict_count * (2 + LA_MAX_STR);
        if (!has_dict && (cd->dict_count || cd->dict_raw || cd->dict_stored))
            return la_corrupt(why, "dictionary part on a column without a dictionary");
        if (cd->dict_count > out->nrows || cd->dict_raw > dict_max ||
            cd->data_raw > data_raw_bound(t, out->nrows))
            return la_corrupt(why, "column part size out of range");
        if ((cd->codec == LA_CODEC_ID_NONE && cd->dict_stored != cd->dict_raw) ||
            (data_codec == LA_CODEC_ID_NONE && cd->data_stored != cd->data_raw))
            return la_corrupt(why, "uncompressed part with stored size != raw size");
        if ((uint64_t)cd->dict_stored + cd->data_stored > out->frame_len - pos)
            return la_corrupt(why, "column parts run past the block");
        cd->offset = pos;
        pos += (size_t)cd->dict_stored + cd->data_stored;
    }
    if (pos != out->frame_len)
        return la_corrupt(why, "block length disagrees with its column parts");
    return 0;
}

int la_block_check(const la_block_view *v, uint32_t c, const char **why)
{
    const la_col_desc *cd = &v->col[c];
    if (la_crc32c(0, v->base + cd->offset, (size_t)cd->dict_stored + cd->data_stored) != cd->crc)
        return la_corrupt(why, "column checksum mismatch");
    return 0;
}

int la_block_part_checked(const la_block_view *v, uint32_t c, int which, uint8_t *dst, const char **why)
{
    const la_col_desc *cd = &v->col[c];
    const uint8_t *src = v->base + cd->offset + (which ? cd->dict_stored : 0);
    int rc = la_codec_decompress(which ? cd->data_codec : cd->codec, src, which ? cd->data_stored : cd->dict_stored,
                                 dst, which ? cd->data_raw : cd->dict_raw);
    if (rc != 0)
        return la_corrupt(why, "column part does not decompress to its raw size");
    return 0;
}

int la_block_part(const la_block_view *v, uint32_t c, int which, uint8_t *dst, const char **why)
{
    int rc = la_block_check(v, c, why);
    return rc != 0 ? rc : la_block_part_checked(v, c, which, dst, why);
}

int la_dict_str_parse(const uint8_t *raw, size_t len, uint32_t count, la_str *out, const char **why)
{
    size_t pos = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t n;
        if (la_uvarint_get(raw, len, &pos, &n) != 0 || n > LA_MAX_STR || n > len - pos)
            return la_corrupt(why, "bad dictionary entry length");
        out[i].data = (const char *)raw + pos;
        out[i].len = (uint32_t)n;
        pos += n;
    }
    if (pos != len)
        return la_corrupt(why, "dictionary part has trailing bytes");
    return 0;
}

int la_dict_u64_parse(const uint8_t *raw, size_t len, uint32_t count, uint64_t *out, const char **why)
{
    if (len != (size_t)count * 8)
        return la_corrupt(why, "uint64 dictionary part has the wrong size");
    for (uint32_t i = 0; i < count; i++)
        out[i] = la_le64(raw + 8 * i);
    return 0;
}
