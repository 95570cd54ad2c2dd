/* tz.c — opening IANA zones from the system tzdata through the I/O seam, and local-time
 * bucket boundaries (definition in tz.h). All bucket arithmetic is in whole seconds: offsets
 * and transitions are whole seconds, so bucket starts are too. */
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "io.h"

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX 255
/* The largest real TZif files are a few KB; anything this big is not one. */
#define TZ_FILE_MAX (1u << 20)

struct la_tz {
    la_tzinfo *info;            /* NULL: the built-in UTC */
    int32_t min_off, max_off;   /* bounds of the zone's offsets: how far bucket searches look */
    char name[TZ_NAME_MAX + 1];
};

int la_tz_from_info(la_tz **out, la_tzinfo *info, const char *name)
{
    *out = NULL;
    la_tz *z = calloc(1, sizeof *z);
    if (!z) {
        la_tzinfo_free(info);
        return la_err(LA_ENOMEM, "time zone: out of memory");
    }
    z->info = info;
    if (info)
        la_tzinfo_bounds(info, &z->min_off, &z->max_off);
    snprintf(z->name, sizeof z->name, "%s", name ? name : "UTC");
    *out = z;
    return LA_OK;
}

static int is_utc_name(const char *name)
{
    return !name || !*name || !strcmp(name, "UTC") || !strcmp(name, "Etc/UTC") || !strcmp(name, "Z");
}

/* Names become paths under the zone directory: keep them inside it. */
static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || strstr(name, ".."))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '/' || c == '.'))
            return 0;
    }
    return 1;
}

/* Read the whole file at path into buf[0..len). LA_ENOTFOUND if it is missing or a directory. */
static int read_file(const char *name, const char *path, uint8_t **buf, size_t *len)
{
    const la_io *io = la_io_current();
    int fd = io->open(path, O_RDONLY, 0);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return la_err(LA_ENOTFOUND, "no such time zone: %s (%s)", name, path);
        return la_err_errno(e, "open", path);
    }
    uint64_t size;
    if (io->size(fd, &size) != 0) {
        int e = errno;
        io->close(fd);
        return la_err_errno(e, "stat", path);
    }
    if (size > TZ_FILE_MAX) {
        io->close(fd);
        return la_err_corrupt(path, -1, "too large for a TZif file");
    }
    uint8_t *p = malloc(size ? (size_t)size : 1);
    if (!p) {
        io->close(fd);
        return la_err(LA_ENOMEM, "time zone %s: out of memory", path);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t k = io->pread(fd, p + got, (size_t)size - got, (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            free(p);
            io->close(fd);
            if (e == EISDIR)
                return la_err(LA_ENOTFOUND, "no such time zone: %s (%s is a directory)", name, path);
            return la_err_errno(e, "read", path);
        }
        if (k == 0)
            break; /* shrank under us: parse what is there, the parser judges it */
        got += (size_t)k;
    }
    io->close(fd);
    *buf = p;
    *len = got;
    return LA_OK;
}

int la_tz_open(la_tz **out, const char *name)
{
    *out = NULL;
    if (is_utc_name(name))
        return la_tz_from_info(out, NULL, "UTC");
    if (!name_ok(name))
        return la_err(LA_EINVAL, "invalid time zone name \"%.64s\"", name);
    const char *base = getenv("TZDIR");
    if (!base || !*base)
        base = TZ_DEFAULT_DIR;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", base, name) >= sizeof path)
        return la_err(LA_EINVAL, "time zone path too long: %.64s.../%s", base, name);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = read_file(name, path, &buf, &len);
    if (rc != LA_OK)
        return rc;
    la_tzinfo *info;
    const char *why = "corrupt";
    rc = la_tzif_parse(buf, len, &info, &why);
    free(buf);
    if (rc == LA_ECORRUPT)
        return la_err_corrupt(path, -1, why);
    if (rc != LA_OK)
        return la_err(rc, "time zone %s: out of memory", path);
    return la_tz_from_info(out, info, name);
}

void la_tz_free(la_tz *z)
{
    if (!z)
        return;
    la_tzinfo_free(z->info);
    free(z);
}

const char *la_tz_name(const la_tz *z) { return z ? z->name : "UTC"; }

static int32_t span(const la_tz *z, int64_t t, int64_t *from, int64_t *to)
{
    if (!z || !z->info) {
        *from = INT64_MIN;
        *to = INT64_MAX;
        return 0;
    }
    return la_tzinfo_span(z->info, t, from, to);
}

int32_t la_tz_offset(const la_tz *z, int64_t t_ms)
{
    int64_t from, to;
    return span(z, la_floordiv(t_ms, 1000), &from, &to);
}

static int32_t swing(const la_tz *z) { return z ? z->max_off - z->min_off : 0; }

/* The largest local second reached at or before UTC ms t_ms: local(t), or more if the offset
 * fell back since. Only spans ending within `swing` seconds before t can have been ahead. */
static int64_t reached_local(const la_tz *z, int64_t t_ms)
{
    int64_t t = la_floordiv(t_ms, 1000), from, to;
    int64_t best = t + span(z, t, &from, &to);
    int64_t lim = t - swing(z);
    while (from > lim && from != INT64_MIN) {
        int64_t pfrom, pto;
        int32_t poff = span(z, from - 1, &pfrom, &pto);
        /* the last instant before `from` shows local second from - 1 + poff */
        if (from - 1 + poff > best)
            best = from - 1 + poff;
        from = pfrom;
    }
    return best;
}

/* The smallest UTC second s with local(s) >= lb. Before lb - max_off nothing reaches lb;
 * by lb - min_off everything does, so the walk over spans is short. */
static int64_t first_reaching(const la_tz *z, int64_t lb)
{
    int64_t s = lb - (z ? z->max_off : 0);
    for (;;) {
        int64_t from, to;
        int32_t off = span(z, s, &from, &to);
        int64_t c = lb - off > s ? lb - off : s;
        if (c < to)
            return c;
        s = to;
    }
}

/* First local second of the bucket containing local second l. */
static int64_t local_floor(int bucket, int64_t l)
{
    int64_t day = la_floordiv(l, 86400), y;
    int m, d;
    switch (bucket) {
    case LA_BUCKET_HOUR:
        return la_floordiv(l, 3600) * 3600;
    case LA_BUCKET_WEEK:
        return (day - (la_weekday(day) + 6) % 7) * 86400; /* back to Monday */
    case LA_BUCKET_MONTH:
        la_civil_from_days(day, &y, &m, &d);
        return la_days_from_civil(y, m, 1) * 86400;
    case LA_BUCKET_YEAR:
        la_civil_from_days(day, &y, &m, &d);
        return la_days_from_civil(y, 1, 1) * 86400;
    default:
        return day * 86400;
    }
}

/* First local second of the bucket after the one starting at local second lb. */
static int64_t local_next(int bucket, int64_t lb)
{
    int64_t y;
    int m, d;
    switch (bucket) {
    case LA_BUCKET_HOUR:
        return lb + 3600;
    case LA_BUCKET_WEEK:
        return lb + 7 * 86400;
    case LA_BUCKET_MONTH:
        la_civil_from_days(la_floordiv(lb, 86400), &y, &m, &d);
        return la_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * 86400;
    case LA_BUCKET_YEAR:
        la_civil_from_days(la_floordiv(lb, 86400), &y, &m, &d);
        return la_days_from_civil(y + 1, 1, 1) * 86400;
    default:
        return lb + 86400;
    }
}

int64_t la_tz_bucket_start(const la_tz *z, int bucket, int64_t t_ms)
{
    return first_reaching(z, local_floor(bucket, reached_local(z, t_ms))) * 1000;
}

int64_t la_tz_bucket_next(const la_tz *z, int bucket, int64_t start_ms)
{
    int64_t lb = local_floor(bucket, reached_local(z, start_ms));
    return first_reaching(z, local_next(bucket, lb)) * 1000;
}

int64_t la_tz_local_date_start(const la_tz *z, int32_t year, int month, int mday)
{
    /* Clamped only so that no input overflows; callers validate 1970..9999. */
    int64_t y0 = year < -100000 ? -100000 : year > 100000 ? 100000 : year;
    int64_t md = mday < -100000 ? -100000 : mday > 100000 ? 100000 : mday;
    int64_t y = y0 + la_floordiv((int64_t)month - 1, 12);
    int m = (int)((int64_t)month - 1 - la_floordiv((int64_t)month - 1, 12) * 12) + 1;
    int64_t day = la_days_from_civil(y, m, 1) + md - 1;
    return first_reaching(z, day * 86400) * 1000;
}
