/* track.c — the write job: what the app's trackLinkEvent() does on every click, lead and sale.
 * Usage: track DB. Appends a small, fixed set of past events (the same every run, so that
 * dashboard.c has known answers) and one click stamped now, flushes, and shows the realtime
 * figures of the workspace. Exits 0, or prints the error and exits 1. */
#include <la.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static la_str s(const char *z) { return (la_str){z, z ? (uint32_t)strlen(z) : 0}; }

/* One event in the app's shape; the metadata fields are the database's default dimensions
 * (country, city, device, browser, referrer), NULL meaning "not known". */
static int track_link_event(la_db *db, int64_t ts, const char *workspace, const char *link,
                            const char *type, const char *visitor, const char *session,
                            const char *country, const char *device, long long amount_cents)
{
    la_str dims[5] = {s(country), s(NULL), s(device), s(NULL), s(NULL)};
    la_event ev = {.ts = ts, .workspace = s(workspace), .link = s(link), .event_type = s(type),
                   .visitor_id = la_hash_id(visitor, strlen(visitor)),
                   .session_id = la_hash_id(session, strlen(session)),
                   .value = amount_cents, .has_value = amount_cents != 0,
                   .dims = dims, .ndims = 5};
    return la_append(db, &ev);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: track DB\n");
        return 2;
    }
    la_db *db;
    la_options o = LA_OPTIONS_INIT;
    o.retention_days = 3650; /* the default keeps 30 days of raw events; these are older */
    int rc = la_open(&db, argv[1], LA_OPEN_CREATE, &o);
    if (rc != LA_OK) {
        fprintf(stderr, "track: %s: %s\n", la_strerror(rc), la_errmsg());
        return 1;
    }
    const int64_t nov2 = 1793577600000; /* 2026-11-02 00:00 UTC */
    const int64_t hour = 3600000;
    struct { int64_t ts; const char *link, *type, *visitor, *session, *country, *device;
             long long cents; } evs[] = {
        {nov2 + 9 * hour, "lnk_spring", "click", "v1", "s1", "DE", "mobile", 0},
        {nov2 + 9 * hour + 60000, "lnk_spring", "lead", "v1", "s1", "DE", "mobile", 0},
        {nov2 + 10 * hour, "lnk_spring", "click", "v2", "s2", "FR", "desktop", 0},
        {nov2 + 23 * hour + 30 * 60000, "lnk_sale", "click", "v3", "s3", "DE", "mobile", 0},
        {nov2 + 24 * hour + 12 * hour, "lnk_sale", "click", "v1", "s4", "DE", "desktop", 0},
        {nov2 + 24 * hour + 12 * hour + 5000, "lnk_sale", "sale", "v1", "s4", "DE", "desktop",
         4999},
    };
    for (size_t i = 0; i < sizeof evs / sizeof evs[0] && rc == LA_OK; i++)
        rc = track_link_event(db, evs[i].ts, "ws_acme", evs[i].link, evs[i].type, evs[i].visitor,
                              evs[i].session, evs[i].country, evs[i].device, evs[i].cents);
    if (rc == LA_OK) /* the click that just happened */
        rc = track_link_event(db, (int64_t)time(NULL) * 1000, "ws_acme", "lnk_spring", "click",
                              "v4", "s5", "FR", "mobile", 0);
    if (rc == LA_OK)
        rc = la_flush(db); /* durable against power loss from here on */
    la_live_stats live = LA_LIVE_STATS_INIT;
    if (rc == LA_OK)
        rc = la_live(db, (la_str){"ws_acme", 7}, (la_str){NULL, 0}, &live);
    if (rc != LA_OK)
        fprintf(stderr, "track: %s: %s\n", la_strerror(rc), la_errmsg());
    else
        printf("tracked %zu events; last %u minutes: %llu events, %llu visitors active\n",
               sizeof evs / sizeof evs[0] + 1, live.window_min, (unsigned long long)live.events,
               (unsigned long long)live.active_visitors);
    la_close(db);
    return rc == LA_OK ? 0 : 1;
}
