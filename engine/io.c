/* io.c — the POSIX implementation of the I/O seam. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "la.h"

static int px_open(const char *path, int flags, int mode) { return open(path, flags | O_CLOEXEC, mode); }
static int px_close(int fd) { return close(fd); }
static ssize_t px_pread(int fd, void *buf, size_t n, off_t off) { return pread(fd, buf, n, off); }
static ssize_t px_pwrite(int fd, const void *buf, size_t n, off_t off) { return pwrite(fd, buf, n, off); }

static int px_allocate(int fd, off_t off, off_t len)
{
    int rc = posix_fallocate(fd, off, len);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

static int px_punch(int fd, off_t off, off_t len)
{
#ifdef FALLOC_FL_PUNCH_HOLE
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
        return 0;
    if (errno == EOPNOTSUPP || errno == ENOSYS)
        return 0; /* only a space optimisation: the bytes are dead either way */
    return -1;
#else
    (void)fd, (void)off, (void)len;
    return 0;
#endif
}

static int px_truncate(int fd, off_t len) { return ftruncate(fd, len); }

static int px_size(int fd, uint64_t *out)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    *out = (uint64_t)st.st_size;
    return 0;
}

static int px_fsync(int fd) { return fdatasync(fd); }

static void *px_map(int fd, size_t len, int writable)
{
    /* Readers go through whole blocks: one populate call is far cheaper than a fault per page. */
    void *p = mmap(NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                   writable ? MAP_SHARED : MAP_SHARED | MAP_POPULATE, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int px_unmap(void *p, size_t len) { return munmap(p, len); }
static int px_sync(void *p, size_t len) { return msync(p, len, MS_SYNC); }
static int px_rename(const char *a, const char *b) { return rename(a, b); }
static int px_unlink(const char *p) { return unlink(p); }
static int px_mkdir(const char *p, int mode) { return mkdir(p, (mode_t)mode); }

static int px_sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int px_lock(int fd) { return flock(fd, LOCK_EX | LOCK_NB); }

static int px_prefault(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
    return madvise(p, len, MADV_POPULATE_WRITE);
#else
    (void)p, (void)len;
    return 0;
#endif
}

static int px_identity(const char *path, uint64_t *ino, int64_t *mtime_ns, uint64_t *size)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    *ino = (uint64_t)st.st_ino;
    *mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    *size = (uint64_t)st.st_size;
    return 0;
}

static int64_t px_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void px_pause_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

static int px_watch_dir(const char *path)
{
#ifndef __linux__
    (void)path;
    return -1;
#else
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return -1;
    if (inotify_add_watch(fd, path, IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF |
                                        IN_MOVE_SELF) < 0) {
        close(fd);
        return -1;
    }
    return fd;
#endif
}

static int px_dir_changed(int watch)
{
#ifndef __linux__
    (void)watch;
    return -1;
#else
    /* Whether something happened matters, not what; but a watch whose directory went away
     * (deleted, moved, unmounted) reports nothing more, so the caller must stop trusting it. */
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int changed = 0;
    for (;;) {
        ssize_t n = read(watch, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? changed : -1;
        changed = 1;
        for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
            const struct inotify_event *e = (const struct inotify_event *)(const void *)(buf + off);
            if (e->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT))
                return -1;
            off += (ssize_t)sizeof *e + e->len;
        }
    }
#endif
}

static void px_unwatch(int watch) { close(watch); }

static const la_io posix_io = {
    LA_IO_VERSION, px_open,  px_close,  px_pread, px_pwrite, px_allocate, px_punch,
    px_truncate,   px_size,  px_fsync,  px_map,   px_unmap,  px_sync,     px_rename,
    px_unlink,     px_mkdir, px_sync_dir, px_lock, px_prefault, px_identity, px_now_ms,
    px_pause_ms,   px_watch_dir, px_dir_changed, px_unwatch,
};

static const la_io *current = &posix_io;

const la_io *la_io_current(void) { return current; }
void la_io_set(const la_io *io) { current = io ? io : &posix_io; }
const la_io *la_io_posix(void) { return &posix_io; }

int la_write_atomic(const char *dir, const char *name, const void *buf, size_t len)
{
    const la_io *io = current;
    size_t n = strlen(dir) + strlen(name) + 6;
    char *path = malloc(n), *tmp = malloc(n);
    int rc = 0;
    if (!path || !tmp) {
        rc = la_err(LA_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(path, n, "%s/%s", dir, name);
    snprintf(tmp, n, "%s/%s.tmp", dir, name);
    int fd = io->open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        rc = la_err_errno(errno, "create", tmp);
        goto out;
    }
    for (size_t done = 0; rc == 0 && done < len;) {
        ssize_t w = io->pwrite(fd, (const char *)buf + done, len - done, (off_t)done);
        if (w <= 0)
            rc = la_err_errno(w < 0 ? errno : EIO, "write", tmp);
        else
            done += (size_t)w;
    }
    if (rc == 0 && io->fsync(fd) != 0)
        rc = la_err_errno(errno, "fsync", tmp);
    io->close(fd);
    if (rc == 0 && io->rename(tmp, path) != 0)
        rc = la_err_errno(errno, "rename", tmp);
    if (rc != 0)
        io->unlink(tmp);
    else if (io->sync_dir(dir) != 0)
        rc = la_err_errno(errno, "fsync directory", dir);
out:
    free(path);
    free(tmp);
    return rc;
}
