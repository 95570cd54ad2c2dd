/* cmd_dump.c — `lactl dump PATH [--json]`: show what a database directory or a single file holds,
 * byte structure first. Reads files with read(2) into memory and decodes them only through
 * format/, so it survives truncated, damaged or hostile files (it is what people point at
 * broken files). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "block.h"
#include "meta.h"
#include "segment.h"

#include "lactl.h"

#define DICT_SHOW 5
#define MAX_FILE ((size_t)1 << 34)

typedef struct out {
    FILE *f;
    int json;
    int first; /* JSON: no comma needed before the next member */
} out;

/* Text and JSON share one walk: `key` names the field, `fmt` formats a number or a quoted string. */
static void sep(out *o)
{
    if (o->json && !o->first)
        fputc(',', o->f);
    o->first = 0;
}

static void put_escaped(out *o, const uint8_t *s, size_t n)
{
    fputc('"', o->f);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\')
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

static void num(out *o, int indent, const char *k, long long v)
{
    key(o, indent, k);
    fprintf(o->f, "%lld", v);
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

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

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
        if (n >= 8 && memcmp(p, LA_META_MAGIC, 8) == 0) {
            open_obj(o, 0, NULL);
            dump_meta(o, 0, p, n);
            close_obj(o);
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
    uint8_t *p = read_file(mp, &n, err, sizeof err);
    if (p)
        dump_meta(o, 0, p, n);
    else
        problem(o, 0, -1, err);
    free(p);
    DIR *d = opendir(path);
    char **names = NULL;
    size_t nn = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        int32_t day;
        if (la_seg_name_parse(e->d_name, &day) != 0)
            continue;
        char **nb = realloc(names, (nn + 1) * sizeof *names);
        if (!nb)
            break;
        names = nb;
        names[nn++] = strdup(e->d_name);
    }
    if (d)
        closedir(d);
    qsort(names, nn, sizeof *names, name_cmp);
    open_arr(o, 0, "segments");
    for (size_t i = 0; i < nn; i++) {
        snprintf(mp, sizeof mp, "%s/%s", path, names[i]);
        err[0] = 0;
        p = read_file(mp, &n, err, sizeof err);
        if (p)
            dump_segment(o, 1, names[i], p, n);
        else
            problem(o, 1, -1, err);
        free(p);
        free(names[i]);
    }
    close_arr(o);
    close_obj(o);
    free(names);
    return 0;
}

int lactl_dump(int argc, char **argv)
{
    out o = {stdout, 0, 1};
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            o.json = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: lactl dump PATH [--json]\n"
                   "  Show the structure of a database directory, a segment file (YYYY-MM-DD.seg)\n"
                   "  or la.meta: header, schema, commit slots, every block (rows, time range,\n"
                   "  encoding, codec, raw and stored bytes per column), dictionary samples and\n"
                   "  the tail. Damaged files are shown up to the damage, with its offset.\n");
            return 0;
        } else if (!path)
            path = argv[i];
        else {
            fprintf(stderr, "lactl dump: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: lactl dump PATH [--json]\n");
        return 2;
    }
    int rc = dump_path(&o, path);
    fputc('\n', stdout);
    return rc;
}
