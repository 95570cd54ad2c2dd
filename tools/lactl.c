/* lactl.c — the command-line tool: dispatches `lactl CMD ...` to the commands in cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "la.h"
#include "lactl.h"

/* The dashboard commands of cmd_query.c (not in lactl.h, which this change does not own). */
int lactl_query(int argc, char **argv);
int lactl_top(int argc, char **argv);
/* cmd_live.c */
int lactl_live(int argc, char **argv);

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"ingest", lactl_ingest, "append events from TSV or JSON lines (a file or stdin)"},
    {"scan", lactl_scan, "print events (TSV, JSON lines, table) by time, workspace, link, dim"},
    {"query", lactl_query, "clicks, leads, sales, value, uniques per hour/day/week/month/year"},
    {"top", lactl_top, "the most frequent values of a dimension (country, city, ...)"},
    {"live", lactl_live, "the top links of a workspace right now, refreshing (--once for scripts)"},
    {"verify", lactl_verify, "check every checksum and invariant; exit 1 on any problem"},
    {"compact", lactl_compact, "seal the days that are due (--all: every day) into sorted zstd"},
    {"retention", lactl_retention, "delete the raw events of expired days (--days N, --dry-run)"},
    {"dump", lactl_dump, "show a database or one segment or rollup file (--format, --cells N)"},
    {"export", lactl_export, "events or daily rollups as TSVWithNames / JSONEachRow"},
};

static int help(FILE *to)
{
    fprintf(to, "lactl %s — inspect and feed la databases\n\nusage: lactl COMMAND [ARGS]\n\n",
            LA_VERSION_STRING);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(to, "\n`lactl COMMAND --help` describes a command; `man lactl` describes them all.\n"
                "Exit status: 0 success, 1 a problem found (rows rejected, damage found),\n"
                "2 bad usage or an error that stopped the command (I/O, no database, locked).\n");
    return to == stdout ? LACTL_OK : LACTL_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return help(stderr);
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc > 2)
            for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                if (strcmp(argv[2], commands[i].name) == 0) {
                    char *args[] = {argv[2], "--help", NULL};
                    return commands[i].run(2, args);
                }
        return help(stdout);
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("lactl %s\n", LA_VERSION_STRING);
        return LACTL_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "lactl: unknown command '%s'\n\n", cmd);
    return help(stderr);
}
