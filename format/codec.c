/* codec.c — block compression codecs: none, LZ4 block format, zstd frame format (SPEC.md §2.2). */
#include "codec.h"

#include <limits.h>
#include <string.h>

#include <lz4.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "la.h"

size_t la_codec_bound(int codec, size_t n)
{
    switch (codec) {
    case LA_CODEC_ID_NONE: return n;
    case LA_CODEC_ID_LZ4:
        return n > (size_t)LZ4_MAX_INPUT_SIZE ? 0 : (size_t)LZ4_compressBound((int)n);
    case LA_CODEC_ID_ZSTD: {
        size_t b = ZSTD_compressBound(n);
        return ZSTD_isError(b) ? 0 : b;
    }
    default: return 0;
    }
}

int la_codec_compress(int codec, int level, const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
                      size_t *out_len)
{
    uint8_t dummy[1];
    if (n == 0 && src == NULL)
        src = dummy; /* the libraries may not accept NULL even for zero lengths */
    size_t bound = la_codec_bound(codec, n);
    if (bound == 0 && !(codec == LA_CODEC_ID_NONE && n == 0))
        return LA_EINVAL; /* unknown codec, or input too large for it */
    if (cap < bound)
        return LA_EINVAL;
    switch (codec) {
    case LA_CODEC_ID_NONE:
        if (n > 0)
            memcpy(dst, src, n);
        *out_len = n;
        return 0;
    case LA_CODEC_ID_LZ4: {
        int dcap = cap > (size_t)INT_MAX ? INT_MAX : (int)cap;
        int r = LZ4_compress_default((const char *)src, (char *)dst, (int)n, dcap);
        if (r <= 0)
            return LA_EINVAL;
        *out_len = (size_t)r;
        return 0;
    }
    case LA_CODEC_ID_ZSTD: {
        if (level < 1 || level > ZSTD_maxCLevel())
            return LA_EINVAL;
        size_t r = ZSTD_compress(dst, cap, src, n, level);
        if (ZSTD_isError(r))
            return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? LA_ENOMEM : LA_EINVAL;
        *out_len = r;
        return 0;
    }
    default: return LA_EINVAL;
    }
}

int la_codec_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t raw_len)
{
    /* The libraries may not accept NULL buffers even for zero lengths. */
    uint8_t dummy[1];
    if (raw_len == 0 && dst == NULL)
        dst = dummy;
    if (n == 0 && src == NULL)
        src = dummy;
    switch (codec) {
    case LA_CODEC_ID_NONE:
        if (n != raw_len)
            return LA_ECORRUPT;
        if (n > 0)
            memcpy(dst, src, n);
        return 0;
    case LA_CODEC_ID_LZ4: {
        if (n > (size_t)INT_MAX || raw_len > (size_t)INT_MAX)
            return LA_ECORRUPT;
        int r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)raw_len);
        return r >= 0 && (size_t)r == raw_len ? 0 : LA_ECORRUPT;
    }
    case LA_CODEC_ID_ZSTD: {
        /* Exactly one frame spanning the whole part (no trailing frames or bytes), and a
         * declared content size, when present, equal to raw_len; the destination is the
         * caller's raw_len buffer, so the declared size is only ever compared, never used. */
        size_t fsz = ZSTD_findFrameCompressedSize(src, n);
        if (ZSTD_isError(fsz) || fsz != n)
            return LA_ECORRUPT;
        unsigned long long csz = ZSTD_getFrameContentSize(src, n);
        if (csz == ZSTD_CONTENTSIZE_ERROR)
            return LA_ECORRUPT;
        if (csz != ZSTD_CONTENTSIZE_UNKNOWN && csz != (unsigned long long)raw_len)
            return LA_ECORRUPT;
        size_t r = ZSTD_decompress(dst, raw_len, src, n);
        return !ZSTD_isError(r) && r == raw_len ? 0 : LA_ECORRUPT;
    }
    default: return LA_ECORRUPT;
    }
}
