/* dashboard.c — the read job: a workspace's daily clicks, leads, sales and unique visitors in
 * the viewer's time zone, its top countries, and its busiest links right now. Usage:
 * dashboard DB. Opens read-only, so it can run while the app writes. */
#include <la.h>
#include <stdio.h>
#include <time.h>

static int fail(int rc)
{
    fprintf(stderr, "dashboard: %s: %s\n", la_strerror(rc), la_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: dashboard DB\n");
        return 2;
    }
    la_db *db;
    int rc = la_open(&db, argv[1], LA_OPEN_READONLY, NULL);
    if (rc != LA_OK)
        return fail(rc);

    la_query q = LA_QUERY_INIT;
    q.workspace = (la_str){"ws_acme", 7};
    q.from = 1793574000000; /* 2026-11-02 00:00 in Berlin (UTC+1) */
    q.to = q.from + 3 * 86400000LL;
    q.bucket = LA_BUCKET_DAY;
    q.tz = "Europe/Berlin";
    la_point *pts;
    size_t n;
    if ((rc = la_query_series(db, &q, &pts, &n)) != LA_OK) {
        la_close(db);
        return fail(rc);
    }
    printf("day         clicks  leads  sales    value  visitors\n");
    for (size_t i = 0; i < n; i++) {
        /* the bucket's local date: its UTC start moved by the zone's offset */
        time_t local = (time_t)(pts[i].bucket_start / 1000 + pts[i].utc_offset_s);
        char day[16];
        strftime(day, sizeof day, "%Y-%m-%d", gmtime(&local));
        printf("%s %7llu %6llu %6llu %8.2f %9llu\n", day, (unsigned long long)pts[i].clicks,
               (unsigned long long)pts[i].leads, (unsigned long long)pts[i].sales,
               (double)pts[i].value / 100, (unsigned long long)pts[i].visitors.count);
    }
    la_series_free(pts);

    la_top *top;
    if ((rc = la_query_top(db, &q, la_db_dim_index(db, "country"), 5, &top)) != LA_OK) {
        la_close(db);
        return fail(rc);
    }
    printf("top countries:");
    for (size_t i = 0; i < top->n; i++)
        printf(" %.*s %llu", (int)top->entries[i].value.len, top->entries[i].value.data,
               (unsigned long long)top->entries[i].count);
    printf(" (of %llu events)\n", (unsigned long long)top->total);
    la_top_free(top);

    la_live_board *board;
    if ((rc = la_live_top(db, q.workspace, 3, &board)) != LA_OK) {
        la_close(db);
        return fail(rc);
    }
    printf("right now (last %u minutes): %llu events, %llu visitors active; top links:",
           board->window_min, (unsigned long long)board->events,
           (unsigned long long)board->active_visitors);
    for (size_t i = 0; i < board->n; i++)
        printf(" %.*s %llu", (int)board->entries[i].link.len, board->entries[i].link.data,
               (unsigned long long)board->entries[i].events);
    printf("\n");
    la_live_board_free(board);
    la_close(db);
    return 0;
}
