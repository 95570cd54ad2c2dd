/* tsv.h — tab-separated values with ClickHouse's escaping (TabSeparated / TSVWithNames), the
 * text format lactl reads and writes: fields split on TAB, rows on LF, and inside a field
 * \t \n \r \\ \0 \b \f \' stand for the characters; a field that is exactly \N is absent. */
#ifndef LA_TOOLS_TSV_H
#define LA_TOOLS_TSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A field after tsv_split(): data == NULL when the field was \N. */
typedef struct tsv_field {
    char *data;
    uint32_t len;
} tsv_field;

/* Split one line (without its LF; a trailing CR is dropped) into at most `max` fields and
 * unescape each in place. An unknown escape \x stands for x (as ClickHouse reads it).
 * Returns the number of fields (which may exceed max: extra fields are counted, not stored),
 * or -1 with a static reason in *why for a backslash at the end of the line. */
int tsv_split(char *line, size_t len, tsv_field *fields, int max, const char **why);

/* A line reader over a FILE* that hands out lines in place, in a buffer it owns, so that
 * many lines can be kept (for a batch) until tsv_reader_release(). */
typedef struct tsv_reader tsv_reader;

tsv_reader *tsv_reader_new(FILE *in);
void tsv_reader_free(tsv_reader *r);
/* Next line: 1 with *line and *len (LF removed; the buffer is writable and NUL-terminated),
 * 0 at the end, -1 on a read error (errno set), or 2 when the buffer is full of lines still
 * in use: finish with them, call tsv_reader_release() and ask again. Lines stay valid until
 * tsv_reader_release(). */
int tsv_reader_next(tsv_reader *r, char **line, size_t *len);
/* Lines handed out before this call may be reused. */
void tsv_reader_release(tsv_reader *r);
/* Lines read so far (the number of the last line returned, starting at 1). */
uint64_t tsv_reader_lineno(const tsv_reader *r);

/* Append s[0..n) escaped (or \N when s == NULL) to a buffered writer. */
typedef struct tsv_writer {
    FILE *out;
    char *buf;
    size_t len, cap;
    int error; /* a write failed */
} tsv_writer;

void tsv_writer_init(tsv_writer *w, FILE *out);
void tsv_field_out(tsv_writer *w, const char *s, size_t n);
void tsv_raw_out(tsv_writer *w, const char *s, size_t n);
void tsv_char_out(tsv_writer *w, char c);
/* Flush and free the buffer; returns 0 or -1 if any write failed. */
int tsv_writer_finish(tsv_writer *w);

#endif
