/* tzif.h — a pure parser of TZif time zone files (RFC 8536, versions 1 to 3; version 4 of
 * RFC 9636 is read as 3) and the zone it describes: UTC offset as a function of UTC time,
 * including the POSIX TZ string of the footer for times after the last transition. No I/O:
 * engine/tz.c reads the file. Also the proleptic Gregorian calendar helpers that TZ rules and
 * local-time buckets are defined in. */
#ifndef LA_FORMAT_TZIF_H
#define LA_FORMAT_TZIF_H

#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "la.h"

/* A parsed zone: immutable, may be shared by threads. */
typedef struct la_tzinfo la_tzinfo;

/* Offsets outside [-25:59:59, +25:59:59] are rejected (RFC 8536 §3.2 "SHOULD"), so that
 * local time is never more than a day and change away from UTC. */
#define LA_TZ_MIN_OFFSET (-89999)
#define LA_TZ_MAX_OFFSET 93599

/*! la_tzif_parse() : parse the TZif file p[0..len) into *out (free with la_tzinfo_free).
 *  For version 2+ files the 64-bit data block and the footer are used, the version 1 block is
 *  only skipped. Rejected as corrupt (with a static reason in *why, if why != NULL): a bad
 *  magic or version, counts that do not fit, transitions not strictly ascending, a type index
 *  out of range, an offset out of range, a designation not NUL-terminated, a footer that is
 *  not a valid TZ string, trailing bytes, and leap-second records (the "right/" zones count
 *  time in a different scale; la works in POSIX time).
 *  @return LA_OK, LA_ENOMEM or LA_ECORRUPT. */
int la_tzif_parse(const uint8_t *p, size_t len, la_tzinfo **out, const char **why);

/*! la_tzinfo_free() : accepts NULL. */
void la_tzinfo_free(la_tzinfo *z);

/*! la_tzinfo_offset() : UTC offset in seconds east in effect at UTC second t_s. Before the
 *  first transition: type 0 (RFC 8536 §3.2); after the last: the footer TZ string, or the last
 *  transition's type if there is none. Meaningful for t_s in [0, 253402300800) and a little
 *  around it; defined (no overflow) for every int64. */
int32_t la_tzinfo_offset(const la_tzinfo *z, int64_t t_s);

/*! la_tzinfo_span() : the offset at t_s and the span [*from, *to) of UTC seconds around t_s
 *  over which it is constant (INT64_MIN / INT64_MAX when unbounded). Spans may be split where
 *  the offset does not change (a footer rule that only switches isdst, say), never merged
 *  across a change. This is what local-time buckets walk. */
int32_t la_tzinfo_span(const la_tzinfo *z, int64_t t_s, int64_t *from, int64_t *to);

/*! la_tzinfo_bounds() : the smallest and largest offset the zone can give. */
void la_tzinfo_bounds(const la_tzinfo *z, int32_t *min_off, int32_t *max_off);


#endif
