/* testutil.h — shared helpers for the Check suites: a main() per test file, a temp directory,
 * and a deterministic PRNG so that every failure replays. */
#ifndef LA_TESTUTIL_H
#define LA_TESTUTIL_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "la.h"

/* splitmix64: small, deterministic, good enough for test data. */
static inline uint64_t tu_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The rows a scan of db with filter f (NULL: every row) yields. */
static inline uint64_t tu_scan_count(la_db *db, const la_filter *f)
{
    la_cursor *c;
    ck_assert_int_eq(la_scan(db, f, &c), LA_OK);
    la_batch b;
    uint64_t n = 0;
    int rc;
    while ((rc = la_cursor_next(c, &b)) == 1)
        n += b.nrows;
    ck_assert_int_eq(rc, 0);
    la_cursor_close(c);
    return n;
}

/* A fresh empty directory under $TMPDIR (or /tmp); caller frees the string. */
/* `make test-long` sets LA_LONG=1: the crash tests then run their long forms. */
static inline int tu_long(void)
{
    const char *v = getenv("LA_LONG");
    return v && *v && strcmp(v, "0") != 0;
}

static inline char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/la-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return strdup(d);
}

static inline void tu_rmrf(const char *dir)
{
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* TU_CHECK(cond, fmt, ...): ck_assert_msg for hot loops. Check records every passing
 * ck_assert (a write to its message file), which dominates a test that checks millions of rows;
 * this asserts only when it fails. */
#define TU_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

/* TU_MAIN(suite_fn): run one suite, exit non-zero on any failure. */
#define TU_MAIN(suite_fn)                                                                          \
    int main(void)                                                                                 \
    {                                                                                              \
        SRunner *sr = srunner_create(suite_fn());                                                  \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int failed = srunner_ntests_failed(sr);                                                    \
        srunner_free(sr);                                                                          \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                                               \
    }

#endif
