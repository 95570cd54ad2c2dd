/* fuzz_column_ts.c — la_ts_decode (delta-of-delta timestamps), and decode(encode(x)) == x; and
 * la_ts_decode_prefix: never a crash, and the full decode's first values whenever that succeeds. */
#include <string.h>

#include "column.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f = {data, size};
    size_t n = (size_t)fz_take(&f, 2); /* row count: first two bytes, so at most 65535 */
    uint8_t *in = fz_dup(f.p, f.n);
    int64_t *v = fz_alloc(n * sizeof *v);
    size_t upto = n ? (size * 131 + (size ? data[size - 1] : 0)) % (n + 1) : 0; /* corpus unchanged */
    int64_t *head = fz_alloc((n + 1) * sizeof *head);
    int head_rc = la_ts_decode_prefix(in, f.n, head, n, upto, NULL);
    if (la_ts_decode(in, f.n, v, n, NULL) == 0) {
        FZ_ASSERT(head_rc == 0);
        FZ_ASSERT(upto == 0 || memcmp(head, v, upto * sizeof *v) == 0);
        uint8_t *enc = fz_alloc(la_ts_bound(n));
        size_t len = la_ts_encode(enc, v, n);
        FZ_ASSERT(len <= la_ts_bound(n) && len <= f.n); /* the encoder's varints are minimal */
        int64_t *w = fz_alloc(n * sizeof *w);
        FZ_ASSERT(la_ts_decode(enc, len, w, n, NULL) == 0);
        FZ_ASSERT(n == 0 || memcmp(v, w, n * sizeof *v) == 0);
        free(w);
        free(enc);
    }
    free(head);
    free(v);
    free(in);
    return 0;
}
