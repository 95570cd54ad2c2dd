/* retention.c — the two ends of a day's life: which event times a database accepts (too old
 * for the retention window: LA_ETOOOLD; too far ahead of the clock: LA_EFUTURE), and deleting
 * the raw files of the days that aged out (SPEC.md §14). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "db.h"
#include "error.h"
#include "io.h"

/* The newest event time the database holds (INT64_MIN: none). A writer learns it once, from
 * the newest non-empty day, and follows its appends; a read-only handle reads it each time. */
static int newest_stored(la_db *db, int64_t *out)
{
    *out = INT64_MIN; /* also on error */
    if (!db->readonly && db->newest_known) {
        *out = db->newest_ts;
        return LA_OK;
    }
    int64_t best = INT64_MIN;
    for (size_t i = db->ndays; i-- > 0 && best == INT64_MIN;) {
        if (db->days[i].gone)
            continue;
        la_day *d;
        int rc = la_db_day(db, db->days[i].day, 0, &d);
        if (rc == 0 && db->readonly)
            rc = la_day_refresh(d);
        if (rc != 0)
            return rc;
        for (uint32_t b = 0; b < d->nblocks; b++)
            if (d->blocks[b].max_ts > best)
                best = d->blocks[b].max_ts;
        for (uint64_t r = 0; r < d->tail_rows; r++) {
            la_row row;
            if ((rc = la_day_tail_row(d, r, &row)) != 0)
                return rc;
            if (row.ts > best)
                best = row.ts;
        }
    }
    if (!db->readonly) {
        db->newest_known = 1;
        db->newest_ts = best;
    }
    *out = best;
    return LA_OK;
}

/* min(clock, newest event): one event far in the future cannot age the whole history out,
 * and a database fed old data keeps it. INT64_MIN when the database holds no event, or when
 * its newest day cannot be read (nothing expires then). */
static int reference_time(la_db *db, int64_t *ref)
{
    int64_t newest, now = la_io_current()->now_ms();
    int rc = newest_stored(db, &newest);
    *ref = newest < now ? newest : now; /* INT64_MIN on error: newest_stored's */
    return rc;
}

/* The first day kept at reference time ref: day D has expired once it ended more than
 * retention_days before ref, (D + 1 + retention_days) * 1 day < ref. */
static int64_t first_kept_day(const la_db *db, int64_t ref)
{
    if (ref == INT64_MIN)
        return INT64_MIN;
    return la_floor_div(ref - 1, LA_MS_PER_DAY) - (int64_t)db->retention_days;
}

static void date_of(int64_t day, char buf[16])
{
    int64_t y;
    int m, d;
    la_civil_from_days(day, &y, &m, &d);
    snprintf(buf, 16, "%04d-%02d-%02d", (int)y, m, d);
}

static int int32_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* A day that retention deleted (a day file, no segment) stays closed even when a larger
 * retention_days would let it in again: its day file counts rows of the deleted segment, which
 * a new segment's rows would be mistaken for. */
static int deleted_day(la_db *db, int32_t day, int64_t ts)
{
    const la_rstate *rs = &db->roll;
    if (!rs->nfdays || !bsearch(&day, rs->fdays, rs->nfdays, sizeof day, int32_cmp))
        return 0;
    size_t lo = 0, hi = db->ndays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (db->days[mid].day == day)
            return 0;
        if (db->days[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    char date[16];
    date_of(day, date);
    return la_err(LA_ETOOOLD, "event time %lld: retention deleted the raw events of %s", (long long)ts, date);
}

int la_db_check_time(la_db *db, int64_t ts)
{
    int64_t now = la_io_current()->now_ms();
    if (db->future_skew_ms >= 0 && ts > now + db->future_skew_ms)
        return la_err(LA_EFUTURE, "event time %lld is %lld ms ahead of the clock (%lld); future_skew_ms allows %lld",
                      (long long)ts, (long long)(ts - now), (long long)now, (long long)db->future_skew_ms);
    int64_t newest;
    int rc = newest_stored(db, &newest);
    if (rc != 0 || ts >= newest)
        return rc;
    int64_t ref = newest < now ? newest : now, first = first_kept_day(db, ref);
    if (ts / LA_MS_PER_DAY >= first)
        return deleted_day(db, (int32_t)(ts / LA_MS_PER_DAY), ts);
    char day[16], kept[16];
    date_of(ts / LA_MS_PER_DAY, day);
    date_of(first, kept);
    return la_err(LA_ETOOOLD,
                  "event time %lld: its UTC day %s ended more than %u days (retention_days) before the "
                  "reference time %lld, min(clock, newest event); days before %s are not kept",
                  (long long)ts, day, db->retention_days, (long long)ref, kept);
}

/* Bytes of a file, 0 when it cannot be stat'ed (absent or unreadable: nothing to count). */
static uint64_t file_bytes(const char *path)
{
    uint64_t ino, size;
    int64_t mt;
    return la_io_current()->identity(path, &ino, &mt, &size) == 0 ? size : 0;
}

/* The files of an expired day, in the order retention unlinks them (SPEC.md §14.2): the hour
 * rollup file (from then on the day's hours come from its segment), then the segment (from
 * then on the day's raw events are gone and its hours with them). Files that hold more of the
 * day's raw events go after the segment: without it no reader looks at them. */
static const char *const day_files[] = {".hr.roll", ".seg"};
enum { DAY_FILES = sizeof day_files / sizeof *day_files };

static void day_file_path(const la_db *db, int32_t day, size_t i, char *buf, size_t cap)
{
    char date[16];
    date_of(day, date);
    snprintf(buf, cap, "%s/%s%s", db->path, date, day_files[i]);
}

static uint64_t day_bytes(const la_db *db, int32_t day)
{
    char path[4200];
    uint64_t n = 0;
    for (size_t i = 0; i < DAY_FILES; i++) {
        day_file_path(db, day, i, path, sizeof path);
        n += file_bytes(path);
    }
    return n;
}

/* Unlink the files of one day; no free space needed. */
static int delete_day(la_db *db, int32_t day, uint64_t *bytes)
{
    const la_io *io = la_io_current();
    char path[4200];
    for (size_t i = 0; i < DAY_FILES; i++) {
        day_file_path(db, day, i, path, sizeof path);
        uint64_t n = file_bytes(path);
        if (io->unlink(path) != 0 && errno != ENOENT)
            return la_err_errno(errno, "unlink", path);
        *bytes += n;
        if (i == 0)
            la_rs_forget_day(db, day); /* no cached view of the hour file, no delta */
    }
    la_db_forget_day(db, day); /* unmapped and closed: the blocks are free now */
    return 0;
}

/* Whether the day's rollup files include every row of its segment, so that its day, week,
 * month and year stay answerable without it. With `write`, seals and checkpoints the day
 * until they do (this needs disk space). A handle without rollups deletes regardless. */
static int day_ready(la_db *db, int32_t day, int write, int *ready)
{
    *ready = 1;
    if (db->roll.off)
        return 0;
    la_day *d;
    int64_t wm;
    int rc = la_db_day(db, day, 0, &d);
    if (rc == 0 && db->readonly)
        rc = la_day_refresh(d);
    if (rc == 0)
        rc = la_rs_day_wm(db, day, &wm);
    if (rc != 0)
        return rc;
    if ((uint64_t)(wm < 0 ? 0 : wm) == d->commit.rows_in_blocks + d->tail_rows)
        return 0;
    *ready = 0;
    if (!write)
        return 0;
    if ((rc = la_day_seal(d)) != 0 || (rc = la_rs_checkpoint_days(db, &day, 1)) != 0 ||
        (rc = la_rs_day_wm(db, day, &wm)) != 0)
        return rc;
    *ready = wm >= 0 && (uint64_t)wm == d->commit.rows_in_blocks + d->tail_rows;
    return *ready ? 0 : la_err(LA_EIO, "the rollups of day %d do not include its rows after a checkpoint", (int)day);
}

/* The expired days, oldest first, into a new array (the caller frees it). */
static int expired_days(la_db *db, la_retention_stats *st, int32_t **out, size_t *n)
{
    int64_t ref;
    int rc = reference_time(db, &ref);
    int64_t first = first_kept_day(db, ref);
    st->ref_ms = ref;
    st->cutoff_ms = first == INT64_MIN ? INT64_MIN : first * LA_MS_PER_DAY;
    *n = 0;
    *out = NULL;
    if (rc != 0)
        return rc;
    *out = malloc((db->ndays + 1) * sizeof **out);
    if (!*out)
        return la_err(LA_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < db->ndays && db->days[i].day < first; i++)
        if (!db->days[i].gone)
            (*out)[(*n)++] = db->days[i].day;
    return rc;
}

/* Delete the expired days: first those whose rollups are complete (no write, so a full disk
 * gets space back), then the others once a checkpoint completed them. */
static int retention_locked(la_db *db, la_retention_stats *st)
{
    int32_t *days;
    size_t n;
    int rc = expired_days(db, st, &days, &n);
    size_t deleted = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++)
        for (size_t i = 0; i < n && rc == 0; i++) {
            int ready;
            if (days[i] == INT32_MIN || (rc = day_ready(db, days[i], pass, &ready)) != 0 || !ready)
                continue;
            if ((rc = delete_day(db, days[i], &st->bytes)) == 0) {
                days[i] = INT32_MIN;
                deleted++;
            }
        }
    st->days = (uint32_t)deleted;
    st->days_left = (uint32_t)(n - deleted);
    /* one directory sync makes every unlink above durable; a crash before it leaves some
     * days whole, which the next run deletes */
    if (deleted && la_io_current()->sync_dir(db->path) != 0 && rc == 0)
        rc = la_err_errno(errno, "fsync directory", db->path);
    free(days);
    return rc;
}

int la_db_auto_retention(la_db *db)
{
    int64_t ref;
    int rc = reference_time(db, &ref);
    if (rc != 0 || !db->ndays || db->days[0].day >= first_kept_day(db, ref))
        return rc;
    la_retention_stats st;
    memset(&st, 0, sizeof st);
    return retention_locked(db, &st);
}

int la_retention(la_db *db, la_retention_stats *out)
{
    la_err_clear();
    la_retention_stats st;
    memset(&st, 0, sizeof st);
    int rc;
    if (!db)
        rc = la_err(LA_EINVAL, "la_retention: NULL handle");
    else if (db->readonly)
        rc = la_err(LA_EREADONLY, "%s is open read-only", db->path);
    else {
        pthread_mutex_lock(&db->mu);
        rc = retention_locked(db, &st);
        pthread_mutex_unlock(&db->mu);
    }
    if (out)
        *out = st;
    return rc;
}

int la_retention_list(la_db *db, la_expired_fn fn, void *ctx, la_retention_stats *out)
{
    la_err_clear();
    la_retention_stats st;
    memset(&st, 0, sizeof st);
    if (!db) {
        if (out)
            *out = st;
        return la_err(LA_EINVAL, "la_retention_list: NULL handle");
    }
    pthread_mutex_lock(&db->mu);
    int32_t *days = NULL;
    size_t n = 0;
    int rc = la_db_refresh_days(db);
    if (rc == 0)
        rc = expired_days(db, &st, &days, &n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t bytes = day_bytes(db, days[i]);
        int ready;
        if ((rc = day_ready(db, days[i], 0, &ready)) != 0)
            break;
        st.days++;
        st.bytes += bytes;
        if (fn)
            fn(ctx, (int64_t)days[i] * LA_MS_PER_DAY, bytes, ready);
    }
    pthread_mutex_unlock(&db->mu);
    free(days);
    if (out)
        *out = st;
    return rc;
}
