/* fuzz_codec.c — la_codec_decompress for every codec id (and an unknown one), round trip. */
#include <string.h>

#include "codec.h"

#include "fuzz.h"

#define RAW_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f = {data, size};
    int codec = (int)(fz_take(&f, 1) % (LA_CODEC_ID_COUNT + 1));
    size_t raw_len = (size_t)fz_take(&f, 3) % (RAW_MAX + 1);
    uint8_t *src = fz_dup(f.p, f.n), *dst = fz_alloc(raw_len);
    if (la_codec_decompress(codec, src, f.n, dst, raw_len) == 0) {
        FZ_ASSERT(codec < LA_CODEC_ID_COUNT);
        size_t cap = la_codec_bound(codec, raw_len), len = 0;
        uint8_t *enc = fz_alloc(cap), *back = fz_alloc(raw_len);
        FZ_ASSERT(la_codec_compress(codec, 1, dst, raw_len, enc, cap, &len) == 0);
        FZ_ASSERT(la_codec_decompress(codec, enc, len, back, raw_len) == 0);
        FZ_ASSERT(raw_len == 0 || memcmp(dst, back, raw_len) == 0);
        free(back);
        free(enc);
    }
    free(dst);
    free(src);
    return 0;
}
