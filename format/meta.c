/* meta.c — encode/decode of the database descriptor file. */
#include "meta.h"

#include <string.h>

#include "crc32c.h"
#include "le.h"
#include "status.h"

size_t la_meta_encode(uint8_t *p, const la_meta *m)
{
    uint32_t nd = la_schema_ndims(&m->schema);
    memset(p, 0, 32);
    memcpy(p, LA_META_MAGIC, 8);
    la_put16(p + 8, m->read_version);
    la_put16(p + 10, m->write_version);
    la_put32(p + 16, m->block_rows);
    p[20] = m->codec;
    p[21] = m->zstd_level;
    la_put32(p + 24, m->retention_days);
    la_put16(p + 28, (uint16_t)nd);
    size_t off = 32;
    for (uint32_t i = 0; i < nd; i++) {
        const char *name = m->schema.name[LA_NFIXED + i];
        size_t n = strlen(name);
        p[off] = (uint8_t)n;
        memcpy(p + off + 1, name, n);
        off += 1 + n;
    }
    la_put32(p + 12, (uint32_t)(off + 4));
    la_put32(p + off, la_crc32c(0, p, off));
    return off + 4;
}

int la_meta_decode(const uint8_t *p, size_t n, la_meta *out, const char **why)
{
    if (n < 36 || memcmp(p, LA_META_MAGIC, 8) != 0)
        return la_corrupt(why, "not a la.meta file (bad magic or too short)");
    uint32_t len = la_le32(p + 12);
    if (len != n || len > LA_META_MAX)
        return la_corrupt(why, "la.meta length field disagrees with the file size");
    if (la_le32(p + len - 4) != la_crc32c(0, p, len - 4))
        return la_corrupt(why, "la.meta checksum mismatch");
    memset(out, 0, sizeof *out);
    out->read_version = la_le16(p + 8);
    out->write_version = la_le16(p + 10);
    if (out->read_version > LA_META_READ_VERSION) {
        if (why)
            *why = "database needs a newer reader (read_version)";
        return LA_EVERSION;
    }
    out->block_rows = la_le32(p + 16);
    out->codec = p[20];
    out->zstd_level = p[21];
    out->retention_days = la_le32(p + 24);
    uint32_t nd = la_le16(p + 28);
    if (out->block_rows < 64 || out->block_rows > (1u << 20) || out->codec > 2 ||
        out->zstd_level > 22 || nd > LA_MAX_DIMS || p[22] || p[23] || p[30] || p[31])
        return la_corrupt(why, "la.meta field out of range");
    const char *names[LA_MAX_DIMS];
    char buf[LA_MAX_DIMS][LA_MAX_DIM_NAME + 1];
    size_t off = 32;
    for (uint32_t i = 0; i < nd; i++) {
        if (off + 1 > len - 4)
            return la_corrupt(why, "la.meta dimension list runs past the end");
        size_t k = p[off];
        if (k == 0 || k > LA_MAX_DIM_NAME || off + 1 + k > len - 4)
            return la_corrupt(why, "la.meta dimension name length out of range");
        for (size_t j = 0; j < k; j++) {
            uint8_t ch = p[off + 1 + j];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
                return la_corrupt(why, "la.meta dimension name has a character outside [a-z0-9_]");
        }
        memcpy(buf[i], p + off + 1, k);
        buf[i][k] = 0;
        names[i] = buf[i];
        off += 1 + k;
    }
    if (off != len - 4)
        return la_corrupt(why, "la.meta has bytes after the dimension list");
    return la_schema_init(&out->schema, names, nd) == 0 ? 0
                                                       : la_corrupt(why, "la.meta schema invalid");
}
