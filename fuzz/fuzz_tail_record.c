/* fuzz_tail_record.c — la_tail_record_decode of one tail record; a record that decodes must
 * re-encode to one that decodes to the same row. Input: flags, salt, seq, nstr, record. */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f = {data, size};
    unsigned flags = (unsigned)fz_take(&f, 1);
    uint32_t salt = (uint32_t)fz_take(&f, 4);
    uint64_t seq = fz_take(&f, 8);
    uint32_t nstr = (uint32_t)(fz_take(&f, 1) % (3 + LA_MAX_DIMS + 2)); /* a few too many, too */
    uint8_t *p = fz_dup(f.p, f.n);
    if (flags & 1)
        fz_fix_tail_record(p, f.n, salt, seq);
    la_row row;
    size_t k = la_tail_record_decode(p, f.n, salt, seq, nstr, &row, (flags & 2) == 0);
    if (k > 0) {
        FZ_ASSERT(k <= f.n && row.nstr == nstr);
        size_t len = LA_TAIL_REC_HEADER + la_tail_payload_size(&row);
        FZ_ASSERT(len <= k); /* the encoder's varints are minimal */
        uint8_t *enc = fz_alloc(len);
        FZ_ASSERT(la_tail_record_encode(enc, salt, seq, &row) == len);
        la_row back;
        FZ_ASSERT(la_tail_record_decode(enc, len, salt, seq, nstr, &back, 1) == len);
        FZ_ASSERT(back.ts == row.ts && back.visitor == row.visitor && back.session == row.session &&
                  back.has_value == row.has_value && back.value == row.value && back.nstr == nstr);
        for (uint32_t i = 0; i < nstr; i++) {
            FZ_ASSERT((back.str[i].data == NULL) == (row.str[i].data == NULL));
            FZ_ASSERT(back.str[i].len == row.str[i].len);
            FZ_ASSERT(row.str[i].len == 0 || memcmp(back.str[i].data, row.str[i].data, row.str[i].len) == 0);
        }
        free(enc);
    }
    free(p);
    return 0;
}
