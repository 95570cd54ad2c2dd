/* fuzz_tsv.c — tsv_split of one line in place, and the writer: fields written back with
 * tsv_field_out must split into the same fields. */
#include <stdio.h>
#include <string.h>

#include "tsv.h"

#include "fuzz.h"

#define MAXF 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = (char *)fz_dup(data, size);
    tsv_field fields[MAXF];
    int nf = tsv_split(line, size, fields, MAXF, NULL);
    FZ_ASSERT(nf == -1 || nf >= 1);
    if (nf >= 1 && nf <= MAXF) {
        for (int i = 0; i < nf; i++)
            FZ_ASSERT(!fields[i].data || (fields[i].data >= line && fields[i].data + fields[i].len <= line + size));
        char *out = NULL;
        size_t outlen = 0;
        FILE *mem = open_memstream(&out, &outlen);
        FZ_ASSERT(mem != NULL);
        tsv_writer w;
        tsv_writer_init(&w, mem);
        for (int i = 0; i < nf; i++) {
            if (i)
                tsv_char_out(&w, '\t');
            tsv_field_out(&w, fields[i].data, fields[i].len);
        }
        FZ_ASSERT(tsv_writer_finish(&w) == 0 && fclose(mem) == 0);
        char *again = (char *)fz_dup((const uint8_t *)out, outlen);
        tsv_field back[MAXF];
        FZ_ASSERT(tsv_split(again, outlen, back, MAXF, NULL) == nf);
        for (int i = 0; i < nf; i++) {
            FZ_ASSERT((back[i].data == NULL) == (fields[i].data == NULL));
            FZ_ASSERT(back[i].len == fields[i].len);
            FZ_ASSERT(!back[i].len || memcmp(back[i].data, fields[i].data, back[i].len) == 0);
        }
        free(again);
        free(out);
    }
    free(line);
    return 0;
}
