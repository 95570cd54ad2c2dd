/* tsv.c — ClickHouse-compatible TSV: splitting with in-place unescaping, a line reader that
 * keeps a whole batch of lines alive without copying them, and a buffered escaping writer. */
#include "tsv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tsv_split(char *line, size_t len, tsv_field *fields, int max, const char **why)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    int nf = 0;
    size_t i = 0;
    for (;;) {
        char *start = line + i, *w = start;
        int escaped = 0;
        while (i < len && line[i] != '\t') {
            char c = line[i++];
            if (c == '\\') {
                if (i == len) {
                    if (why)
                        *why = "backslash at the end of the line";
                    return -1;
                }
                escaped = 1;
                c = line[i++];
                switch (c) {
                case 't': c = '\t'; break;
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case '0': c = '\0'; break;
                case 'b': c = '\b'; break;
                case 'f': c = '\f'; break;
                case 'N': c = 'N'; escaped = 2; break;
                default: break; /* \\, \', and unknown escapes stand for the character */
                }
            }
            *w++ = c;
        }
        if (nf < max) {
            /* \N alone is NULL; \N inside a longer field reads as N */
            if (escaped == 2 && w - start == 1 && line + i - start == 2)
                fields[nf].data = NULL, fields[nf].len = 0;
            else
                fields[nf].data = start, fields[nf].len = (uint32_t)(w - start);
        }
        nf++;
        if (i >= len)
            return nf;
        i++; /* the tab */
    }
}

struct tsv_reader {
    FILE *in;
    char *buf;
    size_t cap, start, end; /* lines handed out live in [0, start); unread bytes in [start, end) */
    size_t keep;            /* bytes in use by lines not yet released */
    uint64_t lineno;
    int eof;
};

tsv_reader *tsv_reader_new(FILE *in)
{
    tsv_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->in = in;
    r->cap = (size_t)4 << 20;
    r->buf = malloc(r->cap + 1);
    if (!r->buf) {
        free(r);
        return NULL;
    }
    return r;
}

void tsv_reader_free(tsv_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r);
}

void tsv_reader_release(tsv_reader *r)
{
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->end -= r->start;
    r->start = 0;
}

uint64_t tsv_reader_lineno(const tsv_reader *r) { return r->lineno; }

/* Read more input after `end`, growing the buffer when the live lines fill it. */
static int refill(tsv_reader *r)
{
    if (r->end == r->cap) {
        size_t cap = r->cap * 2;
        char *b = realloc(r->buf, cap + 1);
        if (!b) {
            errno = ENOMEM;
            return -1;
        }
        r->buf = b;
        r->cap = cap;
    }
    size_t n = fread(r->buf + r->end, 1, r->cap - r->end, r->in);
    if (n == 0) {
        if (ferror(r->in))
            return -1;
        r->eof = 1;
    }
    r->end += n;
    return 0;
}

int tsv_reader_next(tsv_reader *r, char **line, size_t *len)
{
    size_t scanned = r->start;
    for (;;) {
        char *nl = memchr(r->buf + scanned, '\n', r->end - scanned);
        if (nl) {
            *line = r->buf + r->start;
            *len = (size_t)(nl - *line);
            *nl = '\0';
            r->start = (size_t)(nl - r->buf) + 1;
            r->lineno++;
            return 1;
        }
        if (r->eof) {
            if (r->start == r->end)
                return 0;
            /* a last line without LF */
            *line = r->buf + r->start;
            *len = r->end - r->start;
            (*line)[*len] = '\0';
            r->start = r->end;
            r->lineno++;
            return 1;
        }
        scanned = r->end;
        if (r->end == r->cap && r->start > 0)
            return 2; /* growing would move lines still in use */
        if (refill(r) != 0)
            return -1;
    }
}

void tsv_writer_init(tsv_writer *w, FILE *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->cap = (size_t)64 << 10;
    w->buf = malloc(w->cap);
    if (!w->buf)
        w->error = 1;
}

static void drain(tsv_writer *w)
{
    if (w->len && !w->error && fwrite(w->buf, 1, w->len, w->out) != w->len)
        w->error = 1;
    w->len = 0;
}

void tsv_raw_out(tsv_writer *w, const char *s, size_t n)
{
    if (w->error)
        return;
    if (w->len + n > w->cap)
        drain(w);
    if (n > w->cap) {
        if (fwrite(s, 1, n, w->out) != n)
            w->error = 1;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

void tsv_char_out(tsv_writer *w, char c)
{
    if (w->error)
        return;
    if (w->len == w->cap)
        drain(w);
    w->buf[w->len++] = c;
}

void tsv_field_out(tsv_writer *w, const char *s, size_t n)
{
    if (!s) {
        tsv_raw_out(w, "\\N", 2);
        return;
    }
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        char e;
        switch (s[i]) {
        case '\t': e = 't'; break;
        case '\n': e = 'n'; break;
        case '\r': e = 'r'; break;
        case '\\': e = '\\'; break;
        case '\0': e = '0'; break;
        case '\b': e = 'b'; break;
        case '\f': e = 'f'; break;
        default: continue;
        }
        tsv_raw_out(w, s + run, i - run);
        tsv_char_out(w, '\\');
        tsv_char_out(w, e);
        run = i + 1;
    }
    tsv_raw_out(w, s + run, n - run);
}

int tsv_writer_finish(tsv_writer *w)
{
    drain(w);
    if (!w->error && fflush(w->out) != 0)
        w->error = 1;
    free(w->buf);
    w->buf = NULL;
    return w->error ? -1 : 0;
}
