/* test_gen.c — the click-stream generator against what its consumers rely on: determinism,
 * exact counts, arrival order with a share of late events, ids that are the hashes of the
 * printed strings, sessions, returning visitors, skew, geography, and TSV that parses back. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "la.h"
#include "testutil.h"

#define MS_PER_MIN 60000LL
#define MS_PER_HOUR 3600000LL
#define MS_PER_DAY 86400000LL
#define START_2026_11_01 1793491200000LL /* 20758 days after the epoch */

/* TU_CHECK naming the failed condition. */
#define EXPECT(cond) TU_CHECK(cond, "failed: %s", #cond)


static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    ck_assert_ptr_nonnull(p);
    return p;
}

static gen_options opts(uint64_t events, uint32_t days, double late, uint64_t seed)
{
    gen_options o;
    gen_options_default(&o);
    o.events = events;
    o.days = days;
    o.late_fraction = late;
    o.seed = seed;
    return o;
}

static gen *open_gen(const gen_options *o)
{
    gen *g = NULL;
    ck_assert_int_eq(gen_create(&g, o), 0);
    ck_assert_ptr_nonnull(g);
    return g;
}

static la_str lstr(const char *c) { return (la_str){c, (uint32_t)strlen(c)}; }

static int str_is(la_str s, const char *c)
{
    return s.data && s.len == strlen(c) && memcmp(s.data, c, s.len) == 0;
}

/* A key for a possibly absent string; absent gets a value no real hash is likely to hit. */
static uint64_t str_key(la_str s) { return s.data ? la_hash_id(s.data, s.len) : 0xAB5E17ull; }

/* ---------------------------------------------------------------------------------------
 * A u64 -> u64 map (open addressing, fixed capacity) for counting over a stream.
 * ------------------------------------------------------------------------------------- */

typedef struct idmap {
    uint64_t *keys, *vals;
    uint8_t *used;
    size_t mask, n;
} idmap;

static void idmap_init(idmap *m, size_t expect)
{
    size_t cap = 16;
    while (cap < 2 * expect)
        cap *= 2;
    m->keys = xcalloc(cap, sizeof *m->keys);
    m->vals = xcalloc(cap, sizeof *m->vals);
    m->used = xcalloc(cap, 1);
    m->mask = cap - 1;
    m->n = 0;
}

static void idmap_free(idmap *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
}

/* The value of key, added as 0 if missing (then *fresh = 1). */
static uint64_t *idmap_get(idmap *m, uint64_t key, int *fresh)
{
    size_t i = (key ^ (key >> 31)) * 0x9E3779B97F4A7C15ull & m->mask;
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & m->mask;
    int added = 0;
    if (!m->used[i]) {
        EXPECT(2 * m->n < m->mask + 1);
        m->used[i] = 1;
        m->keys[i] = key;
        m->n++;
        added = 1;
    }
    if (fresh)
        *fresh = added;
    return &m->vals[i];
}

static int cmp_u64_desc(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The counts of a map, largest first (caller frees). */
static uint64_t *sorted_counts(const idmap *m, size_t pad_to, size_t *n)
{
    const size_t len = m->n > pad_to ? m->n : pad_to;
    uint64_t *c = xcalloc(len, sizeof *c);
    size_t k = 0;
    for (size_t i = 0; i <= m->mask; i++)
        if (m->used[i])
            c[k++] = m->vals[i];
    qsort(c, len, sizeof *c, cmp_u64_desc);
    *n = len;
    return c;
}

/* ---------------------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------------------- */

START_TEST(gen_options__defaults_as_documented)
{
    gen_options o;
    memset(&o, 0xA5, sizeof o);
    gen_options_default(&o);
    ck_assert_uint_eq(o.seed, 1);
    ck_assert_uint_eq(o.events, 1000000);
    ck_assert_uint_eq(o.days, 7);
    ck_assert_int_eq(o.start_ms, START_2026_11_01);
    ck_assert_int_eq(o.start_ms % MS_PER_DAY, 0);
    ck_assert_uint_eq(o.workspaces, 300);
    ck_assert_uint_eq(o.links, 30000);
    ck_assert_double_eq_tol(o.late_fraction, 0.03, 1e-12);
}
END_TEST

START_TEST(gen_create__rejects_bad_options_accepts_edges)
{
    gen *g = (gen *)&g; /* any non-NULL value: a failed create must reset it */
    gen_options o = opts(1000, 7, 0.03, 1);
    gen_options bad;

    bad = o, bad.days = 0;
    ck_assert_int_eq(gen_create(&g, &bad), -1);
    ck_assert_ptr_null(g);
    bad = o, bad.workspaces = 0;
    ck_assert_int_eq(gen_create(&g, &bad), -1);
    bad = o, bad.links = 0;
    ck_assert_int_eq(gen_create(&g, &bad), -1);
    bad = o, bad.links = bad.workspaces - 1;
    ck_assert_int_eq(gen_create(&g, &bad), -1);
    bad = o, bad.late_fraction = -0.01;
    ck_assert_int_eq(gen_create(&g, &bad), -1);
    bad = o, bad.late_fraction = 1.01;
    ck_assert_int_eq(gen_create(&g, &bad), -1);
    bad = o, bad.late_fraction = NAN;
    ck_assert_int_eq(gen_create(&g, &bad), -1);
    bad = o, bad.start_ms = -MS_PER_DAY;
    ck_assert_int_eq(gen_create(&g, &bad), -1);
    bad = o, bad.start_ms = 253402300800000LL - 6 * MS_PER_DAY; /* runs past 9999-12-31 */
    ck_assert_int_eq(gen_create(&g, &bad), -1);

    /* The edges that are valid: one link per workspace, all or no late events, 0 events. */
    gen_options edge = o;
    edge.workspaces = 1, edge.links = 1, edge.late_fraction = 1.0;
    g = open_gen(&edge);
    la_event ev;
    uint64_t n = 0;
    while (gen_next(g, &ev))
        n++;
    ck_assert_uint_eq(n, 1000);
    gen_free(g);

    edge = o, edge.events = 0, edge.late_fraction = 0.0;
    g = open_gen(&edge);
    ck_assert_int_eq(gen_next(g, &ev), 0);
    ck_assert_int_eq(gen_next(g, &ev), 0);
    gen_free(g);
    gen_free(NULL);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * The stream
 * ------------------------------------------------------------------------------------- */

static int same_str(la_str a, la_str b)
{
    if (!a.data || !b.data)
        return !a.data && !b.data;
    return a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
}

static int same_event(const la_event *a, const la_event *b)
{
    if (a->ts != b->ts || !same_str(a->workspace, b->workspace) || !same_str(a->link, b->link) ||
        !same_str(a->event_type, b->event_type) || a->visitor_id != b->visitor_id ||
        a->session_id != b->session_id || a->has_value != b->has_value || a->value != b->value ||
        a->ndims != b->ndims)
        return 0;
    for (uint32_t i = 0; i < a->ndims; i++)
        if (!same_str(a->dims[i], b->dims[i]))
            return 0;
    return 1;
}

START_TEST(gen_stream__same_seed_same_stream_other_seed_other)
{
    const gen_options o = opts(100000, 7, 0.05, 42);
    gen *a = open_gen(&o), *b = open_gen(&o);
    la_event ea, eb;
    uint64_t n = 0;
    for (;;) {
        const int ra = gen_next(a, &ea), rb = gen_next(b, &eb);
        EXPECT(ra == rb);
        if (!ra)
            break;
        TU_CHECK(same_event(&ea, &eb), "event %llu differs", (unsigned long long)n);
        EXPECT(strcmp(gen_visitor(a), gen_visitor(b)) == 0);
        EXPECT(strcmp(gen_session(a), gen_session(b)) == 0);
        n++;
    }
    ck_assert_uint_eq(n, o.events);
    gen_free(a);
    gen_free(b);

    /* Another seed: not a shifted or partly shared stream, but a different one. */
    gen_options o2 = o;
    o2.seed = 43;
    a = open_gen(&o);
    b = open_gen(&o2);
    int same_ts = 0, same_visitor = 0;
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(gen_next(a, &ea), 1);
        ck_assert_int_eq(gen_next(b, &eb), 1);
        same_ts += ea.ts == eb.ts;
        same_visitor += ea.visitor_id == eb.visitor_id;
    }
    ck_assert_int_lt(same_ts, 50);
    ck_assert_int_lt(same_visitor, 100);
    gen_free(a);
    gen_free(b);
}
END_TEST

/* Exactly opts.events, every ts inside [start, start + days) — late ones included, the
 * generator never dates an event before the start — and nothing after the end. */
START_TEST(gen_stream__exact_count_inside_window)
{
    static const struct {
        uint64_t events;
        uint32_t days;
        double late;
    } cases[] = {{1, 1, 0.0}, {7, 1, 1.0}, {1000, 30, 0.5}, {200000, 7, 0.03}, {50000, 1, 0.2}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gen_options o = opts(cases[c].events, cases[c].days, cases[c].late, 7 + c);
        o.start_ms = START_2026_11_01 + 100 * MS_PER_DAY;
        gen *g = open_gen(&o);
        const int64_t end = o.start_ms + (int64_t)o.days * MS_PER_DAY;
        la_event ev;
        uint64_t n = 0;
        while (gen_next(g, &ev)) {
            EXPECT(ev.ts >= o.start_ms && ev.ts < end);
            n++;
        }
        ck_assert_uint_eq(n, o.events);
        ck_assert_int_eq(gen_next(g, &ev), 0);
        ck_assert_int_eq(gen_next(g, &ev), 0);
        gen_free(g);
    }
}
END_TEST

/* The stream is in arrival order: without late events ts never decreases; with them, the
 * events dated before the latest ts so far are the late ones, about late_fraction of all,
 * mostly minutes behind, a few more than a day (at most 5). */
START_TEST(gen_stream__arrival_order_and_late_share)
{
    static const double fractions[] = {0.0, 0.03, 0.2};
    for (size_t f = 0; f < 3; f++) {
        const gen_options o = opts(200000, 7, fractions[f], 11);
        gen *g = open_gen(&o);
        la_event ev;
        int64_t max_ts = INT64_MIN, max_lag = 0;
        uint64_t late = 0, within_hour = 0, over_day = 0;
        while (gen_next(g, &ev)) {
            if (ev.ts < max_ts) {
                const int64_t lag = max_ts - ev.ts;
                late++;
                within_hour += lag < MS_PER_HOUR;
                over_day += lag > MS_PER_DAY;
                if (lag > max_lag)
                    max_lag = lag;
            } else {
                max_ts = ev.ts;
            }
        }
        gen_free(g);
        const double expect = o.late_fraction * (double)o.events;
        if (expect == 0) {
            ck_assert_uint_eq(late, 0);
            continue;
        }
        ck_assert_msg(fabs((double)late - expect) <= 0.1 * expect, "late %llu, expected ~%.0f",
                      (unsigned long long)late, expect);
        ck_assert_double_ge((double)within_hour / (double)late, 0.70);
        ck_assert_double_le((double)within_hour / (double)late, 0.90);
        ck_assert_uint_gt(over_day, 0);
        ck_assert_double_le((double)over_day / (double)late, 0.06);
        ck_assert_int_le(max_lag, 5 * MS_PER_DAY + MS_PER_MIN);
    }
}
END_TEST

static int all_digits(const char *s, size_t n)
{
    if (n == 0 || (n > 1 && s[0] == '0'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int all_in(la_str s, const char *prefix, size_t body, const char *alphabet)
{
    const size_t p = strlen(prefix);
    if (!s.data || s.len != p + body || memcmp(s.data, prefix, p) != 0)
        return 0;
    for (size_t i = p; i < s.len; i++)
        if (!memchr(alphabet, s.data[i], strlen(alphabet)))
            return 0;
    return 1;
}

/* visitor_id and session_id are the hashes of the strings the TSV prints, so ingesting the
 * TSV and appending directly store the same ids; the strings have the documented shapes. */
START_TEST(gen_stream__ids_hash_the_printed_strings)
{
    const gen_options o = opts(50000, 7, 0.03, 5);
    gen *g = open_gen(&o);
    la_event ev;
    while (gen_next(g, &ev)) {
        const char *v = gen_visitor(g), *s = gen_session(g);
        const size_t vn = strlen(v), sn = strlen(s);
        EXPECT(ev.visitor_id == la_hash_id(v, vn));
        EXPECT(ev.session_id == la_hash_id(s, sn));
        TU_CHECK(v[0] == 'v' && all_digits(v + 1, vn - 1), "visitor '%s'", v);
        TU_CHECK(sn > vn + 2 && memcmp(s, v, vn) == 0 && s[vn] == '-' && s[vn + 1] == 's' &&
                          all_digits(s + vn + 2, sn - vn - 2),
                      "session '%s' of visitor '%s'", s, v);
        EXPECT(all_in(ev.workspace, "ws_", 8, "0123456789abcdefghijklmnopqrstuvwxyz"));
        EXPECT(all_in(ev.link, "lk_", 7,
                      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"));
        EXPECT(ev.ndims == GEN_NDIMS && ev.dims != NULL);
    }
    gen_free(g);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * Sessions and visitors
 * ------------------------------------------------------------------------------------- */

typedef struct sess_info {
    uint64_t visitor;
    int64_t first, last;
    uint64_t events;
} sess_info;

/* A session's events share its visitor and fit in 30 minutes; sessions last ~2.5 clicks; a
 * visitor's sessions are numbered 1, 2, ... without gaps. */
START_TEST(gen_sessions__short_one_visitor_numbered)
{
    const gen_options o = opts(200000, 7, 0.03, 3);
    gen *g = open_gen(&o);
    idmap sessions, visitors_max;
    idmap_init(&sessions, o.events);
    idmap_init(&visitors_max, o.events);
    sess_info *info = xcalloc(o.events, sizeof *info);
    size_t ninfo = 0;
    la_event ev;
    while (gen_next(g, &ev)) {
        int fresh;
        uint64_t *slot = idmap_get(&sessions, ev.session_id, &fresh);
        if (fresh) {
            *slot = ninfo++;
            info[*slot] = (sess_info){ev.visitor_id, ev.ts, ev.ts, 0};
            /* A new session's number, and the highest number of its visitor. */
            const char *s = gen_session(g);
            const uint64_t number = strtoull(strrchr(s, 's') + 1, NULL, 10);
            uint64_t *top = idmap_get(&visitors_max, ev.visitor_id, NULL);
            if (number > *top)
                *top = number;
        }
        sess_info *si = &info[*slot];
        EXPECT(si->visitor == ev.visitor_id);
        if (ev.ts < si->first)
            si->first = ev.ts;
        if (ev.ts > si->last)
            si->last = ev.ts;
        si->events++;
    }
    gen_free(g);

    uint64_t longest = 0;
    for (size_t i = 0; i < ninfo; i++) {
        EXPECT(info[i].last - info[i].first <= 30 * MS_PER_MIN);
        if (info[i].events > longest)
            longest = info[i].events;
    }
    const double mean = (double)o.events / (double)ninfo;
    ck_assert_msg(mean >= 2.0 && mean <= 2.8, "mean session length %.2f", mean);
    ck_assert_uint_ge(longest, 8);

    /* Numbered without gaps: as many sessions per visitor as its highest number. */
    uint64_t numbered = 0;
    for (size_t i = 0; i <= visitors_max.mask; i++)
        if (visitors_max.used[i])
            numbered += visitors_max.vals[i];
    ck_assert_uint_eq(numbered, ninfo);

    free(info);
    idmap_free(&sessions);
    idmap_free(&visitors_max);
}
END_TEST

/* A visitor's place, device and browser never change; a city lies in one country only (the
 * right one for those anyone knows); countries are ISO codes with at most 20 cities. */
START_TEST(gen_visitors__consistent_places_and_devices)
{
    static const char *const known[][2] = {
        {"New York", "US"}, {"London", "GB"}, {"Paris", "FR"},     {"Tokyo", "JP"},
        {"Mumbai", "IN"},   {"Berlin", "DE"}, {"São Paulo", "BR"}, {"Toronto", "CA"},
        {"Sydney", "AU"},   {"Madrid", "ES"}};
    const size_t nknown = sizeof known / sizeof known[0];
    const gen_options o = opts(200000, 7, 0.03, 9);
    gen *g = open_gen(&o);
    idmap traits, city_country, countries;
    idmap_init(&traits, o.events);
    idmap_init(&city_country, 4096);
    idmap_init(&countries, 256);
    int known_seen[16] = {0};
    uint64_t no_city = 0, no_country = 0, mobile = 0, desktop = 0, tablet = 0;
    la_event ev;
    while (gen_next(g, &ev)) {
        const la_str country = ev.dims[0], city = ev.dims[1], device = ev.dims[2];
        const la_str browser = ev.dims[3];
        EXPECT(device.data && device.len > 0);
        EXPECT(browser.data && browser.len > 0);
        mobile += str_is(device, "mobile");
        desktop += str_is(device, "desktop");
        tablet += str_is(device, "tablet");

        const uint64_t t = str_key(country) ^ (str_key(city) * 3) ^ (str_key(device) * 5) ^
                           (str_key(browser) * 7);
        int fresh;
        uint64_t *v = idmap_get(&traits, ev.visitor_id, &fresh);
        if (fresh)
            *v = t;
        TU_CHECK(*v == t, "visitor %s changed place or device", gen_visitor(g));

        if (!country.data) {
            no_country++;
            EXPECT(city.data == NULL); /* no country, no city */
        } else {
            EXPECT(country.len == 2);
            EXPECT(country.data[0] >= 'A' && country.data[0] <= 'Z');
            EXPECT(country.data[1] >= 'A' && country.data[1] <= 'Z');
            idmap_get(&countries, str_key(country), NULL);
        }
        if (!city.data) {
            no_city++;
            continue;
        }
        EXPECT(city.len > 0);
        uint64_t *cc = idmap_get(&city_country, str_key(city), &fresh);
        if (fresh)
            *cc = str_key(country);
        TU_CHECK(*cc == str_key(country), "city '%.*s' in two countries", (int)city.len,
                      city.data);
        for (size_t k = 0; k < nknown; k++)
            if (str_is(city, known[k][0])) {
                TU_CHECK(str_is(country, known[k][1]), "%s is not in %.*s", known[k][0],
                              (int)country.len, country.data);
                known_seen[k] = 1;
            }
    }
    gen_free(g);

    for (size_t k = 0; k < nknown; k++)
        ck_assert_msg(known_seen[k], "never saw %s", known[k][0]);
    ck_assert_uint_ge(countries.n, 30);
    ck_assert_uint_le(countries.n, 60);
    /* Cities per country: count each city once, under its country. */
    idmap per_country;
    idmap_init(&per_country, 256);
    for (size_t i = 0; i <= city_country.mask; i++)
        if (city_country.used[i])
            (*idmap_get(&per_country, city_country.vals[i], NULL))++;
    for (size_t i = 0; i <= per_country.mask; i++)
        if (per_country.used[i])
            ck_assert_uint_le(per_country.vals[i], 20);
    ck_assert_uint_ge(*idmap_get(&per_country, la_hash_id("US", 2), NULL), 10);

    const double n = (double)o.events;
    ck_assert_double_ge(no_city / n, 0.01);
    ck_assert_double_le(no_city / n, 0.035);
    ck_assert_uint_lt(no_country, no_city);
    ck_assert_uint_gt(mobile, desktop);
    ck_assert_uint_gt(desktop, tablet);
    ck_assert_uint_gt(tablet, 0);
    ck_assert_uint_eq(mobile + desktop + tablet, o.events);

    idmap_free(&traits);
    idmap_free(&city_country);
    idmap_free(&countries);
    idmap_free(&per_country);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * Distributions
 * ------------------------------------------------------------------------------------- */

START_TEST(gen_values__types_shares_and_sale_amounts)
{
    const gen_options o = opts(200000, 7, 0.03, 17);
    gen *g = open_gen(&o);
    uint64_t clicks = 0, leads = 0, sales = 0, sale_sum = 0;
    la_event ev;
    while (gen_next(g, &ev)) {
        if (str_is(ev.event_type, "sale")) {
            sales++;
            EXPECT(ev.has_value == 1);
            EXPECT(ev.value >= 500 && ev.value <= 50000);
            sale_sum += (uint64_t)ev.value;
            continue;
        }
        if (str_is(ev.event_type, "click"))
            clicks++;
        else if (str_is(ev.event_type, "lead"))
            leads++;
        else
            ck_abort_msg("event type '%.*s'", (int)ev.event_type.len, ev.event_type.data);
        EXPECT(ev.has_value == 0 && ev.value == 0);
    }
    gen_free(g);
    const double n = (double)o.events;
    ck_assert_double_eq_tol(clicks / n, 0.95, 0.005);
    ck_assert_double_eq_tol(leads / n, 0.04, 0.004);
    ck_assert_double_eq_tol(sales / n, 0.01, 0.002);
    const double mean = (double)sale_sum / (double)sales;
    ck_assert_msg(mean > 2000 && mean < 8000, "mean sale %.0f cents", mean);
}
END_TEST

/* Workspaces, links and visitors are skewed: the top workspace dwarfs the median one, links
 * are popular within their workspace, each link belongs to one workspace, a few visitors
 * return a lot. Referrers: ~45% direct, google.com the biggest, a tail of one-off URLs. */
START_TEST(gen_skew__workspaces_links_visitors_referrers)
{
    const gen_options o = opts(200000, 7, 0.03, 23);
    gen *g = open_gen(&o);
    idmap ws, links, link_ws, visitors, refs, tails;
    idmap_init(&ws, o.workspaces);
    idmap_init(&links, o.links);
    idmap_init(&link_ws, o.links);
    idmap_init(&visitors, o.events);
    idmap_init(&refs, o.events);
    idmap_init(&tails, o.events);
    uint64_t direct = 0, tail = 0;
    la_event ev;
    while (gen_next(g, &ev)) {
        (*idmap_get(&ws, str_key(ev.workspace), NULL))++;
        (*idmap_get(&links, str_key(ev.link), NULL))++;
        int fresh;
        uint64_t *w = idmap_get(&link_ws, str_key(ev.link), &fresh);
        if (fresh)
            *w = str_key(ev.workspace);
        TU_CHECK(*w == str_key(ev.workspace), "link in two workspaces");
        (*idmap_get(&visitors, ev.visitor_id, NULL))++;

        const la_str r = ev.dims[4];
        if (!r.data) {
            direct++;
            continue;
        }
        EXPECT(r.len > 0);
        (*idmap_get(&refs, str_key(r), NULL))++;
        if (r.len > 8 && memcmp(r.data, "https://", 8) == 0) {
            tail++;
            idmap_get(&tails, str_key(r), NULL);
        }
    }
    gen_free(g);

    size_t n;
    uint64_t *c = sorted_counts(&ws, o.workspaces, &n);
    ck_assert_uint_le(ws.n, o.workspaces);
    ck_assert_msg(c[0] > 20 * c[n / 2], "top workspace %llu, median %llu",
                  (unsigned long long)c[0], (unsigned long long)c[n / 2]);
    ck_assert_double_ge((double)c[0] / (double)o.events, 0.08);
    ck_assert_double_le((double)c[0] / (double)o.events, 0.40);
    free(c);

    ck_assert_uint_le(links.n, o.links);
    ck_assert_uint_ge(links.n, o.links / 2);
    c = sorted_counts(&links, 0, &n);
    ck_assert_uint_gt(c[0], 50 * c[n / 2]);
    free(c);

    /* The population is events / 4; most of it shows up, the top visitor many times over. */
    ck_assert_uint_le(visitors.n, o.events / 4);
    ck_assert_uint_ge(visitors.n, o.events / 20);
    c = sorted_counts(&visitors, 0, &n);
    ck_assert_msg(c[0] > 20 * c[n / 2], "top visitor %llu, median %llu",
                  (unsigned long long)c[0], (unsigned long long)c[n / 2]);
    ck_assert_double_le((double)c[0] / (double)o.events, 0.02);
    free(c);

    const double total = (double)o.events;
    ck_assert_double_eq_tol(direct / total, 0.45, 0.03);
    ck_assert_double_ge(tail / total, 0.02);
    ck_assert_double_le(tail / total, 0.07);
    ck_assert_uint_ge(tails.n, tail / 4); /* one-off: a URL lasts one session of a few clicks */
    c = sorted_counts(&refs, 0, &n);
    ck_assert_uint_eq(c[0], *idmap_get(&refs, la_hash_id("google.com", 10), NULL));
    ck_assert_uint_gt(*idmap_get(&refs, la_hash_id("t.co", 4), NULL), 0);
    free(c);

    idmap_free(&ws);
    idmap_free(&links);
    idmap_free(&link_ws);
    idmap_free(&visitors);
    idmap_free(&refs);
    idmap_free(&tails);
}
END_TEST

/* Traffic follows a UTC day: the afternoon is far busier than the small hours, every day gets
 * its share, and timestamps carry milliseconds rather than round seconds. */
START_TEST(gen_traffic__daily_curve_every_day_ms_precision)
{
    const gen_options o = opts(200000, 14, 0.0, 29);
    gen *g = open_gen(&o);
    uint64_t hours[24] = {0}, days[14] = {0}, ms_seen[1000] = {0};
    la_event ev;
    while (gen_next(g, &ev)) {
        const int64_t off = ev.ts - o.start_ms;
        hours[off / MS_PER_HOUR % 24]++;
        days[off / MS_PER_DAY]++;
        ms_seen[ev.ts % 1000]++;
    }
    gen_free(g);
    const uint64_t afternoon = hours[14] + hours[15] + hours[16] + hours[17];
    const uint64_t night = hours[2] + hours[3] + hours[4] + hours[5];
    ck_assert_msg(afternoon > 2 * night, "afternoon %llu, night %llu",
                  (unsigned long long)afternoon, (unsigned long long)night);
    const double per_day = (double)o.events / o.days;
    for (int d = 0; d < 14; d++) {
        ck_assert_double_ge(days[d], 0.6 * per_day);
        ck_assert_double_le(days[d], 1.4 * per_day);
    }
    int distinct_ms = 0;
    for (int i = 0; i < 1000; i++)
        distinct_ms += ms_seen[i] > 0;
    ck_assert_int_ge(distinct_ms, 990);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * TSV
 * ------------------------------------------------------------------------------------- */

static char *slurp(FILE *f, size_t *n)
{
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    const long len = ftell(f);
    ck_assert_int_ge(len, 0);
    rewind(f);
    char *buf = xcalloc((size_t)len + 1, 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    *n = (size_t)len;
    return buf;
}

static int field_eq(const char *f, size_t n, la_str s)
{
    if (!s.data)
        return n == 2 && memcmp(f, "\\N", 2) == 0;
    return n == s.len && memcmp(f, s.data, n) == 0;
}

static int field_is_int(const char *f, size_t n, int64_t v)
{
    char buf[32];
    const int k = snprintf(buf, sizeof buf, "%lld", (long long)v);
    return (size_t)k == n && memcmp(f, buf, n) == 0;
}

/* The TSV is the header, then one line per remaining event with 12 fields that say exactly
 * what gen_next() returns for the same options (no escaping needed: the generator makes no
 * strings with TAB, LF, CR or backslash). */
START_TEST(gen_tsv__parses_back_to_the_stream)
{
    static const char header[] = "ts\tworkspace_id\tlink_id\tevent_type\tvisitor_id\tsession_id"
                                 "\tvalue\tcountry\tcity\tdevice\tbrowser\treferrer";
    const gen_options o = opts(30000, 7, 0.05, 31);
    const uint64_t skip = 1000; /* events taken by gen_next() before writing the rest */
    gen *g = open_gen(&o), *ref = open_gen(&o);
    la_event ev;
    for (uint64_t i = 0; i < skip; i++) {
        ck_assert_int_eq(gen_next(g, &ev), 1);
        ck_assert_int_eq(gen_next(ref, &ev), 1);
    }
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gen_write_tsv(g, f), 0);
    ck_assert_int_eq(gen_next(g, &ev), 0); /* the writer consumed the stream */
    gen_free(g);
    size_t len;
    char *text = slurp(f, &len);
    fclose(f);

    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(text[len - 1], '\n');
    uint64_t lines = 0, sales = 0, absent_ref = 0;
    for (char *line = text; line < text + len;) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        EXPECT(nl != NULL);
        *nl = '\0';
        lines++;
        if (lines == 1) {
            ck_assert_str_eq(line, header);
            line = nl + 1;
            continue;
        }
        EXPECT(strchr(line, '\r') == NULL);
        const char *fs[12];
        size_t fl[12];
        int nf = 0;
        for (char *p = line;; nf++) {
            char *tab = strchr(p, '\t');
            EXPECT(nf < 12);
            fs[nf] = p;
            fl[nf] = tab ? (size_t)(tab - p) : strlen(p);
            if (!tab)
                break;
            p = tab + 1;
        }
        TU_CHECK(nf + 1 == 12, "line %llu: %d fields", (unsigned long long)lines, nf + 1);

        EXPECT(gen_next(ref, &ev) == 1);
        EXPECT(field_is_int(fs[0], fl[0], ev.ts));
        EXPECT(field_eq(fs[1], fl[1], ev.workspace));
        EXPECT(field_eq(fs[2], fl[2], ev.link));
        EXPECT(field_eq(fs[3], fl[3], ev.event_type));
        EXPECT(field_eq(fs[4], fl[4], lstr(gen_visitor(ref))));
        EXPECT(field_eq(fs[5], fl[5], lstr(gen_session(ref))));
        EXPECT(la_hash_id(fs[4], fl[4]) == ev.visitor_id);
        EXPECT(la_hash_id(fs[5], fl[5]) == ev.session_id);
        if (ev.has_value) {
            EXPECT(field_is_int(fs[6], fl[6], ev.value));
            sales++;
        } else {
            EXPECT(field_eq(fs[6], fl[6], (la_str){NULL, 0}));
        }
        for (int d = 0; d < GEN_NDIMS; d++)
            TU_CHECK(field_eq(fs[7 + d], fl[7 + d], ev.dims[d]), "line %llu, dim %d",
                          (unsigned long long)lines, d);
        absent_ref += !ev.dims[4].data;
        line = nl + 1;
    }
    ck_assert_uint_eq(lines, o.events - skip + 1);
    ck_assert_int_eq(gen_next(ref, &ev), 0);
    ck_assert_uint_gt(sales, 0);
    ck_assert_uint_gt(absent_ref, 0);
    free(text);
    gen_free(ref);

    /* Twice the same options, byte-identical files. */
    char *again[2];
    size_t again_len[2];
    for (int k = 0; k < 2; k++) {
        g = open_gen(&o);
        f = tmpfile();
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(gen_write_tsv(g, f), 0);
        again[k] = slurp(f, &again_len[k]);
        fclose(f);
        gen_free(g);
    }
    ck_assert_uint_eq(again_len[0], again_len[1]);
    ck_assert_int_eq(memcmp(again[0], again[1], again_len[0]), 0);
    free(again[0]);
    free(again[1]);
}
END_TEST

START_TEST(gen_tsv__empty_stream_and_write_error)
{
    gen_options o = opts(0, 7, 0.03, 1);
    gen *g = open_gen(&o);
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gen_write_tsv(g, f), 0);
    size_t len;
    char *text = slurp(f, &len);
    ck_assert_str_eq(text, "ts\tworkspace_id\tlink_id\tevent_type\tvisitor_id\tsession_id\tvalue"
                           "\tcountry\tcity\tdevice\tbrowser\treferrer\n");
    free(text);
    fclose(f);
    gen_free(g);

    /* /dev/full takes nothing: the error must surface, not be dropped. */
    f = fopen("/dev/full", "w");
    if (f) {
        o.events = 100000;
        g = open_gen(&o);
        ck_assert_int_eq(gen_write_tsv(g, f), -1);
        gen_free(g);
        fclose(f);
    }
}
END_TEST

static Suite *gen_suite(void)
{
    Suite *s = suite_create("gen");
    TCase *tc = tcase_create("options");
    tcase_add_test(tc, gen_options__defaults_as_documented);
    tcase_add_test(tc, gen_create__rejects_bad_options_accepts_edges);
    suite_add_tcase(s, tc);
    tc = tcase_create("stream");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, gen_stream__same_seed_same_stream_other_seed_other);
    tcase_add_test(tc, gen_stream__exact_count_inside_window);
    tcase_add_test(tc, gen_stream__arrival_order_and_late_share);
    tcase_add_test(tc, gen_stream__ids_hash_the_printed_strings);
    suite_add_tcase(s, tc);
    tc = tcase_create("sessions");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, gen_sessions__short_one_visitor_numbered);
    tcase_add_test(tc, gen_visitors__consistent_places_and_devices);
    suite_add_tcase(s, tc);
    tc = tcase_create("distributions");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, gen_values__types_shares_and_sale_amounts);
    tcase_add_test(tc, gen_skew__workspaces_links_visitors_referrers);
    tcase_add_test(tc, gen_traffic__daily_curve_every_day_ms_precision);
    suite_add_tcase(s, tc);
    tc = tcase_create("tsv");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, gen_tsv__parses_back_to_the_stream);
    tcase_add_test(tc, gen_tsv__empty_stream_and_write_error);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(gen_suite)
