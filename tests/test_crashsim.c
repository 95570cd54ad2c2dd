/* test_crashsim.c — power loss, simulated the way SQLite's crash-test VFS does it: an I/O backend
 * keeps a shadow copy of the database that holds only what was synced (msync'd ranges, fsync'd
 * files). At a chosen sync call the power goes out — that sync lands torn (a prefix of its
 * 512-byte sectors) or not at all, and nothing after it lands. The shadow must then open and
 * recover, hold every event whose la_flush() returned before the cut and nothing invented, and
 * pass verify, across appends, block seals, rollup checkpoints and sealing days. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "la.h"
#include "faultload.h"
#include "testutil.h"

#define SECTOR 512

static const la_io *real;
static la_io sim;
static char shadow_dir[600];
static long syncs, cut_at; /* the sync call that is cut (-1: none) */
static int torn, cut;       /* torn: the cut sync lands a prefix; cut: the power is out */

/* What the shadow needs to know: the path of each fd and of each mapping. */
#define MAXF 512
static struct { int fd; char path[700]; } fds[MAXF];
static struct { uint8_t *p; size_t len; char path[700]; } maps[MAXF];

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void shadow_path(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", shadow_dir, base_name(path));
}

static const char *fd_path(int fd)
{
    for (int i = 0; i < MAXF; i++)
        if (fds[i].fd == fd && fds[i].path[0])
            return fds[i].path;
    return NULL;
}

/* Write bytes into the shadow file of path at off. */
static void land(const char *path, const void *buf, size_t n, off_t off)
{
    char sp[800];
    shadow_path(path, sp, sizeof sp);
    int fd = open(sp, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, buf, n, off), (ssize_t)n);
    close(fd);
}

/* A sync call: 1 if its bytes land (all of them, or with the cut a prefix of n_land bytes). */
static int sync_lands(size_t n, size_t *n_land)
{
    *n_land = n;
    if (cut)
        return 0;
    if (++syncs != cut_at)
        return 1;
    cut = 1;
    if (!torn)
        return 0;
    size_t sectors = (n + SECTOR - 1) / SECTOR;
    *n_land = sectors > 1 ? (size_t)(syncs % sectors) * SECTOR : 0;
    return *n_land > 0;
}

static int s_open(const char *p, int fl, int m)
{
    int fd = real->open(p, fl, m);
    if (fd >= 0)
        for (int i = 0; i < MAXF; i++)
            if (!fds[i].path[0]) {
                fds[i].fd = fd;
                snprintf(fds[i].path, sizeof fds[i].path, "%s", p);
                break;
            }
    if (fd >= 0 && (fl & O_TRUNC) && !cut) { /* a truncated tmp file starts empty */
        char sp[800];
        shadow_path(p, sp, sizeof sp);
        int sfd = open(sp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (sfd >= 0)
            close(sfd);
    }
    return fd;
}

static int s_close(int fd)
{
    for (int i = 0; i < MAXF; i++)
        if (fds[i].fd == fd && fds[i].path[0])
            fds[i].path[0] = 0;
    return real->close(fd);
}

static void *s_map(int fd, size_t len, int w)
{
    uint8_t *p = real->map(fd, len, w);
    const char *path = fd_path(fd);
    if (p && path)
        for (int i = 0; i < MAXF; i++)
            if (!maps[i].p) {
                maps[i].p = p;
                maps[i].len = len;
                snprintf(maps[i].path, sizeof maps[i].path, "%s", path);
                break;
            }
    return p;
}

static int s_unmap(void *p, size_t len)
{
    for (int i = 0; i < MAXF; i++)
        if (maps[i].p == p)
            maps[i].p = NULL;
    return real->unmap(p, len);
}

/* msync of a mapped range: those bytes are what the shadow file gets. */
static int s_sync(void *p, size_t len)
{
    int rc = real->sync(p, len);
    if (rc != 0)
        return rc;
    for (int i = 0; i < MAXF; i++)
        if (maps[i].p && (uint8_t *)p >= maps[i].p && (uint8_t *)p + len <= maps[i].p + maps[i].len) {
            size_t n;
            if (sync_lands(len, &n))
                land(maps[i].path, p, n, (off_t)((uint8_t *)p - maps[i].p));
            return 0;
        }
    ck_abort_msg("msync of an unknown mapping");
    return -1;
}

/* fsync of a written file (a tmp file, la.meta, a rollup file): its whole content. */
static int s_fsync(int fd)
{
    int rc = real->fsync(fd);
    const char *path = fd_path(fd);
    if (rc != 0 || !path)
        return rc;
    uint64_t size;
    ck_assert_int_eq(real->size(fd, &size), 0);
    uint8_t *buf = malloc(size + 1);
    int rfd = open(path, O_RDONLY); /* the engine may have opened it write-only */
    ck_assert_int_ge(rfd, 0);
    ck_assert_int_eq(pread(rfd, buf, size, 0), (ssize_t)size);
    close(rfd);
    size_t n;
    if (sync_lands(size, &n)) {
        land(path, buf, n, 0);
        if (n == size) {
            char sp[800];
            shadow_path(path, sp, sizeof sp);
            ck_assert_int_eq(truncate(sp, (off_t)size), 0);
        }
    }
    free(buf);
    return 0;
}

/* Renames and unlinks reach the shadow at once while the power is on (their directory syncs
 * are counted as sync calls, so a cut can still fall between them). */
static int s_rename(const char *a, const char *b)
{
    int rc = real->rename(a, b);
    if (rc == 0 && !cut) {
        char sa[800], sb[800];
        shadow_path(a, sa, sizeof sa);
        shadow_path(b, sb, sizeof sb);
        if (rename(sa, sb) != 0)
            unlink(sb); /* never synced: nothing durable under that name */
    }
    return rc;
}

static int s_unlink(const char *p)
{
    int rc = real->unlink(p);
    if (rc == 0 && !cut) {
        char sp[800];
        shadow_path(p, sp, sizeof sp);
        unlink(sp);
    }
    return rc;
}

static int s_sync_dir(const char *p)
{
    size_t n;
    sync_lands(0, &n);
    return real->sync_dir(p);
}

static void install(long at, int tear)
{
    real = la_io_posix();
    sim = *real;
    sim.open = s_open;
    sim.close = s_close;
    sim.map = s_map;
    sim.unmap = s_unmap;
    sim.sync = s_sync;
    sim.fsync = s_fsync;
    sim.rename = s_rename;
    sim.unlink = s_unlink;
    sim.sync_dir = s_sync_dir;
    memset(fds, 0, sizeof fds);
    memset(maps, 0, sizeof maps);
    syncs = 0;
    cut_at = at;
    torn = tear;
    cut = 0;
    la_io_set(&sim);
}

/* Append n events, flushing now and then and sealing every day twice; durable[i] = 1 for the
 * events a la_flush() that returned before the cut covers. Returns the sync calls made. */
static long workload(const char *dir, size_t n, uint8_t *durable)
{
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 64;
    o.checkpoint_rows = 150;
    o.no_auto_seal = 1;
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    size_t acked = 0;
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        la_event ev = fl_event(i, buf);
        ck_assert_int_eq(la_append(db, &ev), LA_OK);
        if (i % 37 == 36) {
            ck_assert_int_eq(la_flush(db), LA_OK);
            if (!cut) /* the flush returned with the power on: all so far is durable */
                for (; acked <= i; acked++)
                    durable[acked] = 1;
        }
        if (i % 200 == 199)
            ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, NULL), LA_OK);
    }
    la_close(db);
    return syncs;
}

static void check_shadow(const uint8_t *durable, size_t n, long at)
{
    la_db *db;
    int rc = la_open(&db, shadow_dir, 0, NULL); /* the writer recovers */
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += durable[i];
    if (rc == LA_ENOTFOUND) { /* cut before la.meta was durable */
        ck_assert_uint_eq(need, 0);
        return;
    }
    ck_assert_msg(rc == LA_OK, "cut at sync %ld: open: %s", at, la_errmsg());
    uint8_t *seen = calloc(n, 1);
    la_cursor *cur;
    ck_assert_int_eq(la_scan(db, NULL, &cur), LA_OK);
    la_batch b;
    while ((rc = la_cursor_next(cur, &b)) == 1)
        for (size_t r = 0; r < b.nrows; r++) {
            size_t i = (size_t)b.session_id[r];
            char buf[32];
            la_event ev = fl_event(i < n ? i : 0, buf);
            TU_CHECK(i < n && !seen[i] && b.ts[r] == ev.ts, "cut at sync %ld: bad or repeated event %zu", at, i);
            seen[i] = 1;
        }
    ck_assert_msg(rc == 0, "cut at sync %ld: scan: %s", at, la_errmsg());
    la_cursor_close(cur);
    for (size_t i = 0; i < n; i++)
        TU_CHECK(!durable[i] || seen[i], "cut at sync %ld: flushed event %zu lost", at, i);
    /* rollups count exactly the events stored */
    char when[64];
    snprintf(when, sizeof when, "cut at sync %ld", at);
    fl_check_rollups(db, seen, n, when);
    la_close(db);
    free(seen);
    uint64_t problems = 9;
    ck_assert_int_eq(la_verify(shadow_dir, NULL, NULL, &problems), LA_OK);
    TU_CHECK(problems == 0, "cut at sync %ld: verify found %llu problems", at, (unsigned long long)problems);
}

static void sweep(int tear)
{
    const size_t n = 700;
    uint8_t *durable = calloc(n, 1);
    char *dir = tu_tmpdir();
    /* a run without a cut counts the sync calls */
    snprintf(shadow_dir, sizeof shadow_dir, "%s.shadow", dir);
    ck_assert_int_eq(mkdir(shadow_dir, 0700), 0);
    install(-1, tear);
    long total = workload(dir, n, durable);
    la_io_set(NULL);
    tu_rmrf(dir);
    tu_rmrf(shadow_dir);
    ck_assert_int_gt(total, 50);
    long step = tu_long() ? 1 : total / 60 + 1, cuts = 0; /* the long form cuts at every sync */
    for (long at = 1; at <= total; at += step, cuts++) {
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        ck_assert_int_eq(mkdir(shadow_dir, 0700), 0);
        memset(durable, 0, n);
        install(at, tear);
        workload(dir, n, durable);
        la_io_set(NULL);
        check_shadow(durable, n, at);
        tu_rmrf(dir);
        tu_rmrf(shadow_dir);
    }
    fprintf(stderr, "crashsim: %ld sync calls, cut at %ld of them (%s), all recovered\n", total, cuts,
            tear ? "torn" : "dropped");
    free(durable);
    free(dir);
}

START_TEST(crashsim__unsynced_writes_dropped)
{
    sweep(0);
}
END_TEST

START_TEST(crashsim__cut_sync_torn)
{
    sweep(1);
}
END_TEST

static Suite *crashsim_suite(void)
{
    Suite *s = suite_create("crashsim");
    TCase *tc = tcase_create("sweep");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, crashsim__unsynced_writes_dropped);
    tcase_add_test(tc, crashsim__cut_sync_torn);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(crashsim_suite)
