/* test_lactl.c — lactl end to end: a generated stream ingested from TSV and scanned back is the
 * same multiset, scan output ingests to the same events, verify catches a flipped byte, and bad
 * input is reported by line while the rest goes in. Commands run in a forked child with stdout
 * and stderr captured to files. */
#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gen.h"
#include "la.h"
#include "lactl.h"
#include "rollfile.h"
#include "runcmd.h"
#include "testutil.h"
#include "tsv.h"

/* cmd_query.c's commands (lactl.h does not list them yet). */
int lactl_query(int argc, char **argv);
int lactl_top(int argc, char **argv);
int lactl_live(int argc, char **argv); /* cmd_live.c, likewise */

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
    ck_assert_int_eq(r.status, 2); /* an error that stopped the command, not a problem found */
    ck_assert_ptr_nonnull(strstr(r.err, "no database here"));
    run_free(&r);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* ---- lactl query / lactl top over a hand-made vector whose answers are worked out below ----
 *
 * Workspace w1 (times UTC; Asia/Kolkata is UTC+05:30, so its local days start at 18:30Z):
 *   E1 2026-11-01T10:00:00.000Z  link a  click  v1 s1         DE   Berlin
 *   E2 2026-11-01T18:29:59.999Z  link a  click  v2 s2         US   New<TAB>York  (Kolkata 23:59:59.999)
 *   E3 2026-11-01T20:00:00.000Z  link b  lead   v1 s3         DE   Berlin        (Kolkata 11-02 01:30)
 *   E4 2026-11-02T03:00:00.000Z  link a  click  v1 s4         -    Paris
 *   E5 2026-11-02T18:40:00.000Z  link b  sale   v2 s5  1999   DE   New<TAB>York  (Kolkata 11-03 00:10)
 * Workspace w2: one click on 2026-11-01T12:00Z (FR, Paris) that no w1 query may count.
 * Workspace w3: 300 clicks from 300 visitors in one session on 2026-11-01 05:00Z, beyond the
 * exact distinct limit (256), so unique_visitors is an estimate there. */
static void build_query_db(const char *path)
{
    static const struct {
        int64_t ts;
        const char *ws, *link, *type, *visitor, *session;
        int64_t value;
        int has_value;
        const char *country, *city;
    } evs[] = {
        {1793527200000, "w1", "a", "click", "v1", "s1", 0, 0, "DE", "Berlin"},
        {1793557799999, "w1", "a", "click", "v2", "s2", 0, 0, "US", "New\tYork"},
        {1793563200000, "w1", "b", "lead", "v1", "s3", 0, 0, "DE", "Berlin"},
        {1793588400000, "w1", "a", "click", "v1", "s4", 0, 0, NULL, "Paris"},
        {1793644800000, "w1", "b", "sale", "v2", "s5", 1999, 1, "DE", "New\tYork"},
        {1793534400000, "w2", "a", "click", "v3", "s6", 0, 0, "FR", "Paris"},
    };
    la_db *db;
    ck_assert_int_eq(la_open(&db, path, LA_OPEN_CREATE, NULL), LA_OK);
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
        la_str dims[2] = {{evs[i].country, evs[i].country ? (uint32_t)strlen(evs[i].country) : 0},
                          {evs[i].city, (uint32_t)strlen(evs[i].city)}};
        la_event e = {
            .ts = evs[i].ts,
            .workspace = {evs[i].ws, (uint32_t)strlen(evs[i].ws)},
            .link = {evs[i].link, (uint32_t)strlen(evs[i].link)},
            .event_type = {evs[i].type, (uint32_t)strlen(evs[i].type)},
            .visitor_id = la_hash_id(evs[i].visitor, strlen(evs[i].visitor)),
            .session_id = la_hash_id(evs[i].session, strlen(evs[i].session)),
            .value = evs[i].value,
            .has_value = evs[i].has_value,
            .dims = dims,
            .ndims = 2,
        };
        ck_assert_int_eq(la_append(db, &e), LA_OK);
    }
    for (uint64_t v = 0; v < 300; v++) {
        la_event e = {
            .ts = 1793509200000 + (int64_t)v * 1000, /* 2026-11-01T05:00Z + v s */
            .workspace = {"w3", 2}, .link = {"x", 1}, .event_type = {"click", 5},
            .visitor_id = 1000 + v, .session_id = 7,
        };
        ck_assert_int_eq(la_append(db, &e), LA_OK);
    }
    ck_assert_int_eq(la_flush(db), LA_OK);
    la_close(db);
}

static const char SERIES_HEAD[] =
    "bucket_start\tclicks\tleads\tsales\tvalue\tunique_visitors\tunique_sessions\n";

/* Runs `cmd` (NULL-terminated argv) and checks exit 0 and the exact stdout. */
static void expect_out(const char *dir, int (*cmd)(int, char **), char **argv, const char *want)
{
    run_out r = run(dir, cmd, argv);
    ck_assert_msg(r.status == 0, "lactl %s exited %d: %s", argv[0], r.status, r.err);
    ck_assert_str_eq(r.out, want);
    ck_assert_str_eq(r.err, "");
    run_free(&r);
}

START_TEST(lactl_query__fixed_vector_tsv)
{
    char *dir = tu_tmpdir(), db[600];
    snprintf(db, sizeof db, "%s/db", dir);
    build_query_db(db);

    /* UTC days; the default format off a terminal is TSV */
    expect_out(dir, lactl_query,
               (char *[]){"query", db, "--workspace", "w1", "--from", "2026-11-01", "--to",
                          "2026-11-03", "--bucket", "day", NULL},
               "bucket_start\tclicks\tleads\tsales\tvalue\tunique_visitors\tunique_sessions\n"
               "2026-11-01T00:00:00Z\t2\t1\t0\t0\t2\t3\n"
               "2026-11-02T00:00:00Z\t1\t0\t1\t1999\t2\t2\n");
    /* the same in epoch ms, day being the default bucket */
    expect_out(dir, lactl_query,
               (char *[]){"query", db, "--workspace", "w1", "--from", "1793491200000", "--to",
                          "1793664000000", "--format", "tsv", NULL},
               "bucket_start\tclicks\tleads\tsales\tvalue\tunique_visitors\tunique_sessions\n"
               "2026-11-01T00:00:00Z\t2\t1\t0\t0\t2\t3\n"
               "2026-11-02T00:00:00Z\t1\t0\t1\t1999\t2\t2\n");
    /* Kolkata days: dates are local midnights; E2 stays on 11-01 by a millisecond, E3 and E5
     * move to the next local day */
    expect_out(dir, lactl_query,
               (char *[]){"query", db, "--workspace", "w1", "--from", "2026-11-01", "--to",
                          "2026-11-04", "--bucket", "day", "--tz", "Asia/Kolkata", NULL},
               "bucket_start\tclicks\tleads\tsales\tvalue\tunique_visitors\tunique_sessions\n"
               "2026-11-01T00:00:00+05:30\t2\t0\t0\t0\t2\t2\n"
               "2026-11-02T00:00:00+05:30\t1\t1\t0\t0\t1\t2\n"
               "2026-11-03T00:00:00+05:30\t0\t0\t1\t1999\t1\t1\n");
    /* UTC hours, empty ones included */
    expect_out(dir, lactl_query,
               (char *[]){"query", db, "--workspace", "w1", "--from", "2026-11-01T17:00:00Z",
                          "--to", "2026-11-01T21:00:00Z", "--bucket", "hour", NULL},
               "bucket_start\tclicks\tleads\tsales\tvalue\tunique_visitors\tunique_sessions\n"
               "2026-11-01T17:00:00Z\t0\t0\t0\t0\t0\t0\n"
               "2026-11-01T18:00:00Z\t1\t0\t0\t0\t1\t1\n"
               "2026-11-01T19:00:00Z\t0\t0\t0\t0\t0\t0\n"
               "2026-11-01T20:00:00Z\t0\t1\t0\t0\t1\t1\n");
    /* Kolkata hours (on the half hour in UTC); --to has no offset, so it is Kolkata time */
    expect_out(dir, lactl_query,
               (char *[]){"query", db, "--workspace", "w1", "--from", "2026-11-01T23:00:00+05:30",
                          "--to", "2026-11-02T02:00", "--bucket", "hour", "--tz", "Asia/Kolkata",
                          NULL},
               "bucket_start\tclicks\tleads\tsales\tvalue\tunique_visitors\tunique_sessions\n"
               "2026-11-01T23:00:00+05:30\t1\t0\t0\t0\t1\t1\n"
               "2026-11-02T00:00:00+05:30\t0\t0\t0\t0\t0\t0\n"
               "2026-11-02T01:00:00+05:30\t0\t1\t0\t0\t1\t1\n");
    /* only leads */
    expect_out(dir, lactl_query,
               (char *[]){"query", db, "--workspace", "w1", "--event-type", "lead", "--from",
                          "2026-11-01", "--to", "2026-11-03", NULL},
               "bucket_start\tclicks\tleads\tsales\tvalue\tunique_visitors\tunique_sessions\n"
               "2026-11-01T00:00:00Z\t0\t1\t0\t0\t1\t1\n"
               "2026-11-02T00:00:00Z\t0\t0\t0\t0\t0\t0\n");
    /* a dimension filter: E1, E3, E5 */
    expect_out(dir, lactl_query,
               (char *[]){"query", db, "--workspace", "w1", "--where", "country=DE", "--from",
                          "2026-11-01", "--to", "2026-11-03", NULL},
               "bucket_start\tclicks\tleads\tsales\tvalue\tunique_visitors\tunique_sessions\n"
               "2026-11-01T00:00:00Z\t1\t1\t0\t0\t1\t2\n"
               "2026-11-02T00:00:00Z\t0\t0\t1\t1999\t1\t1\n");
    /* an absent dimension: E4 */
    expect_out(dir, lactl_query,
               (char *[]){"query", db, "--workspace", "w1", "--where", "country=\\N", "--from",
                          "2026-11-01", "--to", "2026-11-03", NULL},
               "bucket_start\tclicks\tleads\tsales\tvalue\tunique_visitors\tunique_sessions\n"
               "2026-11-01T00:00:00Z\t0\t0\t0\t0\t0\t0\n"
               "2026-11-02T00:00:00Z\t1\t0\t0\t0\t1\t1\n");
    /* one link: E1, E2, E4 */
    expect_out(dir, lactl_query,
               (char *[]){"query", db, "--workspace", "w1", "--link", "a", "--from", "2026-11-01",
                          "--to", "2026-11-03", NULL},
               "bucket_start\tclicks\tleads\tsales\tvalue\tunique_visitors\tunique_sessions\n"
               "2026-11-01T00:00:00Z\t2\t0\t0\t0\t2\t2\n"
               "2026-11-02T00:00:00Z\t1\t0\t0\t0\t1\t1\n");
    /* a range that cuts buckets: the first and last points are clipped, not dropped */
    expect_out(dir, lactl_query,
               (char *[]){"query", db, "--workspace", "w1", "--from", "2026-11-01T15:00:00Z",
                          "--to", "2026-11-02T12:00:00Z", NULL},
               "bucket_start\tclicks\tleads\tsales\tvalue\tunique_visitors\tunique_sessions\n"
               "2026-11-01T00:00:00Z\t1\t1\t0\t0\t2\t2\n"
               "2026-11-02T00:00:00Z\t1\t0\t0\t0\t1\t1\n");

    /* top countries: DE (E1 E3 E5), US (E2); E4 has none */
    expect_out(dir, lactl_top,
               (char *[]){"top", db, "--workspace", "w1", "--dim", "country", "--from",
                          "2026-11-01", "--to", "2026-11-03", NULL},
               "value\tcount\nDE\t3\nUS\t1\n");
    expect_out(dir, lactl_top,
               (char *[]){"top", db, "--workspace", "w1", "--dim", "country", "--event-type",
                          "click", "--from", "2026-11-01", "--to", "2026-11-03", NULL},
               "value\tcount\nDE\t1\nUS\t1\n");
    /* cities: ties by value bytes; the tab is escaped as lactl scan escapes it */
    expect_out(dir, lactl_top,
               (char *[]){"top", db, "--workspace", "w1", "--dim", "city", "-k", "2", "--from",
                          "2026-11-01", "--to", "2026-11-03", NULL},
               "value\tcount\nBerlin\t2\nNew\\tYork\t2\n");
    expect_out(dir, lactl_top,
               (char *[]){"top", db, "--workspace", "w1", "--dim", "city", "-k", "2", "--from",
                          "2026-11-01", "--to", "2026-11-03", "--format", "json", NULL},
               "{\"total\":5,\"absent\":0,\"other\":1,\"max_error\":0,\"entries\":[\n"
               "{\"value\":\"Berlin\",\"count\":2},\n"
               "{\"value\":\"New\\u0009York\",\"count\":2}\n"
               "]}\n");
    expect_out(dir, lactl_top,
               (char *[]){"top", db, "--workspace", "w1", "--dim", "country", "--from",
                          "2026-11-01", "--to", "2026-11-03", "--format", "table", NULL},
               "value  count\n"
               "DE         3\n"
               "US         1\n"
               "total 5, absent 1, other 0, max_error 0 (exact)\n");
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(lactl_query__table_json_and_estimates)
{
    char *dir = tu_tmpdir(), db[600];
    snprintf(db, sizeof db, "%s/db", dir);
    build_query_db(db);
    expect_out(dir, lactl_query,
               (char *[]){"query", db, "--workspace", "w1", "--from", "2026-11-01", "--to",
                          "2026-11-03", "--format", "table", NULL},
               "bucket_start          clicks  leads  sales  value  unique_visitors  unique_sessions\n"
               "2026-11-01T00:00:00Z       2      1      0      0                2                3\n"
               "2026-11-02T00:00:00Z       1      0      1  1,999                2                2\n");
    /* Kathmandu (UTC+05:45): local 2026-11-02 is [11-01T18:15Z, 11-02T18:15Z): E2, E3, E4 */
    expect_out(dir, lactl_query,
               (char *[]){"query", db, "--workspace", "w1", "--from", "2026-11-02", "--to",
                          "2026-11-03", "--tz", "Asia/Kathmandu", "--format", "json", NULL},
               "{\"from\":1793556900000,\"to\":1793643300000,\"bucket\":\"day\","
               "\"tz\":\"Asia/Kathmandu\",\"points\":[\n"
               "{\"bucket_start\":\"2026-11-02T00:00:00+05:45\",\"bucket_start_ms\":1793556900000,"
               "\"utc_offset_s\":20700,\"events\":3,\"clicks\":2,\"leads\":1,\"sales\":0,\"value\":0,"
               "\"unique_visitors\":{\"count\":2,\"exact\":true,\"rel_stderr\":0},"
               "\"unique_sessions\":{\"count\":3,\"exact\":true,\"rel_stderr\":0}}\n"
               "]}\n");

    /* w3: 300 visitors, one session. TSV prints the estimate as a number, the table marks it
     * with ~, JSON says exact:false. */
    char *w3[] = {"query", db, "--workspace", "w3", "--from", "2026-11-01", "--to", "2026-11-02",
                  "--format", "tsv", NULL};
    run_out r = run(dir, lactl_query, w3);
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(strncmp(r.out, SERIES_HEAD, sizeof SERIES_HEAD - 1), 0);
    const char *row = r.out + sizeof SERIES_HEAD - 1;
    ck_assert_int_eq(strncmp(row, "2026-11-01T00:00:00Z\t300\t0\t0\t0\t", 31), 0);
    char *end;
    unsigned long est = strtoul(row + 31, &end, 10);
    ck_assert_msg(est > 270 && est < 330, "estimate %lu of 300", est);
    ck_assert_str_eq(end, "\t1\n");
    run_free(&r);
    w3[9] = "table";
    r = run(dir, lactl_query, w3);
    ck_assert_int_eq(r.status, 0);
    char want[64];
    snprintf(want, sizeof want, "~%lu                1\n", est);
    ck_assert_msg(strstr(r.out, want) != NULL, "no '%s' in:\n%s", want, r.out);
    run_free(&r);
    w3[9] = "json";
    r = run(dir, lactl_query, w3);
    ck_assert_int_eq(r.status, 0);
    snprintf(want, sizeof want, "\"unique_visitors\":{\"count\":%lu,\"exact\":false,\"rel_stderr\":0.", est);
    ck_assert_msg(strstr(r.out, want) != NULL, "no '%s' in:\n%s", want, r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "\"unique_sessions\":{\"count\":1,\"exact\":true,\"rel_stderr\":0}"));
    run_free(&r);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* Runs `cmd`, expects exit status `status` and one line on stderr containing each of `needles`
 * (NULL-terminated). */
static void expect_err(const char *dir, int (*cmd)(int, char **), char **argv, int status,
                       const char *const *needles)
{
    run_out r = run(dir, cmd, argv);
    ck_assert_msg(r.status == status, "lactl %s %s: exit %d, want %d (%s)", argv[0], argv[2],
                  r.status, status, r.err);
    ck_assert_str_eq(r.out, "");
    size_t len = strlen(r.err);
    ck_assert_msg(len > 0 && r.err[len - 1] == '\n' && strchr(r.err, '\n') == r.err + len - 1,
                  "not one line: '%s'", r.err);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "lactl %s: ", argv[0]);
    ck_assert_msg(strncmp(r.err, prefix, strlen(prefix)) == 0, "no '%s' in '%s'", prefix, r.err);
    for (const char *const *n = needles; *n; n++)
        ck_assert_msg(strstr(r.err, *n) != NULL, "no '%s' in '%s'", *n, r.err);
    run_free(&r);
}

#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})

START_TEST(lactl_query__errors)
{
    char *dir = tu_tmpdir(), db[600], nodb[600];
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(nodb, sizeof nodb, "%s/nothing-here", dir);
    build_query_db(db);
#define Q(...) (char *[]){"query", __VA_ARGS__, NULL}
#define T(...) (char *[]){"top", __VA_ARGS__, NULL}
    expect_err(dir, lactl_query, Q(db, "--from", "2026-11-01", "--to", "2026-11-02"), 2,
               NEEDLES("missing --workspace"));
    expect_err(dir, lactl_query, Q(db, "--workspace", "w1", "--to", "2026-11-02"), 2,
               NEEDLES("missing --from"));
    expect_err(dir, lactl_query, Q(db, "--workspace", "w1", "--from", "2026-11-01"), 2,
               NEEDLES("missing --to"));
    expect_err(dir, lactl_query, Q("--workspace", "w1", "--from", "2026-11-01", "--to", "2026-11-02"),
               2, NEEDLES("missing DB"));
    expect_err(dir, lactl_query,
               Q(db, "--workspace", "w1", "--from", "2026-11-01", "--to", "2026-11-02", "--frm", "x"),
               2, NEEDLES("'--frm'"));
    expect_err(dir, lactl_query,
               Q(db, "--workspace", "w1", "--from", "2026-11-01", "--to", "2026-11-02", "--bucket",
                 "fortnight"),
               2, NEEDLES("--bucket", "'fortnight'"));
    expect_err(dir, lactl_query,
               Q(db, "--workspace", "w1", "--from", "2026-11-01", "--to", "2026-11-02", "--format",
                 "xml"),
               2, NEEDLES("--format", "'xml'"));
    expect_err(dir, lactl_query, Q(db, "--workspace", "w1", "--from", "yesterday", "--to", "2026-11-02"),
               2, NEEDLES("--from 'yesterday'"));
    expect_err(dir, lactl_query, Q(db, "--workspace", "w1", "--from", "2026-11-01", "--to", "2026-13-01"),
               2, NEEDLES("--to '2026-13-01'", "date out of range"));
    expect_err(dir, lactl_query, Q(db, "--workspace", "w1", "--from", "2026-11-03", "--to", "2026-11-01"),
               2, NEEDLES("--from (2026-11-03T00:00:00.000Z) must be before --to"));
    expect_err(dir, lactl_query,
               Q(db, "--workspace", "w1", "--from", "1793491200000", "--to", "2026-11-01"), 2,
               NEEDLES("must be before"));
    expect_err(dir, lactl_query,
               Q(db, "--workspace", "w1", "--from", "2026-11-01", "--to", "2026-11-02", "--tz",
                 "Mars/Olympus_Mons"),
               2, NEEDLES("--tz 'Mars/Olympus_Mons'", "not found"));
    expect_err(dir, lactl_query,
               Q(db, "--workspace", "w1", "--from", "2026-11-01", "--to", "2026-11-02", "--where",
                 "colour=red"),
               2, NEEDLES("--where", "'colour=red'"));
    expect_err(dir, lactl_query,
               Q(db, "--workspace", "w1", "--from", "2026-11-01", "--to", "2026-11-02", "--where",
                 "country"),
               2, NEEDLES("--where"));
    expect_err(dir, lactl_query,
               Q(nodb, "--workspace", "w1", "--from", "2026-11-01", "--to", "2026-11-02"), 2,
               NEEDLES(nodb, "not found"));
    /* more buckets than one call may return: the engine's LA_EINVAL, reported as bad usage */
    expect_err(dir, lactl_query,
               Q(db, "--workspace", "w1", "--from", "1970-01-01", "--to", "2026-11-02", "--bucket",
                 "hour"),
               2, NEEDLES("invalid argument"));

    expect_err(dir, lactl_top, T(db, "--workspace", "w1", "--from", "2026-11-01", "--to", "2026-11-02"),
               2, NEEDLES("missing --dim"));
    expect_err(dir, lactl_top,
               T(db, "--workspace", "w1", "--dim", "colour", "--from", "2026-11-01", "--to",
                 "2026-11-02"),
               2, NEEDLES("--dim 'colour'"));
    expect_err(dir, lactl_top,
               T(db, "--workspace", "w1", "--dim", "country", "-k", "0", "--from", "2026-11-01",
                 "--to", "2026-11-02"),
               2, NEEDLES("-k", "'0'"));
    expect_err(dir, lactl_top,
               T(db, "--workspace", "w1", "--dim", "country", "-k", "10001", "--from", "2026-11-01",
                 "--to", "2026-11-02"),
               2, NEEDLES("-k", "'10001'"));
    expect_err(dir, lactl_top,
               T(db, "--workspace", "w1", "--dim", "country", "--bucket", "day", "--from",
                 "2026-11-01", "--to", "2026-11-02"),
               2, NEEDLES("'--bucket'"));
    expect_err(dir, lactl_top,
               T(db, "--dim", "country", "--from", "2026-11-01", "--to", "2026-11-02"), 2,
               NEEDLES("missing --workspace"));
#undef Q
#undef T

    run_out r = run(dir, lactl_query, (char *[]){"query", "--help", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: lactl query DB"));
    run_free(&r);
    r = run(dir, lactl_top, (char *[]){"top", "--help", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: lactl top DB"));
    run_free(&r);

    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* ---- lactl dump on rollup files ----
 *
 * A hand-made database (default dimensions country, city, device, browser, referrer; only the
 * first two set), closed so that its hour and day rollup files exist:
 *   2026-11-01T10:00Z  w1 a click  v1 s1        DE  Berlin
 *   2026-11-01T10:30Z  w1 a click  v2 s2        US  -
 *   2026-11-01T12:00Z  w1 b sale   v1 s3  500   DE  Berlin
 *   2026-11-02T03:00Z  w1 a click  v1 s4    7   -   -
 *   2026-11-02T03:10Z  w1 a click  v3 s5        DE  "New York"
 *   2026-11-02T03:20Z  w1 a click  v1 s4        DE  Berlin
 *   2026-11-01T05:00Z + i s, i < 300: w3 x click, visitor 1000 + i, session 7 (beyond the exact
 *   distinct limit of 256: the visitor count is an estimate) */
static void build_dump_db(const char *path)
{
    static const struct {
        int64_t ts;
        const char *link, *type, *visitor, *session;
        int64_t value;
        int has_value;
        const char *country, *city;
    } evs[] = {
        {1793527200000, "a", "click", "v1", "s1", 0, 0, "DE", "Berlin"},
        {1793529000000, "a", "click", "v2", "s2", 0, 0, "US", NULL},
        {1793534400000, "b", "sale", "v1", "s3", 500, 1, "DE", "Berlin"},
        {1793588400000, "a", "click", "v1", "s4", 7, 1, NULL, NULL},
        {1793589000000, "a", "click", "v3", "s5", 0, 0, "DE", "New York"},
        {1793589600000, "a", "click", "v1", "s4", 0, 0, "DE", "Berlin"},
    };
    la_db *db;
    ck_assert_int_eq(la_open(&db, path, LA_OPEN_CREATE, NULL), LA_OK);
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
        const char *c = evs[i].country, *city = evs[i].city;
        la_str dims[2] = {{c, c ? (uint32_t)strlen(c) : 0}, {city, city ? (uint32_t)strlen(city) : 0}};
        la_event e = {
            .ts = evs[i].ts,
            .workspace = {"w1", 2},
            .link = {evs[i].link, (uint32_t)strlen(evs[i].link)},
            .event_type = {evs[i].type, (uint32_t)strlen(evs[i].type)},
            .visitor_id = la_hash_id(evs[i].visitor, strlen(evs[i].visitor)),
            .session_id = la_hash_id(evs[i].session, strlen(evs[i].session)),
            .value = evs[i].value,
            .has_value = evs[i].has_value,
            .dims = dims,
            .ndims = 2,
        };
        ck_assert_int_eq(la_append(db, &e), LA_OK);
    }
    for (uint64_t v = 0; v < 300; v++) {
        la_event e = {
            .ts = 1793509200000 + (int64_t)v * 1000,
            .workspace = {"w3", 2}, .link = {"x", 1}, .event_type = {"click", 5},
            .visitor_id = 1000 + v, .session_id = 7,
        };
        ck_assert_int_eq(la_append(db, &e), LA_OK);
    }
    ck_assert_int_eq(la_flush(db), LA_OK);
    la_close(db);
}

/* A JSON syntax check (RFC 8259 grammar, no semantics): returns the end of one value, or NULL. */
static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (; *p != '"'; p++) {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i]))
                        return NULL;
                p += 4;
            } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
    }
    return p + 1;
}

static const char *json_list(const char *p, char close, int members)
{
    p = json_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (members) {
            p = json_string(json_ws(p));
            if (!p || *(p = json_ws(p)) != ':')
                return NULL;
            p++;
        }
        p = json_value(p);
        if (!p)
            return NULL;
        p = json_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *p)
{
    p = json_ws(p);
    if (*p == '{')
        return json_list(p, '}', 1);
    if (*p == '[')
        return json_list(p, ']', 0);
    if (*p == '"')
        return json_string(p);
    for (const char *lit = "true\0false\0null\0"; *lit; lit += strlen(lit) + 1)
        if (strncmp(p, lit, strlen(lit)) == 0)
            return p + strlen(lit);
    const char *q = p + (*p == '-');
    if (!isdigit((unsigned char)*q) || (*q == '0' && isdigit((unsigned char)q[1])))
        return NULL;
    while (isdigit((unsigned char)*q))
        q++;
    if (*q == '.' && isdigit((unsigned char)q[1]))
        for (q++; isdigit((unsigned char)*q); q++) {}
    return q;
}

static void check_json(const char *text)
{
    const char *end = json_value(text);
    ck_assert_msg(end != NULL, "not JSON:\n%s", text);
    ck_assert_msg(*json_ws(end) == '\0', "text after the JSON value: '%.40s'", end);
}

static void expect_in(const char *text, const char *needle)
{
    ck_assert_msg(strstr(text, needle) != NULL, "no '%s' in:\n%s", needle, text);
}

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    uint8_t b;
    ck_assert_int_eq(pread(fd, &b, 1, off), 1);
    b ^= 0x20;
    ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

START_TEST(lactl_dump__rollup_files)
{
    char *dir = tu_tmpdir(), db[600], day1[700], day2[700], hour1[700], loose[700];
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(day1, sizeof day1, "%s/2026-11-01.roll", db);
    snprintf(day2, sizeof day2, "%s/2026-11-02.roll", db);
    snprintf(hour1, sizeof hour1, "%s/2026-11-01.hr.roll", db);
    snprintf(loose, sizeof loose, "%s/copy-of-a-rollup", dir);
    build_dump_db(db);

    /* the whole database: segments, then rollups, hour files first; one line per cell */
    run_out r = run(dir, lactl_dump, (char *[]){"dump", db, NULL});
    ck_assert_msg(r.status == 0, "dump exited %d: %s", r.status, r.err);
    const char *segs = strstr(r.out, "\nsegments: "), *rolls = strstr(r.out, "\nrollups: ");
    ck_assert_msg(segs && rolls && segs < rolls, "segments, then rollups:\n%s", r.out);
    const char *h1 = strstr(r.out, "rollup: 2026-11-01.hr.roll"), *h2 = strstr(r.out, "rollup: 2026-11-02.hr.roll"),
               *d1 = strstr(r.out, "rollup: 2026-11-01.roll"), *d2 = strstr(r.out, "rollup: 2026-11-02.roll");
    ck_assert_msg(h1 && h2 && d1 && d2 && rolls < h1 && h1 < h2 && h2 < d1 && d1 < d2, "order:\n%s", r.out);
    expect_in(d1, "\n    level: day\n    first_day: 2026-11-01\n    days: 1\n"
                  "    sources: 2026-11-01 (303 rows)\n");
    expect_in(h1, "\n    level: hour\n");
    /* hour files hold workspace cells only (links have none) */
    ck_assert_msg(strstr(h1, " w1 a ") == NULL || strstr(h1, " w1 a ") > d1, "a link cell in an hour file:\n%s", h1);
    expect_in(r.out, "\n      10:00 w1 * click: events 2, value 0, visitors 2, sessions 2 | country: DE=1 US=1"
                     " | city: Berlin=1 (absent 1) | device: (absent 2) | browser: (absent 2)"
                     " | referrer: (absent 2)\n");
    expect_in(r.out, "\n      12:00 w1 * sale: events 1, value 500, visitors 1, sessions 1 | country: DE=1"
                     " | city: Berlin=1 |");
    expect_in(d1, "\n      w1 * click: events 2, value 0, visitors 2, sessions 2 | country: DE=1 US=1 |");
    expect_in(d1, "\n      w1 b sale: events 1, value 500, visitors 1, sessions 1 |");
    expect_in(d2, "\n      w1 * click: events 3, value 7, visitors 2, sessions 2 | country: DE=2 (absent 1)"
                  " | city: Berlin=1 \"New York\"=1 (absent 1) | device: (absent 3)");
    expect_in(d1, "\n      w3 x click: events 300, value 0, visitors ~");
    expect_in(d1, ", sessions 1 |");
    ck_assert_ptr_null(strstr(r.out, "problem"));
    run_free(&r);

    /* one rollup file as JSON */
    r = run(dir, lactl_dump, (char *[]){"dump", day2, "--json", NULL});
    ck_assert_msg(r.status == 0, "dump exited %d: %s", r.status, r.err);
    check_json(r.out);
    expect_in(r.out, "{\"rollup\":\"2026-11-02.roll\",\"level\":\"day\",\"first_day\":\"2026-11-02\","
                     "\"days\":1,\"sources\":[{\"day\":\"2026-11-02\",\"rows\":3}],");
    expect_in(r.out, "\"cells\":2,");
    expect_in(r.out, "{\"workspace\":\"w1\",\"link\":null,\"event_type\":\"click\",\"events\":3,"
                     "\"value\":7,\"unique_visitors\":{\"count\":2,\"exact\":true},"
                     "\"unique_sessions\":{\"count\":2,\"exact\":true},\"dims\":{\"country\":"
                     "{\"values\":[{\"value\":\"DE\",\"count\":2}],\"absent\":1,\"other\":0,\"err\":0},"
                     "\"city\":{\"values\":[{\"value\":\"Berlin\",\"count\":1},"
                     "{\"value\":\"New York\",\"count\":1}],\"absent\":1,\"other\":0,\"err\":0},");
    expect_in(r.out, "{\"workspace\":\"w1\",\"link\":\"a\",\"event_type\":\"click\",\"events\":3,");
    run_free(&r);
    /* the hour file's cells carry their hour; the whole database is one JSON document too */
    r = run(dir, lactl_dump, (char *[]){"dump", hour1, "--json", NULL});
    ck_assert_int_eq(r.status, 0);
    check_json(r.out);
    expect_in(r.out, "\"level\":\"hour\"");
    expect_in(r.out, "{\"hour\":12,\"workspace\":\"w1\",\"link\":null,\"event_type\":\"sale\",\"events\":1,"
                     "\"value\":500,");
    expect_in(r.out, "{\"hour\":5,\"workspace\":\"w3\",\"link\":null,\"event_type\":\"click\",\"events\":300,"
                     "\"value\":0,\"unique_visitors\":{\"count\":");
    expect_in(r.out, ",\"exact\":false},\"unique_sessions\":{\"count\":1,\"exact\":true}");
    run_free(&r);
    r = run(dir, lactl_dump, (char *[]){"dump", db, "--json", "--cells", "0", NULL});
    ck_assert_int_eq(r.status, 0);
    check_json(r.out);
    expect_in(r.out, "\"rollups\":[{\"rollup\":\"2026-11-01.hr.roll\"");
    run_free(&r);

    /* --cells N lists the first N cells (index order: w1 all links, w1 a, w1 b, w3 ...) */
    r = run(dir, lactl_dump, (char *[]){"dump", day1, "--cells", "1", NULL});
    ck_assert_int_eq(r.status, 0);
    expect_in(r.out, "\n  cells: 6\n");
    expect_in(r.out, "cell_list: first 1 of 6");
    expect_in(r.out, "\n    w1 * click: events 2,");
    ck_assert_msg(strstr(r.out, "sale") == NULL && strstr(r.out, "w3") == NULL, "more than one cell:\n%s", r.out);
    run_free(&r);
    r = run(dir, lactl_dump, (char *[]){"dump", day1, "--json", "--cells", "1", NULL});
    ck_assert_int_eq(r.status, 0);
    check_json(r.out);
    expect_in(r.out, "\"cells\":6,\"file_bytes\":");
    expect_in(r.out, "\"cells_listed\":1,\"cell_list\":[{\"workspace\":\"w1\",\"link\":null,\"event_type\":\"click\"");
    ck_assert_ptr_null(strstr(r.out, "\"sale\""));
    run_free(&r);
    r = run(dir, lactl_dump, (char *[]){"dump", day1, "--cells", "0", NULL});
    ck_assert_int_eq(r.status, 0);
    expect_in(r.out, "cell_list: all 6");
    expect_in(r.out, "\n    w3 * click: events 300,");
    run_free(&r);
    r = run(dir, lactl_dump, (char *[]){"dump", day1, "--cells", "-1", NULL});
    ck_assert_int_eq(r.status, 2);
    run_free(&r);

    /* a rollup file outside any database, known by its magic: ndims from its own header */
    size_t len;
    char *bytes = slurp(day2, &len);
    spill(loose, bytes, len);
    free(bytes);
    r = run(dir, lactl_dump, (char *[]){"dump", loose, NULL});
    ck_assert_msg(r.status == 0, "dump exited %d: %s", r.status, r.err);
    expect_in(r.out, "rollup: copy-of-a-rollup\n  level: day\n");
    expect_in(r.out, "\n    w1 * click: events 3, value 7, visitors 2, sessions 2 | dim0: DE=2 (absent 1) | dim1:");
    run_free(&r);

    /* a flipped body byte: reported with the offset of the checksum that caught it, the walk
     * goes on with the next file, exit status 1 */
    flip_byte(day1, 70);
    char want[100];
    r = run(dir, lactl_dump, (char *[]){"dump", db, NULL});
    ck_assert_int_eq(r.status, 1);
    expect_in(r.err, "lactl dump: 1 problem found");
    d1 = strstr(r.out, "rollup: 2026-11-01.roll");
    d2 = strstr(r.out, "rollup: 2026-11-02.roll");
    ck_assert_msg(d1 && d2 && d1 < d2, "%s", r.out);
    struct stat st;
    ck_assert_int_eq(stat(day1, &st), 0);
    snprintf(want, sizeof want, "\n    problem: \n      offset: %lld\n      reason: body checksum mismatch",
             (long long)st.st_size - 4);
    expect_in(d1, want);
    ck_assert_msg(strstr(d1, want) < d2, "the problem belongs to 2026-11-01.roll");
    expect_in(d2, "\n      w1 * click: events 3, value 7,");
    run_free(&r);
    r = run(dir, lactl_dump, (char *[]){"dump", day1, "--json", NULL});
    ck_assert_int_eq(r.status, 1);
    check_json(r.out);
    snprintf(want, sizeof want, "\"problem\":{\"offset\":%lld,\"reason\":\"body checksum mismatch\"}",
             (long long)st.st_size - 4);
    expect_in(r.out, want);
    run_free(&r);
    flip_byte(day1, 70); /* clean again */
    r = run(dir, lactl_dump, (char *[]){"dump", day1, NULL});
    ck_assert_int_eq(r.status, 0);
    run_free(&r);

    /* a distinct-count state that is not one (la_roll_open does not decode these), under a
     * valid checksum: the cell is listed with "?" and the problem points at the cell */
    bytes = slurp(day1, &len);
    la_roll_view v;
    const char *why;
    uint64_t bad_off;
    ck_assert_int_eq(la_roll_open(&v, (const uint8_t *)bytes, len, 5, &why, &bad_off), LA_OK);
    uint64_t cell0 = (uint64_t)(v.cells + v.cell_off[0] - v.base);
    la_roll_close(&v);
    ck_assert_uint_eq((uint8_t)bytes[cell0], 2); /* events 2, value 0, visitors' length */
    ck_assert_uint_eq((uint8_t)bytes[cell0 + 1], 0);
    bytes[cell0 + 3] = 9; /* the state's mode byte (SPEC.md §11): no such mode */
    la_roll_finish((uint8_t *)bytes, len);
    spill(day1, bytes, len);
    free(bytes);
    r = run(dir, lactl_dump, (char *[]){"dump", day1, NULL});
    ck_assert_int_eq(r.status, 1);
    expect_in(r.out, "\n    w1 * click: events 2, value 0, visitors ?, sessions 2 |");
    snprintf(want, sizeof want, "\n      problem: \n        offset: %llu\n", (unsigned long long)cell0);
    expect_in(r.out, want);
    expect_in(r.out, "\n    w1 * sale: events 1, value 500,"); /* and the cells after it */
    run_free(&r);
    r = run(dir, lactl_dump, (char *[]){"dump", day1, "--json", NULL});
    ck_assert_int_eq(r.status, 1);
    check_json(r.out);
    expect_in(r.out, "\"unique_visitors\":null,");
    run_free(&r);

    /* a cell whose dimension counts no longer add up to its events, under a valid checksum:
     * la_roll_open checks only the frame, so the cell fails when it is read, by la_roll_cell_get,
     * by lactl dump (the file's problem, at the cell), by lactl verify and by a query of its day */
    bytes = slurp(day1, &len);
    bytes[cell0] = 3; /* events 3; the summaries still count 2 */
    la_roll_finish((uint8_t *)bytes, len);
    ck_assert_int_eq(la_roll_open(&v, (const uint8_t *)bytes, len, 5, &why, &bad_off), LA_OK);
    la_roll_cell c;
    why = NULL;
    ck_assert_int_eq(la_roll_cell_get(&v, 0, &c, &why), LA_ECORRUPT);
    ck_assert_str_eq(why, "dimension counts do not add up to the cell's events");
    ck_assert_int_eq(la_roll_cell_get(&v, 1, &c, &why), LA_OK);
    la_roll_close(&v);
    spill(day1, bytes, len);
    free(bytes);
    r = run(dir, lactl_dump, (char *[]){"dump", day1, NULL});
    ck_assert_int_eq(r.status, 1);
    snprintf(want, sizeof want, "offset: %llu\n    reason: dimension counts do not add up to the cell's events",
             (unsigned long long)cell0);
    expect_in(r.out, want);
    run_free(&r);
    r = run(dir, lactl_verify, (char *[]){"verify", db, NULL});
    ck_assert_int_eq(r.status, 1);
    expect_in(r.out, "dimension counts do not add up to the cell's events");
    run_free(&r);
    r = run(dir, lactl_query,
            (char *[]){"query", db, "--workspace", "w1", "--from", "2026-11-01", "--to", "2026-11-02", NULL});
    ck_assert_int_ne(r.status, 0);
    snprintf(want, sizeof want, "/db/2026-11-01.roll: offset %llu: dimension counts do not add up",
             (unsigned long long)cell0);
    expect_in(r.err, want);
    run_free(&r);

    /* a flipped header byte, and a file cut short */
    flip_byte(hour1, 20);
    r = run(dir, lactl_dump, (char *[]){"dump", hour1, NULL});
    ck_assert_int_eq(r.status, 1);
    expect_in(r.out, "offset: 60\n    reason: header checksum mismatch");
    run_free(&r);
    ck_assert_int_eq(truncate(day2, 40), 0);
    r = run(dir, lactl_dump, (char *[]){"dump", day2, "--json", NULL});
    ck_assert_int_eq(r.status, 1);
    check_json(r.out);
    expect_in(r.out, "\"problem\":{\"offset\":0,\"reason\":\"file shorter than a header\"}");
    run_free(&r);
    ck_assert_int_eq(truncate(loose, 13), 0); /* not even its ndims byte */
    r = run(dir, lactl_dump, (char *[]){"dump", loose, NULL});
    ck_assert_int_eq(r.status, 1);
    expect_in(r.out, "file shorter than a header");
    run_free(&r);
    r = run(dir, lactl_dump, (char *[]){"dump", db, "--json", NULL});
    ck_assert_int_eq(r.status, 1);
    check_json(r.out);
    run_free(&r);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* ---- every command: help text and the exit statuses 0 / 1 / 2 ---- */

typedef struct cli_case {
    const char *name;
    int (*run)(int, char **);
    const char *const *no_db; /* arguments after the command naming a database that is not there */
} cli_case;

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
static const cli_case cli_cases[] = {
    {"ingest", lactl_ingest, ARGS("/nonexistent/db", "/nonexistent/in.tsv")},
    {"scan", lactl_scan, ARGS("/nonexistent/db")},
    {"query", lactl_query, ARGS("/nonexistent/db", "--workspace", "w", "--from", "2026-11-01", "--to", "2026-11-02")},
    {"top", lactl_top, ARGS("/nonexistent/db", "--workspace", "w", "--dim", "country", "--from", "2026-11-01", "--to", "2026-11-02")},
    {"verify", lactl_verify, ARGS("/nonexistent/db")},
    {"dump", lactl_dump, ARGS("/nonexistent/db")},
    {"export", lactl_export, ARGS("/nonexistent/db")},
    {"live", lactl_live, ARGS("/nonexistent/db", "--workspace", "w", "--once")},
    {"compact", lactl_compact, ARGS("/nonexistent/db")},
    {"retention", lactl_retention, ARGS("/nonexistent/db")},
};
#define NCLI (sizeof cli_cases / sizeof cli_cases[0])

static run_out run_args(const char *dir, const cli_case *c, const char *const *args)
{
    char *argv[16] = {(char *)c->name};
    int n = 1;
    for (; args[n - 1]; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    return run(dir, c->run, argv);
}

START_TEST(lactl_cli__help_and_exit_status_of_every_command)
{
    char *dir = tu_tmpdir(), tsv[600], db[600], seg[700];
    for (size_t i = 0; i < NCLI; i++) {
        const cli_case *c = &cli_cases[i];
        char usage[64];
        snprintf(usage, sizeof usage, "usage: lactl %s", c->name);
        run_out r = run_args(dir, c, ARGS("--help"));
        ck_assert_msg(r.status == 0 && strstr(r.out, usage) && strstr(r.out, "Exit status"),
                      "%s --help: %d\n%s", c->name, r.status, r.out);
        run_free(&r);
        r = run_args(dir, c, ARGS("--no-such-option"));
        ck_assert_msg(r.status == 2 && strstr(r.err, "--no-such-option"), "%s --no-such-option: %d %s",
                      c->name, r.status, r.err);
        run_free(&r);
        r = run_args(dir, c, c->no_db);
        ck_assert_msg(r.status == 2 && r.err[0], "%s without a database: %d", c->name, r.status);
        run_free(&r);
    }

    /* sizes in tables, for people */
    char human[LACTL_HUMAN_MAX];
    ck_assert_str_eq(lactl_human_bytes(0, human), "0 B");
    ck_assert_str_eq(lactl_human_bytes(1023, human), "1023 B");
    ck_assert_str_eq(lactl_human_bytes(1024, human), "1.0 KiB");
    ck_assert_str_eq(lactl_human_bytes(4263936, human), "4.1 MiB");
    ck_assert_str_eq(lactl_human_bytes(UINT64_MAX, human), "16.0 EiB");
    char count[LACTL_COUNT_MAX];
    ck_assert_str_eq(lactl_group_digits(0, count), "0");
    ck_assert_str_eq(lactl_group_digits(999, count), "999");
    ck_assert_str_eq(lactl_group_digits(1000, count), "1,000");
    ck_assert_str_eq(lactl_group_digits(1234567, count), "1,234,567");
    ck_assert_str_eq(lactl_group_digits(UINT64_MAX, count), "18,446,744,073,709,551,615");

    /* damage found while reading is 1 for every reader of events */
    snprintf(tsv, sizeof tsv, "%s/events.tsv", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(seg, sizeof seg, "%s/2026-11-01.seg", db);
    gen_options go;
    gen_options_default(&go);
    go.events = 40000;
    go.days = 1;
    go.late_fraction = 0;
    write_generated(tsv, &go);
    run_out r = run(dir, lactl_ingest, (char *[]){"ingest", db, tsv, "--quiet", NULL});
    ck_assert_int_eq(r.status, 0);
    run_free(&r);
    int fd = open(seg, O_RDWR);
    ck_assert_int_ge(fd, 0);
    uint8_t b;
    ck_assert_int_eq(pread(fd, &b, 1, 5000), 1); /* inside the first sealed block */
    b ^= 0x55;
    ck_assert_int_eq(pwrite(fd, &b, 1, 5000), 1);
    close(fd);
    char *damaged[][5] = {{"scan", db, NULL}, {"export", db, NULL}, {"verify", db, NULL},
                          {"dump", seg, NULL}, {"verify", db, "--format", "json"}};
    int (*cmds[])(int, char **) = {lactl_scan, lactl_export, lactl_verify, lactl_dump, lactl_verify};
    for (size_t i = 0; i < 5; i++) {
        r = run(dir, cmds[i], damaged[i]);
        ck_assert_msg(r.status == 1, "%s of a damaged database: %d", damaged[i][0], r.status);
        if (i == 4) {
            check_json(r.out);
            ck_assert_ptr_nonnull(strstr(r.out, "{\"file\":\"2026-11-01.seg\",\"offset\":"));
        }
        run_free(&r);
    }

    /* the binary: `lactl help` lists every command, `lactl help CMD` is CMD --help, and an
     * unknown command or none is bad usage */
    const char *lactl = getenv("LA_LACTL");
    if (lactl && *lactl) {
        char cmd[800], text[8192];
        snprintf(cmd, sizeof cmd, "'%s' help", lactl);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        size_t n = fread(text, 1, sizeof text - 1, p);
        text[n] = '\0';
        ck_assert_int_eq(pclose(p), 0);
        ck_assert_ptr_nonnull(strstr(text, "Exit status"));
        for (size_t i = 0; i < NCLI; i++) {
            char item[64];
            snprintf(item, sizeof item, "\n  %s ", cli_cases[i].name);
            ck_assert_msg(strstr(text, item) != NULL, "lactl help does not list %s", cli_cases[i].name);
            snprintf(cmd, sizeof cmd, "'%s' help %s | cmp -s - %s/help.txt", lactl, cli_cases[i].name, dir);
            run_out h = run_args(dir, &cli_cases[i], ARGS("--help"));
            char path[700];
            snprintf(path, sizeof path, "%s/help.txt", dir);
            FILE *f = fopen(path, "w");
            ck_assert_ptr_nonnull(f);
            fwrite(h.out, 1, h.out_len, f);
            fclose(f);
            run_free(&h);
            ck_assert_msg(system(cmd) == 0, "lactl help %s differs from %s --help", cli_cases[i].name,
                          cli_cases[i].name);
        }
        snprintf(cmd, sizeof cmd, "'%s' no-such-command 2>/dev/null", lactl);
        ck_assert_int_eq(WEXITSTATUS(system(cmd)), 2);
        snprintf(cmd, sizeof cmd, "'%s' 2>/dev/null", lactl);
        ck_assert_int_eq(WEXITSTATUS(system(cmd)), 2);
    }
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* ---- progress lines: on a terminal only, and not with --quiet ---- */

/* Runs cmd in a child whose stderr is a pseudo-terminal and stdout /dev/null; returns what it
 * wrote to the terminal and its exit status. */
static char *on_terminal(int (*cmd)(int, char **), char **argv, int *status)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    ck_assert_int_ge(master, 0);
    ck_assert_int_eq(grantpt(master), 0);
    ck_assert_int_eq(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    ck_assert_int_ge(slave, 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        dup2(slave, STDERR_FILENO);
        close(master);
        int argc = 0;
        while (argv[argc])
            argc++;
        _exit(cmd(argc, argv));
    }
    close(slave);
    size_t len = 0, cap = 4096;
    char *text = malloc(cap);
    for (;;) {
        if (len + 1 == cap)
            text = realloc(text, cap *= 2);
        ssize_t k = read(master, text + len, cap - len - 1);
        if (k <= 0) /* EIO once the child's end is closed */
            break;
        len += (size_t)k;
    }
    text[len] = '\0';
    close(master);
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    return text;
}

START_TEST(lactl_progress__on_a_terminal_only)
{
    char *dir = tu_tmpdir(), tsv[600], db[600], out[600];
    snprintf(tsv, sizeof tsv, "%s/events.tsv", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(out, sizeof out, "%s/out.tsv", dir);
    gen_options go;
    gen_options_default(&go);
    go.events = 30000;
    go.days = 4;
    go.late_fraction = 0;
    write_generated(tsv, &go);
    int status;
    char *t = on_terminal(lactl_ingest, (char *[]){"ingest", db, tsv, NULL}, &status);
    ck_assert_int_eq(status, 0);
    ck_assert_msg(strstr(t, "30000 rows, 0 rejected") != NULL, "ingest progress: %s", t);
    free(t);

    /* the steps: 4 days for compact; every segment and rollup file for verify */
    t = on_terminal(lactl_compact, (char *[]){"compact", db, "--all", NULL}, &status);
    ck_assert_int_eq(status, 0);
    ck_assert_msg(strstr(t, "compact: 4/4 days\r\n") != NULL, "compact progress: %s", t);
    free(t);
    char cmd[700], want[64];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -cE '[.](seg|roll)$'", db);
    FILE *ls = popen(cmd, "r");
    unsigned files = 0;
    ck_assert_int_eq(fscanf(ls, "%u", &files), 1);
    ck_assert_int_eq(pclose(ls), 0);
    ck_assert_uint_gt(files, 8);
    snprintf(want, sizeof want, "verify: %u/%u files\r\n", files, files);
    t = on_terminal(lactl_verify, (char *[]){"verify", db, NULL}, &status);
    ck_assert_int_eq(status, 0);
    ck_assert_msg(strstr(t, want) != NULL, "verify progress: %s", t);
    free(t);
    t = on_terminal(lactl_export, (char *[]){"export", db, "--output", out, NULL}, &status);
    ck_assert_int_eq(status, 0);
    ck_assert_msg(strstr(t, "30000 events written") != NULL, "export progress: %s", t);
    free(t);

    /* --quiet: nothing; not a terminal: nothing either */
    char *quiet[][6] = {{"ingest", db, tsv, "--quiet", NULL}, {"compact", db, "--all", "--quiet", NULL},
                        {"verify", db, "--quiet", NULL}, {"export", db, "--output", out, "--quiet", NULL}};
    int (*cmds[])(int, char **) = {lactl_ingest, lactl_compact, lactl_verify, lactl_export};
    for (size_t i = 0; i < 4; i++) {
        t = on_terminal(cmds[i], quiet[i], &status);
        ck_assert_int_eq(status, 0);
        ck_assert_msg(t[0] == '\0', "%s --quiet wrote: %s", quiet[i][0], t);
        free(t);
        run_out r = run(dir, cmds[i], (char *[]){quiet[i][0], db, i == 0 ? tsv : NULL, NULL});
        ck_assert_int_eq(r.status, 0);
        ck_assert_msg(r.err[0] == '\0', "%s not on a terminal wrote: %s", quiet[i][0], r.err);
        run_free(&r);
    }
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
    tcase_add_test(tc, lactl_query__fixed_vector_tsv);
    tcase_add_test(tc, lactl_query__table_json_and_estimates);
    tcase_add_test(tc, lactl_query__errors);
    tcase_add_test(tc, lactl_dump__rollup_files);
    tcase_add_test(tc, lactl_cli__help_and_exit_status_of_every_command);
    tcase_add_test(tc, lactl_progress__on_a_terminal_only);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(lactl_suite)
