/* calendar.h — the proleptic Gregorian calendar on day numbers (0 = 1970-01-01), shared by
 * the time-zone reader and the rollup file names and buckets. */
#ifndef LA_FORMAT_CALENDAR_H
#define LA_FORMAT_CALENDAR_H

#include <stdint.h>

/* Exact for any year that fits (Howard Hinnant's days_from_civil / civil_from_days). */

static inline int64_t la_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Day number of y-m-d; m in 1..12, d may run past the month (it just counts on). */
static inline int64_t la_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = la_floordiv(y, 400);
    int64_t yoe = y - era * 400;                                  /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static inline void la_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = la_floordiv(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday). */
static inline int la_weekday(int64_t days) { return (int)(days + 4 - la_floordiv(days + 4, 7) * 7); }

static inline int la_is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static inline int la_month_days(int64_t y, int m)
{
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return md[m - 1] + (m == 2 && la_is_leap(y));
}

#endif
