/* tzif.c — TZif files (RFC 8536) and their footer TZ strings, parsed into a table of
 * transitions plus an optional yearly rule, and the UTC offset as a function of time.
 * Section numbers in comments refer to RFC 8536. TZif integers are big-endian. */
#include "tzif.h"

#include <stdlib.h>
#include <string.h>

#include "status.h"

/* One end of a daylight-saving period in a TZ string (§3.3, POSIX "rule"). */
typedef struct tz_date {
    char kind;    /* 'J': Julian day a (1..365, Feb 29 never counted); 'n': zero-based day a
                   * (0..365); 'M': month a, week b (5 = last), weekday c (0 = Sunday) */
    int a, b, c;
    int32_t time; /* seconds after local midnight; -167h..+167h in version 3 */
} tz_date;

struct la_tzinfo {
    size_t n;         /* transitions */
    int64_t *at;      /* UTC seconds, strictly ascending */
    int32_t *off;     /* off[i]: offset from at[i] on */
    int32_t off0;     /* before at[0]: time type 0 (§3.2) */
    int rule;         /* 1: the footer TZ string governs t >= at[n-1] (every t when n == 0) */
    int has_dst;      /* the TZ string has a DST part (then start/end apply) */
    int32_t std_off;  /* TZ string offsets, seconds east */
    int32_t dst_off;
    tz_date start;    /* DST begins: `time` is in standard local time */
    tz_date end;      /* DST ends: `time` is in daylight local time */
    int32_t min_off;  /* bounds over every offset the zone can give */
    int32_t max_off;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

/* ---------------------------------------------------------------------------------------
 * TZ strings (§3.3): "std offset [dst [offset] [,start[/time],end[/time]]]"
 * ------------------------------------------------------------------------------------- */

typedef struct tzs {
    const char *s, *e; /* unread part */
} tzs;

static int tzs_peek(const tzs *t) { return t->s < t->e ? (unsigned char)*t->s : -1; }

static int is_alpha(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* A zone abbreviation: 3+ letters, or <...> of 3+ letters, digits, '+' and '-'. */
static int tzs_name(tzs *t)
{
    int n = 0;
    if (tzs_peek(t) == '<') {
        t->s++;
        int c;
        while ((c = tzs_peek(t)) >= 0 && (is_alpha(c) || is_digit(c) || c == '+' || c == '-')) {
            t->s++;
            n++;
        }
        if (tzs_peek(t) != '>')
            return -1;
        t->s++;
    } else {
        while (is_alpha(tzs_peek(t))) {
            t->s++;
            n++;
        }
    }
    return n >= 3 ? 0 : -1;
}

/* An unsigned decimal of 1..3 digits, at most max. */
static int tzs_num(tzs *t, int max, int *out)
{
    int v = 0, n = 0;
    while (n < 3 && is_digit(tzs_peek(t))) {
        v = v * 10 + (*t->s++ - '0');
        n++;
    }
    if (n == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* [+|-]hh[:mm[:ss]] in seconds. Hours go to 167 as version 3 allows for rule times (§3.3.1);
 * offsets are range-checked by the caller. */
static int tzs_hms(tzs *t, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (tzs_peek(t) == '+' || tzs_peek(t) == '-')
        sign = *t->s++ == '-' ? -1 : 1;
    if (tzs_num(t, 167, &h) != 0)
        return -1;
    if (tzs_peek(t) == ':') {
        t->s++;
        if (tzs_num(t, 59, &m) != 0)
            return -1;
        if (tzs_peek(t) == ':') {
            t->s++;
            if (tzs_num(t, 59, &s) != 0)
                return -1;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int tzs_date(tzs *t, tz_date *d)
{
    int c = tzs_peek(t);
    memset(d, 0, sizeof *d);
    if (c == 'J') {
        t->s++;
        d->kind = 'J';
        if (tzs_num(t, 365, &d->a) != 0 || d->a < 1)
            return -1;
    } else if (is_digit(c)) {
        d->kind = 'n';
        if (tzs_num(t, 365, &d->a) != 0)
            return -1;
    } else if (c == 'M') {
        t->s++;
        d->kind = 'M';
        if (tzs_num(t, 12, &d->a) != 0 || d->a < 1 || tzs_peek(t) != '.')
            return -1;
        t->s++;
        if (tzs_num(t, 5, &d->b) != 0 || d->b < 1 || tzs_peek(t) != '.')
            return -1;
        t->s++;
        if (tzs_num(t, 6, &d->c) != 0)
            return -1;
    } else {
        return -1;
    }
    d->time = 2 * 3600; /* POSIX default */
    if (tzs_peek(t) == '/') {
        t->s++;
        if (tzs_hms(t, &d->time) != 0)
            return -1;
    }
    return 0;
}

static int offset_ok(int64_t off) { return off >= LA_TZ_MIN_OFFSET && off <= LA_TZ_MAX_OFFSET; }

/* Parse the footer's TZ string s[0..n) into z's rule fields. An empty string means "no rule"
 * (§3.3: the last transition's type stays in effect). */
static int parse_tz_string(la_tzinfo *z, const char *s, size_t n, const char **why)
{
    if (n == 0)
        return LA_OK;
    tzs t = {s, s + n};
    int32_t v;
    if (tzs_name(&t) != 0)
        return la_corrupt(why, "footer TZ string: bad standard-time name");
    /* POSIX offsets count west ("CET-1" is one hour east): negate. */
    if (tzs_hms(&t, &v) != 0 || !offset_ok(-(int64_t)v))
        return la_corrupt(why, "footer TZ string: bad standard-time offset");
    z->std_off = -v;
    z->dst_off = z->std_off;
    z->rule = 1;
    if (t.s == t.e)
        return LA_OK;
    if (tzs_name(&t) != 0)
        return la_corrupt(why, "footer TZ string: bad daylight-time name");
    z->has_dst = 1;
    z->dst_off = z->std_off + 3600;
    int c = tzs_peek(&t);
    if (c == '+' || c == '-' || is_digit(c)) {
        if (tzs_hms(&t, &v) != 0 || !offset_ok(-(int64_t)v))
            return la_corrupt(why, "footer TZ string: bad daylight-time offset");
        z->dst_off = -v;
    }
    if (!offset_ok(z->dst_off))
        return la_corrupt(why, "footer TZ string: daylight-time offset out of range");
    if (t.s == t.e) {
        /* No rule given: the POSIX default, as glibc and tzcode use without a posixrules. */
        z->start = (tz_date){'M', 3, 2, 0, 2 * 3600};
        z->end = (tz_date){'M', 11, 1, 0, 2 * 3600};
        return LA_OK;
    }
    if (tzs_peek(&t) != ',')
        return la_corrupt(why, "footer TZ string: expected ',' before the rule");
    t.s++;
    if (tzs_date(&t, &z->start) != 0)
        return la_corrupt(why, "footer TZ string: bad DST start rule");
    if (tzs_peek(&t) != ',')
        return la_corrupt(why, "footer TZ string: expected ',' before the end rule");
    t.s++;
    if (tzs_date(&t, &z->end) != 0)
        return la_corrupt(why, "footer TZ string: bad DST end rule");
    if (t.s != t.e)
        return la_corrupt(why, "footer TZ string: trailing characters");
    return LA_OK;
}

/* ---------------------------------------------------------------------------------------
 * The file (§3.1 header, §3.2 data block, §3.3 footer)
 * ------------------------------------------------------------------------------------- */

#define TZIF_HEADER 44

typedef struct tzif_hdr {
    int version;            /* 1..4 */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_hdr;

static int read_header(const uint8_t *p, size_t len, size_t pos, tzif_hdr *h, const char **why)
{
    if (len - pos < TZIF_HEADER)
        return la_corrupt(why, "truncated header");
    const uint8_t *q = p + pos;
    if (memcmp(q, "TZif", 4) != 0)
        return la_corrupt(why, "bad magic (not a TZif file)");
    if (q[4] == 0)
        h->version = 1;
    else if (q[4] >= '2' && q[4] <= '4')
        h->version = q[4] - '0';
    else
        return la_corrupt(why, "unknown TZif version");
    h->isutcnt = be32(q + 20);
    h->isstdcnt = be32(q + 24);
    h->leapcnt = be32(q + 28);
    h->timecnt = be32(q + 32);
    h->typecnt = be32(q + 36);
    h->charcnt = be32(q + 40);
    if (h->typecnt == 0 || h->charcnt == 0)
        return la_corrupt(why, "header: typecnt or charcnt is zero");
    if ((h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
        return la_corrupt(why, "header: isutcnt or isstdcnt is neither 0 nor typecnt");
    return LA_OK;
}

/* Bytes of the data block after a header; every count is < 2^32, so this cannot overflow. */
static uint64_t block_size(const tzif_hdr *h, unsigned tsize)
{
    return (uint64_t)h->timecnt * (tsize + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Read the data block at p[pos..) (already known to fit) into z. */
static int read_block(la_tzinfo *z, const uint8_t *p, size_t pos, const tzif_hdr *h,
                      unsigned tsize, const char **why)
{
    if (h->leapcnt != 0)
        return la_corrupt(why, "leap-second records (right/ zones) are not supported");
    const uint8_t *times = p + pos;
    const uint8_t *idx = times + (size_t)h->timecnt * tsize;
    const uint8_t *types = idx + h->timecnt;
    const uint8_t *chars = types + (size_t)h->typecnt * 6;
    const uint8_t *isstd = chars + h->charcnt; /* leapcnt == 0 */
    const uint8_t *isut = isstd + h->isstdcnt;

    for (uint32_t i = 0; i < h->typecnt; i++) {
        const uint8_t *ty = types + (size_t)i * 6;
        int32_t utoff = (int32_t)be32(ty);
        if (!offset_ok(utoff))
            return la_corrupt(why, "time type: UT offset out of range");
        if (ty[4] > 1)
            return la_corrupt(why, "time type: isdst is neither 0 nor 1");
        if (ty[5] >= h->charcnt || memchr(chars + ty[5], 0, h->charcnt - ty[5]) == NULL)
            return la_corrupt(why, "time type: designation index out of range or unterminated");
    }
    for (uint32_t i = 0; i < h->isstdcnt; i++)
        if (isstd[i] > 1)
            return la_corrupt(why, "standard/wall indicator is neither 0 nor 1");
    for (uint32_t i = 0; i < h->isutcnt; i++)
        if (isut[i] > 1 || (isut[i] == 1 && h->isstdcnt && isstd[i] == 0))
            return la_corrupt(why, "UT/local indicator invalid");

    z->n = h->timecnt;
    if (z->n) {
        z->at = malloc(z->n * sizeof *z->at);
        z->off = malloc(z->n * sizeof *z->off);
        if (!z->at || !z->off)
            return LA_ENOMEM;
    }
    for (size_t i = 0; i < z->n; i++) {
        z->at[i] = tsize == 8 ? be64(times + i * 8) : (int64_t)(int32_t)be32(times + i * 4);
        if (i > 0 && z->at[i] <= z->at[i - 1])
            return la_corrupt(why, "transition times not strictly ascending");
        if (idx[i] >= h->typecnt)
            return la_corrupt(why, "transition type index out of range");
        z->off[i] = (int32_t)be32(types + (size_t)idx[i] * 6);
    }
    z->off0 = (int32_t)be32(types);
    z->min_off = z->max_off = z->off0;
    for (uint32_t i = 1; i < h->typecnt; i++) {
        int32_t o = (int32_t)be32(types + (size_t)i * 6);
        z->min_off = o < z->min_off ? o : z->min_off;
        z->max_off = o > z->max_off ? o : z->max_off;
    }
    return LA_OK;
}

static int parse(la_tzinfo *z, const uint8_t *p, size_t len, const char **why)
{
    tzif_hdr h;
    int rc = read_header(p, len, 0, &h, why);
    if (rc != LA_OK)
        return rc;
    uint64_t b1 = block_size(&h, 4);
    if (b1 > len - TZIF_HEADER)
        return la_corrupt(why, "truncated version 1 data block");
    size_t pos = TZIF_HEADER;
    if (h.version == 1) {
        if (TZIF_HEADER + b1 != len)
            return la_corrupt(why, "trailing bytes after the data block");
        return read_block(z, p, pos, &h, 4, why);
    }
    /* Version 2+: the 32-bit block is only for old readers (§3.2); skip to the second header. */
    pos += (size_t)b1;
    tzif_hdr h2;
    if ((rc = read_header(p, len, pos, &h2, why)) != LA_OK)
        return rc;
    if (h2.version != h.version)
        return la_corrupt(why, "the two headers disagree on the version");
    pos += TZIF_HEADER;
    uint64_t b2 = block_size(&h2, 8);
    if (b2 > len - pos)
        return la_corrupt(why, "truncated version 2+ data block");
    if ((rc = read_block(z, p, pos, &h2, 8, why)) != LA_OK)
        return rc;
    pos += (size_t)b2;
    if (pos >= len || p[pos] != '\n')
        return la_corrupt(why, "missing footer");
    const uint8_t *nl = memchr(p + pos + 1, '\n', len - pos - 1);
    if (!nl)
        return la_corrupt(why, "footer TZ string not terminated by a newline");
    if ((size_t)(nl - p) + 1 != len)
        return la_corrupt(why, "trailing bytes after the footer");
    if ((rc = parse_tz_string(z, (const char *)p + pos + 1, (size_t)(nl - p) - pos - 1, why)) != LA_OK)
        return rc;
    if (z->rule) {
        int32_t lo = z->std_off < z->dst_off ? z->std_off : z->dst_off;
        int32_t hi = z->std_off > z->dst_off ? z->std_off : z->dst_off;
        z->min_off = lo < z->min_off ? lo : z->min_off;
        z->max_off = hi > z->max_off ? hi : z->max_off;
    }
    return LA_OK;
}

static int expand_rule(la_tzinfo *z);

int la_tzif_parse(const uint8_t *p, size_t len, la_tzinfo **out, const char **why)
{
    *out = NULL;
    la_tzinfo *z = calloc(1, sizeof *z);
    if (!z)
        return LA_ENOMEM;
    int rc = parse(z, p, len, why);
    if (rc == LA_OK)
        rc = expand_rule(z);
    if (rc != LA_OK) {
        la_tzinfo_free(z);
        return rc;
    }
    *out = z;
    return LA_OK;
}

void la_tzinfo_free(la_tzinfo *z)
{
    if (!z)
        return;
    free(z->at);
    free(z->off);
    free(z);
}

void la_tzinfo_bounds(const la_tzinfo *z, int32_t *min_off, int32_t *max_off)
{
    *min_off = z->min_off;
    *max_off = z->max_off;
}

/* ---------------------------------------------------------------------------------------
 * Offsets
 * ------------------------------------------------------------------------------------- */

/* The local day (day number) a rule date falls on in year y. */
static int64_t rule_day(const tz_date *d, int64_t y)
{
    int64_t jan1 = la_days_from_civil(y, 1, 1);
    switch (d->kind) {
    case 'J':
        return jan1 + d->a - 1 + (la_is_leap(y) && d->a >= 60);
    case 'n':
        return jan1 + d->a;
    default: {
        int64_t first = la_days_from_civil(y, d->a, 1);
        int64_t day = first + (d->c - la_weekday(first) + 7) % 7 + 7 * (d->b - 1);
        if (day >= first + la_month_days(y, d->a))
            day -= 7; /* week 5 = the last such weekday of the month */
        return day;
    }
    }
}

/* Beyond this many seconds from the epoch (about a million years) rules are not evaluated:
 * keeps the calendar arithmetic far from int64 overflow for any input. */
#define RULE_LIMIT ((int64_t)1 << 45)

/* The TZ-string part of the zone, for t >= floor. Each year y contributes a DST start and a
 * DST end; the offset at t is set by the latest of them at or before t (ties ordered by year,
 * then start before end). Evaluating the years around t's (y-2..y+2) is enough: a rule moves
 * an event at most 167 h + 366 days + a day of offset from its year's January 1. Unlike glibc,
 * which only looks at t's UTC year, this stays right when a rule's period wraps January 1. */
static int32_t rule_span(const la_tzinfo *z, int64_t t, int64_t floor, int64_t *from, int64_t *to)
{
    if (!z->has_dst || t < -RULE_LIMIT || t >= RULE_LIMIT) {
        *from = floor;
        *to = INT64_MAX;
        if (z->has_dst) {
            if (t < -RULE_LIMIT)
                *to = -RULE_LIMIT;
            else if (floor < RULE_LIMIT)
                *from = RULE_LIMIT;
        }
        return z->std_off;
    }
    int64_t y;
    int m, d;
    la_civil_from_days(la_floordiv(t + z->std_off, 86400), &y, &m, &d);
    int64_t best_t = INT64_MIN, best_y = 0, next = INT64_MAX;
    int best_kind = -1;
    for (int64_t yy = y - 2; yy <= y + 2; yy++) {
        for (int kind = 0; kind < 2; kind++) {
            const tz_date *rd = kind == 0 ? &z->start : &z->end;
            /* The start is given in standard time, the end in daylight time (§3.3). */
            int64_t e = rule_day(rd, yy) * 86400 + rd->time - (kind == 0 ? z->std_off : z->dst_off);
            if (e > t) {
                next = e < next ? e : next;
            } else if (e > best_t || (e == best_t && (yy > best_y || (yy == best_y && kind > best_kind)))) {
                best_t = e;
                best_y = yy;
                best_kind = kind;
            }
        }
    }
    *from = best_t > floor ? best_t : floor;
    *to = next < RULE_LIMIT ? next : RULE_LIMIT;
    if (*from < -RULE_LIMIT)
        *from = -RULE_LIMIT;
    return best_kind == 0 ? z->dst_off : z->std_off;
}

/* Rule-derived transitions are written into the table from the last stored one up to 2100,
 * so that present-day lookups are a binary search instead of a rule evaluation (slim tzdata
 * files end their tables around 2007). The function is unchanged: for t >= the last stored
 * transition the rule applied anyway, and it still does after the new last one. Only done
 * when the table ends after 1900, which bounds the work. */
#define EXPAND_FROM (-2208988800LL) /* 1900-01-01 */
#define EXPAND_UNTIL 4102444800LL   /* 2100-01-01 */

static int expand_rule(la_tzinfo *z)
{
    if (!z->rule || !z->has_dst || z->n == 0 || z->at[z->n - 1] < EXPAND_FROM ||
        z->at[z->n - 1] >= EXPAND_UNTIL)
        return LA_OK;
    int64_t floor0 = z->at[z->n - 1], from, to;
    /* at most two changes a year, plus slack for rules whose periods wrap January 1 */
    size_t cap = z->n + 2 * (size_t)((EXPAND_UNTIL - floor0) / (365 * 86400LL) + 3);
    int64_t *at = realloc(z->at, cap * sizeof *at);
    if (!at)
        return LA_ENOMEM;
    z->at = at;
    int32_t *off = realloc(z->off, cap * sizeof *off);
    if (!off)
        return LA_ENOMEM;
    z->off = off;
    z->off[z->n - 1] = rule_span(z, floor0, floor0, &from, &to);
    while (to < EXPAND_UNTIL && z->n < cap) {
        int64_t t = to;
        int32_t o = rule_span(z, t, floor0, &from, &to);
        if (o != z->off[z->n - 1]) {
            z->at[z->n] = t;
            z->off[z->n] = o;
            z->n++;
        }
    }
    return LA_OK;
}

int32_t la_tzinfo_span(const la_tzinfo *z, int64_t t, int64_t *from, int64_t *to)
{
    if (z->n == 0) {
        if (z->rule)
            return rule_span(z, t, INT64_MIN, from, to);
        *from = INT64_MIN;
        *to = INT64_MAX;
        return z->off0;
    }
    if (t < z->at[0]) {
        *from = INT64_MIN;
        *to = z->at[0];
        return z->off0;
    }
    size_t lo = 0, hi = z->n; /* the answer i (at[i] <= t < at[i+1]) lies in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    if (lo + 1 < z->n) {
        *from = z->at[lo];
        *to = z->at[lo + 1];
        return z->off[lo];
    }
    if (z->rule)
        return rule_span(z, t, z->at[lo], from, to);
    *from = z->at[lo];
    *to = INT64_MAX;
    return z->off[lo];
}

int32_t la_tzinfo_offset(const la_tzinfo *z, int64_t t_s)
{
    int64_t from, to;
    return la_tzinfo_span(z, t_s, &from, &to);
}
