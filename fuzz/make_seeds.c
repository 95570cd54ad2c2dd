/* make_seeds.c — writes the crafted seed inputs of fuzz/corpus/ with the project's own
 * encoders (run by make_seeds.sh; only its output is kept). Each file is a few KB at most. */
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "column.h"
#include "crc32c.h"
#include "le.h"
#include "meta.h"
#include "uniq.h"

#include "fuzz.h"

static const char *dir;

static void put(const char *target, const char *name, const uint8_t *pre, size_t npre,
                const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(pre, 1, npre, f) != npre || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

#define NROWS 24

/* A small click stream, already mapped to dictionary ids: per column, entries in order of first
 * use. dict_base lets a second block continue the dictionaries of the first. */
typedef struct rows {
    int64_t ts[NROWS], val[NROWS];
    uint8_t has[NROWS];
    uint32_t ids[LA_MAX_COLS][NROWS], count[LA_MAX_COLS];
    la_str str[LA_MAX_COLS][NROWS];
    uint64_t u64[LA_MAX_COLS][NROWS];
} rows;

static const char *const words[] = {"ws_1", "ws_2", "lnk/a", "lnk/b", "click", "lead", "sale", "US",
                                    "DE", "Berlin", "mobile", "firefox", "https://example.com/"};

static void make_rows(rows *r, const la_schema *s, int64_t t0, unsigned seed)
{
    memset(r, 0, sizeof *r);
    for (uint32_t i = 0; i < NROWS; i++) {
        r->ts[i] = t0 + (int64_t)i * 1000 + (i * seed % 7) * 13;
        r->has[i] = (i + seed) % 5 == 0;
        r->val[i] = r->has[i] ? (int64_t)(i * 100) - 300 : 0;
    }
    for (uint32_t c = 0; c < s->ncols; c++) {
        if (s->type[c] != LA_COL_STR && s->type[c] != LA_COL_U64)
            continue;
        /* Few distinct values per column, some rows absent (id 0) in the dimensions. */
        uint32_t distinct = 1 + (c + seed) % 4;
        for (uint32_t i = 0; i < NROWS; i++) {
            uint32_t k = (i * (c + 1) + seed) % (distinct + (c >= LA_NFIXED));
            if (k == distinct) {
                r->ids[c][i] = 0;
                continue;
            }
            if (k >= r->count[c]) { /* first use: the dictionary grows in order */
                k = r->count[c]++;
                const char *w = words[(c + k + seed) % (sizeof words / sizeof *words)];
                r->str[c][k] = (la_str){w, (uint32_t)strlen(w)};
                r->u64[c][k] = 0x9e3779b97f4a7c15ull * (k + 1 + c);
            }
            r->ids[c][i] = k + 1;
        }
    }
}

static size_t make_block(uint8_t *out, size_t cap, const la_schema *s, const rows *r,
                         const uint32_t *base, uint64_t first_seq, int codec)
{
    la_block_in in;
    memset(&in, 0, sizeof in);
    in.schema = s;
    in.nrows = NROWS;
    in.first_seq = first_seq;
    in.codec = codec;
    in.level = 3;
    uint32_t ids[LA_MAX_COLS][NROWS];
    for (uint32_t c = 0; c < s->ncols; c++) {
        for (uint32_t i = 0; i < NROWS; i++)
            ids[c][i] = r->ids[c][i] ? r->ids[c][i] + base[c] : 0;
        in.col[c] = (la_col_in){c == LA_C_TS ? r->ts : r->val, r->has, ids[c], base[c], r->count[c],
                                r->str[c], r->u64[c]};
    }
    size_t len = 0;
    if (la_block_bound(&in) > cap || la_block_encode(&in, out, cap, &len) != 0)
        abort();
    return len;
}

static void column_seeds(const rows *r)
{
    static uint8_t buf[4096];
    uint8_t pre[6];
    size_t ns[] = {1, 2, 9, NROWS};
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
        char name[32];
        size_t n = ns[k];
        snprintf(name, sizeof name, "n%zu", n);
        la_put16(pre, (uint16_t)n);
        put("column_ts", name, pre, 2, buf, la_ts_encode(buf, r->ts, n));
        put("column_opt_i64", name, pre, 2, buf, la_opt_i64_encode(buf, r->val, r->has, n));
        la_put32(pre + 2, 8);
        put("column_ids", name, pre, 6, buf, la_ids_encode(buf, r->ids[LA_C_LINK], n));
    }
    /* Wide ids: every width up to 32 bits is a different unpack path. */
    uint32_t wide[NROWS];
    for (uint32_t i = 0; i < NROWS; i++)
        wide[i] = 0xfffffff0u + (i % 16);
    la_put16(pre, NROWS);
    la_put32(pre + 2, 0xffffffffu);
    put("column_ids", "wide", pre, 6, buf, la_ids_encode(buf, wide, NROWS));
    int64_t extreme[4] = {INT64_MIN, INT64_MAX, 0, -1};
    uint8_t all[4] = {1, 1, 1, 1};
    la_put16(pre, 4);
    put("column_ts", "extreme", pre, 2, buf, la_ts_encode(buf, extreme, 4));
    put("column_opt_i64", "extreme", pre, 2, buf, la_opt_i64_encode(buf, extreme, all, 4));
}

static void codec_seeds(void)
{
    static uint8_t raw[1024], enc[2048];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(i % 37 < 20 ? 'a' + i % 7 : i * 31);
    static const char *const names[] = {"none", "lz4", "zstd"};
    for (int c = 0; c < LA_CODEC_ID_COUNT; c++) {
        size_t len = 0;
        if (la_codec_compress(c, 3, raw, sizeof raw, enc, sizeof enc, &len) != 0)
            abort();
        uint8_t pre[4] = {(uint8_t)c};
        pre[1] = (uint8_t)sizeof raw;
        pre[2] = (uint8_t)(sizeof raw >> 8);
        put("codec", names[c], pre, 4, enc, len);
    }
}

static void tail_seed(const char *name, const la_schema *s, const la_row *row, uint32_t salt, uint64_t seq)
{
    uint8_t rec[1024], pre[14];
    size_t len = la_tail_record_encode(rec, salt, seq, row);
    pre[0] = 0;
    la_put32(pre + 1, salt);
    la_put64(pre + 5, seq);
    pre[13] = (uint8_t)(s->ncols - 4);
    put("tail_record", name, pre, sizeof pre, rec, len);
}

static void make_row(la_row *row, const la_schema *s, const rows *r, uint32_t i)
{
    memset(row, 0, sizeof *row);
    row->ts = r->ts[i];
    row->visitor = r->ids[LA_C_VISITOR][i];
    row->session = r->ids[LA_C_SESSION][i] * 77;
    row->has_value = r->has[i];
    row->value = r->val[i];
    row->nstr = s->ncols - 4;
    for (uint32_t k = 0, c = 0; c < s->ncols; c++)
        if (s->type[c] == LA_COL_STR) {
            uint32_t id = r->ids[c][i];
            row->str[k++] = id ? r->str[c][id - 1] : (la_str){NULL, 0};
        }
}

/* Distinct-count states in each encoding: exact (random ids as u64, sequential as varints),
 * sparse sketches and dense ones, on both sides of the form boundary (4096 registers). */
static void uniq_seeds(void)
{
    static const struct {
        const char *name;
        uint32_t n;
        uint64_t mul;
    } sets[] = {{"exact-empty", 0, 1},      {"exact-seq-200", 200, 1},
                {"exact-rand-20", 20, 0x9E3779B97F4A7C15ull}, {"sketch-sparse-400", 400, 0x9E3779B97F4A7C15ull},
                {"sketch-sparse-4000", 4000, 0x9E3779B97F4A7C15ull}, /* ~3,550 registers: sparse */
                {"sketch-dense-6000", 6000, 0x9E3779B97F4A7C15ull},  /* ~4,950: dense since rollup v3 */
                {"sketch-dense-40000", 40000, 0x9E3779B97F4A7C15ull}};
    static uint8_t buf[LA_UNIQ_ENCODED_MAX];
    for (size_t k = 0; k < sizeof sets / sizeof *sets; k++) {
        la_uniq u;
        la_uniq_init(&u);
        for (uint32_t i = 0; i < sets[k].n; i++)
            if (la_uniq_add(&u, (uint64_t)(i + 1) * sets[k].mul) != LA_OK)
                exit(1);
        put("uniq", sets[k].name, NULL, 0, buf, la_uniq_encode(&u, buf));
        la_uniq_free(&u);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
        return 2;
    }
    dir = argv[1];
    la_schema s;
    fz_schema_default(&s);
    rows r1, r2;
    make_rows(&r1, &s, 1793492140968, 1);
    make_rows(&r2, &s, 1793492140968 + 60000, 2);
    column_seeds(&r1);
    codec_seeds();

    static const char *const cname[] = {"none", "lz4", "zstd"};
    static uint8_t seg[16384];
    for (int codec = 0; codec < LA_CODEC_ID_COUNT; codec++) {
        /* Header, slot 0 (slot 1 empty), two blocks, then the tail right at blocks_end. */
        memset(seg, 0, sizeof seg);
        la_seg_header h = {LA_SEG_VERSION_HOT, LA_SEG_VERSION_HOT, 20758, s};
        la_seg_header_encode(seg, &h);
        uint32_t base[LA_MAX_COLS] = {0};
        size_t off = LA_SEG_HEADER_SIZE;
        size_t b1 = make_block(seg + off, sizeof seg - off, &s, &r1, base, 0, codec);
        uint8_t flag = 0;
        char name[32];
        snprintf(name, sizeof name, "first-%s", cname[codec]);
        put("block", name, &flag, 1, seg + off, b1);
        off += b1;
        for (uint32_t c = 0; c < s.ncols; c++)
            base[c] = r1.count[c];
        size_t b2 = make_block(seg + off, sizeof seg - off, &s, &r2, base, NROWS, codec);
        off += b2;
        uint32_t salt = 0x5eed0000u + (uint32_t)codec;
        la_commit cm = {7, off, 2, 2 * NROWS, off, salt};
        la_commit_encode(seg + LA_SEG_SLOT_OFF, &cm);
        for (uint32_t i = 0; i < 3; i++) {
            la_row row;
            make_row(&row, &s, &r2, i);
            off += la_tail_record_encode(seg + off, salt, 2 * NROWS + i, &row);
            if (codec == 0) {
                snprintf(name, sizeof name, "rec%u", i);
                tail_seed(name, &s, &row, salt, 2 * NROWS + i);
            }
        }
        snprintf(name, sizeof name, "crafted-%s", cname[codec]);
        put("segment", name, &flag, 1, seg, off);
    }

    la_meta m = {LA_META_READ_VERSION, LA_META_WRITE_VERSION, 64, LA_CODEC_ID_ZSTD, 19, 7, s};
    static const char *const extra[] = {"country", "city", "device", "browser", "referrer", "utm_source"};
    la_schema_init(&m.schema, extra, 6);
    uint8_t meta[LA_META_MAX];
    put("meta", "extra-dim", NULL, 0, meta, la_meta_encode(meta, &m));

    /* Round trip: bytes only drive the generator, so a few varied ones are enough. */
    uint8_t rt[256];
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < sizeof rt; i++)
            rt[i] = (uint8_t)(i * (37 + 2 * k) + k);
        char name[32];
        snprintf(name, sizeof name, "bytes%d", k);
        put("roundtrip_block", name, NULL, 0, rt, sizeof rt >> k);
    }
    static const char *const times[] = {"1764028800000", "2026-11-25", "2026-11-25T10:20:30.123Z",
                                        "2026-11-25 10:20:30,5+05:30", "2024-02-29T23:59-0100", "-5"};
    for (size_t i = 0; i < sizeof times / sizeof *times; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%zu", i);
        put("timefmt", name, NULL, 0, (const uint8_t *)times[i], strlen(times[i]));
    }
    uniq_seeds();
    return 0;
}
