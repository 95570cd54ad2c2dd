/* test_inputs.c — hostile inputs: strings with NUL bytes, invalid UTF-8, tabs, newlines and
 * backslashes round-trip through the C API and through lactl's TSV and JSON lines (or a line is
 * rejected by number); a workspace's scans and queries never see another workspace's rows, on
 * sealed days too; files are created 0600 and directories 0700 whatever the umask; the engine
 * does not follow a symlinked day file out of the database directory. */
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "la.h"
#include "lactl.h"
#include "runcmd.h"
#include "testutil.h"

#define DAY_MS 86400000LL

/* Values that a C-string or line-based path would mangle. */
static const la_str NASTY[] = {
    {"a\0b", 3},           {"\xff\xfe\x80", 3},  {"tab\there", 8},   {"new\nline", 8},
    {"cr\r\n", 4},         {"back\\slash\\", 11}, {"\\N", 2},         {"", 0},
    {"\"q\"{}[],:", 9},    {"\0", 1},            {"\xc3\x28", 2},    {"\xed\xa0\x80", 3},
};
#define NNASTY (sizeof NASTY / sizeof NASTY[0])
/* The same after JSON lines, which carry text: bytes that are not UTF-8 become U+FFFD, one per
 * byte that starts no well-formed sequence (README, "lactl scan --format json"). */
#define FFFD "\xef\xbf\xbd"
static const la_str NASTY_JSON[] = {
    {"a\0b", 3},           {FFFD FFFD FFFD, 9},  {"tab\there", 8},   {"new\nline", 8},
    {"cr\r\n", 4},         {"back\\slash\\", 11}, {"\\N", 2},         {"", 0},
    {"\"q\"{}[],:", 9},    {"\0", 1},            {FFFD "(", 4},      {FFFD FFFD FFFD, 9},
};

/* Today's start minus a day: accepted by the default options lactl opens with. */
static int64_t base_ts(void) { return ((int64_t)time(NULL) * 1000 / DAY_MS - 1) * DAY_MS; }

static int str_eq(la_str a, la_str b)
{
    if (!a.data || !b.data)
        return !a.data && !b.data;
    return a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
}

/* Event i of the nasty set: every string column takes a different nasty value. */
static la_event nasty_event_of(const la_str *v, size_t i, la_str *dims, int64_t t0)
{
    la_event e = {0};
    e.ts = t0 + (int64_t)i * 1000;
    e.workspace = v[i % NNASTY];
    e.link = v[(i + 1) % NNASTY];
    e.event_type = v[(i + 2) % NNASTY];
    if (e.event_type.len == 0) /* lactl maps an empty event type to "click" */
        e.event_type = v[0];
    e.visitor_id = i;
    dims[0] = v[(i + 3) % NNASTY];
    dims[1] = v[(i + 4) % NNASTY];
    e.dims = dims;
    e.ndims = 2;
    return e;
}

static la_event nasty_event(size_t i, la_str *dims, int64_t t0) { return nasty_event_of(NASTY, i, dims, t0); }

/* Every row of db must be event visitor_id of the set v, exactly; all NNASTY * 2 present. */
static void check_nasty_of(la_db *db, const la_str *v, int64_t t0)
{
    la_cursor *c;
    ck_assert_int_eq(la_scan(db, NULL, &c), LA_OK);
    la_batch b;
    int rc;
    unsigned seen[NNASTY * 2] = {0};
    while ((rc = la_cursor_next(c, &b)) == 1) {
        for (size_t r = 0; r < b.nrows; r++) {
            uint64_t i = b.visitor_id[r];
            ck_assert_uint_lt(i, NNASTY * 2);
            seen[i]++;
            la_str dims[2];
            la_event e = nasty_event_of(v, i, dims, t0);
            TU_CHECK(b.ts[r] == e.ts, "row %llu ts", (unsigned long long)i);
            TU_CHECK(str_eq(b.workspace.dict[b.workspace.ids[r]], e.workspace), "row %llu workspace", (unsigned long long)i);
            TU_CHECK(str_eq(b.link.dict[b.link.ids[r]], e.link), "row %llu link: %u bytes, want %u", (unsigned long long)i,
                     b.link.dict[b.link.ids[r]].len, e.link.len);
            TU_CHECK(str_eq(b.event_type.dict[b.event_type.ids[r]], e.event_type), "row %llu type", (unsigned long long)i);
            for (int k = 0; k < 2; k++)
                TU_CHECK(str_eq(b.dims[k].dict[b.dims[k].ids[r]], dims[k]), "row %llu dim %d", (unsigned long long)i, k);
        }
    }
    ck_assert_int_eq(rc, 0);
    la_cursor_close(c);
    for (size_t i = 0; i < NNASTY * 2; i++)
        ck_assert_msg(seen[i] == 1, "event %zu seen %u times", i, seen[i]);
}

static void check_nasty(la_db *db, int64_t t0) { check_nasty_of(db, NASTY, t0); }

static void write_nasty(const char *path, int64_t t0)
{
    la_db *db;
    ck_assert_int_eq(la_open(&db, path, LA_OPEN_CREATE, NULL), LA_OK);
    for (size_t i = 0; i < NNASTY * 2; i++) {
        la_str dims[2];
        la_event e = nasty_event(i, dims, t0);
        ck_assert_int_eq(la_append(db, &e), LA_OK);
    }
    ck_assert_int_eq(la_flush(db), LA_OK);
    check_nasty(db, t0);
    la_close(db);
}

START_TEST(inputs__nasty_strings_round_trip_c_api)
{
    char *dir = tu_tmpdir();
    int64_t t0 = base_ts();
    write_nasty(dir, t0);
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, 0, NULL), LA_OK);
    check_nasty(db, t0);
    ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, NULL), LA_OK); /* sorted, zstd blocks */
    check_nasty(db, t0);
    /* a filter with a NUL byte matches that string only */
    la_filter f = LA_FILTER_INIT;
    f.workspace = NASTY[0];
    la_cursor *c;
    ck_assert_int_eq(la_scan(db, &f, &c), LA_OK);
    la_batch b;
    size_t n = 0;
    while (la_cursor_next(c, &b) == 1)
        for (size_t r = 0; r < b.nrows; r++, n++)
            ck_assert(str_eq(b.workspace.dict[b.workspace.ids[r]], NASTY[0]));
    la_cursor_close(c);
    ck_assert_uint_eq(n, 2);
    la_close(db);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* lactl scan (TSV, then JSON lines) -> lactl ingest into a fresh database -> the same rows
 * (through JSON, with invalid UTF-8 replaced). */
START_TEST(inputs__nasty_strings_round_trip_lactl)
{
    char *dir = tu_tmpdir(), db[600], db2[600], db3[600], tsv[600], jsonl[600];
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(db2, sizeof db2, "%s/db2", dir);
    snprintf(db3, sizeof db3, "%s/db3", dir);
    snprintf(tsv, sizeof tsv, "%s/scan.tsv", dir);
    snprintf(jsonl, sizeof jsonl, "%s/scan.jsonl", dir);
    int64_t t0 = base_ts();
    write_nasty(db, t0);
    const char *fmts[2] = {"tsv", "json"};
    const char *files[2] = {tsv, jsonl};
    const char *dbs[2] = {db2, db3};
    for (int k = 0; k < 2; k++) {
        run_out r = run(dir, lactl_scan, (char *[]){"scan", db, "--format", (char *)fmts[k], NULL});
        ck_assert_msg(r.status == 0, "scan: %s", r.err);
        FILE *f = fopen(files[k], "wb");
        ck_assert_uint_eq(fwrite(r.out, 1, r.out_len, f), r.out_len);
        fclose(f);
        run_free(&r);
        r = run(dir, lactl_ingest,
                (char *[]){"ingest", (char *)dbs[k], (char *)files[k], "--format", k ? "jsonl" : "tsv", NULL});
        ck_assert_msg(r.status == 0, "ingest %s: %s", fmts[k], r.err);
        run_free(&r);
        la_db *h;
        ck_assert_int_eq(la_open(&h, dbs[k], LA_OPEN_READONLY, NULL), LA_OK);
        check_nasty_of(h, k ? NASTY_JSON : NASTY, t0);
        la_close(h);
    }
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* JSON lines with \u0000 and raw invalid UTF-8: each line is stored exactly or rejected with
 * its line number. */
START_TEST(inputs__jsonl_nul_and_invalid_utf8)
{
    char *dir = tu_tmpdir(), db[600], in[600];
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    int64_t t0 = base_ts();
    static const la_str want[3] = {{"plain", 5}, {"a\0b", 3}, {"x\xff\xfey", 4}};
    FILE *f = fopen(in, "wb");
    fprintf(f, "{\"ts\": %lld, \"workspace_id\": \"plain\", \"link_id\": \"l\"}\n", (long long)t0);
    fprintf(f, "{\"ts\": %lld, \"workspace_id\": \"a\\u0000b\", \"link_id\": \"l\"}\n", (long long)t0);
    fprintf(f, "{\"ts\": %lld, \"workspace_id\": \"x\xff\xfey\", \"link_id\": \"l\"}\n", (long long)t0);
    fclose(f);
    run_out r = run(dir, lactl_ingest, (char *[]){"ingest", db, in, NULL});
    ck_assert_msg(r.status == 0 || r.status == 1, "ingest: %s", r.err);
    la_db *h;
    ck_assert_int_eq(la_open(&h, db, LA_OPEN_READONLY, NULL), LA_OK);
    for (int i = 0; i < 3; i++) {
        la_filter fl = LA_FILTER_INIT;
        fl.workspace = want[i];
        la_cursor *c;
        ck_assert_int_eq(la_scan(h, &fl, &c), LA_OK);
        la_batch b;
        size_t n = 0;
        while (la_cursor_next(c, &b) == 1)
            n += b.nrows;
        la_cursor_close(c);
        char tag[64];
        snprintf(tag, sizeof tag, "in.jsonl:%d:", i + 1);
        if (n == 0)
            ck_assert_msg(strstr(r.err, tag) != NULL, "line %d neither stored nor reported: %s", i + 1, r.err);
        else
            ck_assert_msg(n == 1 && strstr(r.err, tag) == NULL, "line %d stored %zu times", i + 1, n);
    }
    ck_assert_msg(strstr(r.err, "in.jsonl:1:") == NULL, "a valid line was rejected: %s", r.err);
    la_close(h);
    run_free(&r);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* ---- workspace isolation ---- */

static const char *WS[] = {"w", "w1", "w10", "w100", "w2", "w\0", "W", "w ", "x"};
static const uint32_t WS_LEN[] = {1, 2, 3, 4, 2, 2, 1, 2, 1};
#define NWS (sizeof WS / sizeof WS[0])
#define NLINKS 4
#define NDAYS 3
#define PER_WS_DAY 40

/* The model: events per (workspace, link). Event i of workspace w on day d has link i % NLINKS
 * and visitor id w * 1000000 + d * 1000 + i, so a row says which workspace it came from. */
static void check_isolation(la_db *db, int64_t t0)
{
    for (size_t w = 0; w < NWS; w++) {
        for (int l = -1; l < NLINKS; l++) {
            la_filter f = LA_FILTER_INIT;
            f.workspace = (la_str){WS[w], WS_LEN[w]};
            char lk[8];
            if (l >= 0) {
                snprintf(lk, sizeof lk, "l%d", l);
                f.link = (la_str){lk, (uint32_t)strlen(lk)};
            }
            la_cursor *c;
            ck_assert_int_eq(la_scan(db, &f, &c), LA_OK);
            la_batch b;
            uint64_t n = 0;
            while (la_cursor_next(c, &b) == 1) {
                for (size_t r = 0; r < b.nrows; r++) {
                    TU_CHECK(b.visitor_id[r] / 1000000 == w, "workspace %zu got a row of %llu", w,
                             (unsigned long long)(b.visitor_id[r] / 1000000));
                    TU_CHECK(str_eq(b.workspace.dict[b.workspace.ids[r]], f.workspace), "workspace string");
                    TU_CHECK(l < 0 || (int)(b.visitor_id[r] % 1000 % NLINKS) == l, "link");
                }
                n += b.nrows;
            }
            la_cursor_close(c);
            uint64_t want = (uint64_t)NDAYS * (l < 0 ? PER_WS_DAY : PER_WS_DAY / NLINKS);
            ck_assert_msg(n == want, "workspace %zu link %d: %llu rows, want %llu", w, l,
                          (unsigned long long)n, (unsigned long long)want);

            la_query q = LA_QUERY_INIT;
            q.from = t0;
            q.to = t0 + NDAYS * DAY_MS;
            q.workspace = f.workspace;
            q.link = f.link;
            q.bucket = LA_BUCKET_DAY;
            la_point *p;
            size_t np;
            ck_assert_int_eq(la_query_series(db, &q, &p, &np), LA_OK);
            ck_assert_uint_eq(np, NDAYS);
            for (size_t k = 0; k < np; k++)
                ck_assert_uint_eq(p[k].events, want / NDAYS);
            la_series_free(p);
        }
    }
    /* workspaces nobody wrote, prefixes or extensions of others: nothing */
    static const char *absent[] = {"", "w1000", "w3", "w\0\0"};
    static const uint32_t absent_len[] = {0, 5, 2, 3};
    for (size_t a = 0; a < 4; a++) {
        la_filter g = LA_FILTER_INIT;
        g.workspace = (la_str){absent[a], absent_len[a]};
        la_cursor *c;
        ck_assert_int_eq(la_scan(db, &g, &c), LA_OK);
        la_batch b;
        ck_assert_int_eq(la_cursor_next(c, &b), 0);
        la_cursor_close(c);
    }
}

START_TEST(inputs__workspace_isolation)
{
    char *dir = tu_tmpdir();
    int64_t t0 = base_ts() - 5 * DAY_MS;
    la_options o = LA_OPTIONS_INIT;
    o.block_rows = 64; /* many sorted blocks, each a narrow key range */
    o.no_auto_seal = 1;
    la_db *db;
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_CREATE, &o), LA_OK);
    uint64_t seed = 5;
    for (int d = 0; d < NDAYS; d++)
        for (int i = 0; i < PER_WS_DAY; i++)
            for (size_t w = 0; w < NWS; w++) {
                char lk[8];
                snprintf(lk, sizeof lk, "l%d", i % NLINKS); /* the same links in every workspace */
                la_event e = {0};
                e.ts = t0 + d * DAY_MS + (int64_t)(tu_rand(&seed) % DAY_MS);
                e.workspace = (la_str){WS[w], WS_LEN[w]};
                e.link = (la_str){lk, (uint32_t)strlen(lk)};
                e.event_type = (la_str){"click", 5};
                e.visitor_id = w * 1000000 + (uint64_t)d * 1000 + (uint64_t)i;
                ck_assert_int_eq(la_append(db, &e), LA_OK);
            }
    ck_assert_int_eq(la_flush(db), LA_OK);
    check_isolation(db, t0);
    la_compact_stats st;
    ck_assert_int_eq(la_compact(db, LA_COMPACT_ALL, &st), LA_OK);
    ck_assert_uint_eq(st.days, NDAYS);
    check_isolation(db, t0);
    /* zone names become paths under the zone directory: never outside it */
    static const char *bad_tz[] = {"../../../../etc/passwd", "/etc/passwd", "Europe/../../x", "a\nb"};
    for (size_t i = 0; i < 4; i++) {
        la_query q = LA_QUERY_INIT;
        q.from = t0;
        q.to = t0 + DAY_MS;
        q.workspace = (la_str){"w", 1};
        q.tz = bad_tz[i];
        la_point *p;
        size_t np;
        int rc = la_query_series(db, &q, &p, &np);
        ck_assert_msg(rc == LA_EINVAL || rc == LA_ENOTFOUND, "tz %s: %d", bad_tz[i], rc);
    }
    la_close(db);
    ck_assert_int_eq(la_open(&db, dir, LA_OPEN_READONLY, &o), LA_OK);
    check_isolation(db, t0);
    la_close(db);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* ---- permissions and paths ---- */

START_TEST(inputs__files_private_under_umask_0)
{
    char *dir = tu_tmpdir(), db[600];
    snprintf(db, sizeof db, "%s/db", dir);
    mode_t old = umask(0);
    int64_t t0 = base_ts() - 4 * DAY_MS;
    la_options o = LA_OPTIONS_INIT;
    o.checkpoint_rows = 1; /* rollup files written at the flush */
    la_db *h;
    ck_assert_int_eq(la_open(&h, db, LA_OPEN_CREATE, &o), LA_OK);
    for (int i = 0; i < 50; i++) {
        la_event e = {0};
        e.ts = t0 + i * (DAY_MS / 10);
        e.workspace = (la_str){"w", 1};
        e.link = (la_str){"l", 1};
        e.event_type = (la_str){"click", 5};
        ck_assert_int_eq(la_append(h, &e), LA_OK);
    }
    ck_assert_int_eq(la_flush(h), LA_OK);
    ck_assert_int_eq(la_compact(h, LA_COMPACT_ALL, NULL), LA_OK);
    la_close(h);
    umask(old);
    struct stat st;
    ck_assert_int_eq(stat(db, &st), 0);
    ck_assert_msg((st.st_mode & 0777) == 0700, "directory mode %o", st.st_mode & 0777);
    DIR *d = opendir(db);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[900];
        snprintf(p, sizeof p, "%s/%s", db, e->d_name);
        ck_assert_int_eq(lstat(p, &st), 0);
        ck_assert_msg(S_ISREG(st.st_mode), "%s is not a file", e->d_name);
        ck_assert_msg((st.st_mode & 0777) == 0600, "%s has mode %o", e->d_name, st.st_mode & 0777);
        files++;
    }
    closedir(d);
    ck_assert_int_ge(files, 7); /* meta, lock, days, rollups */
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* A day file that is a symlink to a segment outside the directory is not followed: appends to
 * that day and scans fail, and the file outside keeps its bytes. Names the engine does not make
 * are ignored. */
static la_event one_event(int64_t ts)
{
    la_event e = {0};
    e.ts = ts;
    e.workspace = (la_str){"w", 1};
    e.link = (la_str){"l", 1};
    e.event_type = (la_str){"click", 5};
    return e;
}

START_TEST(inputs__symlinked_day_not_followed)
{
    char *dir = tu_tmpdir(), db[600], outside[600], seg[700], junk[700];
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(outside, sizeof outside, "%s/outside.seg", dir);
    int64_t day = base_ts() / DAY_MS;
    la_options o = LA_OPTIONS_INIT;
    o.no_rollups = 1;
    la_db *h;
    ck_assert_int_eq(la_open(&h, db, LA_OPEN_CREATE, &o), LA_OK);
    la_event e = one_event(day * DAY_MS + 1000);
    ck_assert_int_eq(la_append(h, &e), LA_OK);
    la_close(h);
    /* the day's real segment moves out; a symlink to it takes its place */
    time_t secs = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(seg, sizeof seg, "%s/%04d-%02d-%02d.seg", db, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    ck_assert_int_eq(rename(seg, outside), 0);
    ck_assert_int_eq(symlink(outside, seg), 0);
    size_t n0;
    char *before = slurp(outside, &n0);
    static const char *junk_names[] = {"2026-13-40.seg", "..seg", "x.seg", "2026-01-01.seg.bak", "2026-1-1.seg"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(junk, sizeof junk, "%s/%s", db, junk_names[i]);
        FILE *j = fopen(junk, "wb");
        fputs("junk", j);
        fclose(j);
    }
    ck_assert_int_eq(la_open(&h, db, 0, &o), LA_OK);
    ck_assert_int_eq(la_append(h, &e), LA_EIO);
    la_cursor *c;
    ck_assert_int_eq(la_scan(h, NULL, &c), LA_EIO);
    la_close(h);
    size_t n1;
    char *after = slurp(outside, &n1);
    ck_assert(n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

static Suite *inputs_suite(void)
{
    Suite *s = suite_create("inputs");
    TCase *tc = tcase_create("strings");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, inputs__nasty_strings_round_trip_c_api);
    tcase_add_test(tc, inputs__nasty_strings_round_trip_lactl);
    tcase_add_test(tc, inputs__jsonl_nul_and_invalid_utf8);
    suite_add_tcase(s, tc);
    tc = tcase_create("isolation");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, inputs__workspace_isolation);
    suite_add_tcase(s, tc);
    tc = tcase_create("files");
    tcase_add_test(tc, inputs__files_private_under_umask_0);
    tcase_add_test(tc, inputs__symlinked_day_not_followed);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(inputs_suite)
