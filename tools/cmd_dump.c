/* cmd_dump.c — `lactl dump PATH [--json] [--cells N]`: show what a database directory or a
 * single file (la.meta, a segment, a rollup file) holds, byte structure first. Reads files with
 * read(2) into memory and decodes them only through format/, so it survives truncated, damaged
 * or hostile files (it is what people point at broken files). A damaged file is shown up to the
 * damage as a "problem" with its offset, the walk goes on with the next file, and the exit
 * status is 1. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "block.h"
#include "calendar.h"
#include "meta.h"
#include "rollfile.h"
#include "segment.h"
#include "uniq.h"

#include "lactl.h"

#define DICT_SHOW 5
#define MAX_FILE ((size_t)1 << 34)
#define ROLL_MAGIC "LAROLL\r\n" /* SPEC.md §10.2 */
#define CELLS_DEFAULT 20

typedef struct out {
    FILE *f;
    int json;
    int first;          /* JSON: no comma needed before the next member */
    uint32_t max_cells; /* --cells: cells listed per rollup file, 0 = all */
    unsigned bad;       /* problems reported so far; any makes the exit status 1 */
} out;

/* Text and JSON share one walk: `key` names the field, `fmt` formats a number or a quoted string. */
static void sep(out *o)
{
    if (o->json && !o->first)
        fputc(',', o->f);
    o->first = 0;
}

/* Bytes of the well-formed UTF-8 sequence at s[0..n) when it is a printable non-ASCII
 * character (U+00A0 and up: no C1 controls, no surrogates), else 0. Such characters are
 * printed as they are; other bytes are escaped. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    size_t k = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
             : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
    if (k == 0 || k > n)
        return 0;
    uint32_t cp = s[0] & (0x7f >> k);
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[] = {0, 0, 0xa0, 0x800, 0x10000};
    if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
        return 0;
    return k;
}

static void put_escaped(out *o, const uint8_t *s, size_t n)
{
    fputc('"', o->f);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        size_t u = c >= 0x80 ? utf8_len(s + i, n - i) : 0;
        if (u) {
            fwrite(s + i, 1, u, o->f);
            i += u - 1;
        } else if (c == '"' || c == '\\')
            fprintf(o->f, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(o->f, o->json ? "\\u%04x" : "\\x%02x", c);
        else
            fputc(c, o->f);
    }
    fputc('"', o->f);
}

static void key(out *o, int indent, const char *k)
{
    sep(o);
    if (o->json)
        fprintf(o->f, "\"%s\":", k);
    else
        fprintf(o->f, "\n%*s%s: ", indent * 2, "", k);
}

/* Byte counts (keys ending in "bytes") also in KiB/MiB/GiB for people; JSON keeps the number. */
static void num(out *o, int indent, const char *k, long long v)
{
    key(o, indent, k);
    fprintf(o->f, "%lld", v);
    size_t klen = strlen(k);
    char human[LACTL_HUMAN_MAX];
    if (!o->json && klen >= 5 && strcmp(k + klen - 5, "bytes") == 0 && v >= 1024 &&
        lactl_human_bytes((uint64_t)v, human))
        fprintf(o->f, " (%s)", human);
}

static void unum(out *o, int indent, const char *k, unsigned long long v)
{
    key(o, indent, k);
    fprintf(o->f, "%llu", v);
}

static void str(out *o, int indent, const char *k, const char *v)
{
    key(o, indent, k);
    if (o->json)
        put_escaped(o, (const uint8_t *)v, strlen(v));
    else
        fputs(v, o->f);
}

static void open_obj(out *o, int indent, const char *k)
{
    if (k)
        key(o, indent, k);
    else
        sep(o);
    if (o->json)
        fputc('{', o->f);
    o->first = 1;
}

static void close_obj(out *o)
{
    if (o->json)
        fputc('}', o->f);
    o->first = 0;
}

static void open_arr(out *o, int indent, const char *k)
{
    key(o, indent, k);
    if (o->json)
        fputc('[', o->f);
    o->first = 1;
}

static void close_arr(out *o)
{
    if (o->json)
        fputc(']', o->f);
    o->first = 0;
}

static const char *codec_name(int c)
{
    static const char *const n[] = {"none", "lz4", "zstd"};
    return c >= 0 && c < 3 ? n[c] : "unknown";
}

static const char *enc_name(int e)
{
    static const char *const n[] = {"?", "ts_dod", "dict_str", "dict_u64", "opt_i64"};
    return e >= 1 && e <= 4 ? n[e] : "unknown";
}

static uint8_t *read_file(const char *path, size_t *len, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap >= MAX_FILE) {
                snprintf(err, errcap, "%s: larger than dump reads", path);
                free(buf);
                buf = NULL;
                break;
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    if (!buf && !*err)
        snprintf(err, errcap, "%s: out of memory", path);
    fclose(f);
    *len = n;
    return buf;
}

static void problem(out *o, int indent, long long off, const char *why)
{
    o->bad++;
    open_obj(o, indent, "problem");
    num(o, indent + 1, "offset", off);
    str(o, indent + 1, "reason", why);
    close_obj(o);
}

static void dump_schema(out *o, int indent, const la_schema *s)
{
    open_arr(o, indent, "columns");
    for (uint32_t c = 0; c < s->ncols; c++) {
        sep(o);
        if (o->json)
            fprintf(o->f, "{\"name\":\"%s\",\"type\":\"%s\"}", s->name[c], enc_name(s->type[c]));
        else
            fprintf(o->f, "%s%s(%s)", c ? ", " : "", s->name[c], enc_name(s->type[c]));
    }
    close_arr(o);
}

static void dump_commit(out *o, int indent, const char *k, const uint8_t *p)
{
    la_commit c;
    const char *why = NULL;
    open_obj(o, indent, k);
    if (la_commit_decode(p, &c, &why) != 0) {
        str(o, indent + 1, "state", "invalid");
        str(o, indent + 1, "reason", why);
    } else if (c.generation == 0) {
        str(o, indent + 1, "state", "empty");
    } else {
        num(o, indent + 1, "generation", (long long)c.generation);
        num(o, indent + 1, "blocks_end", (long long)c.blocks_end);
        num(o, indent + 1, "block_count", c.block_count);
        num(o, indent + 1, "rows_in_blocks", (long long)c.rows_in_blocks);
        num(o, indent + 1, "tail_start", (long long)c.tail_start);
        num(o, indent + 1, "tail_salt", c.tail_salt);
    }
    close_obj(o);
}

/* First entries of a block's dictionary part, to show what a column holds. */
static void dump_dict_sample(out *o, int indent, const la_block_view *v, uint32_t c, uint8_t type)
{
    const la_col_desc *cd = &v->col[c];
    if (cd->dict_count == 0)
        return;
    uint8_t *raw = malloc(cd->dict_raw + 1);
    la_str *ents = malloc(cd->dict_count * sizeof *ents);
    uint64_t *vals = malloc(cd->dict_count * sizeof *vals);
    const char *why = NULL;
    open_arr(o, indent, "first_entries");
    if (raw && ents && vals && la_block_part(v, c, 0, raw, &why) == 0 &&
        (type == LA_COL_U64 ? la_dict_u64_parse(raw, cd->dict_raw, cd->dict_count, vals, &why)
                            : la_dict_str_parse(raw, cd->dict_raw, cd->dict_count, ents, &why)) == 0) {
        for (uint32_t i = 0; i < cd->dict_count && i < DICT_SHOW; i++) {
            sep(o);
            if (!o->json && i)
                fputs(", ", o->f);
            if (type == LA_COL_U64)
                fprintf(o->f, o->json ? "\"%016llx\"" : "%016llx", (unsigned long long)vals[i]);
            else
                put_escaped(o, (const uint8_t *)ents[i].data, ents[i].len);
        }
    } else {
        sep(o);
        put_escaped(o, (const uint8_t *)"(unreadable)", 12);
    }
    close_arr(o);
    free(raw);
    free(ents);
    free(vals);
}

static void dump_segment(out *o, int indent, const char *name, const uint8_t *p, size_t n)
{
    open_obj(o, indent, NULL);
    str(o, indent, "segment", name);
    num(o, indent + 1, "file_bytes", (long long)n);
    la_seg_header h;
    const char *why = NULL;
    if (la_seg_header_decode(p, n, &h, &why) != 0) {
        problem(o, indent + 1, 0, why);
        close_obj(o);
        return;
    }
    num(o, indent + 1, "read_version", h.read_version);
    num(o, indent + 1, "write_version", h.write_version);
    num(o, indent + 1, "day", h.day);
    dump_schema(o, indent + 1, &h.schema);
    dump_commit(o, indent + 1, "slot0", p + LA_SEG_SLOT_OFF);
    dump_commit(o, indent + 1, "slot1", p + LA_SEG_SLOT_OFF + LA_SEG_SLOT_SIZE);
    la_commit c[2];
    int ok0 = la_commit_decode(p + LA_SEG_SLOT_OFF, &c[0], NULL) == 0 && c[0].generation;
    int ok1 = la_commit_decode(p + LA_SEG_SLOT_OFF + LA_SEG_SLOT_SIZE, &c[1], NULL) == 0 && c[1].generation;
    if (!ok0 && !ok1) {
        problem(o, indent + 1, LA_SEG_SLOT_OFF, "no valid commit slot");
        close_obj(o);
        return;
    }
    int s = ok0 && ok1 ? c[1].generation > c[0].generation : ok1;
    const la_commit *cm = &c[s];
    num(o, indent + 1, "active_slot", s);
    uint64_t dict_size[LA_MAX_COLS] = {0};
    open_arr(o, indent + 1, "blocks");
    uint64_t off = LA_SEG_HEADER_SIZE, raw_total = 0, stored_total = 0, rows = 0;
    while (off < cm->blocks_end && off < n) {
        la_block_view v;
        uint64_t lim = cm->blocks_end < n ? cm->blocks_end : n;
        if (la_block_parse(p + off, (size_t)(lim - off), &h.schema, &v, &why) != 0) {
            problem(o, indent + 2, (long long)off, why);
            break;
        }
        open_obj(o, indent + 2, NULL);
        num(o, indent + 2, "block_at", (long long)off);
        num(o, indent + 3, "bytes", v.frame_len);
        num(o, indent + 3, "rows", v.nrows);
        num(o, indent + 3, "first_seq", (long long)v.first_seq);
        str(o, indent + 3, "kind", v.kind ? "sorted" : "append");
        num(o, indent + 3, "min_ts", (long long)v.min_ts);
        num(o, indent + 3, "max_ts", (long long)v.max_ts);
        if (v.kind == LA_BLOCK_SORTED) {
            num(o, indent + 3, "workspace_ids_min", v.ws_min);
            num(o, indent + 3, "workspace_ids_max", v.ws_max);
            num(o, indent + 3, "link_ids_min", v.link_min);
            num(o, indent + 3, "link_ids_max", v.link_max);
            if (h.read_version < LA_SEG_VERSION_SEALED)
                problem(o, indent + 3, (long long)off, "sorted block in a segment of read_version 1");
        }
        open_arr(o, indent + 3, "columns");
        for (uint32_t col = 0; col < v.ncols; col++) {
            const la_col_desc *cd = &v.col[col];
            open_obj(o, indent + 4, NULL);
            str(o, indent + 4, "column", h.schema.name[col]);
            str(o, indent + 5, "encoding", enc_name(cd->encoding));
            str(o, indent + 5, "codec", codec_name(cd->data_codec));
            num(o, indent + 5, "raw_bytes", (long long)cd->dict_raw + cd->data_raw);
            num(o, indent + 5, "stored_bytes", (long long)cd->dict_stored + cd->data_stored);
            if (cd->encoding == LA_ENC_DICT_STR || cd->encoding == LA_ENC_DICT_U64) {
                dict_size[col] += cd->dict_count;
                num(o, indent + 5, "dict_added", cd->dict_count);
                num(o, indent + 5, "dict_size", (long long)dict_size[col]);
                if (v.first_seq == 0)
                    dump_dict_sample(o, indent + 5, &v, col, cd->encoding);
            }
            if (la_block_check(&v, col, &why) != 0)
                problem(o, indent + 5, (long long)(off + cd->offset), why);
            raw_total += cd->dict_raw + cd->data_raw;
            stored_total += cd->dict_stored + cd->data_stored;
            close_obj(o);
        }
        close_arr(o);
        close_obj(o);
        rows += v.nrows;
        off += v.frame_len;
    }
    close_arr(o);
    num(o, indent + 1, "block_rows", (long long)rows);
    num(o, indent + 1, "column_raw_bytes", (long long)raw_total);
    num(o, indent + 1, "column_stored_bytes", (long long)stored_total);
    open_obj(o, indent + 1, "tail");
    uint64_t t = cm->tail_start, trows = 0;
    uint32_t nstr = h.schema.ncols - 4;
    while (t < n) {
        la_row row;
        size_t k = la_tail_record_decode(p + t, (size_t)(n - t), cm->tail_salt, cm->rows_in_blocks + trows,
                                         nstr, &row, 1);
        if (k == 0)
            break;
        trows++;
        t += k;
    }
    num(o, indent + 2, "start", (long long)cm->tail_start);
    num(o, indent + 2, "rows", (long long)trows);
    num(o, indent + 2, "bytes", (long long)(t > cm->tail_start ? t - cm->tail_start : 0));
    str(o, indent + 2, "state", trows ? "open: rows not yet sealed into a block" : "empty");
    close_obj(o);
    close_obj(o);
}

static void dump_meta(out *o, int indent, const uint8_t *p, size_t n)
{
    la_meta m;
    const char *why = NULL;
    open_obj(o, indent, "meta");
    if (la_meta_decode(p, n, &m, &why) != 0) {
        problem(o, indent + 1, 0, why);
    } else {
        num(o, indent + 1, "read_version", m.read_version);
        num(o, indent + 1, "write_version", m.write_version);
        num(o, indent + 1, "block_rows", m.block_rows);
        str(o, indent + 1, "codec", codec_name(m.codec));
        num(o, indent + 1, "zstd_level", m.zstd_level);
        num(o, indent + 1, "retention_days", m.retention_days);
        dump_schema(o, indent + 1, &m.schema);
    }
    close_obj(o);
}

/* ---- rollup files (SPEC.md §10) ---- */

static const char *level_name(int lv)
{
    static const char *const n[] = {"hour", "day", "week", "month", "year"};
    return lv >= 0 && lv <= LA_BUCKET_YEAR ? n[lv] : "unknown";
}

static void day_name(int32_t day, char buf[32])
{
    int64_t y;
    int m, d;
    la_civil_from_days(day, &y, &m, &d);
    snprintf(buf, 32, "%04lld-%02d-%02d", (long long)y, m, d);
}

/* A string of a text cell line: bare when it cannot be mistaken for the line's punctuation or
 * for the `*` of "all links", else quoted and escaped like every other string of dump. */
static void put_word(out *o, la_str s)
{
    int bare = !o->json && s.len > 0 && !(s.len == 1 && s.data[0] == '*');
    for (uint32_t i = 0; bare && i < s.len; i++) {
        uint8_t c = (uint8_t)s.data[i];
        size_t u = c >= 0x80 ? utf8_len((const uint8_t *)s.data + i, s.len - i) : 0;
        if (u)
            i += (uint32_t)u - 1;
        else
            bare = c > 0x20 && c < 0x7f && !strchr("\"\\=|:,()", c);
    }
    if (bare)
        fwrite(s.data, 1, s.len, o->f);
    else
        put_escaped(o, (const uint8_t *)s.data, s.len);
}

/* Decode one distinct-count state (SPEC.md §11): LA_OK with its count and exactness, else the
 * error with a static reason. la_roll_open does not look inside these states. */
static int uniq_count(const uint8_t *p, size_t n, int form, uint64_t *count, int *exact, const char **why)
{
    la_uniq u;
    la_uniq_init(&u);
    int rc = la_uniq_merge_encoded_as(&u, p, n, form, why);
    if (rc == LA_OK)
        *count = la_uniq_count(&u, exact, NULL);
    else if (rc == LA_ENOMEM)
        *why = "out of memory";
    la_uniq_free(&u);
    return rc;
}

static void dim_name(const la_schema *s, uint32_t d, char buf[LA_MAX_DIM_NAME + 1])
{
    if (s)
        snprintf(buf, LA_MAX_DIM_NAME + 1, "%s", s->name[LA_NFIXED + d]);
    else
        snprintf(buf, LA_MAX_DIM_NAME + 1, "dim%u", (unsigned)d);
}

static void put_uniq_json(out *o, int indent, const char *k, int ok, uint64_t count, int exact)
{
    key(o, indent, k);
    if (!ok) {
        fputs("null", o->f);
        return;
    }
    fprintf(o->f, "{\"count\":%llu,\"exact\":%s}", (unsigned long long)count,
            exact ? "true" : "false");
}

/* Cell i as one object (JSON) or one line (text):
 *   [HH:00] WORKSPACE LINK|* TYPE: events N, value V, visitors [~]N, sessions [~]N
 *       | DIM: VALUE=COUNT ... (absent N, other N, err N) | DIM: ...
 * with `~` on an estimated distinct count and absent/other/err only when non-zero. */
static void dump_cell(out *o, int indent, const la_roll_view *v, uint32_t i, const la_schema *s)
{
    la_roll_key k;
    la_roll_cell c;
    const char *why = NULL, *uwhy = NULL;
    la_roll_key_at(v, i, &k);
    la_roll_cell_get(v, i, &c, &why);
    uint64_t nvis = 0, nses = 0;
    int evis = 0, eses = 0;
    int vis_ok = uniq_count(c.vis, c.vis_len, c.uniq_form, &nvis, &evis, &uwhy) == LA_OK;
    int ses_ok = uniq_count(c.ses, c.ses_len, c.uniq_form, &nses, &eses, &uwhy) == LA_OK;
    int hour = v->h.level == LA_BUCKET_HOUR;
    la_str ws = la_roll_str(v, k.ws), type = la_roll_str(v, k.type);
    char dn[LA_MAX_DIM_NAME + 1];
    if (o->json) {
        open_obj(o, indent, NULL);
        if (hour)
            num(o, indent + 1, "hour", k.sub);
        key(o, indent + 1, "workspace");
        put_word(o, ws);
        key(o, indent + 1, "link"); /* null: the cell of all the workspace's links */
        if (k.link)
            put_word(o, la_roll_str(v, k.link));
        else
            fputs("null", o->f);
        key(o, indent + 1, "event_type");
        put_word(o, type);
        unum(o, indent + 1, "events", c.events);
        num(o, indent + 1, "value", c.value);
        put_uniq_json(o, indent + 1, "unique_visitors", vis_ok, nvis, evis);
        put_uniq_json(o, indent + 1, "unique_sessions", ses_ok, nses, eses);
        open_obj(o, indent + 1, "dims");
        for (uint32_t d = 0; d < v->h.ndims; d++) {
            la_roll_dim dim;
            uint32_t sid;
            uint64_t count;
            la_roll_cell_dim(&c, d, &dim);
            dim_name(s, d, dn);
            open_obj(o, indent + 2, dn);
            open_arr(o, indent + 3, "values");
            while (la_roll_dim_next(&dim, &sid, &count)) {
                sep(o);
                fputs("{\"value\":", o->f);
                put_word(o, la_roll_str(v, sid));
                fprintf(o->f, ",\"count\":%llu}", (unsigned long long)count);
            }
            close_arr(o);
            unum(o, indent + 3, "absent", dim.absent);
            unum(o, indent + 3, "other", dim.other);
            unum(o, indent + 3, "err", dim.err);
            close_obj(o);
        }
        close_obj(o);
    } else {
        sep(o);
        fprintf(o->f, "\n%*s", indent * 2, "");
        if (hour)
            fprintf(o->f, "%02u:00 ", (unsigned)k.sub);
        put_word(o, ws);
        fputc(' ', o->f);
        if (k.link)
            put_word(o, la_roll_str(v, k.link));
        else
            fputc('*', o->f);
        fputc(' ', o->f);
        put_word(o, type);
        fprintf(o->f, ": events %llu, value %lld", (unsigned long long)c.events, (long long)c.value);
        if (vis_ok)
            fprintf(o->f, ", visitors %s%llu", evis ? "" : "~", (unsigned long long)nvis);
        else
            fputs(", visitors ?", o->f);
        if (ses_ok)
            fprintf(o->f, ", sessions %s%llu", eses ? "" : "~", (unsigned long long)nses);
        else
            fputs(", sessions ?", o->f);
        for (uint32_t d = 0; d < v->h.ndims; d++) {
            la_roll_dim dim;
            uint32_t sid;
            uint64_t count;
            la_roll_cell_dim(&c, d, &dim);
            dim_name(s, d, dn);
            fprintf(o->f, " | %s:", dn);
            while (la_roll_dim_next(&dim, &sid, &count)) {
                fputc(' ', o->f);
                put_word(o, la_roll_str(v, sid));
                fprintf(o->f, "=%llu", (unsigned long long)count);
            }
            const char *pre = " (";
            if (dim.absent) {
                fprintf(o->f, "%sabsent %llu", pre, (unsigned long long)dim.absent);
                pre = ", ";
            }
            if (dim.other) {
                fprintf(o->f, "%sother %llu", pre, (unsigned long long)dim.other);
                pre = ", ";
            }
            if (dim.err) {
                fprintf(o->f, "%serr %llu", pre, (unsigned long long)dim.err);
                pre = ", ";
            }
            if (pre[0] == ',')
                fputc(')', o->f);
        }
    }
    if (!vis_ok || !ses_ok)
        problem(o, indent + 1, (long long)(v->cells + v->cell_off[i] - v->base), uwhy);
    if (o->json)
        close_obj(o);
}

/* One rollup file, validated whole (la_roll_open, then each cell) for a database of ndims dimensions (names
 * from s, or dim0.. when s is NULL). */
static void dump_roll(out *o, int indent, const char *name, const uint8_t *p, size_t n,
                      uint32_t ndims, const la_schema *s)
{
    open_obj(o, indent, NULL);
    str(o, indent, "rollup", name);
    la_roll_view v;
    const char *why = "unknown error";
    uint64_t off = 0;
    int rc = la_roll_open(&v, p, n, ndims, &why, &off);
    for (uint32_t i = 0; rc == LA_OK && i < v.h.ncells; i++) {
        la_roll_cell c;
        if ((rc = la_roll_cell_get(&v, i, &c, &why)) != LA_OK) {
            off = (uint64_t)(v.cells + v.cell_off[i] - p);
            la_roll_close(&v);
        }
    }
    if (rc != LA_OK) {
        num(o, indent + 1, "file_bytes", (long long)n);
        str(o, indent + 1, "error", la_strerror(rc));
        problem(o, indent + 1, (long long)off, why);
        close_obj(o);
        return;
    }
    char day[32];
    day_name(v.h.first_day, day);
    str(o, indent + 1, "level", level_name(v.h.level));
    str(o, indent + 1, "first_day", day);
    num(o, indent + 1, "days", v.h.ndays);
    open_arr(o, indent + 1, "sources");
    for (uint32_t i = 0; i < v.h.nsources; i++) {
        int32_t sd;
        uint64_t rows;
        la_roll_source_at(&v, i, &sd, &rows);
        day_name(sd, day);
        sep(o);
        if (o->json)
            fprintf(o->f, "{\"day\":\"%s\",\"rows\":%llu}", day, (unsigned long long)rows);
        else
            fprintf(o->f, "%s%s (%llu rows)", i ? ", " : "", day, (unsigned long long)rows);
    }
    close_arr(o);
    num(o, indent + 1, "strings", v.h.nstrings);
    num(o, indent + 1, "cells", v.h.ncells);
    num(o, indent + 1, "file_bytes", (long long)n);
    uint32_t show = o->max_cells && o->max_cells < v.h.ncells ? o->max_cells : v.h.ncells;
    if (o->json) {
        num(o, indent + 1, "cells_listed", show);
        open_arr(o, indent + 1, "cell_list");
    } else {
        key(o, indent + 1, "cell_list");
        if (show < v.h.ncells)
            fprintf(o->f, "first %u of %u (--cells N lists N, 0 all)", (unsigned)show,
                    (unsigned)v.h.ncells);
        else
            fprintf(o->f, "all %u", (unsigned)show);
    }
    for (uint32_t i = 0; i < show; i++)
        dump_cell(o, indent + 2, &v, i, s);
    if (o->json)
        close_arr(o);
    close_obj(o);
    la_roll_close(&v);
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A database's rollup files: hour files first, then day, week, month, year, each by day. */
typedef struct roll_name {
    char *name;
    int level;
    int32_t first_day;
} roll_name;

static int roll_cmp(const void *a, const void *b)
{
    const roll_name *x = a, *y = b;
    if (x->level != y->level)
        return x->level < y->level ? -1 : 1;
    return (x->first_day > y->first_day) - (x->first_day < y->first_day);
}

/* The la.meta next to a single file, if there is a readable one: its schema into *s. */
static int sibling_meta(const char *path, la_schema *s)
{
    char mp[4096], err[600] = "";
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(mp, sizeof mp, "%.*s/la.meta", (int)(slash - path), path);
    else
        snprintf(mp, sizeof mp, "la.meta");
    size_t n;
    uint8_t *p = read_file(mp, &n, err, sizeof err);
    la_meta m;
    const char *why;
    int ok = p && la_meta_decode(p, n, &m, &why) == 0;
    if (ok)
        *s = m.schema;
    free(p);
    return ok;
}

static int dump_path(out *o, const char *path)
{
    struct stat st;
    char err[600] = "";
    if (stat(path, &st) != 0) {
        fprintf(stderr, "lactl dump: %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (!S_ISDIR(st.st_mode)) {
        size_t n;
        uint8_t *p = read_file(path, &n, err, sizeof err);
        if (!p) {
            fprintf(stderr, "lactl dump: %s\n", err);
            return 2;
        }
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        int level;
        int32_t first_day;
        if (n >= 8 && memcmp(p, LA_META_MAGIC, 8) == 0) {
            open_obj(o, 0, NULL);
            dump_meta(o, 0, p, n);
            close_obj(o);
        } else if (la_roll_name_parse(base, &level, &first_day) == 0 ||
                   (n >= 8 && memcmp(p, ROLL_MAGIC, 8) == 0)) {
            /* inside a database its la.meta says how many dimensions cells have; alone, the
             * file's own header byte 13 does */
            la_schema s;
            if (sibling_meta(path, &s))
                dump_roll(o, 0, base, p, n, la_schema_ndims(&s), &s);
            else
                dump_roll(o, 0, base, p, n, n > 13 ? p[13] : 0, NULL);
        } else {
            dump_segment(o, 0, base, p, n);
        }
        free(p);
        return 0;
    }
    open_obj(o, 0, NULL);
    str(o, 0, "database", path);
    char mp[4096];
    snprintf(mp, sizeof mp, "%s/la.meta", path);
    size_t n;
    la_meta m;
    const la_schema *schema = NULL;
    uint8_t *p = read_file(mp, &n, err, sizeof err);
    if (p) {
        dump_meta(o, 0, p, n);
        const char *why;
        if (la_meta_decode(p, n, &m, &why) == 0)
            schema = &m.schema;
    } else {
        problem(o, 0, -1, err);
    }
    free(p);
    DIR *d = opendir(path);
    char **names = NULL;
    roll_name *rolls = NULL;
    size_t nn = 0, nr = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        int32_t day;
        int level;
        if (la_seg_name_parse(e->d_name, &day) == 0) {
            char **nb = realloc(names, (nn + 1) * sizeof *names);
            if (!nb)
                break;
            names = nb;
            names[nn++] = strdup(e->d_name);
        } else if (la_roll_name_parse(e->d_name, &level, &day) == 0) {
            roll_name *rb = realloc(rolls, (nr + 1) * sizeof *rolls);
            if (!rb)
                break;
            rolls = rb;
            rolls[nr++] = (roll_name){strdup(e->d_name), level, day};
        }
    }
    if (d)
        closedir(d);
    if (nn)
        qsort(names, nn, sizeof *names, name_cmp);
    if (nr)
        qsort(rolls, nr, sizeof *rolls, roll_cmp);
    open_arr(o, 0, "segments");
    for (size_t i = 0; i < nn; i++) {
        snprintf(mp, sizeof mp, "%s/%s", path, names[i]);
        err[0] = 0;
        p = names[i] ? read_file(mp, &n, err, sizeof err) : NULL;
        if (p)
            dump_segment(o, 1, names[i], p, n);
        else
            problem(o, 1, -1, names[i] ? err : "out of memory");
        free(p);
        free(names[i]);
    }
    close_arr(o);
    open_arr(o, 0, "rollups");
    for (size_t i = 0; i < nr; i++) {
        snprintf(mp, sizeof mp, "%s/%s", path, rolls[i].name ? rolls[i].name : "");
        err[0] = 0;
        p = rolls[i].name ? read_file(mp, &n, err, sizeof err) : NULL;
        if (!p)
            problem(o, 1, -1, rolls[i].name ? err : "out of memory");
        else if (schema)
            dump_roll(o, 1, rolls[i].name, p, n, la_schema_ndims(schema), schema);
        else /* no readable la.meta (reported above): take the file's word for it */
            dump_roll(o, 1, rolls[i].name, p, n, n > 13 ? p[13] : 0, NULL);
        free(p);
        free(rolls[i].name);
    }
    close_arr(o);
    close_obj(o);
    free(names);
    free(rolls);
    return 0;
}

static const char USAGE[] = "usage: lactl dump PATH [--format table|json] [--cells N]\n";

int lactl_dump(int argc, char **argv)
{
    out o = {stdout, 0, 1, CELLS_DEFAULT, 0};
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            o.json = 1;
        else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            o.json = strcmp(argv[++i], "json") == 0;
            if (!o.json && strcmp(argv[i], "table") != 0) {
                fprintf(stderr, "lactl dump: --format wants table or json, not '%s'\n", argv[i]);
                return 2;
            }
        }
        else if (strcmp(argv[i], "--cells") == 0) {
            char *end;
            const char *a = i + 1 < argc ? argv[++i] : "";
            errno = 0;
            unsigned long v = strtoul(a, &end, 10);
            if (!*a || *end || *a == '-' || errno || v > UINT32_MAX) {
                fprintf(stderr, "lactl dump: --cells wants a count (0 = all), not '%s'\n", a);
                return 2;
            }
            o.max_cells = (uint32_t)v;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s"
                   "  Show the structure of a database directory, a segment file (YYYY-MM-DD.seg),\n"
                   "  a rollup file (*.roll) or la.meta. Segments: header, schema, commit slots,\n"
                   "  every block (rows, time range, encoding, codec, raw and stored bytes per\n"
                   "  column), dictionary samples and the tail. Rollup files: level, first day,\n"
                   "  days, sources (day and rows), strings, cells, then one line per cell\n"
                   "  ([hour] workspace link|* event type: events, value, unique visitors and\n"
                   "  sessions, ~ when estimated; per dimension value=count and absent/other/err).\n"
                   "  --cells N   cells listed per rollup file (default %d, 0 = all)\n"
                   "  --format json (or --json)  the same as one JSON document (link null = all\n"
                   "              links); table (the default) is the text above, sizes also\n"
                   "              in KiB/MiB/GiB\n"
                   "  Damaged files are shown up to the damage, with its offset.\n"
                   "  Exit status: 0 done, 1 damage found, 2 usage or I/O error.\n",
                   USAGE, CELLS_DEFAULT);
            return 0;
        } else if (!path && !(argv[i][0] == '-' && argv[i][1]))
            path = argv[i];
        else {
            fprintf(stderr, "lactl dump: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fputs(USAGE, stderr);
        return 2;
    }
    int rc = dump_path(&o, path);
    fputc('\n', stdout);
    if (rc == 0 && o.bad) {
        fflush(stdout);
        fprintf(stderr, "lactl dump: %u problem%s found (see \"problem\" above)\n", o.bad,
                o.bad == 1 ? "" : "s");
        rc = 1;
    }
    return rc;
}
