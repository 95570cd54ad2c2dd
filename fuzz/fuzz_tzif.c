/* fuzz_tzif.c — la_tzif_parse of a whole TZif file; an accepted zone must give bounded
 * offsets, consistent constant-offset spans, and local-time buckets that are contiguous and
 * increasing (tz.h) at instants drawn from a hash of the input. */
#include <string.h>

#include "tz.h"
#include "tzif.h"

#include "fuzz.h"

#define DOMAIN_END_MS 253402300800000LL /* 10000-01-01T00:00:00Z */

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    la_tzinfo *info;
    const char *why = NULL;
    int rc = la_tzif_parse(data, size, &info, &why);
    FZ_ASSERT(rc == LA_OK || rc == LA_ECORRUPT || rc == LA_ENOMEM);
    if (rc != LA_OK) {
        FZ_ASSERT(rc != LA_ECORRUPT || why != NULL);
        return 0;
    }
    /* The input is the file itself (no room for parameters): draw instants from its hash. */
    uint64_t seed = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 0x100000001b3ull;

    int32_t lo, hi;
    la_tzinfo_bounds(info, &lo, &hi);
    FZ_ASSERT(LA_TZ_MIN_OFFSET <= lo && lo <= hi && hi <= LA_TZ_MAX_OFFSET);
    for (int k = 0; k < 16; k++) {
        int64_t t = (int64_t)(mix(&seed) % (uint64_t)(DOMAIN_END_MS / 1000 + 4 * 86400)) - 2 * 86400;
        int64_t from, to;
        int32_t off = la_tzinfo_span(info, t, &from, &to);
        FZ_ASSERT(off >= lo && off <= hi);
        FZ_ASSERT(off == la_tzinfo_offset(info, t));
        FZ_ASSERT(from <= t && t < to);
        if (to != INT64_MAX) {
            int64_t f2, t2;
            la_tzinfo_span(info, to, &f2, &t2);
            FZ_ASSERT(f2 == to); /* spans tile the line */
        }
        if (from != INT64_MIN) {
            int64_t f2, t2;
            la_tzinfo_span(info, from - 1, &f2, &t2);
            FZ_ASSERT(t2 == from);
        }
    }

    la_tz *z;
    if (la_tz_from_info(&z, info, "fuzz") != LA_OK)
        return 0;
    for (int k = 0; k < 8; k++) {
        int64_t t = (int64_t)(mix(&seed) % (uint64_t)DOMAIN_END_MS);
        for (int b = LA_BUCKET_HOUR; b <= LA_BUCKET_YEAR; b++) {
            int64_t s = la_tz_bucket_start(z, b, t);
            int64_t n = la_tz_bucket_next(z, b, s);
            FZ_ASSERT(s <= t && t < n);
            FZ_ASSERT(la_tz_bucket_start(z, b, s) == s);
            FZ_ASSERT(la_tz_bucket_start(z, b, n) == n);
            FZ_ASSERT(la_tz_bucket_start(z, b, n - 1) == s);
            FZ_ASSERT(la_tz_bucket_next(z, b, n) > n);
        }
        /* A local date's first instant starts that day's bucket. */
        int64_t y;
        int m, d;
        la_civil_from_days(la_floordiv(t, 86400000), &y, &m, &d);
        int64_t ds = la_tz_local_date_start(z, (int32_t)y, m, d);
        FZ_ASSERT(la_tz_bucket_start(z, LA_BUCKET_DAY, ds) == ds);
    }
    la_tz_free(z);
    return 0;
}
