/* fuzz_meta.c — la_meta_decode of a whole la.meta; every byte of a valid file is determined
 * by its fields, so encode(decode(x)) must give x back. */
#include <string.h>

#include "meta.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = fz_dup(data, size);
    la_meta m;
    if (la_meta_decode(p, size, &m, NULL) == 0) {
        uint8_t buf[LA_META_MAX];
        size_t len = la_meta_encode(buf, &m);
        FZ_ASSERT(len == size && memcmp(buf, p, size) == 0);
    }
    free(p);
    return 0;
}
