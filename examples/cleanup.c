/* cleanup.c — the housekeeping job: delete the raw events of days older than the retention
 * window. Usage: cleanup DB DAYS. Lists the expired days, deletes them, and says what went.
 * Daily, weekly, monthly and yearly rollups stay, so long-range dashboards keep answering. */
#include <la.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void show_day(void *ctx, int64_t day_start_ms, uint64_t bytes, int ready)
{
    (void)ctx;
    time_t t = (time_t)(day_start_ms / 1000);
    char day[16];
    strftime(day, sizeof day, "%Y-%m-%d", gmtime(&t));
    printf("expired: %s (%llu bytes%s)\n", day, (unsigned long long)bytes,
           ready ? "" : ", rollups to complete first");
}

int main(int argc, char **argv)
{
    if (argc != 3 || atoi(argv[2]) < 1) {
        fprintf(stderr, "usage: cleanup DB DAYS\n");
        return 2;
    }
    la_options o = LA_OPTIONS_INIT;
    o.retention_days = (uint32_t)atoi(argv[2]);
    o.no_auto_retention = 1; /* this program decides when */
    la_db *db;
    int rc = la_open(&db, argv[1], 0, &o);
    la_retention_stats st;
    if (rc == LA_OK)
        rc = la_retention_list(db, show_day, NULL, NULL);
    if (rc == LA_OK)
        rc = la_retention(db, &st);
    if (rc != LA_OK) {
        fprintf(stderr, "cleanup: %s: %s\n", la_strerror(rc), la_errmsg());
        la_close(db);
        return 1;
    }
    printf("deleted %u days, %llu bytes\n", st.days, (unsigned long long)st.bytes);
    la_close(db);
    return 0;
}
