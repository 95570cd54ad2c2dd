/* fuzz_column_opt_i64.c — la_opt_i64_decode (presence bitmap + zigzag varints), round trip. */
#include <string.h>

#include "column.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f = {data, size};
    size_t n = (size_t)fz_take(&f, 2);
    uint8_t *in = fz_dup(f.p, f.n);
    int64_t *v = fz_alloc(n * sizeof *v);
    uint8_t *has = fz_alloc(n);
    if (la_opt_i64_decode(in, f.n, v, has, n, NULL) == 0) {
        for (size_t i = 0; i < n; i++)
            FZ_ASSERT(has[i] <= 1 && (has[i] || v[i] == 0));
        uint8_t *enc = fz_alloc(la_opt_i64_bound(n));
        size_t len = la_opt_i64_encode(enc, v, has, n);
        FZ_ASSERT(len <= la_opt_i64_bound(n));
        int64_t *w = fz_alloc(n * sizeof *w);
        uint8_t *whas = fz_alloc(n);
        FZ_ASSERT(la_opt_i64_decode(enc, len, w, whas, n, NULL) == 0);
        FZ_ASSERT(n == 0 || (memcmp(v, w, n * sizeof *v) == 0 && memcmp(has, whas, n) == 0));
        free(whas);
        free(w);
        free(enc);
    }
    free(has);
    free(v);
    free(in);
    return 0;
}
