/* test_text.c — the text formats lactl reads and writes: TSV splitting, escaping and line
 * reading against fixed vectors and round trips; timestamps against a brute-force calendar. */
#include <errno.h>

#include "testutil.h"
#include "timefmt.h"
#include "tsv.h"

static int field_is(const tsv_field *f, const char *s, size_t n)
{
    return f->data && f->len == n && memcmp(f->data, s, n) == 0;
}

START_TEST(tsv_split__escapes_absent_and_edges)
{
    char line[] = "a\\tb\t\\N\t\t\\\\N\tx\\ny\\r\\0z\\'\\q\r";
    tsv_field f[8];
    const char *why;
    int n = tsv_split(line, strlen(line), f, 8, &why);
    ck_assert_int_eq(n, 5);
    ck_assert(field_is(&f[0], "a\tb", 3));
    ck_assert_ptr_null(f[1].data);       /* \N alone is absent */
    ck_assert(field_is(&f[2], "", 0));   /* empty is not absent */
    ck_assert(field_is(&f[3], "\\N", 2)); /* an escaped backslash then N is text */
    ck_assert(field_is(&f[4], "x\ny\r\0z'q", 8));

    char one[] = "";
    ck_assert_int_eq(tsv_split(one, 0, f, 8, &why), 1);
    ck_assert(field_is(&f[0], "", 0));

    char trail[] = "a\tb\\";
    ck_assert_int_eq(tsv_split(trail, strlen(trail), f, 8, &why), -1);
    ck_assert_str_eq(why, "backslash at the end of the line");

    char many[] = "1\t2\t3\t4";
    ck_assert_int_eq(tsv_split(many, strlen(many), f, 2, &why), 4); /* counted, not stored */
    ck_assert(field_is(&f[1], "2", 1));

    char nx[] = "\\Nx";
    ck_assert_int_eq(tsv_split(nx, strlen(nx), f, 8, &why), 1);
    ck_assert(field_is(&f[0], "Nx", 2));
}
END_TEST

/* Any bytes written by the writer split back to the same fields. */
START_TEST(tsv_writer__roundtrip_random_bytes)
{
    uint64_t rng = 99;
    for (int iter = 0; iter < 2000; iter++) {
        char *buf = NULL;
        size_t blen = 0;
        FILE *mem = open_memstream(&buf, &blen);
        tsv_writer w;
        tsv_writer_init(&w, mem);
        int nf = 1 + (int)(tu_rand(&rng) % 6);
        char src[6][40];
        size_t len[6];
        int absent[6];
        for (int i = 0; i < nf; i++) {
            absent[i] = tu_rand(&rng) % 7 == 0;
            len[i] = tu_rand(&rng) % 40;
            for (size_t k = 0; k < len[i]; k++) {
                uint64_t r = tu_rand(&rng);
                /* mostly the characters that need escaping */
                src[i][k] = r % 3 ? "\t\n\r\\\0\b\fN'"[r % 10] : (char)(r >> 8);
            }
            if (i)
                tsv_char_out(&w, '\t');
            tsv_field_out(&w, absent[i] ? NULL : src[i], len[i]);
        }
        ck_assert_int_eq(tsv_writer_finish(&w), 0);
        fclose(mem);
        ck_assert_ptr_null(memchr(buf, '\n', blen));
        tsv_field f[8];
        ck_assert_int_eq(tsv_split(buf, blen, f, 8, NULL), nf);
        for (int i = 0; i < nf; i++) {
            if (absent[i])
                ck_assert_ptr_null(f[i].data);
            else
                ck_assert(field_is(&f[i], src[i], len[i]));
        }
        free(buf);
    }
}
END_TEST

/* Lines stay valid until release, even when the reader must ask for a release to grow. */
START_TEST(tsv_reader__batches_longer_than_the_buffer)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    const int nlines = 300000; /* about 7 MB, more than the 4 MiB buffer */
    for (int i = 0; i < nlines; i++)
        fprintf(f, "line %d with some padding text\n", i);
    fputs("last line without newline", f);
    rewind(f);
    tsv_reader *r = tsv_reader_new(f);
    char **held = malloc(sizeof(char *) * (size_t)(nlines + 1));
    int next = 0, held_n = 0, releases = 0, rc;
    char *line;
    size_t len;
    while ((rc = tsv_reader_next(r, &line, &len)) != 0) {
        ck_assert_int_ge(rc, 1);
        if (rc == 2) {
            /* everything held so far must still be intact */
            for (int k = 0; k < held_n; k++) {
                char want[64];
                snprintf(want, sizeof want, "line %d with some padding text", next - held_n + k);
                ck_assert_str_eq(held[k], want);
            }
            held_n = 0;
            releases++;
            tsv_reader_release(r);
            continue;
        }
        ck_assert_uint_eq(len, strlen(line));
        if (next < nlines) {
            char want[64];
            snprintf(want, sizeof want, "line %d with some padding text", next);
            ck_assert_str_eq(line, want);
        } else {
            ck_assert_str_eq(line, "last line without newline");
        }
        held[held_n++] = line;
        next++;
        ck_assert_uint_eq(tsv_reader_lineno(r), (uint64_t)next);
    }
    ck_assert_int_eq(next, nlines + 1);
    ck_assert_int_ge(releases, 1);
    tsv_reader_free(r);
    free(held);
    fclose(f);
}
END_TEST

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Walk the calendar day by day from 1970 and compare with the closed-form conversion. */
START_TEST(timefmt_civil__matches_calendar_walk)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t y = 1970, day = 0;
    unsigned m = 1, d = 1;
    for (; y < 2400; day++) {
        ck_assert_int_eq(timefmt_days_from_civil(y, m, d), day);
        int64_t yy;
        unsigned mm, dd;
        timefmt_civil_from_days(day, &yy, &mm, &dd);
        ck_assert(yy == y && mm == m && dd == d);
        if (++d > mdays[m - 1] + (m == 2 && is_leap(y))) {
            d = 1;
            if (++m > 12)
                m = 1, y++;
        }
    }
}
END_TEST

static int64_t parse_ok(const char *s)
{
    int64_t v = -1;
    const char *why = NULL;
    ck_assert_msg(timefmt_parse(s, strlen(s), &v, &why) == 0, "'%s': %s", s, why);
    return v;
}

static void parse_bad(const char *s)
{
    int64_t v;
    const char *why = NULL;
    ck_assert_msg(timefmt_parse(s, strlen(s), &v, &why) == -1, "'%s' accepted", s);
    ck_assert_ptr_nonnull(why);
}

START_TEST(timefmt_parse__fixed_vectors)
{
    ck_assert_int_eq(parse_ok("0"), 0);
    ck_assert_int_eq(parse_ok("1764028800000"), 1764028800000LL);
    ck_assert_int_eq(parse_ok("2025-11-25"), 1764028800000LL);
    ck_assert_int_eq(parse_ok("2025-11-25T00:00:00Z"), 1764028800000LL);
    ck_assert_int_eq(parse_ok("2025-11-25 01:02:03.456"), 1764028800000LL + 3723456);
    ck_assert_int_eq(parse_ok("2025-11-25T01:02:03.4567891Z"), 1764028800000LL + 3723456);
    ck_assert_int_eq(parse_ok("2025-11-25T01:02"), 1764028800000LL + 3720000);
    ck_assert_int_eq(parse_ok("2025-11-25T05:30:00+05:30"), 1764028800000LL);
    ck_assert_int_eq(parse_ok("2025-11-24T19:00:00-0500"), 1764028800000LL);
    ck_assert_int_eq(parse_ok("2024-02-29T12:00:00Z"), 1709208000000LL);
    ck_assert_int_eq(parse_ok("9999-12-31T23:59:59.999Z"), 253402300799999LL);
    parse_bad("");
    parse_bad("-5");
    parse_bad("12x");
    parse_bad("2023-02-29");
    parse_bad("2025-13-01");
    parse_bad("2025-11-25T24:00:00");
    parse_bad("2025-11-25T10:00:60");
    parse_bad("2025-11-25T10:00:00Zjunk");
    parse_bad("2025-11-25T10:00:00.Z");
    parse_bad("1969-12-31T23:59:59Z");
    parse_bad("99999999999999999999");
    parse_bad("2025/11/25");
}
END_TEST

START_TEST(timefmt_format__roundtrips)
{
    char buf[TIMEFMT_MAX];
    ck_assert_uint_eq(timefmt_format(1764028800000LL + 3723456, buf), 24);
    ck_assert_str_eq(buf, "2025-11-25T01:02:03.456Z");
    uint64_t rng = 5;
    for (int i = 0; i < 100000; i++) {
        int64_t ms = (int64_t)(tu_rand(&rng) % 253402300800000ULL);
        size_t n = timefmt_format(ms, buf);
        int64_t back;
        ck_assert_int_eq(timefmt_parse(buf, n, &back, NULL), 0);
        ck_assert_int_eq(back, ms);
    }
}
END_TEST

static Suite *text_suite(void)
{
    Suite *s = suite_create("text");
    TCase *tc = tcase_create("tsv");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tsv_split__escapes_absent_and_edges);
    tcase_add_test(tc, tsv_writer__roundtrip_random_bytes);
    tcase_add_test(tc, tsv_reader__batches_longer_than_the_buffer);
    suite_add_tcase(s, tc);
    tc = tcase_create("timefmt");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, timefmt_civil__matches_calendar_walk);
    tcase_add_test(tc, timefmt_parse__fixed_vectors);
    tcase_add_test(tc, timefmt_format__roundtrips);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(text_suite)
