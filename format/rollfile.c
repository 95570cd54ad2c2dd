/* rollfile.c — encoding and validation of rollup files (SPEC.md §10). Everything a reader
 * later trusts is checked before it is used: the frame (string ids, cell bounds) once, in
 * la_roll_open; a cell's varints and dimension sums each time la_roll_cell_get reads it. */
#include "rollfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "crc32c.h"
#include "le.h"
#include "uniq.h"
#include "varint.h"

static const uint8_t MAGIC[8] = {'L', 'A', 'R', 'O', 'L', 'L', '\r', '\n'};

int32_t la_bucket_first_day(int level, int32_t day)
{
    int64_t y;
    int m, d;
    switch (level) {
    case LA_BUCKET_WEEK: return day - (int32_t)(((day + 3) % 7 + 7) % 7); /* 1970-01-05 was a Monday */
    case LA_BUCKET_MONTH: la_civil_from_days(day, &y, &m, &d); return (int32_t)la_days_from_civil(y, m, 1);
    case LA_BUCKET_YEAR: la_civil_from_days(day, &y, &m, &d); return (int32_t)la_days_from_civil(y, 1, 1);
    default: return day;
    }
}

uint32_t la_bucket_ndays(int level, int32_t first_day)
{
    int64_t y;
    int m, d;
    la_civil_from_days(first_day, &y, &m, &d);
    switch (level) {
    case LA_BUCKET_WEEK: return 7;
    case LA_BUCKET_MONTH:
        return (uint32_t)((int32_t)la_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - first_day);
    case LA_BUCKET_YEAR: return (uint32_t)((int32_t)la_days_from_civil(y + 1, 1, 1) - first_day);
    default: return 1;
    }
}

unsigned la_roll_read_version(int level)
{
    return level == LA_BUCKET_WEEK || level == LA_BUCKET_YEAR ? 4 : 3;
}

int la_roll_has_links(int level, unsigned read_version)
{
    if (level == LA_BUCKET_HOUR)
        return read_version < 2;
    if (level == LA_BUCKET_WEEK || level == LA_BUCKET_YEAR)
        return read_version < 4;
    return 1;
}

void la_roll_put_header(uint8_t *p, const la_roll_hdr *h)
{
    memset(p, 0, LA_ROLL_HEADER);
    memcpy(p, MAGIC, 8);
    la_put16(p + 8, (uint16_t)la_roll_read_version(h->level));
    la_put16(p + 10, LA_ROLL_WRITE_VERSION);
    p[12] = (uint8_t)h->level;
    p[13] = (uint8_t)h->ndims;
    la_put32(p + 16, (uint32_t)h->first_day);
    la_put32(p + 20, h->ndays);
    la_put32(p + 24, h->nsources);
    la_put32(p + 28, h->nstrings);
    la_put32(p + 32, h->ncells);
    la_put64(p + 40, h->strings_len);
    la_put64(p + 48, h->file_len);
    la_put32(p + 60, la_crc32c(0, p, 60));
}

void la_roll_put_source(uint8_t *p, int32_t day, uint64_t rows)
{
    la_put32(p, (uint32_t)day);
    la_put32(p + 4, 0);
    la_put64(p + 8, rows);
}

void la_roll_put_entry(uint8_t *p, const la_roll_key *k, uint32_t cell_len)
{
    la_put16(p, (uint16_t)k->sub);
    la_put16(p + 2, 0);
    la_put32(p + 4, k->ws);
    la_put32(p + 8, k->link);
    la_put32(p + 12, k->type);
    la_put32(p + 16, cell_len);
    la_put32(p + 20, 0);
}

void la_roll_finish(uint8_t *file, size_t len)
{
    la_put32(file + len - 4, la_crc32c(0, file + LA_ROLL_HEADER, len - LA_ROLL_HEADER - 4));
}

size_t la_roll_cell_bound(size_t vis_len, size_t ses_len, uint32_t ndims, const la_roll_dim_src *d)
{
    size_t n = 4 * LA_VARINT_MAX + vis_len + ses_len;
    for (uint32_t i = 0; i < ndims; i++)
        n += 4 * LA_VARINT_MAX + (size_t)d[i].n * 2 * LA_VARINT_MAX;
    return n;
}

size_t la_roll_cell_encode(uint8_t *out, uint64_t events, int64_t value, const uint8_t *vis,
                           size_t vis_len, const uint8_t *ses, size_t ses_len, uint32_t ndims,
                           const la_roll_dim_src *d)
{
    uint8_t *p = out;
    p += la_uvarint_put(p, events);
    p += la_uvarint_put(p, la_zigzag(value));
    p += la_uvarint_put(p, vis_len);
    memcpy(p, vis, vis_len);
    p += vis_len;
    p += la_uvarint_put(p, ses_len);
    memcpy(p, ses, ses_len);
    p += ses_len;
    for (uint32_t i = 0; i < ndims; i++) {
        p += la_uvarint_put(p, d[i].n);
        p += la_uvarint_put(p, d[i].absent);
        p += la_uvarint_put(p, d[i].other);
        p += la_uvarint_put(p, d[i].err);
        uint32_t prev = 0;
        for (uint32_t j = 0; j < d[i].n; j++) {
            p += la_uvarint_put(p, d[i].sid[j] - prev);
            p += la_uvarint_put(p, d[i].count[j]);
            prev = d[i].sid[j];
        }
    }
    return (size_t)(p - out);
}

static int fail(const char **why, const char *msg)
{
    *why = msg;
    return LA_ECORRUPT;
}

/* Most varints of a cell are one byte (counts, id gaps): those without the call, which made
 * checking every cell of a file the larger part of opening it. */
static inline int get(const uint8_t *p, size_t n, size_t *pos, uint64_t *v, const char **why)
{
    if (*pos < n && p[*pos] < 0x80) {
        *v = p[(*pos)++];
        return 0;
    }
    return la_uvarint_get(p, n, pos, v) == 0 ? 0 : fail(why, "truncated or overlong varint");
}

int la_roll_cell_parse(const uint8_t *p, size_t len, uint32_t ndims, uint32_t nstrings,
                       la_roll_cell *c, const char **why)
{
    size_t pos = 0;
    uint64_t v;
    c->uniq_form = LA_UNIQ_FORM_REGISTERS; /* la_roll_cell_get knows the file's version */
    if (get(p, len, &pos, &c->events, why) || get(p, len, &pos, &v, why))
        return LA_ECORRUPT;
    if (c->events == 0)
        return fail(why, "cell without events");
    c->value = la_unzigzag(v);
    for (int k = 0; k < 2; k++) {
        if (get(p, len, &pos, &v, why))
            return LA_ECORRUPT;
        if (v > len - pos)
            return fail(why, "distinct-count state runs past the cell");
        if (k == 0) {
            c->vis = p + pos;
            c->vis_len = (size_t)v;
        } else {
            c->ses = p + pos;
            c->ses_len = (size_t)v;
        }
        pos += (size_t)v;
    }
    c->dims = p + pos;
    for (uint32_t i = 0; i < ndims; i++) {
        uint64_t n, absent, other, err, sum = 0;
        if (get(p, len, &pos, &n, why) || get(p, len, &pos, &absent, why) ||
            get(p, len, &pos, &other, why) || get(p, len, &pos, &err, why))
            return LA_ECORRUPT;
        if (n > nstrings || n > (len - pos) / 2)
            return fail(why, "more dimension entries than strings or bytes");
        uint64_t sid = 0;
        for (uint64_t j = 0; j < n; j++) {
            uint64_t delta, count;
            if (get(p, len, &pos, &delta, why) || get(p, len, &pos, &count, why))
                return LA_ECORRUPT;
            if (delta == 0 || delta > nstrings - sid)
                return fail(why, "dimension value ids not ascending or out of range");
            sid += delta;
            if (count == 0 || count > c->events - sum)
                return fail(why, "dimension counts exceed the cell's events");
            sum += count;
        }
        if (absent > c->events - sum || other != c->events - sum - absent)
            return fail(why, "dimension counts do not add up to the cell's events");
        if (err > c->events)
            return fail(why, "dimension error bound above the cell's events");
    }
    c->dims_len = (size_t)(p + pos - c->dims);
    if (pos != len)
        return fail(why, "bytes after the cell's last dimension");
    return LA_OK;
}

int la_roll_cell_get(const la_roll_view *v, uint32_t i, la_roll_cell *c, const char **why)
{
    size_t len;
    const uint8_t *p = la_roll_cell_at(v, i, &len);
    if (la_roll_cell_parse(p, len, v->h.ndims, v->h.nstrings, c, why) != LA_OK)
        return LA_ECORRUPT;
    c->uniq_form = v->h.read_version >= 3 ? LA_UNIQ_FORM_REGISTERS : LA_UNIQ_FORM_SHORTER;
    return LA_OK;
}

void la_roll_cell_dim(const la_roll_cell *c, uint32_t dim, la_roll_dim *d)
{
    size_t pos = 0;
    uint64_t v[4];
    for (uint32_t i = 0;; i++) {
        for (int k = 0; k < 4; k++)
            la_uvarint_get(c->dims, c->dims_len, &pos, &v[k]);
        if (i == dim)
            break;
        for (uint64_t j = 0; j < 2 * v[0]; j++)
            la_uvarint_get(c->dims, c->dims_len, &pos, &v[1]);
    }
    d->n = d->left = (uint32_t)v[0];
    d->absent = v[1];
    d->other = v[2];
    d->err = v[3];
    d->p = c->dims;
    d->len = c->dims_len;
    d->pos = pos;
    d->sid = 0;
}

int la_roll_dim_next(la_roll_dim *d, uint32_t *sid, uint64_t *count)
{
    if (d->left == 0)
        return 0;
    uint64_t delta;
    la_uvarint_get(d->p, d->len, &d->pos, &delta);
    la_uvarint_get(d->p, d->len, &d->pos, count);
    d->sid += (uint32_t)delta;
    *sid = d->sid;
    d->left--;
    return 1;
}

static int str_cmp(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

int la_roll_key_cmp(const la_roll_key *a, const la_roll_key *b)
{
    if (a->sub != b->sub)
        return a->sub < b->sub ? -1 : 1;
    if (a->ws != b->ws)
        return a->ws < b->ws ? -1 : 1;
    if (a->link != b->link)
        return a->link < b->link ? -1 : 1;
    return (a->type > b->type) - (a->type < b->type);
}

void la_roll_close(la_roll_view *v)
{
    if (!v)
        return;
    free(v->str_off);
    free(v->cell_off);
    memset(v, 0, sizeof *v);
}

#define BAD(msg, at)                                                                               \
    do {                                                                                           \
        *why = msg;                                                                                \
        *off = (uint64_t)(at);                                                                     \
        rc = LA_ECORRUPT;                                                                          \
        goto out;                                                                                  \
    } while (0)

int la_roll_open(la_roll_view *v, const uint8_t *p, size_t len, uint32_t ndims, const char **why,
                 uint64_t *off)
{
    int rc = LA_OK;
    memset(v, 0, sizeof *v);
    *off = 0;
    if (len < LA_ROLL_HEADER + 4)
        BAD("file shorter than a header", 0);
    if (memcmp(p, MAGIC, 8) != 0)
        BAD("bad magic", 0);
    if (la_le32(p + 60) != la_crc32c(0, p, 60))
        BAD("header checksum mismatch", 60);
    if (la_le16(p + 8) > LA_ROLL_READ_VERSION) {
        *why = "written by a newer format version";
        return LA_EVERSION;
    }
    if (la_le16(p + 8) == 0 || la_le16(p + 10) < la_le16(p + 8))
        BAD("bad version fields", 8);
    la_roll_hdr *h = &v->h;
    h->read_version = la_le16(p + 8);
    h->level = p[12];
    h->ndims = p[13];
    h->first_day = (int32_t)la_le32(p + 16);
    h->ndays = la_le32(p + 20);
    h->nsources = la_le32(p + 24);
    h->nstrings = la_le32(p + 28);
    h->ncells = la_le32(p + 32);
    h->strings_len = la_le64(p + 40);
    h->file_len = la_le64(p + 48);
    if (la_le16(p + 14) || la_le32(p + 36) || la_le32(p + 56))
        BAD("reserved header bytes are not zero", 14);
    if (h->level > LA_BUCKET_YEAR)
        BAD("unknown bucket level", 12);
    if (h->read_version == 2 && h->level != LA_BUCKET_HOUR)
        BAD("read_version 2 in a file that is not an hour file", 8);
    if (h->read_version == 4 && h->level != LA_BUCKET_WEEK && h->level != LA_BUCKET_YEAR)
        BAD("read_version 4 in a file that is not a week or year file", 8);
    if (h->ndims != ndims || ndims > LA_MAX_DIMS)
        BAD("dimension count differs from la.meta", 13);
    if (h->first_day < -3 || h->first_day > 2932896 || /* a week may start in 1969 */
        la_bucket_first_day(h->level, h->first_day) != h->first_day ||
        h->ndays != la_bucket_ndays(h->level, h->first_day))
        BAD("first day or day count does not match the bucket level", 16);
    if (h->file_len != len)
        BAD("file length differs from the header's", 48);
    if (la_le32(p + len - 4) != la_crc32c(0, p + LA_ROLL_HEADER, len - LA_ROLL_HEADER - 4))
        BAD("body checksum mismatch", len - 4);
    uint64_t room = len - LA_ROLL_HEADER - 4;
    if (h->nsources > h->ndays || (h->level <= LA_BUCKET_DAY && h->nsources != 1))
        BAD("bad source count", 24);
    if (h->ncells > LA_ROLL_MAX_CELLS || h->nstrings > room || h->strings_len > room ||
        (uint64_t)h->nsources * LA_ROLL_SOURCE + h->strings_len + (uint64_t)h->ncells * LA_ROLL_ENTRY > room)
        BAD("counts do not fit in the file", 24);
    v->base = p;
    v->sources = p + LA_ROLL_HEADER;
    v->strings = v->sources + (size_t)h->nsources * LA_ROLL_SOURCE;
    v->index = v->strings + h->strings_len;
    v->cells = v->index + (size_t)h->ncells * LA_ROLL_ENTRY;
    for (uint32_t i = 0; i < h->nsources; i++) {
        const uint8_t *s = v->sources + (size_t)i * LA_ROLL_SOURCE;
        int32_t day = (int32_t)la_le32(s);
        if (day < h->first_day || (uint32_t)(day - h->first_day) >= h->ndays ||
            (i > 0 && day <= (int32_t)la_le32(s - LA_ROLL_SOURCE)) || la_le32(s + 4) != 0)
            BAD("source days not ascending inside the bucket", s - p);
    }
    v->str_off = malloc(((size_t)h->nstrings + 1) * sizeof *v->str_off);
    v->cell_off = malloc(((size_t)h->ncells + 1) * sizeof *v->cell_off);
    if (!v->str_off || !v->cell_off) {
        *why = "out of memory";
        rc = LA_ENOMEM;
        goto out;
    }
    uint64_t pos = 0;
    for (uint32_t i = 0; i < h->nstrings; i++) {
        if (pos >= h->strings_len || v->strings[pos] + 1u > h->strings_len - pos)
            BAD("string table entry runs past the table", v->strings + pos - p);
        v->str_off[i] = (uint32_t)pos;
        if (i > 0) {
            const uint8_t *a = v->strings + v->str_off[i - 1], *b = v->strings + pos;
            if (str_cmp(a + 1, a[0], b + 1, b[0]) >= 0)
                BAD("strings not strictly ascending", b - p);
        }
        pos += 1u + v->strings[pos];
    }
    if (pos != h->strings_len)
        BAD("string table length mismatch", v->strings + pos - p);
    uint64_t cpos = 0, cells_room = room - (uint64_t)(v->cells - v->sources);
    la_roll_key prev = {0, 0, 0, 0};
    for (uint32_t i = 0; i < h->ncells; i++) {
        const uint8_t *e = v->index + (size_t)i * LA_ROLL_ENTRY;
        la_roll_key k;
        la_roll_key_at(v, i, &k);
        uint32_t clen = la_le32(e + 16);
        if (la_le16(e + 2) || la_le32(e + 20))
            BAD("reserved index bytes are not zero", e - p);
        if (k.link && !la_roll_has_links(h->level, h->read_version))
            BAD(h->level == LA_BUCKET_HOUR ? "link cell in an hour file of version 2 or later"
                                           : "link cell in a week or year file of version 4 or later",
                e - p);
        if ((h->level == LA_BUCKET_HOUR ? k.sub > 23 : k.sub != 0) || k.ws == 0 ||
            k.ws > h->nstrings || k.link > h->nstrings || k.type == 0 || k.type > h->nstrings)
            BAD("index entry with an id out of range", e - p);
        if (i > 0 && la_roll_key_cmp(&prev, &k) >= 0)
            BAD("index keys not strictly ascending", e - p);
        if (clen > cells_room - cpos)
            BAD("cell runs past the end of the file", e - p);
        v->cell_off[i] = cpos;
        cpos += clen;
        prev = k;
    }
    v->cell_off[h->ncells] = cpos;
    if (cpos != cells_room)
        BAD("bytes between the last cell and the checksum", v->cells + cpos - p);
out:
    if (rc != LA_OK)
        la_roll_close(v);
    return rc;
}

la_str la_roll_str(const la_roll_view *v, uint32_t sid)
{
    const uint8_t *s = v->strings + v->str_off[sid - 1];
    return (la_str){(const char *)s + 1, s[0]};
}

uint32_t la_roll_find(const la_roll_view *v, const char *s, uint32_t len)
{
    uint32_t lo = 0, hi = v->h.nstrings;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = v->strings + v->str_off[mid];
        int c = str_cmp(e + 1, e[0], (const uint8_t *)s, len);
        if (c == 0)
            return mid + 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void la_roll_key_at(const la_roll_view *v, uint32_t i, la_roll_key *k)
{
    const uint8_t *e = v->index + (size_t)i * LA_ROLL_ENTRY;
    k->sub = la_le16(e);
    k->ws = la_le32(e + 4);
    k->link = la_le32(e + 8);
    k->type = la_le32(e + 12);
}

uint32_t la_roll_seek(const la_roll_view *v, const la_roll_key *k)
{
    uint32_t lo = 0, hi = v->h.ncells;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        la_roll_key m;
        la_roll_key_at(v, mid, &m);
        if (la_roll_key_cmp(&m, k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const uint8_t *la_roll_cell_at(const la_roll_view *v, uint32_t i, size_t *len)
{
    *len = (size_t)(v->cell_off[i + 1] - v->cell_off[i]);
    return v->cells + v->cell_off[i];
}

void la_roll_source_at(const la_roll_view *v, uint32_t i, int32_t *day, uint64_t *rows)
{
    const uint8_t *s = v->sources + (size_t)i * LA_ROLL_SOURCE;
    *day = (int32_t)la_le32(s);
    *rows = la_le64(s + 8);
}

int64_t la_roll_source_rows(const la_roll_view *v, int32_t day)
{
    for (uint32_t i = 0; i < v->h.nsources; i++) {
        int32_t d;
        uint64_t rows;
        la_roll_source_at(v, i, &d, &rows);
        if (d == day)
            return (int64_t)rows;
    }
    return -1;
}

/* ISO 8601 week-numbering year and week of the week starting on Monday `monday`. */
static void iso_week(int32_t monday, int64_t *year, int *week)
{
    int64_t y;
    int m, d;
    la_civil_from_days(monday + 3, &y, &m, &d); /* the Thursday decides the year */
    *year = y;
    *week = (monday + 3 - (int32_t)la_days_from_civil(y, 1, 1)) / 7 + 1;
}

int la_roll_name(char *buf, size_t cap, int level, int32_t first_day)
{
    int64_t y;
    int m, d, w;
    la_civil_from_days(first_day, &y, &m, &d);
    switch (level) {
    case LA_BUCKET_HOUR: return snprintf(buf, cap, "%04d-%02d-%02d.hr.roll", (int)y, m, d);
    case LA_BUCKET_DAY: return snprintf(buf, cap, "%04d-%02d-%02d.roll", (int)y, m, d);
    case LA_BUCKET_WEEK: iso_week(first_day, &y, &w); return snprintf(buf, cap, "%04d-W%02d.roll", (int)y, w);
    case LA_BUCKET_MONTH: return snprintf(buf, cap, "%04d-%02d.roll", (int)y, m);
    default: return snprintf(buf, cap, "%04d.roll", (int)y);
    }
}

int la_roll_name_parse(const char *name, int *level, int32_t *first_day)
{
    for (int lv = LA_BUCKET_HOUR; lv <= LA_BUCKET_YEAR; lv++) {
        /* every name of a level has the same length; try the candidates its digits give */
        int y = 0, m = 1, d = 1, w = 1, n = 0;
        int ok;
        switch (lv) {
        case LA_BUCKET_HOUR: ok = sscanf(name, "%4d-%2d-%2d.hr.roll%n", &y, &m, &d, &n) == 3; break;
        case LA_BUCKET_DAY: ok = sscanf(name, "%4d-%2d-%2d.roll%n", &y, &m, &d, &n) == 3; break;
        case LA_BUCKET_WEEK: ok = sscanf(name, "%4d-W%2d.roll%n", &y, &w, &n) == 2; break;
        case LA_BUCKET_MONTH: ok = sscanf(name, "%4d-%2d.roll%n", &y, &m, &n) == 2; break;
        default: ok = sscanf(name, "%4d.roll%n", &y, &n) == 1; break;
        }
        if (!ok || n == 0 || name[n] != '\0' || y < 1969 || y > 9999 || m < 1 || m > 12 || d < 1 ||
            d > 31 || w < 1 || w > 53)
            continue;
        int32_t fd = lv == LA_BUCKET_WEEK ? la_bucket_first_day(LA_BUCKET_WEEK, (int32_t)la_days_from_civil(y, 1, 4)) + (w - 1) * 7
                                          : (int32_t)la_days_from_civil(y, m, d);
        char back[32];
        la_roll_name(back, sizeof back, lv, fd);
        if (strcmp(back, name) != 0) /* canonical spelling only: 2026-02-30 is not a day */
            continue;
        *level = lv;
        *first_day = fd;
        return 0;
    }
    return -1;
}
