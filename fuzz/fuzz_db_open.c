/* fuzz_db_open.c — arbitrary bytes as a day segment of a real database directory, read by the
 * engine itself: a read-only open and a full scan, la_verify, then a writer open (recovery) and
 * a scan again. Every call must return a code, never crash; a scan that succeeds must return
 * rows that are internally consistent. Input byte 0 odd: checksums are made valid first. No
 * writer runs, so a reader that finds a damaged commit slot need not wait for one to finish it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "la.h"
#include "le.h"
#include "segment.h"

#include "fuzz.h"

static char dir[256];
static volatile unsigned sink;

static void no_pause(int ms) { (void)ms; }

static void setup(void)
{
    static la_io io;
    io = *la_io_posix();
    io.pause_ms = no_pause;
    la_io_set(&io);
    fz_scratch_dir("la-fuzz-db", dir, sizeof dir);
    la_db *db;
    if (la_open(&db, dir, LA_OPEN_CREATE, NULL) != LA_OK)
        abort();
    la_close(db); /* leaves la.meta with the default schema */
}

/* Scan everything; returns the row count or -1 on an error code. */
static long scan_all(la_db *db)
{
    la_cursor *cur;
    if (la_scan(db, NULL, &cur) != LA_OK)
        return -1;
    la_batch b;
    long rows = 0;
    int rc;
    uint32_t nd = la_db_ndims(db);
    while ((rc = la_cursor_next(cur, &b)) == 1) {
        FZ_ASSERT(b.nrows > 0);
        for (size_t r = 0; r < b.nrows; r++) {
            /* every string in range and readable (ASan checks the bytes) */
            const la_str_column *cols[3] = {&b.workspace, &b.link, &b.event_type};
            for (int k = 0; k < 3; k++) {
                la_str s = cols[k]->dict[cols[k]->ids[r]];
                FZ_ASSERT(s.data && s.len <= LA_MAX_STR);
                sink += s.len ? (uint8_t)s.data[0] + (uint8_t)s.data[s.len - 1] : 0;
            }
            for (uint32_t d = 0; d < nd; d++) {
                la_str s = b.dims[d].dict[b.dims[d].ids[r]];
                FZ_ASSERT(!s.data || s.len <= LA_MAX_STR);
            }
            FZ_ASSERT(b.has_value[r] <= 1);
        }
        rows += (long)b.nrows;
    }
    la_cursor_close(cur);
    return rc == 0 ? rows : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0])
        setup();
    if (size < 1)
        return 0;
    size_t n = size - 1;
    uint8_t *p = fz_dup(data + 1, n);
    if (data[0] & 1)
        fz_fix_segment(p, n);
    /* name the file after the day its header claims, so that the header can be believed */
    int32_t day = 20758;
    if (n >= 20) {
        uint32_t d = la_le32(p + 16);
        if (d <= 2932896)
            day = (int32_t)d;
    }
    char name[32], path[400];
    la_seg_name(day, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        abort();
    free(p);

    la_db *db;
    long ro_rows = -1;
    if (la_open(&db, dir, LA_OPEN_READONLY, NULL) == LA_OK) {
        ro_rows = scan_all(db);
        la_close(db);
    }
    uint64_t problems = 0;
    la_verify(dir, NULL, NULL, &problems);
    if (la_open(&db, dir, 0, NULL) == LA_OK) {
        long rows = scan_all(db);
        /* recovery keeps everything a reader could see and invents nothing */
        if (ro_rows >= 0 && rows >= 0)
            FZ_ASSERT(rows == ro_rows);
        la_close(db);
    }
    unlink(path);
    char tmp[420];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    return 0;
}
