/* faultload.h — the workload the fault tests share (test_faults, test_crashsim): events over
 * three interleaved days, each recognisable by its session id, and the check that rollups count
 * exactly the events a database holds. */
#ifndef LA_TESTS_FAULTLOAD_H
#define LA_TESTS_FAULTLOAD_H

#include "la.h"
#include "testutil.h"

#define FL_DAY_MS 86400000LL
#define FL_T0 (20362LL * FL_DAY_MS) /* 2025-10-01 */

static inline la_str fl_str(const char *s) { return (la_str){s, (uint32_t)strlen(s)}; }

/* Event i (its link name goes to buf, 32 bytes). */
static inline la_event fl_event(size_t i, char *buf)
{
    la_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = FL_T0 + (int64_t)(i % 3) * FL_DAY_MS + (int64_t)i * 10;
    snprintf(buf, 32, "lnk_%zu", i % 37);
    ev.workspace = fl_str(i % 2 ? "ws_a" : "ws_b");
    ev.link = fl_str(buf);
    ev.event_type = fl_str("click");
    ev.visitor_id = i % 101;
    ev.session_id = i;
    return ev;
}

/* Daily series of both workspaces must count exactly the events i < n with present[i]. */
static inline void fl_check_rollups(la_db *db, const uint8_t *present, size_t n, const char *when)
{
    for (int w = 0; w < 2; w++) {
        uint64_t want[3] = {0, 0, 0};
        for (size_t i = 0; i < n; i++) {
            char buf[32];
            la_event ev = fl_event(i, buf);
            if (present[i] && (ev.workspace.data[3] == 'a') == (w == 0))
                want[(ev.ts - FL_T0) / FL_DAY_MS]++;
        }
        la_query q = LA_QUERY_INIT;
        q.workspace = fl_str(w == 0 ? "ws_a" : "ws_b");
        q.from = FL_T0;
        q.to = FL_T0 + 3 * FL_DAY_MS;
        la_point *p;
        size_t np;
        ck_assert_int_eq(la_query_series(db, &q, &p, &np), LA_OK);
        ck_assert_uint_eq(np, 3);
        for (size_t d = 0; d < 3; d++)
            ck_assert_msg(p[d].events == want[d] && p[d].clicks == want[d],
                          "%s: workspace %d day %zu: rollups say %llu events, the segments hold %llu", when, w,
                          d, (unsigned long long)p[d].events, (unsigned long long)want[d]);
        la_series_free(p);
    }
}

#endif
