/* tz.h — IANA time zones loaded from the system tzdata, and the local-time buckets (hour, day,
 * ISO week, month, year) that series queries group by.
 *
 * Where zones come from: the TZif file <base>/<name>, base = $TZDIR if set and non-empty, else
 * /usr/share/zoneinfo, read once through the I/O seam (la_io_current()) when the zone is opened.
 *
 * Bucket definition. Let local(s) = s + offset(s) for a UTC instant s. The start of the bucket
 * whose first local date[/hour] is B is
 *
 *     start(B) = the smallest UTC instant s with local(s) >= B.
 *
 * Starts are therefore non-decreasing in B, and the bucket containing t is the last B with
 * start(B) <= t — identified by the local calendar date/hour of t (local(t)), except where the
 * offset moves backwards across a bucket boundary: local time that re-enters an earlier date
 * or hour after the later one has begun stays in the later bucket (the bucket is the one of the
 * largest local time reached at or before t). Consequences:
 *  - DST days have 23 or 25 hours; a fall-back hour bucket lasts two hours, a skipped hour is
 *    an empty bucket that bucket_next() steps over;
 *  - a day whose local midnight does not exist (DST starting at 00:00, America/Santiago)
 *    starts at the first instant of that date; a skipped date (Pacific/Apia, 2011-12-30) is
 *    an empty bucket;
 *  - Asia/Kolkata (+5:30) days start at 18:30 UTC, Asia/Kathmandu (+5:45) at 18:15 UTC, and
 *    Kolkata hour buckets at :30 UTC;
 *  - buckets are contiguous and increasing: bucket_start(t) <= t < bucket_next(bucket_start(t))
 *    and bucket_next(s) > s, for every t in [0, 253402300800000).
 * Weeks are ISO weeks (Monday 00:00). Calendar arithmetic is proleptic Gregorian.
 *
 * A la_tz is immutable after open and may be shared by threads. Every function taking a
 * const la_tz * treats NULL as UTC. Internal to the engine (no LA_API). */
#ifndef LA_ENGINE_TZ_H
#define LA_ENGINE_TZ_H

#include <stdint.h>

#include "tzif.h"

typedef struct la_tz la_tz;

/*! la_tz_open() : the zone `name`. NULL, "", "UTC", "Etc/UTC" and "Z" give the built-in UTC
 *  without reading any file. Other names: 1..255 bytes of [A-Za-z0-9._+-/], not starting with
 *  '/', not containing "..".
 *  @return LA_OK and *out (free with la_tz_free); LA_EINVAL for a bad name, LA_ENOTFOUND when
 *  there is no such file (or it is a directory), LA_ECORRUPT when the file is not a valid TZif
 *  file (la_errmsg() names the file and the reason), LA_ENOMEM, LA_EIO. Errors set la_errmsg(). */
int la_tz_open(la_tz **out, const char *name);

/*! la_tz_from_info() : wrap a parsed zone (taking ownership of `info`, freed on failure too)
 *  under `name` (truncated to 255 bytes; NULL = "UTC"). For tests and fuzzing of la_tzif_parse.
 *  @return LA_OK or LA_ENOMEM. */
int la_tz_from_info(la_tz **out, la_tzinfo *info, const char *name);

/*! la_tz_free() : accepts NULL. */
void la_tz_free(la_tz *z);

/*! la_tz_name() : the name it was opened with; "UTC" for the built-in. */
const char *la_tz_name(const la_tz *z);

/*! la_tz_offset() : UTC offset in seconds east at UTC millisecond t_ms. */
int32_t la_tz_offset(const la_tz *z, int64_t t_ms);

/*! la_tz_bucket_start() : UTC ms of the first instant of the bucket (LA_BUCKET_HOUR .. _YEAR;
 *  any other value is taken as LA_BUCKET_DAY) containing t_ms, as defined above. */
int64_t la_tz_bucket_start(const la_tz *z, int bucket, int64_t t_ms);

/*! la_tz_bucket_next() : UTC ms of the start of the bucket after the one containing start_ms
 *  (normally start_ms is a bucket start); always > start_ms. */
int64_t la_tz_bucket_next(const la_tz *z, int bucket, int64_t start_ms);

/*! la_tz_local_date_start() : UTC ms of the first instant whose local date is >= year-month-mday
 *  (how "YYYY-MM-DD" is read as local midnight). Out-of-range month or mday roll over (month 13
 *  is January of the next year, April 31 is May 1). Meaningful for years 1970..9999, which the
 *  caller checks; year and mday are clamped to +-100000 so that nothing overflows. */
int64_t la_tz_local_date_start(const la_tz *z, int32_t year, int month, int mday);

#endif
