/* io.h — the one seam between the engine and the operating system. Every file operation the
 * engine performs goes through la_io_current(), so tests can install a backend that fails the
 * Nth call (ENOSPC, EIO) or drops unsynced writes. Each call returns 0 (or a value) on success
 * and -1 with errno set on failure, like POSIX. */
#ifndef LA_ENGINE_IO_H
#define LA_ENGINE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LA_IO_VERSION 1

typedef struct la_io {
    int version; /* LA_IO_VERSION; later versions append members */
    int (*open)(const char *path, int flags, int mode);
    int (*close)(int fd);
    ssize_t (*pread)(int fd, void *buf, size_t n, off_t off);
    ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t off);
    int (*allocate)(int fd, off_t off, off_t len);   /* reserve real blocks (no SIGBUS later) */
    int (*punch)(int fd, off_t off, off_t len);      /* free blocks, keep the size; may no-op */
    int (*truncate)(int fd, off_t len);
    int (*size)(int fd, uint64_t *out);
    int (*fsync)(int fd);
    void *(*map)(int fd, size_t len, int writable);  /* MAP_SHARED; NULL on failure */
    int (*unmap)(void *p, size_t len);
    int (*sync)(void *p, size_t len);                /* msync(MS_SYNC) of a mapped range */
    int (*rename)(const char *from, const char *to);
    int (*unlink)(const char *path);
    int (*mkdir)(const char *path, int mode);
    int (*sync_dir)(const char *path);
    int (*lock)(int fd);                             /* exclusive, non-blocking; EWOULDBLOCK */
    /* Hint: make these mapped pages writable now, in one call, instead of one page fault per
     * page while appending (faults cost microseconds in a VM). Failure is harmless. */
    int (*prefault)(void *p, size_t len);
    /* Identity of a file by path (inode, modification time in ns, size): how a read-only handle
     * notices that a writer replaced a rollup file. */
    int (*identity)(const char *path, uint64_t *ino, int64_t *mtime_ns, uint64_t *size);
    /* Wall-clock time in ms since 1970 (UTC): the "now" of the future-skew check, retention
     * and realtime windows, so that tests can set the clock. */
    int64_t (*now_ms)(void);
    /* Wait about ms milliseconds: a reader that caught a commit slot mid-write gives the
     * writer time to finish it (tests and fuzzers that have no writer need not wait). */
    void (*pause_ms)(int ms);
    /* A watch on a directory's entries (files created, deleted, renamed): a read-only handle
     * then lists its directory again only after a change, instead of at every call. Returns a
     * handle or -1 (no watch: the handle lists at every call, as before). Either member may
     * be NULL in a test backend. */
    int (*watch_dir)(const char *path);
    /* 0 when no entry changed since the watch began or the previous call; 1 when one may have
     * (also when the kernel's queue of changes overflowed); -1 when the watch no longer works
     * (the directory went away, or an error): the caller unwatches and lists at every call. */
    int (*dir_changed)(int watch);
    void (*unwatch)(int watch);
} la_io;

/* The backend in use (the POSIX one unless a test installed another). */
const la_io *la_io_current(void);
/* Install a backend (NULL restores POSIX). Not thread-safe: call with no database open. */
void la_io_set(const la_io *io);
/* Write a whole file the crash-safe way, through the backend in use: dir/name.tmp, synced,
 * renamed to dir/name, then the directory synced. Readers see the old file or the new one,
 * never a part. Returns 0 or an LA_E* code with the message set (la_errmsg). */
int la_write_atomic(const char *dir, const char *name, const void *buf, size_t len);

/* The POSIX backend, for test backends that wrap it. */
const la_io *la_io_posix(void);

#endif
