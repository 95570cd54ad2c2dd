/* fuzz_block.c — one block frame against the default schema: la_block_parse, then every
 * column's checksum, both parts and their decoders. Input byte 0 odd: checksums fixed first. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static la_schema schema;
    if (schema.ncols == 0)
        fz_schema_default(&schema);
    size_t n = size - 1;
    uint8_t *p = fz_dup(data + 1, n);
    if (data[0] & 1)
        fz_fix_block(p, n, schema.ncols);
    la_block_view v;
    if (la_block_parse(p, n, &schema, &v, NULL) == 0) {
        FZ_ASSERT(v.frame_len <= n && v.ncols == schema.ncols);
        static const uint32_t base[LA_MAX_COLS];
        fz_block_decode(&v, &schema, base);
    }
    free(p);
    return 0;
}
