/* lactl.h — the lactl subcommands. Each takes argv with argv[0] the command name and returns
 * the process exit status: 0 success, 1 failure (or problems found), 2 bad usage. They live
 * in the tool library so that tests can run them in-process. */
#ifndef LA_TOOLS_LACTL_H
#define LA_TOOLS_LACTL_H

enum { LACTL_OK = 0, LACTL_FAIL = 1, LACTL_USAGE = 2 };

int lactl_ingest(int argc, char **argv);
int lactl_scan(int argc, char **argv);
int lactl_verify(int argc, char **argv);
int lactl_dump(int argc, char **argv);
int lactl_compact(int argc, char **argv);
int lactl_retention(int argc, char **argv);

/* "lactl CMD: <error name>: <detail>" on stderr for a failed la_* call; returns LACTL_FAIL. */
int lactl_report(const char *cmd, const char *what, int rc);

/* Text output shared by the commands that print tables and JSON (cmd_query.c). */
#include "tsv.h"
/* printf into a tsv_writer, unescaped (at most 255 bytes). */
void lactl_outf(tsv_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string of arbitrary bytes: valid UTF-8 passes through, other bytes become U+FFFD. */
void lactl_json_str(tsv_writer *w, const char *s, size_t n);
/* Terminal columns s takes once TSV-escaped (escapes two, UTF-8 continuation bytes none). */
size_t lactl_shown_width(const char *s, size_t n);

#endif
