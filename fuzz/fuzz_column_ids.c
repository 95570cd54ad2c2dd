/* fuzz_column_ids.c — la_ids_decode (bit-packed dictionary ids, hence la_bitunpack), round trip,
 * and la_ids_decode_range: never a crash, and the full decode's rows whenever that succeeds. */
#include <string.h>

#include "column.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f = {data, size};
    size_t n = (size_t)fz_take(&f, 2);
    uint32_t max_id = (uint32_t)fz_take(&f, 4);
    uint8_t *in = fz_dup(f.p, f.n);
    uint32_t *ids = fz_alloc(n * sizeof *ids);
    /* rows [from, to) picked from the input's size and last byte, leaving the corpus as it was */
    size_t from = n ? (size * 131 + (size ? data[size - 1] : 0)) % (n + 1) : 0;
    size_t to = from + (n - from ? (size * 7) % (n - from + 1) : 0);
    uint32_t *part = fz_alloc((n + 1) * sizeof *part);
    int part_rc = la_ids_decode_range(in, f.n, part, n, from, to, max_id, NULL);
    if (la_ids_decode(in, f.n, ids, n, max_id, NULL) == 0) {
        FZ_ASSERT(part_rc == 0);
        FZ_ASSERT(to == from || memcmp(part + from, ids + from, (to - from) * sizeof *ids) == 0);
        for (size_t i = 0; i < n; i++)
            FZ_ASSERT(ids[i] <= max_id);
        uint8_t *enc = fz_alloc(la_ids_bound(n));
        size_t len = la_ids_encode(enc, ids, n);
        FZ_ASSERT(len <= la_ids_bound(n) && len <= f.n);
        uint32_t *back = fz_alloc(n * sizeof *back);
        FZ_ASSERT(la_ids_decode(enc, len, back, n, max_id, NULL) == 0);
        FZ_ASSERT(n == 0 || memcmp(ids, back, n * sizeof *ids) == 0);
        free(back);
        free(enc);
    }
    free(part);
    free(ids);
    free(in);
    return 0;
}
