/* live.c — the realtime layer (live.h, la_live() and la_live_top() in la.h).
 *
 * One hash table holds an entry per workspace and one per (workspace, link). An entry keeps a
 * ring of per-minute counters keyed by absolute minute (slot m % R holds minute m while
 * head - R < m <= head), so the window slides a minute at a time and never resets; a small
 * open-addressing table of the visitors seen in the active window with the newest minute of
 * each; and the newest event time. With now_min the clock's minute, W the window, A the
 * active window and F the future horizon (the future skew in whole minutes), an event counts
 * while its minute lies in [now_min - W + 1, now_min + F]: events stamped slightly ahead
 * (clients with fast clocks) count at once instead of appearing only when the clock catches
 * up. The ring therefore spans R = W + F minutes.
 *
 * Memory stays bounded: entries with nothing left in the window are freed and visitors idle
 * longer than A are dropped, checked when the clock's minute changes. Each entry waits in a
 * timer wheel (a list per minute) for the minute it could next have something to drop: its
 * newest minute + W, or its oldest visitor's minute + A. So a minute's check costs the entries
 * due then, not a pass over every entry: with appends one by one a minute passes every few
 * hundred events. An entry whose minutes moved on meanwhile is simply put back for later. Freed
 * entries leave the hash table by backward shifting, without rehashing it. A writer feeds
 * every append; any handle rebuilds from the raw events of the window's days when it opens,
 * and read-only handles catch up on the rows a writer added since their last call, per day,
 * by row number. */
#include "live.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "db.h"
#include "error.h"
#include "io.h"

#define MS_PER_MIN 60000LL
#define MAX_HORIZON 1440      /* minutes: the future horizon when the skew is larger or unlimited */
#define TOP_K_MAX 10000u

typedef struct vslot {
    uint64_t id;
    int64_t min;              /* newest minute of the visitor; -1 = empty slot */
} vslot;

typedef struct entry {
    uint64_t hash;
    struct entry *ws;         /* a link entry's workspace entry; NULL for a workspace entry */
    /* A workspace entry keeps its links' minute counters, so that a board reads them from
     * arrays instead of visiting every link's entry (scattered: a cache miss each, most
     * of a board's time): links[i]'s ring is link_rings[i * R ..], its newest minute
     * link_heads[i]; in no order. */
    struct entry **links;
    uint32_t *link_rings;
    int64_t *link_heads;
    /* link_events[i]: links[i]'s events in the window of minute events_min, so that a board
     * need not sum every link's ring: appends keep the sums (the minutes a ring reuses leave
     * them), a board of a later minute slides them (INT64_MIN: none kept) */
    uint64_t *link_events;
    int64_t events_min;
    uint32_t nlinks, links_cap;
    uint32_t at;              /* link entry: its index i in its workspace's arrays */
    int64_t head;             /* workspace entry: newest minute in its ring */
    int64_t last_ts;          /* newest ts counted */
    vslot *vis;               /* NULL until a visitor is active */
    uint32_t vis_cap, vis_n;
    int64_t vis_oldest;       /* at most the oldest visitor minute in vis: while it is in the
                               * active window, the sweep need not look at the visitors */
    int64_t due;              /* the minute the wheel holds it for */
    struct entry *wprev, *wnext; /* its wheel list */
    uint8_t wlen, llen;       /* byte lengths of the workspace and link bytes */
    uint32_t ring[];          /* workspace entry: R counters, then its bytes; link entry: the
                               * workspace and link bytes */
} entry;

typedef struct fed_day {
    int32_t day;
    uint64_t rows;            /* rows of the day's segment already counted */
    uint64_t ino;             /* read-only handles: the inode of the file they were counted from */
} fed_day;

struct la_realtime {
    uint32_t window, active, horizon, ring; /* minutes: W, A, F and R = W + F */
    entry **slots;            /* open addressing on entry->hash; cap a power of two */
    size_t cap, n;
    entry **wheel;            /* list of the entries due at minute m: wheel[m % wsize] */
    uint32_t wsize;           /* R + 1: no entry is due more than R minutes ahead */
    int64_t now_min;          /* the clock's minute for the appends being counted */
    int64_t swept_min;        /* the last minute whose wheel list was checked */
    int stale;                /* an update was lost: rebuild before the next answer */
    int64_t future_min;       /* the earliest minute beyond the horizon that may hold rows not
                               * counted (an event added so, as the skew allowed; for a writer
                               * also the first day after the window it counted), or
                               * INT64_MAX: when the window reaches it, rebuild */
    fed_day *fed;             /* the days counted from their segments, by row number */
    size_t nfed, fed_cap;
};

static int64_t minute_of(int64_t ms) { return la_floor_div(ms, MS_PER_MIN); }

static const char *wbytes(const la_realtime *lv, const entry *e)
{
    return (const char *)(e->ring + (e->ws ? 0 : lv->ring));
}

static const char *link_bytes(const entry *e) { return (const char *)e->ring + e->wlen; }

/* e's minute counters and newest minute: its own (a workspace), or in its workspace's arrays */
static uint32_t *ring_of(const la_realtime *lv, const entry *e)
{
    return e->ws ? e->ws->link_rings + (size_t)e->at * lv->ring : (uint32_t *)e->ring;
}

static int64_t *head_of(entry *e) { return e->ws ? &e->ws->link_heads[e->at] : &e->head; }

static int64_t head_at(const entry *e) { return e->ws ? e->ws->link_heads[e->at] : e->head; }

static int same_str(const char *p, uint8_t n, la_str s) { return n == s.len && memcmp(p, s.data, n) == 0; }

/* link == NULL: the workspace's own entry. */
static entry **slot_of(la_realtime *lv, uint64_t h, la_str ws, const la_str *link)
{
    size_t mask = lv->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        entry *e = lv->slots[i];
        if (!e)
            return &lv->slots[i];
        if (e->hash != h || (e->ws == NULL) != (link == NULL))
            continue;
        const char *w = wbytes(lv, e);
        if (same_str(w, e->wlen, ws) && (!link || same_str(w + e->wlen, e->llen, *link)))
            return &lv->slots[i];
    }
}

static int resize(la_realtime *lv, size_t cap)
{
    entry **s = calloc(cap, sizeof *s);
    if (!s)
        return LA_ENOMEM;
    entry **old = lv->slots;
    size_t ocap = lv->cap;
    lv->slots = s;
    lv->cap = cap;
    for (size_t i = 0; i < ocap; i++) {
        entry *e = old[i];
        if (!e)
            continue;
        size_t j = e->hash & (cap - 1);
        while (s[j])
            j = (j + 1) & (cap - 1);
        s[j] = e;
    }
    free(old);
    return 0;
}

#define IN_SWEEP INT64_MAX /* entry->due of the entries a sweep has taken out of their list */

static entry **wheel_list(la_realtime *lv, int64_t minute)
{
    int64_t w = lv->wsize, i = minute % w; /* a clock before 1970 makes minutes negative */
    return &lv->wheel[i < 0 ? i + w : i];
}

/* Take e out of its wheel list, if it is in one. */
static void unwheel(la_realtime *lv, entry *e)
{
    if (e->wprev)
        e->wprev->wnext = e->wnext;
    else if (e->due != INT64_MIN)
        *wheel_list(lv, e->due) = e->wnext;
    if (e->wnext)
        e->wnext->wprev = e->wprev;
    e->due = INT64_MIN;
    e->wprev = e->wnext = NULL;
}

/* (Re)file e in the wheel at minute `due`, at the earliest the minute after the last sweep. */
static void schedule(la_realtime *lv, entry *e, int64_t due)
{
    if (due <= lv->swept_min)
        due = lv->swept_min + 1;
    unwheel(lv, e);
    entry **head = wheel_list(lv, due);
    e->due = due;
    e->wprev = NULL;
    e->wnext = *head;
    if (*head)
        (*head)->wprev = e;
    *head = e;
}

/* The first minute e may have something to drop: nothing of it left in the window, or its
 * oldest visitor idle. */
static int64_t next_due(const la_realtime *lv, const entry *e)
{
    int64_t due = head_at(e) + lv->window;
    if (e->vis && e->vis_oldest + lv->active < due)
        due = e->vis_oldest + lv->active;
    return due;
}

/* The entry for (ws, link), created with its ring at minute m when missing; NULL when out of
 * memory. */
static entry *get(la_realtime *lv, uint64_t h, la_str ws, const la_str *link, entry *parent, int64_t m)
{
    entry **at = slot_of(lv, h, ws, link);
    if (*at)
        return *at;
    if ((lv->n + 1) * 2 > lv->cap) {
        if (resize(lv, lv->cap * 2) != 0)
            return NULL;
        at = slot_of(lv, h, ws, link);
    }
    uint32_t llen = link ? link->len : 0;
    if (link && parent->nlinks == parent->links_cap) {
        /* each array kept as soon as it has grown: the capacity only once all three have */
        uint32_t cap = parent->links_cap ? parent->links_cap * 2 : 8;
        entry **links = realloc(parent->links, cap * sizeof *links);
        if (!links)
            return NULL;
        parent->links = links;
        uint32_t *rings = realloc(parent->link_rings, (size_t)cap * lv->ring * sizeof *rings);
        if (!rings)
            return NULL;
        parent->link_rings = rings;
        int64_t *heads = realloc(parent->link_heads, cap * sizeof *heads);
        if (!heads)
            return NULL;
        parent->link_heads = heads;
        uint64_t *events = realloc(parent->link_events, cap * sizeof *events);
        if (!events)
            return NULL;
        parent->link_events = events;
        parent->links_cap = cap;
    }
    entry *e = calloc(1, sizeof *e + (link ? 0 : lv->ring * sizeof(uint32_t)) + ws.len + llen);
    if (!e)
        return NULL;
    e->vis_oldest = INT64_MAX;
    e->due = INT64_MIN; /* in no list yet */
    e->events_min = INT64_MIN;
    e->hash = h;
    e->last_ts = -1;
    e->wlen = (uint8_t)ws.len;
    e->llen = (uint8_t)llen;
    e->ws = link ? parent : NULL;
    if (link) {
        e->at = parent->nlinks++;
        parent->links[e->at] = e;
        memset(ring_of(lv, e), 0, lv->ring * sizeof(uint32_t));
        parent->link_events[e->at] = 0;
    }
    *head_of(e) = m;
    char *w = (char *)wbytes(lv, e);
    memcpy(w, ws.data, ws.len);
    if (link)
        memcpy(w + ws.len, link->data, llen);
    *at = e;
    lv->n++;
    schedule(lv, e, next_due(lv, e));
    return e;
}

static void count(const la_realtime *lv, entry *e, int64_t m, int64_t ts)
{
    uint32_t r = lv->ring, *ring = ring_of(lv, e);
    int64_t *head = head_of(e);
    /* A link's kept sum (link_events) counts the minutes its ring holds that lie in the window
     * of events_min [klo, khi]: a minute the ring reuses leaves it, a new event enters it. */
    uint64_t *kept = e->ws && e->ws->events_min != INT64_MIN ? &e->ws->link_events[e->at] : NULL;
    int64_t klo = kept ? e->ws->events_min - lv->window + 1 : 0, khi = kept ? e->ws->events_min + lv->horizon : 0;
    if (m > *head) {
        if (m - *head >= r) {
            memset(ring, 0, r * sizeof *ring);
            if (kept)
                *kept = 0;
        } else {
            for (int64_t k = *head + 1; k <= m; k++) {
                if (kept && k - r >= klo && k - r <= khi) /* the slot held minute k - r */
                    *kept -= ring[k % r];
                ring[k % r] = 0;
            }
        }
        *head = m;
    } else if (m <= *head - r) {
        return; /* older than the ring: cannot happen, the window is shorter than the ring (and a
                 * clock set back rebuilds), but a slot must never count another minute */
    }
    ring[m % r]++;
    if (kept && m >= klo && m <= khi)
        ++*kept;
    if (ts > e->last_ts)
        e->last_ts = ts;
}

static size_t vis_home(uint64_t id, uint32_t cap) { return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1); }

static void vis_put(vslot *t, uint32_t cap, uint64_t id, int64_t m, uint32_t *n)
{
    size_t i = vis_home(id, cap);
    while (t[i].min >= 0 && t[i].id != id)
        i = (i + 1) & (cap - 1);
    if (t[i].min < 0)
        ++*n;
    if (t[i].min < m) {
        t[i].id = id;
        t[i].min = m;
    }
}

/* Rebuild e's visitor table with the visitors whose minute is >= keep_from, sized for them
 * plus `extra`. */
static int vis_rebuild(entry *e, int64_t keep_from, uint32_t extra)
{
    uint32_t keep = 0;
    for (uint32_t i = 0; i < e->vis_cap; i++)
        keep += e->vis[i].min >= keep_from;
    if (keep + extra == 0) {
        free(e->vis);
        e->vis = NULL;
        e->vis_cap = e->vis_n = 0;
        e->vis_oldest = INT64_MAX;
        return 0;
    }
    uint32_t cap = 8;
    while (cap * 3 < (keep + extra) * 4)
        cap *= 2;
    vslot *t = malloc(cap * sizeof *t);
    if (!t)
        return LA_ENOMEM;
    for (uint32_t i = 0; i < cap; i++)
        t[i].min = -1;
    uint32_t n = 0;
    int64_t oldest = INT64_MAX;
    for (uint32_t i = 0; i < e->vis_cap; i++)
        if (e->vis[i].min >= keep_from) {
            vis_put(t, cap, e->vis[i].id, e->vis[i].min, &n);
            oldest = e->vis[i].min < oldest ? e->vis[i].min : oldest;
        }
    e->vis_oldest = oldest;
    free(e->vis);
    e->vis = t;
    e->vis_cap = cap;
    e->vis_n = n;
    return 0;
}

static int vis_add(entry *e, uint64_t id, int64_t m, int64_t keep_from)
{
    if ((e->vis_n + 1) * 4 > e->vis_cap * 3 && vis_rebuild(e, keep_from, e->vis_n + 1) != 0)
        return LA_ENOMEM;
    vis_put(e->vis, e->vis_cap, id, m, &e->vis_n);
    if (m < e->vis_oldest)
        e->vis_oldest = m;
    return 0;
}

/* The clock's minute, into now_min. When the minute went back (the system time was set
 * back), the counts no longer fit the window: the sweep freed entries that are in it again,
 * rings hold minutes beyond its new end. Count the window again from the segments then. */
static int64_t read_clock(la_realtime *lv)
{
    int64_t m = minute_of(la_io_current()->now_ms());
    if (m < lv->now_min)
        lv->stale = 1;
    lv->now_min = m;
    return m;
}

void la_live_add(la_realtime *lv, la_str ws, la_str link, int64_t ts, uint64_t visitor)
{
    int64_t m = minute_of(ts), now = lv->now_min;
    if (m > now + lv->horizon && !lv->stale) {
        /* The future-skew check read the clock after this batch began and may have seen a
         * later minute: read it again, so that every event it accepted counts. */
        int64_t c = minute_of(la_io_current()->now_ms());
        if (c > now) /* a clock set back is la_live_tick's to notice, before the next answer */
            lv->now_min = now = c;
    }
    if (!lv->stale && m > now + lv->horizon && m < lv->future_min)
        lv->future_min = m; /* it counts once the clock is near enough (la_live_tick) */
    if (lv->stale || m < now - lv->window + 1 || m > now + lv->horizon)
        return; /* outside the window: the past never counts (a clock set back rebuilds) */
    uint64_t hw = XXH3_64bits(ws.data, ws.len), hl = XXH3_64bits_withSeed(link.data, link.len, hw);
    entry *w = get(lv, hw, ws, NULL, NULL, m);
    entry *l = w ? get(lv, hl, ws, &link, w, m) : NULL;
    if (!l) {
        lv->stale = 1;
        return;
    }
    count(lv, w, m, ts);
    count(lv, l, m, ts);
    int64_t alo = now - lv->active + 1;
    if (m < alo)
        return;
    if (vis_add(w, visitor, m, alo) != 0 || vis_add(l, visitor, m, alo) != 0) {
        lv->stale = 1;
        return;
    }
    /* a first (or older) visitor may be due for dropping before the entry's minutes are */
    if (m + lv->active < w->due)
        schedule(lv, w, m + lv->active);
    if (m + lv->active < l->due)
        schedule(lv, l, m + lv->active);
}

/* An entry and what it owns: its visitors and, a workspace's, its links' arrays. */
static void entry_free(entry *e)
{
    free(e->vis);
    free(e->links);
    free(e->link_rings);
    free(e->link_heads);
    free(e->link_events);
    free(e);
}

static void free_entries(la_realtime *lv)
{
    for (size_t i = 0; i < lv->cap; i++)
        if (lv->slots[i]) {
            entry_free(lv->slots[i]);
            lv->slots[i] = NULL;
        }
    lv->n = 0;
    lv->future_min = INT64_MAX; /* the recount finds the events beyond the horizon again */
    memset(lv->wheel, 0, lv->wsize * sizeof *lv->wheel);
}

/* Take e out of the hash table: later entries of its probe run move back into the hole, so
 * that every lookup still finds them (linear probing needs no tombstones). */
static void unhash(la_realtime *lv, const entry *e)
{
    size_t mask = lv->cap - 1, i = e->hash & mask;
    while (lv->slots[i] != e)
        i = (i + 1) & mask;
    lv->slots[i] = NULL;
    for (size_t j = (i + 1) & mask; lv->slots[j]; j = (j + 1) & mask) {
        size_t home = lv->slots[j]->hash & mask;
        /* it stays unless its home lies cyclically outside (i, j] */
        int stays = i < j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            lv->slots[i] = lv->slots[j];
            lv->slots[j] = NULL;
            i = j;
        }
    }
    lv->n--;
}

/* An entry the wheel holds for a minute up to now_min: freed if nothing of it is left in the
 * window (a workspace once its links are gone), else its idle visitors dropped and it is filed
 * again for its next due minute. */
static void check(la_realtime *lv, entry *e, int64_t now_min)
{
    int64_t lo = now_min - lv->window + 1, alo = now_min - lv->active + 1;
    if (head_at(e) < lo && e->nlinks == 0) {
        entry *ws = e->ws;
        uint32_t i = e->at, last = ws ? --ws->nlinks : 0;
        if (ws && i != last) { /* the workspace's last link takes its place */
            ws->links[i] = ws->links[last];
            ws->links[i]->at = i;
            memcpy(ws->link_rings + (size_t)i * lv->ring, ws->link_rings + (size_t)last * lv->ring,
                   lv->ring * sizeof *ws->link_rings);
            ws->link_heads[i] = ws->link_heads[last];
            ws->link_events[i] = ws->link_events[last];
        }
        unwheel(lv, e);
        unhash(lv, e);
        entry_free(e);
        /* its workspace, waiting for its last link, goes with it (unless the sweep holds it
         * among the entries it is about to check) */
        if (ws && ws->nlinks == 0 && ws->head < lo && ws->due != IN_SWEEP)
            check(lv, ws, now_min);
        return;
    }
    if (e->vis && e->vis_oldest < alo) {
        int idle = 0;
        int64_t oldest = INT64_MAX;
        for (uint32_t k = 0; k < e->vis_cap && !idle; k++) {
            int64_t vm = e->vis[k].min;
            idle = vm >= 0 && vm < alo;
            if (vm >= 0 && vm < oldest)
                oldest = vm;
        }
        if (!idle)
            e->vis_oldest = oldest;
        else if (vis_rebuild(e, alo, 0) != 0)
            lv->stale = 1;
    }
    /* a workspace outliving the window waits for its links, which are due by now too: their
     * check frees it; the next minute is a backstop */
    schedule(lv, e, head_at(e) < lo ? now_min + 1 : next_due(lv, e));
}

/* The checks due from the last sweep's minute to now_min: at most one turn of the wheel. */
static void sweep(la_realtime *lv, int64_t now_min)
{
    int64_t from = lv->swept_min + 1;
    if (now_min - from >= (int64_t)lv->wsize)
        from = now_min - lv->wsize + 1;
    lv->swept_min = now_min; /* entries filed again go after it */
    for (int64_t m = from; m <= now_min && !lv->stale; m++) {
        entry **head = wheel_list(lv, m);
        /* the entries due by now leave the list first: check() may file them into any list */
        entry *due = NULL;
        for (entry *e = *head, *next; e; e = next) {
            next = e->wnext;
            if (e->due > now_min)
                continue;
            unwheel(lv, e);
            e->due = IN_SWEEP;
            e->wnext = due;
            due = e;
        }
        for (entry *e = due, *next; e; e = next) {
            next = e->wnext;
            e->due = INT64_MIN;
            e->wnext = NULL;
            check(lv, e, now_min);
        }
    }
    if (lv->cap > 64 && lv->n * 8 < lv->cap && resize(lv, lv->cap / 2) != 0)
        lv->stale = 1; /* lookups may miss now: the rebuild starts from scratch */
}

void la_live_tick(la_realtime *lv)
{
    read_clock(lv);
    if (!lv->stale && lv->future_min <= lv->now_min + (int64_t)lv->horizon)
        lv->stale = 1; /* an event added beyond the horizon is in the window now */
    if (lv->now_min > lv->swept_min && !lv->stale)
        sweep(lv, lv->now_min);
}

void la_live_usage(const la_realtime *lv, size_t *entries, size_t *visitors)
{
    size_t v = 0;
    for (size_t i = 0; i < lv->cap; i++)
        if (lv->slots[i])
            v += lv->slots[i]->vis_n;
    *entries = lv->n;
    *visitors = v;
}

/* Count the rows of the window's days that this handle has not counted yet: everything at
 * open or after a rebuild, and on read-only handles what a writer added since. */
static int catch_up(la_db *db, la_realtime *lv)
{
    int64_t lo = (lv->now_min - lv->window + 1) * MS_PER_MIN, hi = (lv->now_min + lv->horizon + 1) * MS_PER_MIN;
    int64_t dlo = lo < 0 ? 0 : lo / LA_MS_PER_DAY, dhi = (hi - 1) / LA_MS_PER_DAY;
    size_t keep = 0;
    for (size_t i = 0; i < lv->nfed; i++)
        if (lv->fed[i].day >= dlo)
            lv->fed[keep++] = lv->fed[i];
    lv->nfed = keep;
    /* the rows after hi too: la_live_add notes an event beyond the horizon (future_min), so
     * that it counts once the window reaches it, and fed_day.rows passes it */
    la_filter f = LA_FILTER_INIT;
    f.from = lo;
    for (size_t i = 0; i < db->ndays; i++) {
        int32_t day = db->days[i].day;
        int64_t day_min = minute_of((int64_t)day * LA_MS_PER_DAY);
        if (day > dhi && !db->readonly && !db->days[i].gone && day_min < lv->future_min) {
            /* A writer reads a day only here (later rows come from its appends): rows stored
             * beyond the horizon before (with a large future skew) count once the window
             * reaches their day, by the rebuild la_live_tick starts then. A reader reads a
             * day when it enters the window. */
            lv->future_min = day_min;
        }
        if (day < dlo || day > dhi)
            continue;
        la_day *d;
        int rc = la_db_day_fresh(db, day, &d);
        if (rc != 0)
            return rc;
        fed_day *fd = NULL;
        for (size_t k = 0; k < lv->nfed && !fd; k++)
            if (lv->fed[k].day == day)
                fd = &lv->fed[k];
        if (fd && fd->ino != d->ino) {
            /* A writer sealed the day (rewrote it in sorted order) since it was counted, and
             * this handle has opened the new file (perhaps for a query): row numbers no longer
             * say what was counted, so count every day of the window again. Rare: sealing
             * waits until a day is cold. */
            free_entries(lv);
            lv->nfed = 0;
            i = (size_t)-1; /* from the first day again */
            continue;
        }
        if (!fd) {
            if (lv->nfed == lv->fed_cap) {
                size_t cap = lv->fed_cap ? lv->fed_cap * 2 : 4;
                fed_day *p = realloc(lv->fed, cap * sizeof *p);
                if (!p)
                    return la_err(LA_ENOMEM, "out of memory");
                lv->fed = p;
                lv->fed_cap = cap;
            }
            fd = &lv->fed[lv->nfed++];
            *fd = (fed_day){day, 0, d->ino};
        }
        uint64_t rows = d->commit.rows_in_blocks + d->tail_rows;
        if (rows <= fd->rows)
            continue;
        la_cursor *c;
        if ((rc = la_scan_seq_locked(db, &f, day, fd->rows, rows, &c)) != 0)
            return rc;
        la_batch b;
        while ((rc = la_cursor_next_locked(c, &b)) == 1)
            for (size_t r = 0; r < b.nrows; r++)
                la_live_add(lv, b.workspace.dict[b.workspace.ids[r]], b.link.dict[b.link.ids[r]], b.ts[r],
                            b.visitor_id[r]);
        la_cursor_close(c);
        if (rc != 0)
            return rc;
        fd->rows = rows;
    }
    return lv->stale ? la_err(LA_ENOMEM, "out of memory") : 0;
}

/* Forget everything and count the window's rows again from the segments. */
static int rebuild(la_db *db, la_realtime *lv)
{
    free_entries(lv);
    lv->nfed = 0;
    lv->stale = 0;
    lv->swept_min = lv->now_min;
    int rc = catch_up(db, lv);
    lv->stale = rc != 0;
    return rc;
}

int la_live_open(la_db *db, const la_options *o)
{
    la_realtime *lv = calloc(1, sizeof *lv);
    if (!lv || !(lv->slots = calloc(64, sizeof *lv->slots))) {
        free(lv);
        return la_err(LA_ENOMEM, "out of memory");
    }
    lv->cap = 64;
    lv->future_min = INT64_MAX;
    lv->window = o->live_window_min ? o->live_window_min : 30;
    lv->active = o->live_active_min ? o->live_active_min : (lv->window < 5 ? lv->window : 5);
    int64_t skew = o->future_skew_ms ? o->future_skew_ms : 3600000;
    lv->horizon = skew < 0 || skew > MAX_HORIZON * MS_PER_MIN ? MAX_HORIZON
                                                              : (uint32_t)((skew + MS_PER_MIN - 1) / MS_PER_MIN);
    lv->ring = lv->window + lv->horizon;
    lv->wsize = lv->ring + 1;
    if (!(lv->wheel = calloc(lv->wsize, sizeof *lv->wheel))) {
        free(lv->slots);
        free(lv);
        return la_err(LA_ENOMEM, "out of memory");
    }
    lv->now_min = minute_of(la_io_current()->now_ms());
    db->live = lv;
    /* Built from the segments at the first realtime call, not here: an application that never
     * asks pays nothing, neither at open (reading the window's rows) nor per append (stale, the
     * layer ignores appends until that rebuild). A damaged newest day is reported by that call. */
    lv->stale = 1;
    return 0;
}

void la_live_free(la_realtime *lv)
{
    if (!lv)
        return;
    free_entries(lv);
    free(lv->slots);
    free(lv->wheel);
    free(lv->fed);
    free(lv);
}

/* ---- the public calls ---- */

/* The strings of a request (link.data == NULL: no link). */
static int check_key(la_str ws, la_str link)
{
    if (ws.len > LA_MAX_STR || (link.data && link.len > LA_MAX_STR))
        return la_err(LA_EINVAL, "%s is longer than %d bytes", ws.len > LA_MAX_STR ? "workspace" : "link",
                      LA_MAX_STR);
    return 0;
}

/* With db->mu held: bring the layer up to the clock; *out = the entry of the workspace, or of
 * its link when link->data != NULL; NULL when there is none. */
static int begin(la_db *db, la_str ws, const la_str *link, entry **out)
{
    la_realtime *lv = db->live;
    la_live_tick(lv);
    int rc = 0;
    if ((rc = la_db_refresh_days(db)) != 0)
        return rc;
    if (lv->stale)
        rc = rebuild(db, lv);
    else if (db->readonly)
        rc = catch_up(db, lv);
    if (rc != 0)
        return rc;
    entry *e = *slot_of(lv, XXH3_64bits(ws.data, ws.len), ws, NULL);
    if (e && link->data)
        e = *slot_of(lv, XXH3_64bits_withSeed(link->data, link->len, e->hash), ws, link);
    *out = e;
    return 0;
}

/* Sum of ring[from, to), four counters at a time into four sums: a live board sums the window
 * (30 minutes by default) of every link of a workspace, and one running sum made that a chain
 * of dependent adds (gcc -O2 does not vectorize a loop of unknown length). */
static uint64_t ring_sum(const uint32_t *ring, uint32_t from, uint32_t to)
{
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    uint32_t i = from;
    for (; i + 4 <= to; i += 4) {
        s0 += ring[i];
        s1 += ring[i + 1];
        s2 += ring[i + 2];
        s3 += ring[i + 3];
    }
    for (; i < to; i++)
        s0 += ring[i];
    return s0 + s1 + s2 + s3;
}

/* Count minute m of a ring whose newest minute is head, if the ring holds it (no event has a
 * minute before 1970; the clock may). */
static uint32_t held(const la_realtime *lv, const uint32_t *ring, int64_t head, int64_t m)
{
    return m >= 0 && m <= head && m > head - lv->ring ? ring[m % lv->ring] : 0;
}

/* Events in the window of a ring whose newest minute is head. */
static uint64_t window_events(const la_realtime *lv, const uint32_t *ring, int64_t head)
{
    int64_t now = lv->now_min, lo = now - lv->window + 1, hi = now + lv->horizon;
    int64_t a = head - lv->ring + 1 > lo ? head - lv->ring + 1 : lo, b = head < hi ? head : hi;
    if (a < 0)
        a = 0; /* no event has a minute before 1970; the clock may */
    if (a > b)
        return 0;
    /* minutes a..b are at most R slots: one run from a's slot, wrapping at most once */
    uint32_t r = lv->ring, first = (uint32_t)(a % r), len = (uint32_t)(b - a + 1);
    if (first + len <= r)
        return ring_sum(ring, first, first + len);
    return ring_sum(ring, first, r) + ring_sum(ring, 0, first + len - r);
}

/* Events of e in the window, its newest event time and its active visitors. */
static void stats_of(const la_realtime *lv, const entry *e, uint64_t *events, int64_t *last_ts, uint64_t *active)
{
    *events = *active = 0;
    *last_ts = -1;
    if (!e)
        return;
    int64_t now = lv->now_min, lo = now - lv->window + 1, hi = now + lv->horizon;
    *events = window_events(lv, ring_of(lv, e), head_at(e));
    if (e->last_ts >= 0 && minute_of(e->last_ts) >= lo && minute_of(e->last_ts) <= hi)
        *last_ts = e->last_ts;
    int64_t alo = now - lv->active + 1;
    for (uint32_t i = 0; i < e->vis_cap; i++)
        *active += e->vis[i].min >= alo && e->vis[i].min <= hi;
}

int la_live(la_db *db, la_str workspace, la_str link, la_live_stats *out)
{
    la_err_clear();
    if (!db || !out || !workspace.data)
        return la_err(LA_EINVAL, "la_live: NULL argument");
    if (out->version != LA_LIVE_VERSION)
        return la_err(LA_EINVAL, "la_live_stats.version is %u, this library knows %d", out->version,
                      LA_LIVE_VERSION);
    int rc = check_key(workspace, link);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&db->mu);
    la_realtime *lv = db->live;
    entry *e;
    if ((rc = begin(db, workspace, &link, &e)) == 0) {
        out->now = lv->now_min * MS_PER_MIN;
        out->window_min = lv->window;
        out->active_min = lv->active;
        stats_of(lv, e, &out->events, &out->last_ts, &out->active_visitors);
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int la_live_minutes(la_db *db, la_str workspace, la_str link, uint64_t *counts, uint32_t n, int64_t *first)
{
    la_err_clear();
    if (!db || !counts || !workspace.data)
        return la_err(LA_EINVAL, "la_live_minutes: NULL argument");
    int rc = check_key(workspace, link);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&db->mu);
    la_realtime *lv = db->live;
    entry *e;
    if (n < 1 || n > lv->window)
        rc = la_err(LA_EINVAL, "la_live_minutes: %u minutes, the window has %u", n, lv->window);
    else if ((rc = begin(db, workspace, &link, &e)) == 0) {
        int64_t m0 = lv->now_min - n + 1;
        for (uint32_t i = 0; i < n; i++) {
            int64_t m = m0 + i;
            counts[i] = e ? held(lv, ring_of(lv, e), head_at(e), m) : 0;
        }
        if (first)
            *first = m0 * MS_PER_MIN;
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

/* Bring w's kept sums to the window of now_min: the minutes that left the window since
 * events_min out, those that entered at its future end in (two counters a link per minute
 * passed, where summing a window reads all of its minutes); summed again after a jump of more
 * than a quarter of the window, or back. */
static void keep_link_events(const la_realtime *lv, entry *w)
{
    int64_t from = w->events_min, to = lv->now_min, W = lv->window, F = lv->horizon;
    int slide = from != INT64_MIN && to > from && (to - from) * 4 <= W;
    for (uint32_t i = 0; i < w->nlinks; i++) {
        const uint32_t *ring = w->link_rings + (size_t)i * lv->ring;
        int64_t head = w->link_heads[i];
        if (!slide) {
            w->link_events[i] = window_events(lv, ring, head);
            continue;
        }
        uint64_t n = w->link_events[i];
        for (int64_t m = from + 1; m <= to; m++)
            n += held(lv, ring, head, m + F) - (uint64_t)held(lv, ring, head, m - W);
        w->link_events[i] = n;
    }
    w->events_min = to;
}

typedef struct ranked {
    const entry *e;
    uint64_t events;
} ranked;

/* Events descending, then link bytes ascending (a prefix first). */
static int by_events(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->events != b->events)
        return a->events > b->events ? -1 : 1;
    size_t n = a->e->llen < b->e->llen ? a->e->llen : b->e->llen;
    int c = n ? memcmp(link_bytes(a->e), link_bytes(b->e), n) : 0;
    return c ? c : (a->e->llen > b->e->llen) - (a->e->llen < b->e->llen);
}

/* Restore the heap order below node i: every node ranks at or after its children, so the
 * root is the last of those kept. */
static void sift_down(ranked *h, size_t n, size_t i)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && by_events(&h[c + 1], &h[c]) > 0)
            c++;
        if (by_events(&h[c], &h[i]) <= 0)
            return;
        ranked t = h[i];
        h[i] = h[c];
        h[c] = t;
        i = c;
    }
}

#define FEW_K 64 /* boards up to this size first find their smallest count (below) */

/* The k-th largest count of all[0..n) (k <= FEW_K < n): the k largest so far kept sorted in
 * top[], counts only, so that no entry's link bytes are read. */
static uint64_t kth_count(const ranked *all, size_t n, size_t k)
{
    uint64_t top[FEW_K];
    size_t m = 0; /* top[0..m) descending */
    for (size_t i = 0; i < n; i++) {
        uint64_t e = all[i].events;
        if (m == k && e <= top[k - 1])
            continue;
        size_t j = m < k ? m++ : k - 1;
        for (; j > 0 && top[j - 1] < e; j--)
            top[j] = top[j - 1];
        top[j] = e;
    }
    return top[k - 1];
}

/* The first k of all[0..n) in by_events order, moved to the front and sorted; returns how
 * many (k or fewer). A workspace can have many more links live than a board shows: those
 * past the k kept cost a comparison each, not a place in a full sort. A small board first
 * keeps only the links with at least its k-th count: ties between links with few events,
 * decided by their bytes (a cache miss each), were most of a board's time. */
static size_t first_k(ranked *all, size_t n, size_t k)
{
    if (n > k && k <= FEW_K) {
        uint64_t least = kth_count(all, n, k);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++)
            if (all[i].events >= least)
                all[kept++] = all[i];
        n = kept;
    }
    if (n > k) {
        for (size_t i = k / 2; i-- > 0;)
            sift_down(all, k, i);
        for (size_t i = k; i < n; i++)
            if (by_events(&all[i], &all[0]) < 0) {
                all[0] = all[i];
                sift_down(all, k, 0);
            }
        n = k;
    }
    if (n)
        qsort(all, n, sizeof *all, by_events);
    return n;
}

int la_live_top(la_db *db, la_str workspace, uint32_t k, la_live_board **out)
{
    la_err_clear();
    if (!db || !out || !workspace.data)
        return la_err(LA_EINVAL, "la_live_top: NULL argument");
    *out = NULL;
    if (k < 1 || k > TOP_K_MAX)
        return la_err(LA_EINVAL, "k %u outside 1..%u", k, TOP_K_MAX);
    int rc = check_key(workspace, (la_str){NULL, 0});
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&db->mu);
    la_realtime *lv = db->live;
    entry *w;
    ranked *all = NULL;
    size_t n = 0, cap = 0;
    const la_str no_link = {NULL, 0};
    if ((rc = begin(db, workspace, &no_link, &w)) != 0)
        goto out;
    size_t nlinks = w ? w->nlinks : 0;
    if (w && w->events_min != lv->now_min) /* the first board of this minute */
        keep_link_events(lv, w);
    for (size_t i = 0; i < nlinks; i++) {
        uint64_t ev = w->link_events[i];
        if (ev == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            ranked *p = realloc(all, cap * sizeof *p);
            if (!p) {
                rc = la_err(LA_ENOMEM, "out of memory");
                goto out;
            }
            all = p;
        }
        all[n++] = (ranked){w->links[i], ev};
    }
    size_t shown = first_k(all, n, k), bytes = 0;
    for (size_t i = 0; i < shown; i++)
        bytes += all[i].e->llen;
    la_live_board *t = calloc(1, sizeof *t + shown * sizeof *t->entries + bytes + 1);
    if (!t) {
        rc = la_err(LA_ENOMEM, "out of memory");
        goto out;
    }
    t->entries = (la_live_link *)(t + 1);
    char *p = (char *)(t->entries + shown);
    t->now = lv->now_min * MS_PER_MIN;
    t->window_min = lv->window;
    t->active_min = lv->active;
    t->links = n;
    stats_of(lv, w, &t->events, &t->last_ts, &t->active_visitors);
    for (size_t i = 0; i < shown; i++) {
        la_live_link *x = &t->entries[i];
        memcpy(p, link_bytes(all[i].e), all[i].e->llen);
        x->link = (la_str){p, all[i].e->llen};
        p += all[i].e->llen;
        stats_of(lv, all[i].e, &x->events, &x->last_ts, &x->active_visitors);
    }
    t->n = shown;
    *out = t;
out:
    pthread_mutex_unlock(&db->mu);
    free(all);
    return rc;
}

void la_live_board_free(la_live_board *t) { free(t); }
