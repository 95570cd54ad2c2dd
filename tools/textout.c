/* textout.c — event rows as TSVWithNames or JSONEachRow. */
#include "textout.h"

#include <string.h>

#include "textid.h"

void textout_u64(tsv_writer *w, uint64_t v)
{
    char buf[24], *p = buf + sizeof buf;
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    tsv_raw_out(w, p, (size_t)(buf + sizeof buf - p));
}

void textout_i64(tsv_writer *w, int64_t v)
{
    if (v < 0) {
        tsv_char_out(w, '-');
        textout_u64(w, -(uint64_t)v);
    } else {
        textout_u64(w, (uint64_t)v);
    }
}

void textout_json_str(tsv_writer *w, const char *s, size_t n)
{
    if (!s) {
        tsv_raw_out(w, "null", 4);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    tsv_char_out(w, '"');
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            tsv_char_out(w, '\\');
            tsv_char_out(w, (char)c);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            tsv_raw_out(w, esc, sizeof esc);
            i++;
        } else if (c < 0x80) {
            tsv_char_out(w, (char)c);
            i++;
        } else {
            /* length of a well-formed UTF-8 sequence starting here, or 0 */
            size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                       : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
            if (len && i + len <= n) {
                unsigned c1 = p[i + 1];
                unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
                unsigned hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
                if (c1 < lo || c1 > hi)
                    len = 0;
                for (size_t k = 2; len && k < len; k++)
                    if ((p[i + k] & 0xc0) != 0x80)
                        len = 0;
            } else {
                len = 0;
            }
            if (len) {
                tsv_raw_out(w, s + i, len);
                i += len;
            } else {
                tsv_raw_out(w, "\\ufffd", 6);
                i++;
            }
        }
    }
    tsv_char_out(w, '"');
}

static const char *const builtin[] = {"ts", "workspace_id", "link_id", "event_type",
                                      "visitor_id", "session_id", "value"};
#define NBUILTIN (sizeof builtin / sizeof builtin[0])

void textout_event_header(tsv_writer *w, const la_db *db)
{
    uint32_t ndims = la_db_ndims(db);
    for (size_t i = 0; i < NBUILTIN + ndims; i++) {
        const char *name = i < NBUILTIN ? builtin[i] : la_db_dim_name(db, (uint32_t)(i - NBUILTIN));
        if (i)
            tsv_char_out(w, '\t');
        tsv_field_out(w, name, strlen(name));
    }
    tsv_char_out(w, '\n');
}

/* Start column i: the separator, and in JSON the key. */
static void column(tsv_writer *w, int json, size_t i, const char *name)
{
    if (!json) {
        if (i)
            tsv_char_out(w, '\t');
        return;
    }
    tsv_char_out(w, i ? ',' : '{');
    textout_json_str(w, name, strlen(name));
    tsv_char_out(w, ':');
}

static void str_value(tsv_writer *w, int json, const la_str *s)
{
    if (json)
        textout_json_str(w, s->data, s->len);
    else
        tsv_field_out(w, s->data, s->len);
}

static void id_value(tsv_writer *w, int json, uint64_t v)
{
    char buf[16];
    textid_format(v, buf);
    if (json)
        tsv_char_out(w, '"');
    tsv_raw_out(w, buf, 16);
    if (json)
        tsv_char_out(w, '"');
}

void textout_event(tsv_writer *w, int json, const la_db *db, const la_batch *b, size_t r)
{
    const la_str_column *strs[] = {&b->workspace, &b->link, &b->event_type};
    column(w, json, 0, builtin[0]);
    textout_i64(w, b->ts[r]);
    for (size_t i = 0; i < 3; i++) {
        column(w, json, 1 + i, builtin[1 + i]);
        str_value(w, json, &strs[i]->dict[strs[i]->ids[r]]);
    }
    column(w, json, 4, builtin[4]);
    id_value(w, json, b->visitor_id[r]);
    column(w, json, 5, builtin[5]);
    id_value(w, json, b->session_id[r]);
    column(w, json, 6, builtin[6]);
    if (b->has_value[r])
        textout_i64(w, b->value[r]);
    else if (json)
        tsv_raw_out(w, "null", 4);
    else
        tsv_raw_out(w, "\\N", 2);
    uint32_t ndims = la_db_ndims(db);
    for (uint32_t d = 0; d < ndims; d++) {
        column(w, json, NBUILTIN + d, la_db_dim_name(db, d));
        str_value(w, json, &b->dims[d].dict[b->dims[d].ids[r]]);
    }
    if (json)
        tsv_char_out(w, '}');
    tsv_char_out(w, '\n');
}
