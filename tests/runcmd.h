/* runcmd.h — what the lactl tests share: running a command in-process, forked, with stdout and
 * stderr captured to files in a scratch directory and read back; a generated stream as TSV. */
#ifndef LA_TESTS_RUNCMD_H
#define LA_TESTS_RUNCMD_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gen.h"

typedef struct run_out {
    int status;
    char *out, *err; /* NUL-terminated captured output, caller frees */
    size_t out_len;
} run_out;

static inline char *slurp(const char *path, size_t *len)
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

/* Replace a file's bytes (the inverse of slurp). */
static inline void spill(const char *path, const char *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* Run one lactl command (argv[0] = command name) in a child process. */
static inline run_out run(const char *dir, int (*cmd)(int, char **), char **argv)
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

static inline void run_free(run_out *r)
{
    free(r->out);
    free(r->err);
}

/* The stream of `go` as the TSV lagen writes, into `path`. */
static inline void write_generated(const char *path, const gen_options *go)
{
    gen *g;
    ck_assert_int_eq(gen_create(&g, go), 0);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gen_write_tsv(g, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    gen_free(g);
}

#endif
