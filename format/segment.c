/* segment.c — encode/decode of the segment header page, commit slots and tail records. */
#include "segment.h"

#include <stdio.h>
#include <string.h>

#include "crc32c.h"
#include "le.h"
#include "status.h"
#include "varint.h"

static const char *const fixed_names[LA_NFIXED] = {
    "ts", "workspace_id", "link_id", "event_type", "visitor_id", "session_id", "value",
};
static const uint8_t fixed_types[LA_NFIXED] = {
    LA_COL_TS, LA_COL_STR, LA_COL_STR, LA_COL_STR, LA_COL_U64, LA_COL_U64, LA_COL_OPT_I64,
};

int la_schema_init(la_schema *s, const char *const *dims, uint32_t ndims)
{
    if (ndims > LA_MAX_DIMS)
        return LA_EINVAL;
    memset(s, 0, sizeof *s);
    for (uint32_t i = 0; i < LA_NFIXED; i++) {
        s->type[i] = fixed_types[i];
        strcpy(s->name[i], fixed_names[i]);
    }
    for (uint32_t i = 0; i < ndims; i++) {
        size_t n = strlen(dims[i]);
        if (n == 0 || n > LA_MAX_DIM_NAME)
            return LA_EINVAL;
        s->type[LA_NFIXED + i] = LA_COL_STR;
        memcpy(s->name[LA_NFIXED + i], dims[i], n + 1);
    }
    s->ncols = LA_NFIXED + ndims;
    return LA_OK;
}

int la_schema_equal(const la_schema *a, const la_schema *b)
{
    if (a->ncols != b->ncols)
        return 0;
    for (uint32_t i = 0; i < a->ncols; i++)
        if (a->type[i] != b->type[i] || strcmp(a->name[i], b->name[i]) != 0)
            return 0;
    return 1;
}

int la_seg_header_encode(uint8_t *p, const la_seg_header *h)
{
    memset(p, 0, LA_SEG_SLOT_OFF);
    memcpy(p, LA_SEG_MAGIC, 8);
    la_put16(p + 8, h->read_version);
    la_put16(p + 10, h->write_version);
    la_put32(p + 12, LA_SEG_HEADER_SIZE);
    la_put32(p + 16, (uint32_t)h->day);
    la_put16(p + 20, (uint16_t)h->schema.ncols);
    size_t off = 24;
    for (uint32_t i = 0; i < h->schema.ncols; i++) {
        size_t n = strlen(h->schema.name[i]);
        p[off] = h->schema.type[i];
        p[off + 1] = (uint8_t)n;
        memcpy(p + off + 2, h->schema.name[i], n);
        off += 2 + n;
    }
    la_put32(p + LA_SEG_SCHEMA_END, la_crc32c(0, p, LA_SEG_SCHEMA_END));
    return LA_OK;
}

/* Names of columns are [a-z0-9_]: anything else in a file is corruption, and keeping them
 * printable makes `lactl dump` output safe to show on a terminal. */
static int valid_col_name(const uint8_t *s, size_t n)
{
    if (n == 0 || n > LA_MAX_DIM_NAME)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

int la_seg_header_decode(const uint8_t *p, size_t n, la_seg_header *out, const char **why)
{
    if (n < LA_SEG_HEADER_SIZE)
        return la_corrupt(why, "file shorter than the 4096-byte segment header");
    if (memcmp(p, LA_SEG_MAGIC, 8) != 0)
        return la_corrupt(why, "bad segment magic");
    if (la_le32(p + LA_SEG_SCHEMA_END) != la_crc32c(0, p, LA_SEG_SCHEMA_END))
        return la_corrupt(why, "segment header checksum mismatch");
    memset(out, 0, sizeof *out);
    out->read_version = la_le16(p + 8);
    out->write_version = la_le16(p + 10);
    if (out->read_version > LA_SEG_READ_VERSION) {
        if (why)
            *why = "segment needs a newer reader (read_version)";
        return LA_EVERSION;
    }
    if (la_le32(p + 12) != LA_SEG_HEADER_SIZE)
        return la_corrupt(why, "header_size is not 4096");
    out->day = (int32_t)la_le32(p + 16);
    if (out->day < 0 || out->day > 2932896) /* 9999-12-31 */
        return la_corrupt(why, "day out of range");
    uint32_t ncols = la_le16(p + 20);
    if (ncols < LA_NFIXED || ncols > LA_MAX_COLS)
        return la_corrupt(why, "column count out of range");
    if (la_le16(p + 22) != 0)
        return la_corrupt(why, "reserved header bytes are not zero");
    size_t off = 24;
    la_schema *s = &out->schema;
    s->ncols = ncols;
    for (uint32_t i = 0; i < ncols; i++) {
        if (off + 2 > LA_SEG_SCHEMA_END)
            return la_corrupt(why, "schema runs past the header");
        uint8_t type = p[off], len = p[off + 1];
        if (off + 2 + len > LA_SEG_SCHEMA_END || !valid_col_name(p + off + 2, len))
            return la_corrupt(why, "bad column name");
        if (i < LA_NFIXED ? type != fixed_types[i] : type != LA_COL_STR)
            return la_corrupt(why, "bad column type");
        s->type[i] = type;
        memcpy(s->name[i], p + off + 2, len);
        s->name[i][len] = 0;
        if (i < LA_NFIXED && strcmp(s->name[i], fixed_names[i]) != 0)
            return la_corrupt(why, "fixed column has the wrong name");
        off += 2u + len;
    }
    for (; off < LA_SEG_SCHEMA_END; off++)
        if (p[off] != 0)
            return la_corrupt(why, "schema padding is not zero");
    for (off = LA_SEG_SLOT_OFF + 2 * LA_SEG_SLOT_SIZE; off < LA_SEG_HEADER_SIZE; off++)
        if (p[off] != 0)
            return la_corrupt(why, "reserved header bytes are not zero");
    return LA_OK;
}

void la_commit_encode(uint8_t *p, const la_commit *c)
{
    memset(p, 0, LA_SEG_SLOT_SIZE);
    la_put64(p, c->generation);
    la_put64(p + 8, c->blocks_end);
    la_put32(p + 16, c->block_count);
    la_put64(p + 24, c->rows_in_blocks);
    la_put64(p + 32, c->tail_start);
    la_put32(p + 40, c->tail_salt);
    la_put32(p + 60, la_crc32c(0, p, 60));
}

int la_commit_decode(const uint8_t *p, la_commit *out, const char **why)
{
    memset(out, 0, sizeof *out);
    int zero = 1;
    for (unsigned i = 0; i < LA_SEG_SLOT_SIZE; i++)
        zero &= p[i] == 0;
    if (zero)
        return LA_OK;
    if (la_le32(p + 60) != la_crc32c(0, p, 60))
        return la_corrupt(why, "commit slot checksum mismatch");
    out->generation = la_le64(p);
    out->blocks_end = la_le64(p + 8);
    out->block_count = la_le32(p + 16);
    out->rows_in_blocks = la_le64(p + 24);
    out->tail_start = la_le64(p + 32);
    out->tail_salt = la_le32(p + 40);
    if (out->generation == 0)
        return la_corrupt(why, "non-empty commit slot with generation 0");
    if (out->blocks_end < LA_SEG_HEADER_SIZE || out->tail_start < out->blocks_end)
        return la_corrupt(why, "commit slot offsets out of order");
    if (out->tail_start > ((uint64_t)1 << 46) || out->rows_in_blocks > ((uint64_t)1 << 40))
        return la_corrupt(why, "commit slot value out of range");
    if ((out->block_count == 0) != (out->blocks_end == LA_SEG_HEADER_SIZE) ||
        (out->block_count == 0) != (out->rows_in_blocks == 0))
        return la_corrupt(why, "commit slot block count disagrees with its offsets");
    return LA_OK;
}

size_t la_tail_payload_max(uint32_t nstr) { return 8 + 8 + 8 + 1 + 8 + (size_t)nstr * (2 + LA_MAX_STR); }

size_t la_tail_payload_size(const la_row *r)
{
    size_t n = 8 + 8 + 8 + 1 + (r->has_value ? 8 : 0);
    for (uint32_t i = 0; i < r->nstr; i++)
        n += r->str[i].data ? (r->str[i].len + 1 < 128 ? 1 : 2) + r->str[i].len : 1;
    return n;
}

static uint32_t record_crc(uint32_t salt, const uint8_t *rec, size_t payload_len)
{
    uint8_t s[4];
    la_put32(s, salt);
    return la_crc32c(la_crc32c(0, s, 4), rec + 8, 8 + payload_len);
}

size_t la_tail_record_encode(uint8_t *p, uint32_t salt, uint64_t seq, const la_row *r)
{
    uint8_t *q = p + LA_TAIL_REC_HEADER;
    la_put64(q, (uint64_t)r->ts);
    la_put64(q + 8, r->visitor);
    la_put64(q + 16, r->session);
    q[24] = r->has_value ? 1 : 0;
    q += 25;
    if (r->has_value) {
        la_put64(q, (uint64_t)r->value);
        q += 8;
    }
    for (uint32_t i = 0; i < r->nstr; i++) {
        if (!r->str[i].data) {
            *q++ = 0;
            continue;
        }
        q += la_uvarint_put(q, (uint64_t)r->str[i].len + 1);
        memcpy(q, r->str[i].data, r->str[i].len);
        q += r->str[i].len;
    }
    size_t payload = (size_t)(q - p) - LA_TAIL_REC_HEADER;
    la_put32(p, (uint32_t)payload);
    la_put64(p + 8, seq);
    la_put32(p + 4, record_crc(salt, p, payload));
    return LA_TAIL_REC_HEADER + payload;
}

size_t la_tail_record_decode(const uint8_t *p, size_t n, uint32_t salt, uint64_t seq,
                             uint32_t nstr, la_row *row, int check_crc)
{
    if (n < LA_TAIL_REC_HEADER || nstr > 3 + LA_MAX_DIMS)
        return 0;
    size_t payload = la_le32(p);
    if (payload < 25 || payload > la_tail_payload_max(nstr) || payload > n - LA_TAIL_REC_HEADER)
        return 0;
    if (la_le64(p + 8) != seq || (check_crc && la_le32(p + 4) != record_crc(salt, p, payload)))
        return 0;
    const uint8_t *q = p + LA_TAIL_REC_HEADER;
    row->ts = (int64_t)la_le64(q);
    row->visitor = la_le64(q + 8);
    row->session = la_le64(q + 16);
    if (q[24] > 1)
        return 0;
    row->has_value = q[24];
    size_t pos = 25;
    row->value = 0;
    if (row->has_value) {
        if (pos + 8 > payload)
            return 0;
        row->value = (int64_t)la_le64(q + pos);
        pos += 8;
    }
    row->nstr = nstr;
    for (uint32_t i = 0; i < nstr; i++) {
        uint64_t v;
        if (la_uvarint_get(q, payload, &pos, &v) != 0 || v > LA_MAX_STR + 1 || v - (v > 0) > payload - pos)
            return 0;
        if (v == 0) {
            if (i < 3) /* workspace, link and event type are never absent */
                return 0;
            row->str[i].data = NULL;
            row->str[i].len = 0;
            continue;
        }
        row->str[i].data = (const char *)q + pos;
        row->str[i].len = (uint32_t)(v - 1);
        pos += v - 1;
    }
    return pos == payload ? LA_TAIL_REC_HEADER + payload : 0;
}

/* Civil-from-days (proleptic Gregorian), so that file names need no time zone library. */
static void civil(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static int64_t days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int la_seg_name(int32_t day, char *buf, size_t cap)
{
    if (day < 0 || day > 2932896 || cap < 16)
        return LA_ERANGE;
    int y;
    unsigned m, d;
    civil(day, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02u-%02u.seg", y, m, d);
    return LA_OK;
}

int la_seg_name_parse(const char *name, int32_t *day)
{
    if (strlen(name) != 14 || strcmp(name + 10, ".seg") != 0 || name[4] != '-' || name[7] != '-')
        return LA_EINVAL;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (name[i] < '0' || name[i] > '9'))
            return LA_EINVAL;
    int y = (name[0] - '0') * 1000 + (name[1] - '0') * 100 + (name[2] - '0') * 10 + (name[3] - '0');
    unsigned m = (unsigned)((name[5] - '0') * 10 + (name[6] - '0'));
    unsigned d = (unsigned)((name[8] - '0') * 10 + (name[9] - '0'));
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
        return LA_EINVAL;
    int64_t z = days_from_civil(y, m, d);
    int y2;
    unsigned m2, d2;
    civil(z, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)
        return LA_EINVAL;
    *day = (int32_t)z;
    return LA_OK;
}
