/* lactl.h — the lactl subcommands. Each takes argv with argv[0] the command name and returns
 * the process exit status: 0 success, 1 a problem found in the data (rows rejected, damage),
 * 2 bad usage or an error that kept the command from doing its job (I/O, missing database,
 * lock held). They live in the tool library so that tests can run them in-process. */
#ifndef LA_TOOLS_LACTL_H
#define LA_TOOLS_LACTL_H

#include <stdint.h>

enum { LACTL_OK = 0, LACTL_FAIL = 1, LACTL_USAGE = 2, LACTL_ERROR = 2 };

int lactl_ingest(int argc, char **argv);
int lactl_scan(int argc, char **argv);
int lactl_verify(int argc, char **argv);
int lactl_dump(int argc, char **argv);
int lactl_compact(int argc, char **argv);
int lactl_retention(int argc, char **argv);
int lactl_export(int argc, char **argv);

/* "lactl CMD: <error name>: <detail>" on stderr for a failed la_* call; returns LACTL_FAIL
 * for damage found (LA_ECORRUPT), LACTL_ERROR for anything else. */
int lactl_report(const char *cmd, const char *what, int rc);

/* Text output shared by the commands that print tables and JSON (cmd_query.c). */
#include "tsv.h"
/* printf into a tsv_writer, unescaped (at most 255 bytes). */
void lactl_outf(tsv_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Terminal columns s takes once TSV-escaped (escapes two, UTF-8 continuation bytes none). */
size_t lactl_shown_width(const char *s, size_t n);
/* n bytes for people ("812 B", "4.1 KiB", "3.0 MiB", "1.2 GiB", ...) into buf; returns buf. */
#define LACTL_HUMAN_MAX 16
char *lactl_human_bytes(uint64_t n, char buf[LACTL_HUMAN_MAX]);

/* n with its thousands grouped for people ("1,234,567") into buf; returns buf. */
#define LACTL_COUNT_MAX 28
char *lactl_group_digits(uint64_t n, char buf[LACTL_COUNT_MAX]);

/* Seconds on a monotonic clock, for progress lines and rates. */
double lactl_now_s(void);

/* A progress line on stderr ("verify: 12/70 files") for the la_progress_fn calls of a long
 * command, shown only when stderr is a terminal and the command was not given --quiet,
 * redrawn at most 5 times a second and ended with a newline at the last step. */
typedef struct lactl_progress {
    const char *cmd, *unit;
    int on;
    double last;
} lactl_progress;
void lactl_progress_init(lactl_progress *p, const char *cmd, const char *unit, int quiet);
void lactl_progress_step(void *p, uint64_t done, uint64_t total); /* an la_progress_fn */

#endif
