/* fuzz_timefmt.c — timefmt_parse of arbitrary text; an accepted time must format and parse
 * back to the same millisecond. Also timefmt_format of any int64. */
#include <string.h>

#include "le.h"
#include "timefmt.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = (char *)fz_dup(data, size);
    int64_t ms;
    char buf[TIMEFMT_MAX];
    if (timefmt_parse(s, size, &ms, NULL) == 0) {
        size_t len = timefmt_format(ms, buf);
        FZ_ASSERT(len < TIMEFMT_MAX);
        int64_t back;
        FZ_ASSERT(timefmt_parse(buf, len, &back, NULL) == 0 && back == ms);
    }
    if (size >= 8) {
        size_t len = timefmt_format((int64_t)la_le64(data), buf);
        FZ_ASSERT(len < TIMEFMT_MAX && strlen(buf) == len);
    }
    free(s);
    return 0;
}
