/* cmd_live.c — `lactl live DB --workspace W`: the top links of a workspace right now
 * (la_live_top), redrawn in place on a terminal, or printed once as TSV or JSON for scripts.
 * One read-only handle serves every refresh, so each one reads only what the writer flushed
 * since the last. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "la.h"
#include "lactl.h"
#include "textout.h"
#include "timefmt.h"
#include "tsv.h"

/* Declared here for -Wmissing-prototypes; lactl.c and the tests declare it too. */
int lactl_live(int argc, char **argv);

#define TOP_K_MAX 10000u

enum { FMT_TABLE, FMT_TSV, FMT_JSON };

static int usage(FILE *to)
{
    fprintf(to,
            "usage: lactl live DB --workspace W [--top K] [--once] [--format table|tsv|json]\n"
            "                     [--interval SECONDS] [--window MIN] [--active MIN]\n"
            "  The K (1..10000, default 10) links of workspace W with the most events in the\n"
            "  last MIN minutes (--window, 1..1440, default 30), with their distinct visitors\n"
            "  active in the last --active minutes (default 5, at most --window) and their\n"
            "  newest event, by events then link. TSV: link<TAB>events<TAB>active_visitors<TAB>\n"
            "  last_event (ISO-8601 UTC, escaped as lactl scan does); the table starts with a\n"
            "  line of the workspace's own figures, JSON has them as fields.\n"
            "  Prints again every SECONDS (default 2, 0.1..3600) until interrupted, clearing the\n"
            "  screen first when stdout is a terminal; --once prints once and exits.\n"
            "  Default format: table on a terminal, else TSV. Opens the database read-only:\n"
            "  works while a writer runs and sees what it has flushed.\n"
            "  Exit status: 0 done, 1 damage found, 2 bad usage or an error that stopped it.\n");
    return to == stdout ? LACTL_OK : LACTL_USAGE;
}

__attribute__((format(printf, 1, 2))) static int bad_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "lactl live: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return LACTL_USAGE;
}

static void when(tsv_writer *w, int64_t ms)
{
    char buf[TIMEFMT_MAX];
    tsv_raw_out(w, buf, timefmt_format(ms, buf));
}

static void print_tsv(tsv_writer *w, const la_live_board *b)
{
    tsv_raw_out(w, "link\tevents\tactive_visitors\tlast_event\n", 39);
    for (size_t i = 0; i < b->n; i++) {
        const la_live_link *e = &b->entries[i];
        tsv_field_out(w, e->link.data, e->link.len);
        lactl_outf(w, "\t%llu\t%llu\t", (unsigned long long)e->events, (unsigned long long)e->active_visitors);
        when(w, e->last_ts);
        tsv_char_out(w, '\n');
    }
}

static void print_table(tsv_writer *w, const char *ws, const la_live_board *b)
{
    tsv_raw_out(w, "workspace ", 10);
    tsv_field_out(w, ws, strlen(ws));
    tsv_raw_out(w, " at ", 4);
    when(w, b->now);
    lactl_outf(w, ": %llu events in %u min, %llu visitors active in %u min, ",
               (unsigned long long)b->events, b->window_min, (unsigned long long)b->active_visitors,
               b->active_min);
    if (b->last_ts >= 0) {
        tsv_raw_out(w, "last ", 5);
        when(w, b->last_ts);
    } else {
        tsv_raw_out(w, "no event", 8);
    }
    lactl_outf(w, ", %llu links\n", (unsigned long long)b->links);
    char num[2][32];
    size_t lw = 4, ew = 6, vw = 15;
    for (size_t i = 0; i < b->n; i++) {
        size_t l = lactl_shown_width(b->entries[i].link.data, b->entries[i].link.len);
        size_t e = (size_t)snprintf(num[0], sizeof num[0], "%llu", (unsigned long long)b->entries[i].events);
        lw = l > lw ? l : lw;
        ew = e > ew ? e : ew;
    }
    lactl_outf(w, "link%*s  events  active_visitors  last_event\n", (int)(lw - 4), "");
    for (size_t i = 0; i < b->n; i++) {
        const la_live_link *e = &b->entries[i];
        int en = snprintf(num[0], sizeof num[0], "%llu", (unsigned long long)e->events);
        int vn = snprintf(num[1], sizeof num[1], "%llu", (unsigned long long)e->active_visitors);
        tsv_field_out(w, e->link.data, e->link.len);
        lactl_outf(w, "%*s%*s%s%*s%s  ", (int)(lw - lactl_shown_width(e->link.data, e->link.len) + 2), "",
                   (int)ew - en, "", num[0], (int)vw - vn + 2, "", num[1]);
        when(w, e->last_ts);
        tsv_char_out(w, '\n');
    }
}

static void print_json(tsv_writer *w, const char *ws, const la_live_board *b)
{
    tsv_raw_out(w, "{\"workspace\":", 13);
    textout_json_str(w, ws, strlen(ws));
    tsv_raw_out(w, ",\"now\":\"", 8);
    when(w, b->now);
    lactl_outf(w, "\",\"now_ms\":%lld,\"window_min\":%u,\"active_min\":%u,\"events\":%llu,"
                  "\"active_visitors\":%llu,",
               (long long)b->now, b->window_min, b->active_min, (unsigned long long)b->events,
               (unsigned long long)b->active_visitors);
    if (b->last_ts >= 0)
        lactl_outf(w, "\"last_event_ms\":%lld,", (long long)b->last_ts);
    else
        tsv_raw_out(w, "\"last_event_ms\":null,", 21);
    lactl_outf(w, "\"links\":%llu,\"top\":[\n", (unsigned long long)b->links);
    for (size_t i = 0; i < b->n; i++) {
        const la_live_link *e = &b->entries[i];
        tsv_raw_out(w, "{\"link\":", 8);
        textout_json_str(w, e->link.data, e->link.len);
        lactl_outf(w, ",\"events\":%llu,\"active_visitors\":%llu,\"last_event_ms\":%lld}%s\n",
                   (unsigned long long)e->events, (unsigned long long)e->active_visitors,
                   (long long)e->last_ts, i + 1 < b->n ? "," : "");
    }
    tsv_raw_out(w, "]}\n", 3);
}

int lactl_live(int argc, char **argv)
{
    const char *dbpath = NULL, *ws = NULL;
    uint32_t k = 10;
    int once = 0, format = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_TSV;
    double interval = 2;
    la_options opts = LA_OPTIONS_INIT;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int has_val = i + 1 < argc;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
            return usage(stdout);
        if (strcmp(o, "--workspace") == 0 && has_val)
            ws = argv[++i];
        else if (strcmp(o, "--once") == 0)
            once = 1;
        else if (strcmp(o, "--format") == 0 && has_val) {
            const char *f = argv[++i];
            if (strcmp(f, "table") == 0)
                format = FMT_TABLE;
            else if (strcmp(f, "tsv") == 0)
                format = FMT_TSV;
            else if (strcmp(f, "json") == 0)
                format = FMT_JSON;
            else
                return bad_usage("--format wants table, tsv or json, not '%s'", f);
        } else if (strcmp(o, "--top") == 0 && has_val) {
            const char *s = argv[++i];
            char *end;
            errno = 0;
            unsigned long v = strtoul(s, &end, 10);
            if (errno || *end || s[0] < '0' || s[0] > '9' || v < 1 || v > TOP_K_MAX)
                return bad_usage("--top wants a count from 1 to %u, not '%s'", TOP_K_MAX, s);
            k = (uint32_t)v;
        } else if ((strcmp(o, "--window") == 0 || strcmp(o, "--active") == 0) && has_val) {
            const char *s = argv[++i];
            char *end;
            errno = 0;
            unsigned long v = strtoul(s, &end, 10);
            if (errno || *end || s[0] < '1' || s[0] > '9' || v > 1440)
                return bad_usage("%s wants minutes from 1 to 1440, not '%s'", o, s);
            *(o[2] == 'w' ? &opts.live_window_min : &opts.live_active_min) = (uint32_t)v;
        } else if (strcmp(o, "--interval") == 0 && has_val) {
            const char *s = argv[++i];
            char *end;
            interval = strtod(s, &end);
            if (end == s || *end || !(interval >= 0.1 && interval <= 3600))
                return bad_usage("--interval wants seconds from 0.1 to 3600, not '%s'", s);
        } else if (o[0] == '-')
            return bad_usage("unknown option or missing value '%s' (see lactl live --help)", o);
        else if (!dbpath)
            dbpath = o;
        else
            return bad_usage("unexpected argument '%s'", o);
    }
    if (!dbpath)
        return bad_usage("missing DB (see lactl live --help)");
    if (!ws)
        return bad_usage("missing --workspace W");
    if (strlen(ws) > LA_MAX_STR)
        return bad_usage("--workspace is longer than %d bytes", LA_MAX_STR);

    if (opts.live_active_min > (opts.live_window_min ? opts.live_window_min : 30))
        return bad_usage("--active (%u) must not exceed the window (%u)", opts.live_active_min,
                         opts.live_window_min ? opts.live_window_min : 30);
    if (!opts.live_active_min && opts.live_window_min && opts.live_window_min < 5)
        opts.live_active_min = opts.live_window_min;

    la_db *db;
    int rc = la_open(&db, dbpath, LA_OPEN_READONLY, &opts);
    if (rc != LA_OK)
        return lactl_report("live", dbpath, rc);
    int clear = isatty(STDOUT_FILENO) && !once, status = LACTL_OK;
    for (;;) {
        la_live_board *b;
        if ((rc = la_live_top(db, (la_str){ws, (uint32_t)strlen(ws)}, k, &b)) != LA_OK) {
            status = lactl_report("live", dbpath, rc);
            break;
        }
        tsv_writer w;
        tsv_writer_init(&w, stdout);
        if (clear)
            tsv_raw_out(&w, "\033[H\033[2J", 7); /* cursor home, clear screen */
        if (format == FMT_TSV)
            print_tsv(&w, b);
        else if (format == FMT_TABLE)
            print_table(&w, ws, b);
        else
            print_json(&w, ws, b);
        la_live_board_free(b);
        if (tsv_writer_finish(&w) != 0 || fflush(stdout) != 0) {
            fprintf(stderr, "lactl live: write error: %s\n", strerror(errno));
            status = LACTL_ERROR;
            break;
        }
        if (once)
            break;
        struct timespec t = {(time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9)};
        while (nanosleep(&t, &t) != 0 && errno == EINTR)
            ;
    }
    la_close(db);
    return status;
}
