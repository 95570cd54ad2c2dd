/* meta.h — the database descriptor file `la.meta`: format versions, schema and defaults (SPEC.md §8). */
#ifndef LA_FORMAT_META_H
#define LA_FORMAT_META_H

#include <stddef.h>
#include <stdint.h>

#include "segment.h"

#define LA_META_MAGIC "LAMETA\r\n"
#define LA_META_READ_VERSION 1
#define LA_META_WRITE_VERSION 1
#define LA_META_MAX 4096u

typedef struct la_meta {
    uint16_t read_version, write_version;
    uint32_t block_rows;
    uint8_t codec, zstd_level;
    uint32_t retention_days;
    la_schema schema;
} la_meta;

/* Encode into p (room for LA_META_MAX); returns the length. */
size_t la_meta_encode(uint8_t *p, const la_meta *m);
/* Decode the whole file p[0..n). LA_ECORRUPT or LA_EVERSION with a reason in *why. */
int la_meta_decode(const uint8_t *p, size_t n, la_meta *out, const char **why);

#endif
