/* fuzz.h — the libFuzzer entry point and what the targets share (fuzz/common.c). */
#ifndef LA_FUZZ_H
#define LA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the code under test promised does not hold: crash so that the fuzzer keeps it. */
#define FZ_ASSERT(c) do { if (!(c)) abort(); } while (0)

/* Input bytes as a stream; past the end it yields zeros, so that every input drives a run. */
typedef struct fz {
    const uint8_t *p;
    size_t n;
} fz;

static inline uint64_t fz_take(fz *f, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        uint64_t b = 0;
        if (f->n) {
            b = *f->p++;
            f->n--;
        }
        v |= b << (8 * i);
    }
    return v;
}

/* malloc that never returns NULL for 0 bytes, and n bytes exactly otherwise (for ASan). */
void *fz_alloc(size_t n);
/* A writable heap copy of exactly n bytes. */
uint8_t *fz_dup(const uint8_t *p, size_t n);

/* A fresh directory under /dev/shm (or /tmp) named prefix-XXXXXX, into dir (cap bytes); it
 * and the files in it are removed when the process exits normally (a crash leaves them to
 * look at). The directory is the caller's to fill, flat: no subdirectories. */
void fz_scratch_dir(const char *prefix, char *dir, size_t cap);
/* Remove every file of a directory made by fz_scratch_dir, keeping the directory. */
void fz_clear_dir(const char *dir);

/* The schema a database gets by default: the fixed columns and five dimensions. */
void fz_schema_default(la_schema *s);

/* Recompute the column checksums and then the header checksum of the block frame at p[0..n)
 * (as far as its bytes lie inside n), so that mutated frames reach the decoders. */
void fz_fix_block(uint8_t *p, size_t n, uint32_t ncols);
/* Give the tail record at p[0..n) this sequence number and a valid checksum for salt. */
void fz_fix_tail_record(uint8_t *p, size_t n, uint32_t salt, uint64_t seq);

/* Make every checksum of the segment file at p[0..n) valid, walking it as a reader does
 * (header, non-empty slots, blocks up to the newest slot's blocks_end, tail records), so that
 * mutated files reach the checks behind the checksums. */
void fz_fix_segment(uint8_t *p, size_t n);

/* Read every column of a parsed block as a scan does: checksum, both parts, dictionary and
 * data decoded; ids are checked against dict_base[c] + the block's own entries. Returns 0 if
 * everything decoded. */
int fz_block_decode(const la_block_view *v, const la_schema *s, const uint32_t *dict_base);

#endif
