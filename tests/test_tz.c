/* test_tz.c — time zones (format/tzif.c, engine/tz.c) against glibc as the independent oracle:
 * with TZ set to the same zone, localtime_r gives the offset and the local calendar, timegm
 * turns local fields into comparable seconds. Offsets, bucket starts and ends (recomputed from
 * the definition in tz.h with nothing but localtime_r/timegm), known facts about real zones,
 * footer TZ strings against glibc's own POSIX TZ parser, and rejection of bad names and bad
 * files. Needs the system tzdata (/usr/share/zoneinfo). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "la.h"
#include "testutil.h"

#include "io.h"
#include "tz.h"
#include "tzif.h"

#define ZONEINFO "/usr/share/zoneinfo"
#define H 3600
#define D 86400
#define Y1970_2100 4102444800LL /* 2100-01-01T00:00:00Z */
#define DOMAIN_END 253402300800LL /* 10000-01-01T00:00:00Z */

static const char *const zones[] = {
    "UTC", "Europe/Berlin", "America/New_York", "America/Santiago", "America/Sao_Paulo",
    "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham", "Pacific/Apia",
    "Africa/Casablanca", "America/St_Johns",
    /* footer rules with a negative time and a time past 24:00 */
    "America/Nuuk", "Asia/Jerusalem",
};
#define NZONES (sizeof zones / sizeof zones[0])

static void set_tz(const char *tz)
{
    ck_assert_int_eq(setenv("TZ", tz, 1), 0);
    tzset();
}

/* glibc's offset and local time (local fields as seconds) at UTC second t. */
static int32_t g_off(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    TU_CHECK(localtime_r(&tt, &tm) != NULL, "localtime_r(%lld)", (long long)t);
    return (int32_t)tm.tm_gmtoff;
}

static int64_t g_local(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    TU_CHECK(localtime_r(&tt, &tm) != NULL, "localtime_r(%lld)", (long long)t);
    return (int64_t)timegm(&tm);
}

static la_tz *open_zone(const char *name)
{
    la_tz *z = NULL;
    int rc = la_tz_open(&z, name);
    ck_assert_msg(rc == LA_OK, "la_tz_open(%s): %d %s", name, rc, la_errmsg());
    return z;
}

static int64_t rand_range(uint64_t *seed, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(tu_rand(seed) % (uint64_t)(hi - lo));
}

/* ---------------------------------------------------------------------------------------
 * The oracle: offset changes found with localtime_r alone
 * ------------------------------------------------------------------------------------- */

typedef struct trans_list {
    int64_t *t; /* first second of each new offset, ascending */
    size_t n, cap;
} trans_list;

#define SCAN_FROM (-10 * D)
#define SCAN_TO (Y1970_2100 + 10 * D)

/* Offset changes in [SCAN_FROM, SCAN_TO): probe every 2 hours, then bisect each change down to
 * the second. (No real zone changes offset twice within two hours.) */
static trans_list find_transitions(void)
{
    trans_list l = {NULL, 0, 0};
    int64_t prev = SCAN_FROM;
    int32_t poff = g_off(prev);
    for (int64_t t = SCAN_FROM + 2 * H; t < SCAN_TO; t += 2 * H) {
        int32_t off = g_off(t);
        if (off == poff) {
            prev = t;
            continue;
        }
        int64_t lo = prev, hi = t; /* g_off(lo) == poff != g_off(hi) */
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (g_off(mid) == poff)
                lo = mid;
            else
                hi = mid;
        }
        if (l.n == l.cap) {
            l.cap = l.cap ? 2 * l.cap : 64;
            l.t = realloc(l.t, l.cap * sizeof *l.t);
            ck_assert_ptr_nonnull(l.t);
        }
        l.t[l.n++] = hi;
        prev = t;
        poff = off;
    }
    return l;
}

/* Smallest second s with glibc-local(s) >= lb: local time only rises between offset changes,
 * so bisect inside each constant-offset interval, in time order. */
static int64_t g_first_reaching(const trans_list *l, int64_t lb)
{
    int64_t a = lb - 30 * H; /* no zone is 30 hours ahead of UTC */
    size_t i = 0;
    while (i < l->n && l->t[i] <= a)
        i++;
    for (;;) {
        int64_t e = i < l->n ? l->t[i] : lb + 30 * H;
        if (g_local(e - 1) >= lb) {
            int64_t lo = a - 1, hi = e - 1; /* pred(lo) false (or below a), pred(hi) true */
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (g_local(mid) >= lb)
                    hi = mid;
                else
                    lo = mid;
            }
            return hi;
        }
        ck_assert_msg(i < l->n, "oracle: no instant reaches %lld", (long long)lb);
        a = e;
        i++;
    }
}

/* The largest local second shown at or before UTC ms t: local(t), or the local second just
 * before a recent offset change if that was later (a fall-back). */
static int64_t g_reached(const trans_list *l, int64_t t_ms)
{
    int64_t t = t_ms >= 0 ? t_ms / 1000 : -((-t_ms + 999) / 1000);
    int64_t best = g_local(t);
    for (size_t i = 0; i < l->n && l->t[i] <= t; i++)
        if (l->t[i] > t - 60 * H && g_local(l->t[i] - 1) > best)
            best = g_local(l->t[i] - 1);
    return best;
}

/* The first local second of the bucket holding local second loc, and of the next one, using
 * struct tm fields and timegm's normalisation only. */
static void g_bucket(int bucket, int64_t loc, int64_t *lb, int64_t *lnext)
{
    time_t tt = (time_t)loc;
    struct tm tm;
    gmtime_r(&tt, &tm);
    tm.tm_min = tm.tm_sec = 0;
    if (bucket != LA_BUCKET_HOUR)
        tm.tm_hour = 0;
    if (bucket == LA_BUCKET_WEEK)
        tm.tm_mday -= (tm.tm_wday + 6) % 7;
    if (bucket == LA_BUCKET_MONTH || bucket == LA_BUCKET_YEAR)
        tm.tm_mday = 1;
    if (bucket == LA_BUCKET_YEAR)
        tm.tm_mon = 0;
    struct tm n = tm;
    *lb = (int64_t)timegm(&tm);
    switch (bucket) {
    case LA_BUCKET_HOUR: n.tm_hour++; break;
    case LA_BUCKET_DAY: n.tm_mday++; break;
    case LA_BUCKET_WEEK: n.tm_mday += 7; break;
    case LA_BUCKET_MONTH: n.tm_mon++; break;
    default: n.tm_year++; break;
    }
    *lnext = (int64_t)timegm(&n);
}

/* Our start/next for t against the oracle's, at every level. */
static void check_buckets_at(const la_tz *z, const trans_list *l, int64_t t_ms)
{
    for (int b = LA_BUCKET_HOUR; b <= LA_BUCKET_YEAR; b++) {
        int64_t lb, lnext;
        g_bucket(b, g_reached(l, t_ms), &lb, &lnext);
        int64_t want_start = g_first_reaching(l, lb) * 1000;
        int64_t want_next = g_first_reaching(l, lnext) * 1000;
        int64_t start = la_tz_bucket_start(z, b, t_ms);
        TU_CHECK(start == want_start, "%s bucket %d t=%lld: start %lld, oracle %lld", la_tz_name(z),
                 b, (long long)t_ms, (long long)start, (long long)want_start);
        int64_t next = la_tz_bucket_next(z, b, start);
        TU_CHECK(next == want_next, "%s bucket %d t=%lld: next %lld, oracle %lld", la_tz_name(z), b,
                 (long long)t_ms, (long long)next, (long long)want_next);
        TU_CHECK(start <= t_ms && t_ms < next, "%s bucket %d t=%lld outside [%lld, %lld)",
                 la_tz_name(z), b, (long long)t_ms, (long long)start, (long long)next);
    }
}

/* ---------------------------------------------------------------------------------------
 * Offsets
 * ------------------------------------------------------------------------------------- */

START_TEST(tz_offsets__random_and_transitions)
{
    const char *name = zones[_i];
    set_tz(name);
    la_tz *z = open_zone(name);
    uint64_t seed = 0x7A11u + (uint64_t)_i;
    for (int k = 0; k < 20000; k++) {
        int64_t t = rand_range(&seed, 0, Y1970_2100);
        int32_t want = g_off(t);
        int32_t got = la_tz_offset(z, t * 1000 + (int64_t)(tu_rand(&seed) % 1000));
        TU_CHECK(got == want, "%s t=%lld: offset %d, glibc %d", name, (long long)t, got, want);
    }
    /* Beyond 2100 only the footer rule speaks; glibc evaluates it too. */
    for (int k = 0; k < 2000; k++) {
        int64_t t = rand_range(&seed, Y1970_2100, DOMAIN_END);
        TU_CHECK(la_tz_offset(z, t * 1000) == g_off(t), "%s t=%lld: offset %d, glibc %d", name,
                 (long long)t, la_tz_offset(z, t * 1000), g_off(t));
    }
    /* Around every change glibc sees ... */
    trans_list l = find_transitions();
    for (size_t i = 0; i < l.n; i++)
        for (int64_t d = -1; d <= 1; d++) {
            int64_t t = l.t[i] + d;
            TU_CHECK(la_tz_offset(z, t * 1000) == g_off(t), "%s t=%lld: offset %d, glibc %d",
                     name, (long long)t, la_tz_offset(z, t * 1000), g_off(t));
            TU_CHECK(la_tz_offset(z, t * 1000 + 999) == g_off(t), "%s t=%lld.999", name, (long long)t);
        }
    /* ... and every change we see (catches changes the 2-hour probe could step over). */
    size_t ours = 0;
    if (strcmp(name, "UTC") != 0) {
        la_tzinfo *info;
        uint8_t buf[1 << 16];
        char path[256];
        snprintf(path, sizeof path, ZONEINFO "/%s", name);
        FILE *f = fopen(path, "rb");
        ck_assert_ptr_nonnull(f);
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        ck_assert_int_eq(la_tzif_parse(buf, n, &info, NULL), LA_OK);
        int64_t t = SCAN_FROM, from, to;
        while (t < SCAN_TO) {
            la_tzinfo_span(info, t, &from, &to);
            if (to >= SCAN_TO)
                break;
            for (int64_t d = -1; d <= 1; d++)
                TU_CHECK(la_tzinfo_offset(info, to + d) == g_off(to + d), "%s t=%lld", name,
                         (long long)(to + d));
            t = to;
            ours++;
        }
        la_tzinfo_free(info);
    }
    ck_assert_msg(ours >= l.n, "%s: %zu spans but glibc shows %zu changes", name, ours, l.n);
    free(l.t);
    la_tz_free(z);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * Buckets against the brute-force oracle
 * ------------------------------------------------------------------------------------- */

START_TEST(tz_buckets__against_glibc)
{
    const char *name = zones[_i];
    set_tz(name);
    la_tz *z = open_zone(name);
    trans_list l = find_transitions();
    uint64_t seed = 0xB0C4u + (uint64_t)_i;
    for (int k = 0; k < 600; k++)
        check_buckets_at(z, &l, rand_range(&seed, 0, Y1970_2100 * 1000));
    /* Near changes, where buckets get interesting: every change from 2000 on, hours around. */
    for (size_t i = 0; i < l.n; i++) {
        if (l.t[i] < 946684800 && tu_rand(&seed) % 8)
            continue;
        for (int k = 0; k < 4; k++)
            check_buckets_at(z, &l, (l.t[i] + rand_range(&seed, -30 * H, 30 * H)) * 1000 +
                                        (int64_t)(tu_rand(&seed) % 1000));
        /* just before and after: inside a repeated local hour after a fall-back */
        for (int64_t d = -2 * H; d <= 2 * H; d += H / 2)
            check_buckets_at(z, &l, (l.t[i] + d) * 1000);
        check_buckets_at(z, &l, l.t[i] * 1000 - 1);
    }
    free(l.t);
    la_tz_free(z);
}
END_TEST

/* Walking bucket by bucket: contiguous, increasing, start(next) == next, over the whole range
 * for coarse buckets and 1970..2100 for days. */
START_TEST(tz_buckets__walk_invariants)
{
    la_tz *z = open_zone(zones[_i]);
    static const struct { int bucket; int64_t end; } walks[] = {
        {LA_BUCKET_DAY, Y1970_2100 * 1000}, {LA_BUCKET_WEEK, Y1970_2100 * 1000},
        {LA_BUCKET_MONTH, DOMAIN_END * 1000}, {LA_BUCKET_YEAR, DOMAIN_END * 1000},
        {LA_BUCKET_HOUR, 5 * 365LL * D * 1000}};
    for (size_t w = 0; w < sizeof walks / sizeof walks[0]; w++) {
        int b = walks[w].bucket;
        int64_t s = la_tz_bucket_start(z, b, 0);
        ck_assert(s <= 0);
        while (s < walks[w].end) {
            int64_t n = la_tz_bucket_next(z, b, s);
            TU_CHECK(n > s, "%s bucket %d: next(%lld) = %lld", la_tz_name(z), b, (long long)s,
                     (long long)n);
            TU_CHECK(la_tz_bucket_start(z, b, n) == n, "%s bucket %d: start(%lld) != itself",
                     la_tz_name(z), b, (long long)n);
            TU_CHECK(la_tz_bucket_start(z, b, n - 1) == s, "%s bucket %d: start(%lld - 1ms) != %lld",
                     la_tz_name(z), b, (long long)n, (long long)s);
            s = n;
        }
    }
    uint64_t seed = 0x1417u + (uint64_t)_i;
    for (int k = 0; k < 20000; k++) {
        int64_t t = rand_range(&seed, 0, DOMAIN_END * 1000);
        int b = (int)(tu_rand(&seed) % 5);
        int64_t s = la_tz_bucket_start(z, b, t), n = la_tz_bucket_next(z, b, s);
        TU_CHECK(s <= t && t < n, "%s bucket %d t=%lld not in [%lld, %lld)", la_tz_name(z), b,
                 (long long)t, (long long)s, (long long)n);
    }
    la_tz_free(z);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * Known facts
 * ------------------------------------------------------------------------------------- */

static int64_t utc_ms(int y, int m, int d, int hh, int mm)
{
    return (la_days_from_civil(y, m, d) * D + hh * H + mm * 60) * 1000;
}

START_TEST(tz_facts__berlin_dst_days)
{
    la_tz *z = open_zone("Europe/Berlin");
    int64_t s = la_tz_local_date_start(z, 2026, 3, 29);
    ck_assert_int_eq(s, utc_ms(2026, 3, 28, 23, 0));
    ck_assert_int_eq(la_tz_bucket_next(z, LA_BUCKET_DAY, s) - s, 23LL * H * 1000);
    s = la_tz_local_date_start(z, 2026, 10, 25);
    ck_assert_int_eq(s, utc_ms(2026, 10, 24, 22, 0));
    ck_assert_int_eq(la_tz_bucket_next(z, LA_BUCKET_DAY, s) - s, 25LL * H * 1000);
    /* The repeated hour 02:00-03:00 is one two-hour bucket; the skipped 02:00 is empty. */
    int64_t h = la_tz_bucket_start(z, LA_BUCKET_HOUR, utc_ms(2026, 10, 25, 0, 30));
    ck_assert_int_eq(h, utc_ms(2026, 10, 25, 0, 0));
    ck_assert_int_eq(la_tz_bucket_next(z, LA_BUCKET_HOUR, h), utc_ms(2026, 10, 25, 2, 0));
    ck_assert_int_eq(la_tz_bucket_start(z, LA_BUCKET_HOUR, utc_ms(2026, 10, 25, 1, 30)), h);
    h = la_tz_bucket_start(z, LA_BUCKET_HOUR, utc_ms(2026, 3, 29, 0, 59));
    ck_assert_int_eq(h, utc_ms(2026, 3, 29, 0, 0));
    ck_assert_int_eq(la_tz_bucket_next(z, LA_BUCKET_HOUR, h), utc_ms(2026, 3, 29, 1, 0));
    ck_assert_int_eq(la_tz_offset(z, utc_ms(2026, 7, 1, 0, 0)), 7200);
    ck_assert_int_eq(la_tz_offset(z, utc_ms(2026, 1, 1, 0, 0)), 3600);
    /* ISO week of Thursday 2026-01-01 starts Monday 2025-12-29 local. */
    ck_assert_int_eq(la_tz_bucket_start(z, LA_BUCKET_WEEK, utc_ms(2026, 1, 1, 12, 0)),
                     utc_ms(2025, 12, 28, 23, 0));
    ck_assert_int_eq(la_tz_bucket_start(z, LA_BUCKET_MONTH, utc_ms(2026, 3, 31, 22, 30)),
                     utc_ms(2026, 3, 31, 22, 0)); /* 00:30 CEST on April 1 */
    ck_assert_int_eq(la_tz_bucket_start(z, LA_BUCKET_YEAR, utc_ms(2026, 6, 1, 0, 0)),
                     utc_ms(2025, 12, 31, 23, 0));
    ck_assert_str_eq(la_tz_name(z), "Europe/Berlin");
    la_tz_free(z);
}
END_TEST

START_TEST(tz_facts__half_and_quarter_hours)
{
    la_tz *z = open_zone("Asia/Kolkata");
    ck_assert_int_eq(la_tz_bucket_start(z, LA_BUCKET_DAY, utc_ms(2026, 10, 5, 12, 0)),
                     utc_ms(2026, 10, 4, 18, 30));
    ck_assert_int_eq(la_tz_local_date_start(z, 2026, 10, 5), utc_ms(2026, 10, 4, 18, 30));
    ck_assert_int_eq(la_tz_bucket_start(z, LA_BUCKET_HOUR, utc_ms(2026, 10, 5, 12, 10)),
                     utc_ms(2026, 10, 5, 11, 30));
    ck_assert_int_eq(la_tz_offset(z, 0), 19800);
    la_tz_free(z);
    z = open_zone("Asia/Kathmandu");
    ck_assert_int_eq(la_tz_bucket_start(z, LA_BUCKET_DAY, utc_ms(2026, 10, 5, 12, 0)),
                     utc_ms(2026, 10, 4, 18, 15));
    ck_assert_int_eq(la_tz_bucket_start(z, LA_BUCKET_HOUR, utc_ms(2026, 10, 5, 12, 10)),
                     utc_ms(2026, 10, 5, 11, 15));
    ck_assert_int_eq(la_tz_offset(z, utc_ms(2026, 1, 1, 0, 0)), 20700);
    la_tz_free(z);
    z = open_zone("UTC");
    ck_assert_int_eq(la_tz_bucket_start(z, LA_BUCKET_WEEK, utc_ms(2026, 1, 1, 12, 0)),
                     utc_ms(2025, 12, 29, 0, 0));
    la_tz_free(z);
}
END_TEST

START_TEST(tz_facts__midnight_jumps_and_skipped_day)
{
    /* Chile starts DST at 24:00 on the first Saturday of September: 2026-09-06 has no 00:00,
     * its day starts at 01:00 -03 and lasts 23 hours. */
    la_tz *z = open_zone("America/Santiago");
    int64_t s = la_tz_local_date_start(z, 2026, 9, 6);
    ck_assert_int_eq(s, utc_ms(2026, 9, 6, 4, 0));
    ck_assert_int_eq(la_tz_bucket_next(z, LA_BUCKET_DAY, s) - s, 23LL * H * 1000);
    ck_assert_int_eq(la_tz_bucket_start(z, LA_BUCKET_DAY, utc_ms(2026, 9, 6, 3, 59)),
                     utc_ms(2026, 9, 5, 4, 0));
    /* DST ends at 24:00 on the first Saturday of April: 2026-04-05 00:00 -03 never shows,
     * the clock goes from 23:59:59 -03 back to 23:00 -04, so April 4 has 25 hours. */
    s = la_tz_local_date_start(z, 2026, 4, 5);
    ck_assert_int_eq(s, utc_ms(2026, 4, 5, 4, 0));
    ck_assert_int_eq(la_tz_bucket_next(z, LA_BUCKET_DAY, la_tz_local_date_start(z, 2026, 4, 4)), s);
    ck_assert_int_eq(s - la_tz_local_date_start(z, 2026, 4, 4), 25LL * H * 1000);
    la_tz_free(z);
    /* St. John's ended DST at 00:01 until 2011: on 2010-11-07 the local date went back from
     * the 7th (00:00-00:01 NDT) to 23:01 on the 6th. The repeated hour stays in the bucket of
     * the 7th, which began: the 6th has 24 hours, the 7th 25, and buckets stay contiguous. */
    z = open_zone("America/St_Johns");
    int64_t d6 = la_tz_local_date_start(z, 2010, 11, 6), d7 = la_tz_local_date_start(z, 2010, 11, 7);
    ck_assert_int_eq(d7, utc_ms(2010, 11, 7, 2, 30));
    ck_assert_int_eq(d7 - d6, 24LL * H * 1000);
    ck_assert_int_eq(la_tz_bucket_next(z, LA_BUCKET_DAY, d6), d7);
    ck_assert_int_eq(la_tz_bucket_start(z, LA_BUCKET_DAY, utc_ms(2010, 11, 7, 3, 0)), d7);
    ck_assert_int_eq(la_tz_bucket_next(z, LA_BUCKET_DAY, d7) - d7, 25LL * H * 1000);
    ck_assert_int_eq(la_tz_offset(z, utc_ms(2010, 11, 7, 3, 0)), -(3 * H + 1800));
    la_tz_free(z);
    /* Samoa skipped 2011-12-30: an empty day between the 29th and the 31st. */
    z = open_zone("Pacific/Apia");
    int64_t d29 = la_tz_local_date_start(z, 2011, 12, 29);
    int64_t d30 = la_tz_local_date_start(z, 2011, 12, 30);
    int64_t d31 = la_tz_local_date_start(z, 2011, 12, 31);
    ck_assert_int_eq(d30, d31);
    ck_assert_int_eq(la_tz_bucket_next(z, LA_BUCKET_DAY, d29), d31);
    ck_assert_int_eq(d31 - d29, 24LL * H * 1000);
    la_tz_free(z);
    /* Lord Howe: a 30-minute DST. */
    z = open_zone("Australia/Lord_Howe");
    ck_assert_int_eq(la_tz_offset(z, utc_ms(2026, 1, 15, 0, 0)), 11 * H);
    ck_assert_int_eq(la_tz_offset(z, utc_ms(2026, 6, 15, 0, 0)), 10 * H + 1800);
    la_tz_free(z);
}
END_TEST

/* la_tz_local_date_start normalises months and days. */
START_TEST(tz_facts__date_rollover)
{
    la_tz *z = open_zone("UTC");
    ck_assert_int_eq(la_tz_local_date_start(z, 2025, 13, 1), utc_ms(2026, 1, 1, 0, 0));
    ck_assert_int_eq(la_tz_local_date_start(z, 2026, 0, 1), utc_ms(2025, 12, 1, 0, 0));
    ck_assert_int_eq(la_tz_local_date_start(z, 2026, 4, 31), utc_ms(2026, 5, 1, 0, 0));
    ck_assert_int_eq(la_tz_local_date_start(z, 1970, 1, 1), 0);
    ck_assert_int_eq(la_tz_local_date_start(z, 10000, 1, 1), DOMAIN_END * 1000);
    la_tz_free(z);
    /* NULL is UTC as well. */
    ck_assert_int_eq(la_tz_offset(NULL, 12345), 0);
    ck_assert_int_eq(la_tz_bucket_start(NULL, LA_BUCKET_DAY, utc_ms(2026, 2, 3, 4, 5)),
                     utc_ms(2026, 2, 3, 0, 0));
    ck_assert_str_eq(la_tz_name(NULL), "UTC");
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * Footer TZ strings, against glibc's POSIX TZ parser
 * ------------------------------------------------------------------------------------- */

static size_t put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
    return 4;
}

/* A version 3 TZif file with no transitions, one type (offset utoff) and the given footer. */
static size_t make_tzif(uint8_t *buf, int32_t utoff, const char *footer)
{
    size_t n = 0;
    for (int blk = 0; blk < 2; blk++) {
        memcpy(buf + n, "TZif3", 5);
        memset(buf + n + 5, 0, 15);
        n += 20;
        n += put_be32(buf + n, 0); /* isutcnt */
        n += put_be32(buf + n, 0); /* isstdcnt */
        n += put_be32(buf + n, 0); /* leapcnt */
        n += put_be32(buf + n, 0); /* timecnt */
        n += put_be32(buf + n, 1); /* typecnt */
        n += put_be32(buf + n, 4); /* charcnt */
        n += put_be32(buf + n, (uint32_t)utoff);
        buf[n++] = 0;
        buf[n++] = 0;
        memcpy(buf + n, "XXX", 4);
        n += 4;
    }
    buf[n++] = '\n';
    memcpy(buf + n, footer, strlen(footer));
    n += strlen(footer);
    buf[n++] = '\n';
    return n;
}

static const char *const tz_strings[] = {
    "CET-1CEST,M3.5.0,M10.5.0/3", "<+0545>-5:45", "IST-5:30",
    "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", "IST-2IDT,M3.4.4/26,M10.5.0",
    "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "<-04>4<-03>,M9.1.6/24,M4.1.6/24",
    "NST3:30NDT,M3.2.0,M11.1.0", "EST5EDT,M3.2.0/2:00:00,M11.1.0/2:00:00",
    "AAA3BBB,J60/2,J300/2", "AAA-3BBB-4:15,59/1,299/-2:30", "AAA+3BBB+1,M4.5.6/49,M9.2.1/-47",
    "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", "<+13>-13", "AAA-14", "AAA+12",
};

START_TEST(tzif_footer__matches_glibc)
{
    const char *s = tz_strings[_i];
    uint8_t buf[512];
    size_t n = make_tzif(buf, 0, s);
    la_tzinfo *info;
    const char *why = NULL;
    ck_assert_msg(la_tzif_parse(buf, n, &info, &why) == LA_OK, "%s: %s", s, why);
    la_tz *z;
    ck_assert_int_eq(la_tz_from_info(&z, info, s), LA_OK);
    set_tz(s);
    uint64_t seed = 0xF007u + (uint64_t)_i;
    for (int k = 0; k < 20000; k++) {
        int64_t t = rand_range(&seed, 0, DOMAIN_END);
        TU_CHECK(la_tz_offset(z, t * 1000) == g_off(t), "%s t=%lld: %d, glibc %d", s,
                 (long long)t, la_tz_offset(z, t * 1000), g_off(t));
    }
    trans_list l = find_transitions();
    for (size_t i = 0; i < l.n; i++)
        for (int64_t d = -1; d <= 1; d++)
            TU_CHECK(la_tz_offset(z, (l.t[i] + d) * 1000) == g_off(l.t[i] + d), "%s t=%lld", s,
                     (long long)(l.t[i] + d));
    for (int k = 0; k < 200; k++)
        check_buckets_at(z, &l, rand_range(&seed, 0, Y1970_2100 * 1000));
    free(l.t);
    la_tz_free(z);
}
END_TEST

START_TEST(tzif_footer__rejects)
{
    static const char *const bad[] = {
        "C-1", "CET", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.0.0,M10.5.0",
        "CET-1CEST,M3.5.7,M10.5.0", "CET-1CEST,J0,J100", "CET-1CEST,366,J100",
        "CET-1CEST,M3.5.0/168,M10.5.0", "CET-1CEST,M3.5.0,M10.5.0/3x", "<+05-5", "<+5>-5",
        "CET-1:60", "CET-26", "CET+26", "CET-1CEST-27,M3.5.0,M10.5.0", "CET-1 ", "CET-1CEST;",
        "CET-1CEST,M3.5.0;M10.5.0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[512];
        size_t n = make_tzif(buf, 0, bad[i]);
        la_tzinfo *info = (la_tzinfo *)&n;
        const char *why = NULL;
        ck_assert_msg(la_tzif_parse(buf, n, &info, &why) == LA_ECORRUPT, "accepted \"%s\"", bad[i]);
        ck_assert_ptr_null(info);
        ck_assert_ptr_nonnull(why);
    }
    /* An empty footer: the last type stays. */
    uint8_t buf[512];
    size_t n = make_tzif(buf, -3 * H, "");
    la_tzinfo *info;
    ck_assert_int_eq(la_tzif_parse(buf, n, &info, NULL), LA_OK);
    ck_assert_int_eq(la_tzinfo_offset(info, 1000000), -3 * H);
    la_tzinfo_free(info);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * Names and files
 * ------------------------------------------------------------------------------------- */

START_TEST(tz_open__utc_names)
{
    char *dir = tu_tmpdir();
    setenv("TZDIR", dir, 1); /* empty: proves no file is read */
    static const char *const names[] = {"", "UTC", "Etc/UTC", "Z"};
    for (size_t i = 0; i <= sizeof names / sizeof names[0]; i++) {
        la_tz *z = NULL;
        ck_assert_int_eq(la_tz_open(&z, i ? names[i - 1] : NULL), LA_OK);
        ck_assert_str_eq(la_tz_name(z), "UTC");
        ck_assert_int_eq(la_tz_offset(z, 1234567890000), 0);
        la_tz_free(z);
    }
    la_tz_free(NULL);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(tz_open__bad_names)
{
    char longname[300];
    memset(longname, 'A', 256);
    longname[256] = 0;
    static const char *fixed[] = {"../etc/passwd", "/etc/localtime", "Europe/../Europe/Berlin",
                                  "Europe/Berlin ", "Europe\\Berlin", "a,b", "Europe/Berlin\n",
                                  "..", "x..", "Ber lin", "Europe/Berlin;rm"};
    for (size_t i = 0; i <= sizeof fixed / sizeof fixed[0]; i++) {
        const char *name = i < sizeof fixed / sizeof fixed[0] ? fixed[i] : longname;
        la_tz *z = (la_tz *)&i;
        ck_assert_msg(la_tz_open(&z, name) == LA_EINVAL, "accepted \"%s\"", name);
        ck_assert_ptr_null(z);
        ck_assert_str_ne(la_errmsg(), "");
    }
    longname[255] = 0; /* 255 characters is allowed, just not there */
    la_tz *z;
    ck_assert_int_eq(la_tz_open(&z, longname), LA_ENOTFOUND);
}
END_TEST

START_TEST(tz_open__missing)
{
    static const char *missing[] = {"Nowhere/Atlantis", "Europe", "Europe/Berlin/x", "Europe/"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        la_tz *z;
        ck_assert_msg(la_tz_open(&z, missing[i]) == LA_ENOTFOUND, "%s: %d %s", missing[i],
                      la_tz_open(&z, missing[i]), la_errmsg());
        ck_assert_ptr_null(z);
        ck_assert_ptr_nonnull(strstr(la_errmsg(), missing[i]));
    }
}
END_TEST

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t *buf = malloc(1 << 16);
    ck_assert_ptr_nonnull(buf);
    *n = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void spit(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* $TZDIR is honoured, and a truncated or garbled copy of a real file is LA_ECORRUPT naming
 * the file, never a crash. */
START_TEST(tz_open__tzdir_and_corrupt_files)
{
    char *dir = tu_tmpdir();
    char sub[600], path[700];
    snprintf(sub, sizeof sub, "%s/My", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    setenv("TZDIR", dir, 1);
    size_t n;
    uint8_t *berlin = slurp(ZONEINFO "/Europe/Berlin", &n);
    snprintf(path, sizeof path, "%s/My/Zone", dir);
    spit(path, berlin, n);
    la_tz *z;
    ck_assert_int_eq(la_tz_open(&z, "My/Zone"), LA_OK);
    ck_assert_int_eq(la_tz_offset(z, utc_ms(2026, 7, 1, 0, 0)), 7200);
    ck_assert_str_eq(la_tz_name(z), "My/Zone");
    la_tz_free(z);
    ck_assert_int_eq(la_tz_open(&z, "Europe/Berlin"), LA_ENOTFOUND); /* not in this TZDIR */

    /* Every prefix is corrupt: parsed from exact-size copies (ASan sees any overread), and a
     * few through the file system. */
    for (size_t len = 0; len < n; len++) {
        uint8_t *c = malloc(len ? len : 1);
        memcpy(c, berlin, len);
        la_tzinfo *info;
        const char *why = NULL;
        int rc = la_tzif_parse(c, len, &info, &why);
        TU_CHECK(rc == LA_ECORRUPT && why != NULL, "truncated to %zu: %d", len, rc);
        free(c);
    }
    const size_t cuts[] = {0, 3, 43, 44, 100, n / 2, n - 2, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        spit(path, berlin, cuts[i]);
        int rc = la_tz_open(&z, "My/Zone");
        ck_assert_msg(rc == LA_ECORRUPT, "truncated to %zu: %d", cuts[i], rc);
        ck_assert_msg(strstr(la_errmsg(), path) != NULL, "message \"%s\" does not name the file",
                      la_errmsg());
    }
    static const struct { size_t off; uint8_t val; } garbles[] = {
        {0, 'X'}, {4, '9'}, {39, 0}, {43, 0}, /* magic, version, typecnt, charcnt */
    };
    for (size_t g = 0; g < sizeof garbles / sizeof garbles[0]; g++) {
        uint8_t *c = malloc(n);
        memcpy(c, berlin, n);
        c[garbles[g].off] = garbles[g].val;
        spit(path, c, n);
        ck_assert_int_eq(la_tz_open(&z, "My/Zone"), LA_ECORRUPT);
        free(c);
    }
    /* Random damage: accepted or LA_ECORRUPT; accepted zones still keep bucket invariants. */
    uint64_t seed = 0xDA3Au;
    for (int k = 0; k < 300; k++) {
        uint8_t *c = malloc(n + 8);
        memcpy(c, berlin, n);
        size_t len = n;
        int flips = 1 + (int)(tu_rand(&seed) % 4);
        for (int f = 0; f < flips; f++)
            c[tu_rand(&seed) % n] ^= (uint8_t)(1u << (tu_rand(&seed) % 8));
        if (tu_rand(&seed) % 4 == 0)
            c[len++] = '\n';
        spit(path, c, len);
        int rc = la_tz_open(&z, "My/Zone");
        TU_CHECK(rc == LA_OK || rc == LA_ECORRUPT, "damaged file: %d", rc);
        if (rc == LA_OK) {
            for (int q = 0; q < 50; q++) {
                int64_t t = rand_range(&seed, 0, DOMAIN_END * 1000);
                int b = (int)(tu_rand(&seed) % 5);
                int64_t s = la_tz_bucket_start(z, b, t), nx = la_tz_bucket_next(z, b, s);
                TU_CHECK(s <= t && t < nx, "damaged zone: bucket %d t=%lld", b, (long long)t);
            }
            la_tz_free(z);
        }
        free(c);
    }
    /* A leap-second ("right/") file is refused rather than read in the wrong time scale. */
    size_t rn;
    if (access(ZONEINFO "/right/UTC", R_OK) == 0) {
        uint8_t *r = slurp(ZONEINFO "/right/UTC", &rn);
        la_tzinfo *info;
        const char *why = NULL;
        ck_assert_int_eq(la_tzif_parse(r, rn, &info, &why), LA_ECORRUPT);
        ck_assert_ptr_nonnull(strstr(why, "leap"));
        free(r);
    }
    free(berlin);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* Every file access goes through the I/O seam. */
static int seam_opens;
static int seam_fail;
static int seam_open(const char *path, int flags, int mode)
{
    seam_opens++;
    if (seam_fail) {
        errno = EIO;
        return -1;
    }
    return la_io_posix()->open(path, flags, mode);
}

START_TEST(tz_open__through_io_seam)
{
    la_io io = *la_io_posix();
    io.open = seam_open;
    la_io_set(&io);
    la_tz *z;
    ck_assert_int_eq(la_tz_open(&z, "Asia/Kolkata"), LA_OK);
    ck_assert_int_eq(seam_opens, 1);
    la_tz_free(z);
    seam_fail = 1;
    ck_assert_int_eq(la_tz_open(&z, "Asia/Kolkata"), LA_EIO);
    ck_assert_int_eq(la_tz_open(&z, "UTC"), LA_OK); /* no file */
    ck_assert_int_eq(seam_opens, 2);
    la_tz_free(z);
    la_io_set(NULL);
}
END_TEST

/* Every real zone on the machine parses (a few hundred files). */
START_TEST(tzif_parse__all_system_zones)
{
    FILE *p = popen("cd " ZONEINFO " && find . -type f ! -path './right/*' ! -path './posix/*' "
                    "! -name '*.tab' ! -name '*.zi' ! -name 'leapseconds' ! -name 'tzdata.zi' "
                    "! -name 'SECURITY' ! -name 'leap-seconds.list' ! -name 'posixrules' | sort",
                    "r");
    ck_assert_ptr_nonnull(p);
    char line[512];
    int files = 0;
    uint64_t seed = 0xA11u;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        char path[700];
        snprintf(path, sizeof path, ZONEINFO "/%s", line + 2);
        size_t n;
        uint8_t *buf = slurp(path, &n);
        if (n < 4 || memcmp(buf, "TZif", 4) != 0) {
            free(buf);
            continue;
        }
        la_tzinfo *info;
        const char *why = NULL;
        int rc = la_tzif_parse(buf, n, &info, &why);
        TU_CHECK(rc == LA_OK, "%s: %d %s", path, rc, why ? why : "");
        la_tz *z;
        ck_assert_int_eq(la_tz_from_info(&z, info, line + 2), LA_OK);
        for (int k = 0; k < 200; k++) {
            int64_t t = rand_range(&seed, 0, DOMAIN_END * 1000);
            int b = (int)(tu_rand(&seed) % 5);
            int64_t s = la_tz_bucket_start(z, b, t), nx = la_tz_bucket_next(z, b, s);
            TU_CHECK(s <= t && t < nx && la_tz_bucket_start(z, b, nx) == nx, "%s bucket %d t=%lld",
                     line, b, (long long)t);
        }
        la_tz_free(z);
        free(buf);
        files++;
    }
    pclose(p);
    ck_assert_int_gt(files, 300);
}
END_TEST

static Suite *tz_suite(void)
{
    Suite *s = suite_create("tz");
    TCase *tc = tcase_create("offsets");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, tz_offsets__random_and_transitions, 0, (int)NZONES);
    suite_add_tcase(s, tc);
    tc = tcase_create("buckets");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, tz_buckets__against_glibc, 0, (int)NZONES);
    tcase_add_loop_test(tc, tz_buckets__walk_invariants, 0, (int)NZONES);
    suite_add_tcase(s, tc);
    tc = tcase_create("facts");
    tcase_add_test(tc, tz_facts__berlin_dst_days);
    tcase_add_test(tc, tz_facts__half_and_quarter_hours);
    tcase_add_test(tc, tz_facts__midnight_jumps_and_skipped_day);
    tcase_add_test(tc, tz_facts__date_rollover);
    suite_add_tcase(s, tc);
    tc = tcase_create("footer");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, tzif_footer__matches_glibc, 0,
                        (int)(sizeof tz_strings / sizeof tz_strings[0]));
    tcase_add_test(tc, tzif_footer__rejects);
    suite_add_tcase(s, tc);
    tc = tcase_create("open");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tz_open__utc_names);
    tcase_add_test(tc, tz_open__bad_names);
    tcase_add_test(tc, tz_open__missing);
    tcase_add_test(tc, tz_open__tzdir_and_corrupt_files);
    tcase_add_test(tc, tz_open__through_io_seam);
    tcase_add_test(tc, tzif_parse__all_system_zones);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(tz_suite)
