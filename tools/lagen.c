/* lagen.c — the command line of the click-stream generator: options in, TSV out. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "timefmt.h"

#define EXIT_USAGE 2
#define MS_PER_DAY 86400000LL
#define MAX_MS 253402300800000LL /* 10000-01-01, the end of the engine's range */

static int takes_value(const char *opt)
{
    static const char *const opts[] = {"--events", "--days", "--seed", "--start",
                                       "--workspaces", "--links", "--late", "-o"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strcmp(opt, opts[i]) == 0)
            return 1;
    return 0;
}

static void usage(FILE *to, const gen_options *d)
{
    char start[TIMEFMT_MAX];
    timefmt_format(d->start_ms, start);
    start[10] = '\0'; /* the date part */
    fprintf(to,
            "usage: lagen [--events N] [--days D] [--seed S] [--start YYYY-MM-DD]\n"
            "             [--workspaces W] [--links L] [--late F] [-o FILE]\n"
            "  Write a deterministic, realistic click stream as TSV (the input of `lactl ingest`)\n"
            "  to stdout or FILE. The same options always give the same bytes.\n"
            "  --events N      events in total (default %llu)\n"
            "  --days D        arrival times spread over D UTC days (default %u)\n"
            "  --seed S        random seed (default %llu)\n"
            "  --start DATE    first day, 00:00 UTC (default %s)\n"
            "  --workspaces W  number of workspaces (default %u)\n"
            "  --links L       number of links across all workspaces, >= W (default %u)\n"
            "  --late F        share of events arriving late, 0..1 (default %g)\n"
            "  -o FILE         write to FILE instead of stdout\n"
            "  Exit status: 0 done, 1 write error or out of memory, 2 bad usage.\n",
            (unsigned long long)d->events, d->days, (unsigned long long)d->seed, start,
            d->workspaces, d->links, d->late_fraction);
}

static int bad(const char *opt, const char *arg, const char *why)
{
    fprintf(stderr, "lagen: %s '%s': %s (see lagen --help)\n", opt, arg, why);
    return EXIT_USAGE;
}

/* Plain decimal digits only: strtoull would accept signs, spaces and hex. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s))
        return -1;
    errno = 0;
    const unsigned long long v = strtoull(s, NULL, 10);
    if (errno || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    gen_options o;
    gen_options_default(&o);
    const char *path = NULL;

    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            usage(stdout, &o);
            return 0;
        }
        if (!takes_value(opt)) {
            fprintf(stderr, "lagen: %s '%s' (see lagen --help)\n",
                    opt[0] == '-' ? "unknown option" : "unexpected argument", opt);
            return EXIT_USAGE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "lagen: %s: missing value (see lagen --help)\n", opt);
            return EXIT_USAGE;
        }
        const char *arg = argv[++i];
        uint64_t v;
        if (strcmp(opt, "--events") == 0) {
            if (parse_u64(arg, UINT64_MAX, &v) != 0)
                return bad(opt, arg, "not a count");
            o.events = v;
        } else if (strcmp(opt, "--days") == 0) {
            if (parse_u64(arg, UINT32_MAX, &v) != 0 || v == 0)
                return bad(opt, arg, "not a positive number of days");
            o.days = (uint32_t)v;
        } else if (strcmp(opt, "--seed") == 0) {
            if (parse_u64(arg, UINT64_MAX, &v) != 0)
                return bad(opt, arg, "not an unsigned 64-bit integer");
            o.seed = v;
        } else if (strcmp(opt, "--start") == 0) {
            const char *why = "not a date YYYY-MM-DD";
            if (strlen(arg) != 10 || timefmt_parse(arg, 10, &o.start_ms, &why) != 0)
                return bad(opt, arg, why);
        } else if (strcmp(opt, "--workspaces") == 0) {
            if (parse_u64(arg, UINT32_MAX, &v) != 0 || v == 0)
                return bad(opt, arg, "not a positive count");
            o.workspaces = (uint32_t)v;
        } else if (strcmp(opt, "--links") == 0) {
            if (parse_u64(arg, UINT32_MAX, &v) != 0 || v == 0)
                return bad(opt, arg, "not a positive count");
            o.links = (uint32_t)v;
        } else if (strcmp(opt, "--late") == 0) {
            char *end;
            errno = 0;
            const double f = strtod(arg, &end);
            if (end == arg || *end || errno || !(f >= 0.0 && f <= 1.0))
                return bad(opt, arg, "not a fraction between 0 and 1");
            o.late_fraction = f;
        } else {
            path = arg;
        }
    }
    if (o.links < o.workspaces) {
        fprintf(stderr, "lagen: --links (%u) must be at least --workspaces (%u)\n", o.links,
                o.workspaces);
        return EXIT_USAGE;
    }
    if (o.days > (MAX_MS - o.start_ms) / MS_PER_DAY) {
        fprintf(stderr, "lagen: --days %u from --start runs past 9999-12-31\n", o.days);
        return EXIT_USAGE;
    }
    int64_t end_ms = o.start_ms + (int64_t)o.days * MS_PER_DAY;
    if (end_ms > (int64_t)time(NULL) * 1000 + 3600000) { /* the output stays a function of the options */
        char end[TIMEFMT_MAX];
        timefmt_format(end_ms, end);
        end[10] = '\0';
        fprintf(stderr,
                "lagen: warning: the stream runs until %s, past now: lactl ingest rejects events more "
                "than an hour ahead (its default future skew); an earlier --start avoids that\n",
                end);
    }

    gen *g;
    if (gen_create(&g, &o) != 0) {
        fprintf(stderr, "lagen: out of memory\n");
        return 1;
    }
    FILE *out = stdout;
    if (path && !(out = fopen(path, "w"))) {
        fprintf(stderr, "lagen: %s: %s\n", path, strerror(errno));
        gen_free(g);
        return 1;
    }
    int rc = gen_write_tsv(g, out);
    gen_free(g);
    if (out != stdout && fclose(out) != 0)
        rc = -1;
    if (rc != 0) {
        fprintf(stderr, "lagen: write error on %s\n", path ? path : "stdout");
        return 1;
    }
    return 0;
}
