/* db.c — the database handle: directory, lock file, la.meta, the set of day segments, and the
 * public open/append/flush/close calls. */
#include "db.h"

#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "error.h"
#include "io.h"
#include "live.h"

#define META_NAME "la.meta"
#define LOCK_NAME "la.lock"

int la_version_number(void) { return LA_VERSION_NUMBER; }

uint64_t la_hash_id(const void *data, size_t len) { return XXH3_64bits(data, len); }

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int read_meta(la_db *db)
{
    const la_io *io = la_io_current();
    char *p = join(db->path, META_NAME);
    if (!p)
        return la_err(LA_ENOMEM, "out of memory");
    uint8_t buf[LA_META_MAX + 1];
    int rc = 0;
    int fd = io->open(p, O_RDONLY, 0);
    if (fd < 0) {
        rc = errno == ENOENT ? la_err(LA_ENOTFOUND, "%s: no database here (no %s)", db->path, META_NAME)
                             : la_err_errno(errno, "open", p);
    } else {
        ssize_t n = io->pread(fd, buf, sizeof buf, 0);
        io->close(fd);
        const char *why = NULL;
        if (n < 0)
            rc = la_err_errno(errno, "read", p);
        else if ((rc = la_meta_decode(buf, (size_t)n, &db->meta, &why)) != 0)
            rc = la_err(rc, "%s: offset 0: %s", p, why);
    }
    free(p);
    return rc;
}

static int create_meta(la_db *db, const la_options *o)
{
    const char *dims[LA_MAX_DIMS];
    static const char *const defaults[] = {"country", "city", "device", "browser", "referrer"};
    uint32_t nd = 0;
    if (!o || !o->no_default_dims)
        for (; nd < 5; nd++)
            dims[nd] = defaults[nd];
    uint32_t extra = o ? o->n_extra_dims : 0;
    if (nd + extra > LA_MAX_DIMS)
        return la_err(LA_EINVAL, "too many dimensions (at most %d)", LA_MAX_DIMS);
    for (uint32_t i = 0; i < extra; i++) {
        const char *name = o->extra_dims[i];
        size_t n = name ? strlen(name) : 0;
        if (n == 0 || n > LA_MAX_DIM_NAME || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
            return la_err(LA_EINVAL, "dimension name '%s' must be 1..%d characters of [a-z0-9_]",
                          name ? name : "(null)", LA_MAX_DIM_NAME);
        for (uint32_t j = 0; j < nd; j++)
            if (strcmp(dims[j], name) == 0)
                return la_err(LA_EINVAL, "dimension '%s' declared twice", name);
        static const char *const fixed[] = {"ts", "workspace_id", "link_id", "event_type",
                                            "visitor_id", "session_id", "value"};
        for (size_t j = 0; j < sizeof fixed / sizeof *fixed; j++)
            if (strcmp(fixed[j], name) == 0)
                return la_err(LA_EINVAL, "dimension '%s' clashes with a built-in column", name);
        dims[nd++] = name;
    }
    la_meta *m = &db->meta;
    memset(m, 0, sizeof *m);
    m->read_version = LA_META_READ_VERSION;
    m->write_version = LA_META_WRITE_VERSION;
    m->block_rows = o && o->block_rows ? o->block_rows : 16384;
    m->codec = (uint8_t)(o ? o->codec : LA_CODEC_LZ4);
    m->zstd_level = (uint8_t)(o && o->zstd_level ? o->zstd_level : 3);
    m->retention_days = o && o->retention_days ? o->retention_days : 30;
    la_schema_init(&m->schema, dims, nd);

    uint8_t buf[LA_META_MAX];
    size_t len = la_meta_encode(buf, m);
    return la_write_atomic(db->path, META_NAME, buf, len);
}

static int check_options(const la_options *o)
{
    if (!o)
        return 0;
    if (o->version < 1 || o->version > LA_OPTIONS_VERSION)
        return la_err(LA_EINVAL, "la_options.version is %u, this library knows 1..%d", o->version,
                      LA_OPTIONS_VERSION);
    if (o->block_rows && (o->block_rows < 64 || o->block_rows > (1u << 20)))
        return la_err(LA_EINVAL, "block_rows %u outside 64..1048576", o->block_rows);
    if (o->codec < LA_CODEC_NONE || o->codec > LA_CODEC_ZSTD)
        return la_err(LA_EINVAL, "unknown codec %d", o->codec);
    if (o->zstd_level < 0 || o->zstd_level > 19)
        return la_err(LA_EINVAL, "zstd_level %d outside 1..19", o->zstd_level);
    if (o->n_extra_dims && !o->extra_dims)
        return la_err(LA_EINVAL, "n_extra_dims without extra_dims");
    if (o->version < 3)
        return 0;
    if (o->future_skew_ms < -1)
        return la_err(LA_EINVAL, "future_skew_ms %lld: use -1 for no limit", (long long)o->future_skew_ms);
    if (o->live_window_min > 1440)
        return la_err(LA_EINVAL, "live_window_min %u above 1440", o->live_window_min);
    uint32_t window = o->live_window_min ? o->live_window_min : 30;
    if (o->live_active_min > window)
        return la_err(LA_EINVAL, "live_active_min %u above the live window (%u)", o->live_active_min, window);
    if (o->seal_level < 0 || o->seal_level > 19)
        return la_err(LA_EINVAL, "seal_level %d outside 1..19", o->seal_level);
    return 0;
}

/* Options given to an existing database must not contradict its schema. */
static int check_schema(const la_db *db, const la_options *o)
{
    if (!o || (!o->n_extra_dims && !o->no_default_dims))
        return 0;
    const char *dims[LA_MAX_DIMS];
    static const char *const defaults[] = {"country", "city", "device", "browser", "referrer"};
    uint32_t nd = 0;
    if (!o->no_default_dims)
        for (; nd < 5; nd++)
            dims[nd] = defaults[nd];
    for (uint32_t i = 0; i < o->n_extra_dims && nd < LA_MAX_DIMS; i++)
        dims[nd++] = o->extra_dims[i];
    la_schema want;
    if (la_schema_init(&want, dims, nd) != 0 || !la_schema_equal(&want, &db->meta.schema))
        return la_err(LA_ESCHEMA, "%s: the database was created with other dimensions", db->path);
    return 0;
}

static int day_cmp(const void *a, const void *b)
{
    int32_t x = ((const la_day_slot *)a)->day, y = ((const la_day_slot *)b)->day;
    return (x > y) - (x < y);
}

static int int32_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static la_day_slot *find_slot(la_db *db, int32_t day)
{
    la_day_slot key = {day, NULL, 0, 0, 0};
    return db->ndays ? bsearch(&key, db->days, db->ndays, sizeof key, day_cmp) : NULL;
}

static int add_slot(la_db *db, int32_t day)
{
    if (find_slot(db, day))
        return 0;
    if (db->ndays == db->days_cap) {
        size_t cap = db->days_cap ? db->days_cap * 2 : 64;
        la_day_slot *s = realloc(db->days, cap * sizeof *s);
        if (!s)
            return la_err(LA_ENOMEM, "out of memory");
        db->days = s;
        db->days_cap = cap;
    }
    size_t i = db->ndays;
    while (i > 0 && db->days[i - 1].day > day) {
        db->days[i] = db->days[i - 1];
        i--;
    }
    db->days[i].day = day;
    db->days[i].d = NULL;
    db->days[i].sealed = 0;
    db->days[i].gone = 0;
    db->ndays++;
    return 0;
}

int la_db_rescan_days(la_db *db)
{
    DIR *dir = opendir(db->path);
    if (!dir)
        return la_err_errno(errno, "opendir", db->path);
    int rc = 0;
    struct dirent *e;
    /* read-only: the days known before, to notice those whose segment retention deleted */
    size_t nold = db->readonly ? db->ndays : 0;
    int32_t *old = nold ? malloc(nold * sizeof *old) : NULL;
    uint8_t *seen = nold ? calloc(nold, 1) : NULL;
    if (nold && (!old || !seen))
        rc = la_err(LA_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < nold; i++)
        old[i] = db->days[i].day;
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        int32_t day;
        if (la_seg_name_parse(e->d_name, &day) == 0) {
            const int32_t *o = nold ? bsearch(&day, old, nold, sizeof *old, int32_cmp) : NULL;
            if (o)
                seen[o - old] = 1;
            rc = add_slot(db, day);
        } else if (!db->readonly && strlen(e->d_name) > 8 &&
                 (strcmp(e->d_name + strlen(e->d_name) - 8, ".seg.tmp") == 0 ||
                  strcmp(e->d_name + strlen(e->d_name) - 9, ".roll.tmp") == 0)) {
            /* a file whose creation a crash interrupted: it never became visible */
            char *p = join(db->path, e->d_name);
            if (p)
                la_io_current()->unlink(p);
            free(p);
        }
    }
    closedir(dir);
    /* New scans skip a deleted day; the cursors already reading it keep its mapping, which
     * is why the slot stays until la_close. A day that came back is opened afresh. */
    for (size_t i = 0; rc == 0 && i < nold; i++) {
        la_day_slot *s = find_slot(db, old[i]);
        if (!seen[i])
            s->gone = 1;
        else if (s->gone) {
            la_db_day_retire(db, old[i]); /* cursors may still read the deleted file */
            s->gone = 0;
        }
    }
    free(old);
    free(seen);
    return rc;
}

int la_db_refresh_days(la_db *db)
{
    if (!db->readonly)
        return 0; /* a writer's view is its own doing */
    const la_io *io = la_io_current();
    if (db->dir_watch >= 0 && !db->dir_rescan_due) {
        int changed = io->dir_changed ? io->dir_changed(db->dir_watch) : -1;
        if (changed == 0)
            return 0;
        if (changed < 0) {
            if (io->unwatch)
                io->unwatch(db->dir_watch);
            db->dir_watch = -1;
        }
    }
    db->dir_epoch++; /* a file may have been renamed over or deleted: check identities again */
    db->dir_rescan_due = 1; /* until a listing succeeds: the watch has reported the change */
    int rc = la_db_rescan_days(db);
    if (rc == 0)
        db->dir_rescan_due = 0;
    return rc;
}

int la_db_day(la_db *db, int32_t day, int create, la_day **out)
{
    la_day_slot *s = find_slot(db, day);
    if (s && s->d) {
        s->used = ++db->day_tick;
        *out = s->d;
        return 0;
    }
    if (!s && !create)
        return la_err(LA_ENOTFOUND, "no segment for that day");
    la_day *d;
    int rc = la_day_open(&d, db->path, day, &db->cfg, !db->readonly, create);
    if (rc != 0)
        return rc;
    if (!s) {
        if ((rc = add_slot(db, day)) != 0) {
            la_day_close(d);
            return rc;
        }
        s = find_slot(db, day);
    }
    d->ino_epoch = db->dir_epoch; /* its identity was just read from its name */
    if (!db->readonly) {
        d->on_seal = la_rs_on_seal; /* rollups follow what is sealed */
        d->on_seal_ctx = db;
    }
    s->d = d;
    s->used = ++db->day_tick;
    db->days_open++;
    *out = d;
    return 0;
}

int la_db_day_retire(la_db *db, int32_t day)
{
    la_day_slot *s = find_slot(db, day);
    if (!s || !s->d)
        return LA_OK;
    la_db_free_retired(db);
    if (atomic_load(&db->open_cursors) == 0) {
        la_day_close(s->d);
    } else {
        if (db->nretired == db->retired_cap) {
            size_t cap = db->retired_cap ? db->retired_cap * 2 : 8;
            la_day **r = realloc(db->retired, cap * sizeof *r);
            if (!r)
                return la_err(LA_ENOMEM, "out of memory");
            db->retired = r;
            db->retired_cap = cap;
        }
        s->d->on_seal = NULL;
        db->retired[db->nretired++] = s->d;
    }
    s->d = NULL;
    db->days_open--;
    return LA_OK;
}

void la_db_free_retired(la_db *db)
{
    if (atomic_load(&db->open_cursors) != 0)
        return;
    for (size_t i = 0; i < db->nretired; i++)
        la_day_close(db->retired[i]);
    db->nretired = 0;
}

int la_db_dir_same_since(const la_db *db, uint64_t epoch)
{
    /* Every call of the API looks at the directory first (la_db_refresh_days), which bumps
     * the epoch on any rename or deletion it sees or cannot rule out. */
    return db->readonly && db->dir_watch >= 0 && !db->dir_rescan_due && epoch == db->dir_epoch;
}

int la_db_day_replaced(la_db *db, la_day *d)
{
    /* a file that had its name at the last check still has it: the stat is saved */
    if (la_db_dir_same_since(db, d->ino_epoch))
        return 0;
    int replaced = la_day_replaced(d);
    if (!replaced)
        d->ino_epoch = db->dir_epoch;
    return replaced;
}

int la_db_day_fresh(la_db *db, int32_t day, la_day **out)
{
    int rc = la_db_day(db, day, 0, out);
    if (rc != LA_OK || !db->readonly)
        return rc;
    if (la_db_day_replaced(db, *out)) {
        if ((rc = la_db_day_retire(db, day)) != LA_OK || (rc = la_db_day(db, day, 0, out)) != LA_OK)
            return rc;
    }
    return la_day_refresh(*out);
}

int la_open(la_db **out, const char *path, unsigned flags, const la_options *opts)
{
    la_err_clear();
    if (!out || !path || !*path)
        return la_err(LA_EINVAL, "la_open: NULL argument");
    *out = NULL;
    int rc = check_options(opts);
    if (rc != 0)
        return rc;
    la_options given = LA_OPTIONS_INIT;
    if (opts) /* a version-1 caller's struct ends before the version-2 fields */
        memcpy(&given, opts, opts->version == 1   ? offsetof(la_options, checkpoint_rows)
                             : opts->version == 2 ? offsetof(la_options, future_skew_ms)
                             : opts->version == 3 ? offsetof(la_options, no_rollup_thread)
                                                  : sizeof given);
    opts = &given;
    const la_io *io = la_io_current();
    la_db *db = calloc(1, sizeof *db);
    if (!db || !(db->path = strdup(path))) {
        free(db);
        return la_err(LA_ENOMEM, "out of memory");
    }
    db->readonly = (flags & LA_OPEN_READONLY) != 0;
    db->lock_fd = -1;
    db->dir_watch = -1;
    pthread_mutex_init(&db->mu, NULL);
    if (!db->readonly) {
        if ((flags & LA_OPEN_CREATE) && io->mkdir(path, 0700) != 0 && errno != EEXIST) {
            rc = la_err_errno(errno, "mkdir", path);
            goto fail;
        }
        char *lp = join(path, LOCK_NAME);
        if (!lp) {
            rc = la_err(LA_ENOMEM, "out of memory");
            goto fail;
        }
        db->lock_fd = io->open(lp, O_RDWR | O_CREAT, 0600);
        int e = errno;
        free(lp);
        if (db->lock_fd < 0) {
            rc = e == ENOENT ? la_err(LA_ENOTFOUND, "%s: no such database directory", path)
                             : la_err_errno(e, "open lock file in", path);
            goto fail;
        }
        if (io->lock(db->lock_fd) != 0) {
            rc = errno == EWOULDBLOCK ? la_err(LA_EBUSY, "%s: another process is writing to it", path)
                                      : la_err_errno(errno, "lock", path);
            goto fail;
        }
    }
    rc = read_meta(db);
    if (rc == LA_ENOTFOUND && !db->readonly && (flags & LA_OPEN_CREATE))
        rc = create_meta(db, opts);
    else if (rc == 0)
        rc = check_schema(db, opts);
    if (rc != 0)
        goto fail;
    if (!db->readonly && db->meta.write_version > LA_META_WRITE_VERSION) {
        rc = la_err(LA_EVERSION, "%s: written by a newer format; open it read-only", path);
        goto fail;
    }
    db->cfg.schema = db->meta.schema;
    db->cfg.block_rows = opts && opts->block_rows ? opts->block_rows : db->meta.block_rows;
    db->cfg.codec = opts ? opts->codec : db->meta.codec;
    db->cfg.level = opts && opts->zstd_level ? opts->zstd_level : db->meta.zstd_level;
    db->seal_after_days = opts->seal_after_days ? opts->seal_after_days : 2;
    db->seal_level = opts->seal_level ? opts->seal_level : 9;
    db->auto_seal = !opts->no_auto_seal;
    db->seal_failed_newest = INT32_MIN;
    db->retention_days = opts->retention_days ? opts->retention_days
                         : db->meta.retention_days ? db->meta.retention_days : 30;
    db->future_skew_ms = opts->future_skew_ms ? opts->future_skew_ms : 3600000;
    db->auto_retention = !opts->no_auto_retention;
    db->newest_ts = INT64_MIN;
    if (db->readonly && io->watch_dir) /* before the listing: no change can fall between */
        db->dir_watch = io->watch_dir(path);
    if ((rc = la_db_rescan_days(db)) != 0 || (rc = la_rs_init(db, opts)) != 0)
        goto fail;
    if ((rc = la_live_open(db, opts)) != 0)
        goto fail;
    la_db_trim_days(db);
    *out = db;
    return 0;
fail:
    la_close(db);
    return rc;
}

int la_db_seal_ended_tails(la_db *db)
{
    for (size_t i = 0; i + 1 < db->ndays; i++) {
        la_day *d = db->days[i].d;
        int rc;
        if (d && d->rotated && d->tail_rows && (rc = la_day_seal(d)) != 0)
            return rc;
    }
    return LA_OK;
}

void la_close(la_db *db)
{
    if (!db)
        return;
    int first_rc = 0;
    char msg[512] = "";
    /* seal first, so that the checkpoint includes every row */
    for (size_t i = 0; i < db->ndays && !db->readonly && first_rc == 0; i++) {
        la_day *d = db->days[i].d;
        if (d && d->rotated && (first_rc = la_day_seal(d)) != 0)
            snprintf(msg, sizeof msg, "%s", la_errmsg());
    }
    if (!db->readonly && db->roll.epoch && first_rc == 0 && (first_rc = la_rs_checkpoint_due(db, 1)) != 0)
        snprintf(msg, sizeof msg, "%s", la_errmsg());
    la_rs_free(db);
    la_live_free(db->live);
    for (size_t i = 0; i < db->ndays; i++)
        if (db->days[i].d)
            db->days[i].d->on_seal = NULL; /* the rollups are gone: seals below feed nothing */
    for (size_t i = 0; i < db->ndays; i++) {
        la_day *d = db->days[i].d;
        if (!d)
            continue;
        if (!db->readonly && d->rotated) {
            /* sealing at close leaves compact files; the tail is durable either way */
            int rc = la_day_seal(d);
            if (rc == 0)
                rc = la_day_flush(d);
            if (rc != 0 && first_rc == 0) {
                first_rc = rc;
                snprintf(msg, sizeof msg, "%s", la_errmsg());
            }
        }
        la_day_close(d);
    }
    for (size_t i = 0; i < db->nretired; i++)
        la_day_close(db->retired[i]);
    free(db->retired);
    la_cursor_free_spare(db);
    if (db->lock_fd >= 0)
        la_io_current()->close(db->lock_fd);
    if (db->dir_watch >= 0 && la_io_current()->unwatch)
        la_io_current()->unwatch(db->dir_watch);
    pthread_mutex_destroy(&db->mu);
    free(db->days);
    free(db->path);
    free(db);
    if (first_rc != 0)
        la_err(first_rc, "la_close: %s", msg);
}

uint32_t la_db_ndims(const la_db *db) { return db ? la_schema_ndims(&db->cfg.schema) : 0; }

const char *la_db_dim_name(const la_db *db, uint32_t i)
{
    return db && i < la_db_ndims(db) ? db->cfg.schema.name[LA_NFIXED + i] : NULL;
}

int la_db_dim_index(const la_db *db, const char *name)
{
    for (uint32_t i = 0; name && i < la_db_ndims(db); i++)
        if (strcmp(db->cfg.schema.name[LA_NFIXED + i], name) == 0)
            return (int)i;
    return -1;
}

static int check_str(la_str s, const char *what, int required)
{
    if (!s.data && required)
        return la_err(LA_EINVAL, "%s is required", what);
    if (s.data && s.len > LA_MAX_STR)
        return la_err(LA_EINVAL, "%s is %u bytes, longer than %d", what, s.len, LA_MAX_STR);
    return 0;
}

static int append_locked(la_db *db, const la_event *ev)
{
    int rc;
    if ((rc = check_str(ev->workspace, "workspace", 1)) || (rc = check_str(ev->link, "link", 1)) ||
        (rc = check_str(ev->event_type, "event_type", 1)))
        return rc;
    uint32_t nd = la_schema_ndims(&db->cfg.schema);
    if (ev->ndims > nd || (ev->ndims && !ev->dims))
        return la_err(LA_EINVAL, "event has %u dimensions, the database %u", ev->ndims, nd);
    la_row r;
    r.ts = ev->ts;
    r.visitor = ev->visitor_id;
    r.session = ev->session_id;
    r.has_value = ev->has_value != 0;
    r.value = r.has_value ? ev->value : 0;
    r.nstr = 3 + nd;
    r.str[0] = ev->workspace;
    r.str[1] = ev->link;
    r.str[2] = ev->event_type;
    for (uint32_t i = 0; i < nd; i++) {
        r.str[3 + i] = i < ev->ndims ? ev->dims[i] : (la_str){NULL, 0};
        if ((rc = check_str(r.str[3 + i], "dimension value", 0)) != 0)
            return rc;
    }
    /* arguments first, then the range: an event with both faults is LA_EINVAL */
    if (ev->ts < 0 || ev->ts >= (int64_t)(LA_MAX_DAY + 1) * LA_MS_PER_DAY)
        return la_err(LA_ERANGE, "timestamp %lld outside 1970..9999", (long long)ev->ts);
    if ((rc = la_db_check_time(db, ev->ts)) != 0)
        return rc;
    la_day *d;
    int32_t day = (int32_t)(ev->ts / LA_MS_PER_DAY);
    if ((rc = la_db_day(db, day, 1, &d)) != 0 || (rc = la_day_append(d, &r)) != 0)
        return rc;
    if (ev->ts > db->newest_ts)
        db->newest_ts = ev->ts;
    la_live_add(db->live, ev->workspace, ev->link, ev->ts, ev->visitor_id);
    if (la_day_sealed(d)) { /* a late event: automatic sealing looks at the day again */
        la_day_slot *s = find_slot(db, day);
        s->sealed = 0;
    }
    return 0;
}

int la_append_batch(la_db *db, const la_event *evs, size_t n, size_t *n_done)
{
    la_err_clear();
    size_t i = 0;
    int rc = 0;
    if (!db || (!evs && n))
        rc = la_err(LA_EINVAL, "la_append_batch: NULL argument");
    else if (db->readonly)
        rc = la_err(LA_EREADONLY, "%s is open read-only", db->path);
    else {
        pthread_mutex_lock(&db->mu);
        la_live_tick(db->live); /* one clock reading per batch */
        for (; i < n && (rc = append_locked(db, &evs[i])) == 0; i++)
            ;
        if (rc == 0)
            la_db_trim_days(db);
        pthread_mutex_unlock(&db->mu);
    }
    if (n_done)
        *n_done = i;
    return rc;
}

int la_append(la_db *db, const la_event *ev) { return la_append_batch(db, ev, ev ? 1 : 0, NULL); }

int la_flush(la_db *db)
{
    la_err_clear();
    if (!db)
        return la_err(LA_EINVAL, "la_flush: NULL handle");
    if (db->readonly)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < db->ndays && rc == 0; i++)
        if (db->days[i].d)
            rc = la_day_flush(db->days[i].d);
    if (rc == 0 && db->dir_unsynced) {
        if (la_io_current()->sync_dir(db->path) != 0)
            rc = la_err_errno(errno, "fsync directory", db->path);
        else
            db->dir_unsynced = 0;
    }
    if (rc == 0 && db->auto_retention) /* first: the space it frees helps the checkpoint */
        rc = la_db_auto_retention(db);
    if (rc == 0)
        rc = la_rs_checkpoint_due(db, 0);
    if (rc == 0 && db->auto_seal && db->ndays && db->days[db->ndays - 1].day != db->seal_failed_newest &&
        la_compact_locked(db, 0, 0, NULL) != LA_OK) {
        /* the events are durable; sealing is tried again once a newer day arrives */
        db->seal_failed_newest = db->days[db->ndays - 1].day;
        la_err_clear();
    }
    if (rc == 0)
        la_db_trim_days(db);
    pthread_mutex_unlock(&db->mu);
    return rc;
}

void la_db_forget_day(la_db *db, int32_t day)
{
    la_day_slot *s = find_slot(db, day);
    if (!s)
        return;
    la_db_day_retire(db, day); /* cursors of this handle read on from the mapping */
    s = find_slot(db, day);
    size_t i = (size_t)(s - db->days);
    memmove(db->days + i, db->days + i + 1, (db->ndays - i - 1) * sizeof *db->days);
    db->ndays--;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void la_db_trim_days(la_db *db)
{
    la_db_free_retired(db);
    if (db->days_open <= LA_DB_OPEN_DAYS)
        return;
    uint64_t *used = malloc(db->days_open * sizeof *used);
    if (!used)
        return; /* a cache, not a promise: trimming waits for the next call */
    size_t n = 0;
    for (size_t i = 0; i < db->ndays; i++)
        if (db->days[i].d)
            used[n++] = db->days[i].used;
    if (n <= LA_DB_OPEN_DAYS) {
        free(used);
        return;
    }
    qsort(used, n, sizeof *used, u64_cmp);
    uint64_t oldest_kept = used[n - LA_DB_OPEN_DAYS];
    free(used);
    for (size_t i = 0; i < db->ndays; i++) {
        la_day_slot *s = &db->days[i];
        if (!s->d || s->used >= oldest_kept)
            continue;
        /* what la_close does to a day a writer appended to: its tail sealed into a block and
         * synced, so closing loses nothing and la_flush need not come back to it */
        if (!db->readonly && s->d->rotated && (la_day_seal(s->d) != 0 || la_day_flush(s->d) != 0)) {
            la_err_clear(); /* the day stays open: la_flush or la_close reports the fault */
            continue;
        }
        la_db_day_retire(db, s->day);
    }
}
