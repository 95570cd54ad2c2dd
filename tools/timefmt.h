/* timefmt.h — the timestamps people type and read: epoch milliseconds or ISO-8601 in UTC. */
#ifndef LA_TOOLS_TIMEFMT_H
#define LA_TOOLS_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Room for the longest timefmt_format() output and its NUL. */
#define TIMEFMT_MAX 32

/* Parse s[0..n) as one of:
 *   epoch milliseconds: an optional '-' and 1..19 digits (e.g. 1764028800000);
 *   ISO-8601 date:      YYYY-MM-DD (midnight UTC);
 *   ISO-8601 time:      YYYY-MM-DD('T'|' ')HH:MM[:SS[.fraction]][Z|+HH:MM|-HH:MM|+HHMM|-HHMM]
 *                       (no zone means UTC; fraction digits past milliseconds are truncated).
 * Years 1970..9999 (the engine's range). Returns 0 and *out, or -1 with a static reason in
 * *why (may be NULL). */
int timefmt_parse(const char *s, size_t n, int64_t *out, const char **why);

/* Which of the forms above timefmt_parse_kind() read. */
enum {
    TIMEFMT_EPOCH = 0, /* epoch milliseconds */
    TIMEFMT_ZONED = 1, /* a date-time with Z or an offset: *out is the exact instant */
    TIMEFMT_DATE = 2,  /* YYYY-MM-DD alone: *out is its midnight read as UTC */
    TIMEFMT_LOCAL = 3  /* a date-time without a zone: *out is that wall-clock time read as UTC */
};

/* timefmt_parse(), and *kind (may be NULL) says which form s had, so that a caller with a time
 * zone can take dates and zone-less date-times as local time rather than UTC. */
int timefmt_parse_kind(const char *s, size_t n, int64_t *out, int *kind, const char **why);

/* Format ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf[TIMEFMT_MAX]; returns the length. Times
 * outside years 0..9999 are printed as epoch milliseconds instead. */
size_t timefmt_format(int64_t ms, char buf[TIMEFMT_MAX]);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t timefmt_days_from_civil(int64_t y, unsigned m, unsigned d);
void timefmt_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
