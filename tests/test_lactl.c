/* test_lactl.c — lactl end to end: a generated stream ingested from TSV and scanned back is the
 * same multiset, scan output ingests to the same events, verify catches a flipped byte, and bad
 * input is reported by line while the rest goes in. Commands run in a forked child with stdout
 * and stderr captured to files. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gen.h"
#include "la.h"
#include "lactl.h"
#include "testutil.h"
#include "tsv.h"

typedef struct run_out {
    int status;
    char *out, *err; /* NUL-terminated captured output, caller frees */
    size_t out_len;
} run_out;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

/* Run one lactl command (argv[0] = command name) in a child process. */
static run_out run(const char *dir, int (*cmd)(int, char **), char **argv)
{
    char out[600], err[600];
    snprintf(out, sizeof out, "%s/stdout", dir);
    snprintf(err, sizeof err, "%s/stderr", dir);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr))
            _exit(99);
        int argc = 0;
        while (argv[argc])
            argc++;
        int st = cmd(argc, argv);
        fflush(NULL);
        _exit(st);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st), "lactl %s crashed", argv[0]);
    run_out r = {WEXITSTATUS(st), NULL, NULL, 0};
    r.out = slurp(out, &r.out_len);
    r.err = slurp(err, NULL);
    return r;
}

static void run_free(run_out *r)
{
    free(r->out);
    free(r->err);
}

/* Split text into lines (in place); returns them sorted. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **sorted_lines(char *text, size_t *n)
{
    size_t cap = 1024, k = 0;
    char **v = malloc(cap * sizeof *v);
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (k == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[k++] = p;
        if (!nl)
            break;
        p = nl + 1;
    }
    qsort(v, k, sizeof *v, cmp_str);
    *n = k;
    return v;
}

/* The line `lactl scan` must print for a generated event, built independently of lactl. */
static size_t expected_line(char *buf, const la_event *e)
{
    char *p = buf;
    p += sprintf(p, "%lld\t%.*s\t%.*s\t%.*s\t%016llx\t%016llx\t", (long long)e->ts,
                 (int)e->workspace.len, e->workspace.data, (int)e->link.len, e->link.data,
                 (int)e->event_type.len, e->event_type.data, (unsigned long long)e->visitor_id,
                 (unsigned long long)e->session_id);
    p += e->has_value ? sprintf(p, "%lld", (long long)e->value) : sprintf(p, "\\N");
    for (uint32_t d = 0; d < GEN_NDIMS; d++) {
        const la_str *s = d < e->ndims ? &e->dims[d] : NULL;
        for (uint32_t i = 0; s && s->data && i < s->len; i++)
            TU_CHECK(s->data[i] != '\t' && s->data[i] != '\n' && s->data[i] != '\\',
                     "generator strings need no escaping");
        p += s && s->data ? sprintf(p, "\t%.*s", (int)s->len, s->data) : sprintf(p, "\t\\N");
    }
    return (size_t)(p - buf);
}

static const char HEADER[] = "ts\tworkspace_id\tlink_id\tevent_type\tvisitor_id\tsession_id\tvalue\t"
                             "country\tcity\tdevice\tbrowser\treferrer";

static void write_generated(const char *path, const gen_options *go)
{
    gen *g;
    ck_assert_int_eq(gen_create(&g, go), 0);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gen_write_tsv(g, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    gen_free(g);
}

START_TEST(lactl_roundtrip__million_generated_events)
{
    char *dir = tu_tmpdir(), tsv[600], db[600], db2[600], scan1[600];
    snprintf(tsv, sizeof tsv, "%s/events.tsv", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(db2, sizeof db2, "%s/db2", dir);
    snprintf(scan1, sizeof scan1, "%s/scan1.tsv", dir);
    gen_options go;
    gen_options_default(&go);
    go.events = 1000000;
    go.days = 6;
    go.seed = 7;
    write_generated(tsv, &go);

    run_out r = run(dir, lactl_ingest, (char *[]){"ingest", db, tsv, NULL});
    ck_assert_msg(r.status == 0, "ingest failed: %s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "ingested 1000000 rows, rejected 0"));
    run_free(&r);

    r = run(dir, lactl_verify, (char *[]){"verify", db, NULL});
    ck_assert_msg(r.status == 0, "verify: %s", r.out);
    run_free(&r);

    /* scan == the generated stream, as a multiset */
    r = run(dir, lactl_scan, (char *[]){"scan", db, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(strncmp(r.out, HEADER, sizeof HEADER - 1), 0);
    FILE *f = fopen(scan1, "w");
    fwrite(r.out, 1, r.out_len, f);
    fclose(f);
    size_t n_got;
    char **got = sorted_lines(strchr(r.out, '\n') + 1, &n_got);
    ck_assert_uint_eq(n_got, go.events);

    char *want_text = malloc(go.events * 400), *p = want_text;
    gen *g;
    ck_assert_int_eq(gen_create(&g, &go), 0);
    la_event e;
    while (gen_next(g, &e) == 1) {
        p += expected_line(p, &e);
        *p++ = '\n';
    }
    *p = '\0';
    gen_free(g);
    size_t n_want;
    char **want = sorted_lines(want_text, &n_want);
    ck_assert_uint_eq(n_want, n_got);
    for (size_t i = 0; i < n_want; i++)
        TU_CHECK(strcmp(want[i], got[i]) == 0, "line %zu:\n got  %s\n want %s", i, got[i], want[i]);
    free(want);
    free(want_text);
    free(got);
    run_free(&r);

    /* scan output ingests back to the same events (ids given as 16 hex digits stay as they are) */
    r = run(dir, lactl_ingest, (char *[]){"ingest", db2, scan1, NULL});
    ck_assert_msg(r.status == 0, "re-ingest failed: %s", r.err);
    run_free(&r);
    r = run(dir, lactl_scan, (char *[]){"scan", db2, NULL});
    char *first = slurp(scan1, NULL);
    ck_assert_msg(strcmp(r.out, first) == 0, "scan of the re-ingested database differs");
    free(first);
    run_free(&r);

    /* a filtered scan is the matching subset */
    r = run(dir, lactl_scan,
            (char *[]){"scan", db, "--from", "2026-11-02", "--to", "2026-11-03T12:00:00Z",
                       "--where", "referrer=\\N", "--no-header", NULL});
    ck_assert_int_eq(r.status, 0);
    size_t n_f;
    char **fl = sorted_lines(r.out, &n_f);
    ck_assert_uint_gt(n_f, 1000);
    for (size_t i = 0; i < n_f; i++) {
        long long ts = atoll(fl[i]);
        TU_CHECK(ts >= 1793577600000LL && ts < 1793707200000LL, "ts %lld outside the range", ts);
        size_t len = strlen(fl[i]);
        TU_CHECK(len > 3 && strcmp(fl[i] + len - 3, "\t\\N") == 0, "referrer not absent: %s", fl[i]);
    }
    free(fl);
    run_free(&r);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* One flipped byte in a segment's compressed blocks is reported with the file's name. */
START_TEST(lactl_verify__reports_a_flipped_block_byte)
{
    char *dir = tu_tmpdir(), tsv[600], db[600], seg[700];
    snprintf(tsv, sizeof tsv, "%s/events.tsv", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    gen_options go;
    gen_options_default(&go);
    go.events = 50000;
    go.days = 1;
    go.late_fraction = 0;
    write_generated(tsv, &go);
    run_out r = run(dir, lactl_ingest, (char *[]){"ingest", db, tsv, NULL});
    ck_assert_int_eq(r.status, 0);
    run_free(&r);
    snprintf(seg, sizeof seg, "%s/2026-11-01.seg", db);
    uint64_t rng = 11;
    for (int t = 0; t < 20; t++) {
        int fd = open(seg, O_RDWR);
        ck_assert_int_ge(fd, 0);
        /* blocks start after the 4096-byte header; 50000 rows make three blocks of 16384 */
        off_t off = 4096 + (off_t)(tu_rand(&rng) % 40000);
        uint8_t b;
        ck_assert_int_eq(pread(fd, &b, 1, off), 1);
        b ^= 0x10;
        ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
        r = run(dir, lactl_verify, (char *[]){"verify", db, NULL});
        ck_assert_msg(r.status == 1, "flip at %lld not reported", (long long)off);
        ck_assert_ptr_nonnull(strstr(r.out, "2026-11-01.seg:"));
        run_free(&r);
        b ^= 0x10; /* put it back: clean again */
        ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
        close(fd);
        r = run(dir, lactl_verify, (char *[]){"verify", db, NULL});
        ck_assert_int_eq(r.status, 0);
        run_free(&r);
    }
    tu_rmrf(dir);
    free(dir);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(lactl_ingest__bad_lines_reported_rest_ingested)
{
    char *dir = tu_tmpdir(), tsv[600], db[600];
    snprintf(tsv, sizeof tsv, "%s/in.tsv", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    write_file(tsv, "workspace_id\tts\tlink_id\tvisitor_id\tcountry\tvalue\n"
                    "w1\t2026-11-01T10:00:00Z\tl1\talice\tUS\t\\N\n"
                    "w1\tyesterday\tl1\talice\tUS\t\\N\n"           /* 3: bad ts */
                    "w1\t1793500000000\tl1\talice\n"                 /* 4: too few fields */
                    "\\N\t1793500000000\tl1\talice\tUS\t\\N\n"       /* 5: absent workspace */
                    "w2\t1793500000000\tl2\tbob\t\\N\t12x\n"         /* 6: bad value */
                    "w2\t1793500000000\tl2\tbob\t\\N\t-250\n"
                    "w3\t1793500000000\tl3\tbob\tDE\ttrailing\\\n"   /* 8: lone backslash */
                    "\n"
                    "w4\t2026-11-02 01:00\tl4\t\tFR\t\n");
    run_out r = run(dir, lactl_ingest, (char *[]){"ingest", db, tsv, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "ingested 3 rows, rejected 5"));
    for (int line = 3; line <= 8; line++) {
        char want[700];
        snprintf(want, sizeof want, "%s:%d: ", tsv, line);
        if (line != 7)
            ck_assert_msg(strstr(r.err, want) != NULL, "line %d not reported in:\n%s", line, r.err);
    }
    run_free(&r);
    r = run(dir, lactl_scan, (char *[]){"scan", db, "--no-header", NULL});
    ck_assert_int_eq(r.status, 0);
    char want[2048];
    snprintf(want, sizeof want,
             "1793527200000\tw1\tl1\tclick\t%016llx\t0000000000000000\t\\N\tUS\t\\N\t\\N\t\\N\t\\N\n"
             "1793500000000\tw2\tl2\tclick\t%016llx\t0000000000000000\t-250\t\\N\t\\N\t\\N\t\\N\t\\N\n"
             "1793581200000\tw4\tl4\tclick\t%016llx\t0000000000000000\t\\N\tFR\t\\N\t\\N\t\\N\t\\N\n",
             (unsigned long long)la_hash_id("alice", 5), (unsigned long long)la_hash_id("bob", 3),
             (unsigned long long)la_hash_id("", 0));
    ck_assert_str_eq(r.out, want);
    run_free(&r);

    write_file(tsv, "ts\tworkspace_id\tlink_id\tcolour\n1\tw\tl\tred\n");
    r = run(dir, lactl_ingest, (char *[]){"ingest", db, tsv, NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "unknown column 'colour'"));
    run_free(&r);

    write_file(tsv, "ts\tlink_id\n1\tl\n");
    r = run(dir, lactl_ingest, (char *[]){"ingest", db, tsv, NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "no 'workspace_id' column"));
    run_free(&r);

    r = run(dir, lactl_scan, (char *[]){"scan", db, "--where", "colour=red", NULL});
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
    r = run(dir, lactl_scan, (char *[]){"scan", "/nonexistent/db", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "no database here"));
    run_free(&r);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

static Suite *lactl_suite(void)
{
    Suite *s = suite_create("lactl");
    TCase *tc = tcase_create("lactl");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, lactl_roundtrip__million_generated_events);
    tcase_add_test(tc, lactl_verify__reports_a_flipped_block_byte);
    tcase_add_test(tc, lactl_ingest__bad_lines_reported_rest_ingested);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(lactl_suite)
