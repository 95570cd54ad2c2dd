/* timefmt.c — parse and format UTC timestamps without the C library's locale and time zone
 * state (strptime/timegm differ across libcs and are slow), using Hinnant's civil-date
 * arithmetic. */
#include "timefmt.h"

#include <stdio.h>

#define MS_PER_DAY 86400000LL
/* 1970-01-01 .. 10000-01-01 in ms: the range the engine accepts. */
#define MIN_MS 0LL
#define MAX_MS 253402300800000LL

int64_t timefmt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void timefmt_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return -1;
}

/* Exactly `width` digits at s[*i]. */
static int digits(const char *s, size_t n, size_t *i, unsigned width, unsigned *out)
{
    unsigned v = 0;
    for (unsigned k = 0; k < width; k++, (*i)++) {
        if (*i >= n || s[*i] < '0' || s[*i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[*i] - '0');
    }
    *out = v;
    return 0;
}

static int expect(const char *s, size_t n, size_t *i, char c)
{
    if (*i >= n || s[*i] != c)
        return -1;
    (*i)++;
    return 0;
}

static int leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int parse_epoch_ms(const char *s, size_t n, int64_t *out, const char **why)
{
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n || n - i > 19)
        return fail(why, "bad epoch milliseconds");
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return fail(why, "bad epoch milliseconds");
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return fail(why, "epoch milliseconds out of range");
    int64_t ms = neg ? -(int64_t)v : (int64_t)v;
    if (ms < MIN_MS || ms >= MAX_MS)
        return fail(why, "time outside 1970..9999");
    *out = ms;
    return 0;
}

int timefmt_parse(const char *s, size_t n, int64_t *out, const char **why)
{
    return timefmt_parse_kind(s, n, out, NULL, why);
}

int timefmt_parse_kind(const char *s, size_t n, int64_t *out, int *kind, const char **why)
{
    if (n == 0)
        return fail(why, "empty time");
    if (n < 10 || s[4] != '-') {
        if (kind)
            *kind = TIMEFMT_EPOCH;
        return parse_epoch_ms(s, n, out, why);
    }
    size_t i = 0;
    unsigned y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    if (digits(s, n, &i, 4, &y) || expect(s, n, &i, '-') || digits(s, n, &i, 2, &mo) ||
        expect(s, n, &i, '-') || digits(s, n, &i, 2, &d))
        return fail(why, "bad date (want YYYY-MM-DD)");
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
        return fail(why, "date out of range");
    int64_t offset_min = 0;
    int form = TIMEFMT_DATE;
    if (i < n) {
        form = TIMEFMT_LOCAL;
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return fail(why, "bad date-time separator");
        i++;
        if (digits(s, n, &i, 2, &h) || expect(s, n, &i, ':') || digits(s, n, &i, 2, &mi))
            return fail(why, "bad time (want HH:MM[:SS[.fff]])");
        if (i < n && s[i] == ':') {
            i++;
            if (digits(s, n, &i, 2, &sec))
                return fail(why, "bad seconds");
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                i++;
                unsigned nd = 0;
                for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++)
                    if (nd < 3)
                        ms = ms * 10 + (unsigned)(s[i] - '0');
                if (nd == 0)
                    return fail(why, "bad fraction of a second");
                for (; nd < 3; nd++)
                    ms *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 59) /* no leap seconds: epoch time has none */
            return fail(why, "time of day out of range");
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
            form = TIMEFMT_ZONED;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i] == '-' ? -1 : 1;
            form = TIMEFMT_ZONED;
            unsigned oh, om;
            i++;
            if (digits(s, n, &i, 2, &oh))
                return fail(why, "bad zone offset");
            if (i < n && s[i] == ':')
                i++;
            if (digits(s, n, &i, 2, &om) || oh > 23 || om > 59)
                return fail(why, "bad zone offset");
            offset_min = sign * (int64_t)(oh * 60 + om);
        }
        if (i != n)
            return fail(why, "trailing characters after the time");
    }
    int64_t t = timefmt_days_from_civil(y, mo, d) * MS_PER_DAY +
                ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + ms - offset_min * 60000;
    if (t < MIN_MS || t >= MAX_MS)
        return fail(why, "time outside 1970..9999");
    *out = t;
    if (kind)
        *kind = form;
    return 0;
}

size_t timefmt_format(int64_t ms, char buf[TIMEFMT_MAX])
{
    if (ms < -62167219200000LL || ms >= MAX_MS)
        return (size_t)snprintf(buf, TIMEFMT_MAX, "%lld", (long long)ms);
    int64_t days = ms >= 0 ? ms / MS_PER_DAY : -((-ms + MS_PER_DAY - 1) / MS_PER_DAY);
    int64_t rem = ms - days * MS_PER_DAY, y;
    unsigned m, d;
    timefmt_civil_from_days(days, &y, &m, &d);
    return (size_t)snprintf(buf, TIMEFMT_MAX, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)y,
                            m, d, (unsigned)(rem / 3600000), (unsigned)(rem / 60000 % 60),
                            (unsigned)(rem / 1000 % 60), (unsigned)(rem % 1000));
}
