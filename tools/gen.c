/* gen.c — the click-stream generator of gen.h: who clicks which link, when and from where. */
#include "gen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"
#include "tsv.h"

#define MS_PER_MIN 60000LL
#define MS_PER_HOUR 3600000LL
#define MS_PER_DAY 86400000LL
/* 10000-01-01: the engine rejects anything later, so a stream past it would be useless. */
#define MAX_MS 253402300800000LL

#define SESSION_WINDOW_MS (30 * MS_PER_MIN)
#define SESSION_CONTINUE_P 0.6 /* geometric session length, mean 1 / (1 - 0.6) = 2.5 clicks */
#define SESSION_MAX_CLICKS 40
#define BUCKETS_PER_DAY 96 /* the daily curve in 15-minute steps */

#define WORKSPACE_ZIPF_S 1.1
#define LINK_ZIPF_S 1.0
/* Well below 1: the heaviest visitor is a power user with a fraction of a percent of the
 * traffic, not a bot owning whole percents of it, and most visitors come back a few times. */
#define VISITOR_ZIPF_S 0.6
/* The population grows with the stream (events / 4) up to this, which bounds the per-visitor
 * session counters at 256 MiB. */
#define VISITOR_CAP (1u << 26)
#define MIDTAIL_SITES 3000

/* ---------------------------------------------------------------------------------------
 * Randomness: xoshiro256** for the stream, splitmix64 for seeding and for per-entity hashes,
 * so that a visitor's traits never depend on how much of the stream came before.
 * ------------------------------------------------------------------------------------- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 bits: exact in every IEEE double implementation. */
static double unit(uint64_t x) { return (double)(x >> 11) * 0x1.0p-53; }
static double rng_unit(rng *r) { return unit(rng_next(r)); }

/* The modulo bias is below n / 2^64: invisible at these sizes. */
static uint64_t rng_below(rng *r, uint64_t n) { return rng_next(r) % n; }

/* ---------------------------------------------------------------------------------------
 * Zipf by rejection-inversion (Hörmann & Derflinger 1996): O(1) time and memory for any n,
 * which matters for the visitor population (millions). Ranks are 0-based.
 * ------------------------------------------------------------------------------------- */

typedef struct zipf {
    double s, n, h_x1, h_n, cut;
} zipf;

/* log1p(x)/x and expm1(x)/x, with their series near 0 where the quotient loses precision. */
static double log1p_over(double x)
{
    return fabs(x) > 1e-8 ? log1p(x) / x : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

static double expm1_over(double x)
{
    return fabs(x) > 1e-8 ? expm1(x) / x : 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x));
}

static double zipf_h(const zipf *z, double x) { return exp(-z->s * log(x)); }

static double zipf_hint(const zipf *z, double x)
{
    const double lx = log(x);
    return expm1_over((1.0 - z->s) * lx) * lx;
}

static double zipf_hinv(const zipf *z, double x)
{
    double t = x * (1.0 - z->s);
    if (t < -1.0)
        t = -1.0;
    return exp(log1p_over(t) * x);
}

static void zipf_init(zipf *z, uint64_t n, double s)
{
    z->s = s;
    z->n = (double)n;
    z->h_x1 = zipf_hint(z, 1.5) - 1.0;
    z->h_n = zipf_hint(z, z->n + 0.5);
    z->cut = 2.0 - zipf_hinv(z, zipf_hint(z, 2.5) - zipf_h(z, 2.0));
}

static uint64_t zipf_sample(const zipf *z, rng *r)
{
    for (;;) {
        const double u = z->h_n + rng_unit(r) * (z->h_x1 - z->h_n);
        const double x = zipf_hinv(z, u);
        double k = floor(x + 0.5);
        if (k < 1.0)
            k = 1.0;
        else if (k > z->n)
            k = z->n;
        if (k - x <= z->cut || u >= zipf_hint(z, k + 0.5) - zipf_h(z, k))
            return (uint64_t)k - 1;
    }
}

/* Index of the first cdf[i] > u in cdf[0..n), cdf ascending with cdf[n-1] == 1 > u. */
static uint32_t cdf_search(const double *cdf, uint32_t n, double u)
{
    uint32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Walker's alias method, for the picks made on every event among up to thousands of choices:
 * O(1) and free of the branch mispredictions that make a binary search the bottleneck. Entry
 * i keeps i when the low 32 bits of the random value fall below `keep`, else gives `other`. */
typedef struct alias_entry {
    uint32_t keep, other;
} alias_entry;

static uint32_t alias_pick(const alias_entry *t, uint32_t n, uint64_t r)
{
    const uint32_t i = (uint32_t)(((r >> 32) * n) >> 32);
    return (uint32_t)r < t[i].keep ? i : t[i].other;
}

/* Vose's construction for Zipf(s) over n ranks. scaled and work are scratch of n entries;
 * work holds the under-full entries growing from the front and the over-full from the back. */
static void alias_zipf(alias_entry *t, uint32_t n, double s, double *scaled, uint32_t *work)
{
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += scaled[i] = pow(i + 1.0, -s);
    uint32_t nsmall = 0, nlarge = 0;
    for (uint32_t i = 0; i < n; i++) {
        scaled[i] *= n / sum;
        if (scaled[i] < 1.0)
            work[nsmall++] = i;
        else
            work[n - 1 - nlarge++] = i;
    }
    while (nsmall > 0 && nlarge > 0) {
        const uint32_t small = work[--nsmall], large = work[n - nlarge];
        t[small].keep = (uint32_t)(scaled[small] * 4294967296.0);
        t[small].other = large;
        scaled[large] -= 1.0 - scaled[small];
        if (scaled[large] < 1.0) {
            nlarge--;
            work[nsmall++] = large;
        }
    }
    /* What is left is full up to rounding. */
    while (nlarge > 0) {
        const uint32_t i = work[n - nlarge--];
        t[i] = (alias_entry){UINT32_MAX, i};
    }
    while (nsmall > 0) {
        const uint32_t i = work[--nsmall];
        t[i] = (alias_entry){UINT32_MAX, i};
    }
}

/* Zipf(s) probabilities of ranks 1..n as a cumulative table ending exactly at 1. */
static void zipf_cdf(double *cdf, uint32_t n, double s)
{
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        cdf[i] = sum += pow(i + 1.0, -s);
    for (uint32_t i = 0; i < n; i++)
        cdf[i] /= sum;
    cdf[n - 1] = 1.0;
}

/* ---------------------------------------------------------------------------------------
 * The world: countries with their own cities, devices, browsers, referrers.
 * ------------------------------------------------------------------------------------- */

typedef struct choice {
    const char *name;
    unsigned weight;
} choice;

/* Weighted pick by a 64-bit random value; tables are small and picked once per session. */
static unsigned pick(const choice *c, unsigned n, uint64_t r)
{
    unsigned total = 0;
    for (unsigned i = 0; i < n; i++)
        total += c[i].weight;
    uint64_t x = r % total;
    unsigned i = 0;
    while (x >= c[i].weight)
        x -= c[i++].weight;
    return i;
}

#define COUNT(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))
#define CITIES(...) ((const char *const[]){__VA_ARGS__, NULL})

typedef struct country {
    const char code[3];
    unsigned weight; /* share of visitors in 1/10000 */
    const char *const *cities; /* biggest first, NULL-terminated */
} country;

/* Roughly the shape of a global SaaS audience: US first, India, Western Europe, Brazil. */
static const country COUNTRIES[] = {
    {"US", 2350, CITIES("New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia",
                        "San Antonio", "San Diego", "Dallas", "San Jose", "Austin", "Seattle",
                        "Denver", "Boston", "Atlanta", "Miami", "San Francisco", "Portland",
                        "Minneapolis", "Nashville")},
    {"IN", 1000, CITIES("Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Chennai", "Kolkata", "Pune",
                        "Ahmedabad", "Jaipur", "Surat", "Lucknow", "Kochi")},
    {"GB", 620, CITIES("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Liverpool",
                       "Bristol", "Edinburgh", "Sheffield", "Cardiff", "Belfast")},
    {"DE", 520, CITIES("Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart",
                       "Düsseldorf", "Leipzig", "Dortmund", "Essen", "Bremen", "Dresden",
                       "Hanover", "Nuremberg")},
    {"BR", 480, CITIES("São Paulo", "Rio de Janeiro", "Brasília", "Salvador", "Fortaleza",
                       "Belo Horizonte", "Manaus", "Curitiba", "Recife", "Porto Alegre")},
    {"CA", 400, CITIES("Toronto", "Montréal", "Vancouver", "Calgary", "Edmonton", "Ottawa",
                       "Winnipeg", "Québec City")},
    {"FR", 380, CITIES("Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Nantes", "Strasbourg",
                       "Montpellier", "Bordeaux", "Lille")},
    {"ID", 300, CITIES("Jakarta", "Surabaya", "Bandung", "Medan", "Semarang", "Makassar")},
    {"JP", 280, CITIES("Tokyo", "Osaka", "Yokohama", "Nagoya", "Sapporo", "Fukuoka", "Kobe",
                       "Kyoto")},
    {"AU", 260, CITIES("Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide", "Gold Coast",
                       "Canberra")},
    {"MX", 250, CITIES("Mexico City", "Guadalajara", "Monterrey", "Puebla", "Tijuana", "León",
                       "Cancún")},
    {"ES", 220, CITIES("Madrid", "Barcelona", "Valencia", "Seville", "Zaragoza", "Málaga",
                       "Bilbao")},
    {"IT", 200, CITIES("Rome", "Milan", "Naples", "Turin", "Palermo", "Bologna", "Florence")},
    {"NL", 160, CITIES("Amsterdam", "Rotterdam", "The Hague", "Utrecht", "Eindhoven",
                       "Groningen")},
    {"PH", 150, CITIES("Manila", "Quezon City", "Davao City", "Cebu City", "Makati")},
    {"NG", 120, CITIES("Lagos", "Abuja", "Kano", "Ibadan", "Port Harcourt")},
    {"TR", 120, CITIES("Istanbul", "Ankara", "İzmir", "Bursa", "Antalya")},
    {"PK", 100, CITIES("Karachi", "Lahore", "Islamabad", "Faisalabad", "Rawalpindi")},
    {"PL", 100, CITIES("Warsaw", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk")},
    {"KR", 100, CITIES("Seoul", "Busan", "Incheon", "Daegu")},
    {"VN", 90, CITIES("Ho Chi Minh City", "Hanoi", "Da Nang", "Haiphong")},
    {"SE", 80, CITIES("Stockholm", "Gothenburg", "Malmö", "Uppsala")},
    {"ZA", 80, CITIES("Johannesburg", "Cape Town", "Durban", "Pretoria")},
    {"AR", 80, CITIES("Buenos Aires", "Córdoba", "Rosario", "Mendoza")},
    {"AE", 80, CITIES("Dubai", "Abu Dhabi", "Sharjah")},
    {"TH", 75, CITIES("Bangkok", "Chiang Mai", "Pattaya", "Phuket")},
    {"CO", 70, CITIES("Bogotá", "Medellín", "Cali", "Barranquilla")},
    {"SG", 70, CITIES("Singapore", "Jurong East", "Tampines", "Woodlands")},
    {"CH", 60, CITIES("Zürich", "Geneva", "Basel", "Bern", "Lausanne")},
    {"BE", 60, CITIES("Brussels", "Antwerp", "Ghent", "Liège")},
    {"SA", 60, CITIES("Riyadh", "Jeddah", "Mecca", "Dammam")},
    {"MY", 60, CITIES("Kuala Lumpur", "George Town", "Johor Bahru")},
    {"EG", 60, CITIES("Cairo", "Alexandria", "Giza")},
    {"BD", 55, CITIES("Dhaka", "Chittagong", "Khulna")},
    {"AT", 50, CITIES("Vienna", "Graz", "Linz", "Salzburg")},
    {"IE", 50, CITIES("Dublin", "Cork", "Galway", "Limerick")},
    {"PT", 50, CITIES("Lisbon", "Porto", "Braga", "Coimbra")},
    {"IL", 50, CITIES("Tel Aviv", "Jerusalem", "Haifa")},
    {"CL", 50, CITIES("Santiago", "Valparaíso", "Concepción")},
    {"DK", 40, CITIES("Copenhagen", "Aarhus", "Odense")},
    {"NO", 40, CITIES("Oslo", "Bergen", "Trondheim", "Stavanger")},
    {"UA", 40, CITIES("Kyiv", "Kharkiv", "Odesa", "Lviv")},
    {"RO", 40, CITIES("Bucharest", "Cluj-Napoca", "Timișoara", "Iași")},
    {"KE", 40, CITIES("Nairobi", "Mombasa", "Kisumu")},
    {"FI", 30, CITIES("Helsinki", "Espoo", "Tampere")},
    {"NZ", 30, CITIES("Auckland", "Wellington", "Christchurch")},
};

/* Per 10000 visitors: no geo at all (VPNs, bots behind proxies), or a country but no city. */
#define GEO_NONE 50
#define GEO_COUNTRY_ONLY 150

enum { DEVICE_MOBILE, DEVICE_DESKTOP, DEVICE_TABLET };
static const choice DEVICES[] = {{"mobile", 62}, {"desktop", 34}, {"tablet", 4}};

/* In-app browsers matter on mobile: links are mostly clicked inside social apps. */
static const choice MOBILE_BROWSERS[] = {
    {"Chrome", 500}, {"Safari", 320}, {"Samsung Internet", 60}, {"Instagram", 40},
    {"Facebook", 25}, {"Opera", 20}, {"Firefox", 12}, {"Edge", 10}, {"UC Browser", 8}};
static const choice DESKTOP_BROWSERS[] = {{"Chrome", 640}, {"Edge", 130}, {"Safari", 110},
                                          {"Firefox", 75}, {"Opera", 25}, {"Brave", 20}};
static const choice TABLET_BROWSERS[] = {
    {"Safari", 550}, {"Chrome", 380}, {"Samsung Internet", 40}, {"Edge", 20}, {"Firefox", 10}};

/* Referrers per 10000 sessions: the named ones, then the special kinds. Direct traffic has no
 * referrer at all (apps, e-mail, copy-paste), hence absent rather than empty. */
static const choice REFERRERS[] = {
    {"google.com", 1400}, {"t.co", 550}, {"facebook.com", 420}, {"instagram.com", 400},
    {"linkedin.com", 330}, {"youtube.com", 250}, {"reddit.com", 200}, {"tiktok.com", 150},
    {"bing.com", 110}, {"news.ycombinator.com", 80}, {"github.com", 70},
    {"duckduckgo.com", 60}, {"pinterest.com", 50}, {"medium.com", 40}, {"substack.com", 40},
    {"yahoo.com", 30}, {"discord.com", 30}, {"slack.com", 20},
    /* kinds, not names: */
    {NULL, 4500}, /* REF_DIRECT */
    {NULL, 870},  /* REF_MIDTAIL: a few thousand small sites, themselves Zipf-distributed */
    {NULL, 400},  /* REF_TAIL: one-off URLs (blog posts, forum threads) */
};
#define REF_NAMED_COUNT (COUNT(REFERRERS) - 3)
enum { REF_DIRECT = REF_NAMED_COUNT, REF_MIDTAIL, REF_TAIL };

static const char *const SYLLABLES[24] = {"ka", "lu", "mo", "ra", "ve", "ti", "no", "sa",
                                          "be", "qui", "do", "fe", "za", "pi", "ro", "mi",
                                          "ne", "ko", "ta", "li", "vo", "gu", "sen", "dar"};
static const char *const TLDS[6] = {".com", ".io", ".net", ".co", ".dev", ".org"};
static const char *const TAIL_HOSTS[4] = {"blog", "news", "forum", "shop"};
static const char *const WORDS[16] = {"how", "why", "best", "guide", "tools", "launch",
                                      "review", "tips", "growth", "week", "notes", "story",
                                      "links", "update", "design", "data"};

/* The curve of UTC traffic by hour: the world's audience is mostly in the Americas and Europe,
 * so the trough falls around 03-05 UTC and the peak in the European evening / US afternoon. */
static const double HOURLY[24] = {55, 45, 38, 32, 30, 32, 40, 52, 65, 75, 82, 88,
                                  94, 100, 106, 110, 112, 110, 106, 100, 92, 82, 72, 63};

/* ---------------------------------------------------------------------------------------
 * Generator state
 * ------------------------------------------------------------------------------------- */

/* A session in progress: it owns its visitor's traits and referrer so that every click of it
 * agrees, and waits in the heap until its next click is due. */
typedef struct session {
    int64_t due, start;
    uint32_t visitor, number, workspace, left;
    uint8_t country, city, device, browser; /* NO_VALUE when absent */
    uint8_t ref_kind;
    uint32_t ref_site;
    uint64_t ref_tail;
} session;

#define NO_VALUE 0xFF
#define MAX_CITIES 20

#define WS_ID_LEN 11   /* "ws_" + 8 base36 */
#define LINK_ID_LEN 10 /* "lk_" + 7 base62 */

struct gen {
    gen_options o;
    rng r;
    uint64_t emitted;

    /* Arrivals: the remaining share of the total traffic mass, walked forward per event. */
    double rest, total_mass;
    double *day_cum; /* days + 1 cumulative masses */
    double bucket_w[BUCKETS_PER_DAY], bucket_cum[BUCKETS_PER_DAY + 1];
    uint32_t day, bucket;
    int64_t last_arrival;

    char (*ws_ids)[WS_ID_LEN + 1];
    char (*link_ids)[LINK_ID_LEN + 1];
    alias_entry *ws_pick;
    uint32_t *ws_first, *ws_links;
    alias_entry *link_pick; /* per workspace, over its own range of links */

    double country_cdf[COUNT(COUNTRIES)];
    double city_cdf[COUNT(COUNTRIES)][MAX_CITIES];
    uint8_t ncities[COUNT(COUNTRIES)];

    zipf visitors, midtail;
    uint32_t nvisitors;
    uint64_t visitor_step;
    uint32_t *visitor_sessions; /* sessions so far, by popularity rank */
    uint64_t next_rank;

    session *heap;
    size_t nheap, heap_cap;

    char visitor[16], session[32], referrer[96];
    uint32_t visitor_len, session_len;
    la_str dims[GEN_NDIMS];
};

void gen_options_default(gen_options *o)
{
    o->seed = 1;
    o->events = 1000000;
    o->days = 7;
    o->start_ms = timefmt_days_from_civil(2026, 11, 1) * MS_PER_DAY;
    o->workspaces = 300;
    o->links = 30000;
    o->late_fraction = 0.03;
}

/* ---------------------------------------------------------------------------------------
 * Ids: short codes that look random but are a bijection of the entity number, so that they
 * never collide and do not depend on the seed.
 * ------------------------------------------------------------------------------------- */

/* A permutation of [0, limit) for limit <= 2^42: a bijective mix of 42 bits, repeated until
 * the value falls inside (cycle walking keeps it a bijection). */
static uint64_t permute(uint64_t x, uint64_t limit)
{
    const uint64_t mask = (1ull << 42) - 1;
    do {
        x = (x + 0x2545F4914Full) & mask;
        x ^= x >> 21;
        x = (x * 0x9E3779B97F4A7C15ull) & mask;
        x ^= x >> 17;
        x = (x * 0xBF58476D1CE4E5B9ull) & mask;
        x ^= x >> 20;
    } while (x >= limit);
    return x;
}

static void base_code(char *out, const char *prefix, uint64_t x, const char *alphabet,
                      unsigned base, unsigned width)
{
    const size_t plen = strlen(prefix);
    memcpy(out, prefix, plen);
    for (unsigned i = width; i-- > 0; x /= base)
        out[plen + i] = alphabet[x % base];
    out[plen + width] = '\0';
}

static const char BASE36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
static const char BASE62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static uint64_t ipow(uint64_t b, unsigned e)
{
    uint64_t r = 1;
    while (e--)
        r *= b;
    return r;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        const uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* ---------------------------------------------------------------------------------------
 * Creation
 * ------------------------------------------------------------------------------------- */

/* Links are dealt to workspaces in proportion to their Zipf weight, at least one each, the
 * rounding leftovers going to the biggest; the workspace traffic follows the same weights. */
static void deal_links(gen *g, double *scaled, uint32_t *work)
{
    const uint32_t w = g->o.workspaces, extra = g->o.links - w;
    double sum = 0;
    for (uint32_t i = 0; i < w; i++)
        sum += pow(i + 1.0, -WORKSPACE_ZIPF_S);
    uint64_t dealt = 0;
    for (uint32_t i = 0; i < w; i++) {
        g->ws_links[i] = 1 + (uint32_t)floor(extra * pow(i + 1.0, -WORKSPACE_ZIPF_S) / sum);
        dealt += g->ws_links[i] - 1;
    }
    for (uint32_t i = 0; dealt < extra; i = (i + 1) % w, dealt++)
        g->ws_links[i]++;
    alias_zipf(g->ws_pick, w, WORKSPACE_ZIPF_S, scaled, work);
    uint32_t first = 0;
    for (uint32_t i = 0; i < w; i++) {
        g->ws_first[i] = first;
        alias_zipf(g->link_pick + first, g->ws_links[i], LINK_ZIPF_S, scaled, work);
        first += g->ws_links[i];
    }
}

/* Countries by their weight; cities within a country Zipf-ish by their order (biggest first). */
static void build_places(gen *g)
{
    double sum = 0;
    for (unsigned i = 0; i < COUNT(COUNTRIES); i++)
        g->country_cdf[i] = sum += COUNTRIES[i].weight;
    for (unsigned i = 0; i < COUNT(COUNTRIES); i++) {
        g->country_cdf[i] /= sum;
        unsigned n = 0;
        while (n < MAX_CITIES && COUNTRIES[i].cities[n])
            n++;
        g->ncities[i] = (uint8_t)n;
        zipf_cdf(g->city_cdf[i], n, 1.0);
    }
    g->country_cdf[COUNT(COUNTRIES) - 1] = 1.0;
}

/* Each day's traffic mass: the hourly curve, a weekend dip, and a day-to-day wobble. */
static void build_traffic(gen *g)
{
    for (unsigned b = 0; b < BUCKETS_PER_DAY; b++) {
        /* HOURLY[h] describes the middle of hour h; interpolate to the bucket's middle. */
        const double t = (b + 0.5) * 24.0 / BUCKETS_PER_DAY - 0.5;
        const double fl = floor(t), frac = t - fl;
        const int h = ((int)fl + 24) % 24;
        g->bucket_w[b] = HOURLY[h] * (1 - frac) + HOURLY[(h + 1) % 24] * frac;
        g->bucket_cum[b + 1] = g->bucket_cum[b] + g->bucket_w[b];
    }
    const double shape = g->bucket_cum[BUCKETS_PER_DAY];
    const int64_t day0 = g->o.start_ms / MS_PER_DAY;
    g->day_cum[0] = 0;
    for (uint32_t d = 0; d < g->o.days; d++) {
        const int64_t weekday = (day0 + d + 3) % 7; /* 1970-01-01 was a Thursday; 0 = Monday */
        const double factor = (weekday >= 5 ? 0.82 : 1.0) * (0.9 + 0.2 * rng_unit(&g->r));
        g->day_cum[d + 1] = g->day_cum[d] + factor * shape;
    }
    g->total_mass = g->day_cum[g->o.days];
    g->rest = 1.0;
    g->last_arrival = g->o.start_ms;
}

int gen_create(gen **out, const gen_options *o)
{
    *out = NULL;
    if (!o || o->days == 0 || o->workspaces == 0 || o->links < o->workspaces ||
        !(o->late_fraction >= 0.0 && o->late_fraction <= 1.0) || o->start_ms < 0 ||
        o->start_ms > MAX_MS - (int64_t)o->days * MS_PER_DAY)
        return -1;
    gen *g = calloc(1, sizeof *g);
    if (!g)
        return -1;
    g->o = *o;
    rng_seed(&g->r, o->seed);

    const uint64_t pop = o->events / 4;
    g->nvisitors = pop < 1 ? 1 : pop > VISITOR_CAP ? VISITOR_CAP : (uint32_t)pop;
    g->day_cum = malloc((o->days + 1) * sizeof *g->day_cum);
    g->ws_ids = malloc(o->workspaces * sizeof *g->ws_ids);
    g->ws_pick = malloc(o->workspaces * sizeof *g->ws_pick);
    g->ws_first = malloc(o->workspaces * sizeof *g->ws_first);
    g->ws_links = malloc(o->workspaces * sizeof *g->ws_links);
    g->link_ids = malloc(o->links * sizeof *g->link_ids);
    g->link_pick = malloc(o->links * sizeof *g->link_pick);
    g->visitor_sessions = calloc(g->nvisitors, sizeof *g->visitor_sessions);
    double *scaled = malloc(o->links * sizeof *scaled);
    uint32_t *work = malloc(o->links * sizeof *work);
    if (!g->day_cum || !g->ws_ids || !g->ws_pick || !g->ws_first || !g->ws_links ||
        !g->link_ids || !g->link_pick || !g->visitor_sessions || !scaled || !work) {
        free(scaled);
        free(work);
        gen_free(g);
        return -1;
    }

    for (uint32_t i = 0; i < o->workspaces; i++)
        base_code(g->ws_ids[i], "ws_", permute(i, ipow(36, 8)), BASE36, 36, 8);
    for (uint32_t i = 0; i < o->links; i++)
        base_code(g->link_ids[i], "lk_", permute(i, ipow(62, 7)), BASE62, 62, 7);
    deal_links(g, scaled, work);
    free(scaled);
    free(work);

    build_places(g);
    zipf_init(&g->visitors, g->nvisitors, VISITOR_ZIPF_S);
    zipf_init(&g->midtail, MIDTAIL_SITES, 1.0);
    /* Visitor numbers are a stride permutation of the popularity ranks, so "v1" is not the
     * heaviest visitor and the numbers carry no hint of the ranking. */
    g->visitor_step = (uint64_t)(g->nvisitors * 0.6180339887) | 1;
    while (gcd(g->visitor_step, g->nvisitors) != 1)
        g->visitor_step++;

    build_traffic(g);
    g->next_rank = zipf_sample(&g->visitors, &g->r);
    *out = g;
    return 0;
}

void gen_free(gen *g)
{
    if (!g)
        return;
    free(g->day_cum);
    free(g->ws_ids);
    free(g->ws_pick);
    free(g->ws_first);
    free(g->ws_links);
    free(g->link_ids);
    free(g->link_pick);
    free(g->visitor_sessions);
    free(g->heap);
    free(g);
}

/* ---------------------------------------------------------------------------------------
 * Arrival times
 * ------------------------------------------------------------------------------------- */

/* The next of `events` sorted draws from the traffic curve. Sorted uniforms come one at a time
 * from the order statistics: the smallest of n uniforms on (a, 1) is 1 - (1 - a) V^(1/n).
 * Mapping them through the curve's inverse CDF keeps them sorted, so arrivals never need a
 * sort buffer and the count is exact. */
static int64_t next_arrival(gen *g)
{
    const uint64_t n = g->o.events - g->emitted;
    const double v = 1.0 - rng_unit(&g->r); /* (0, 1] */
    g->rest *= exp(log(v) / (double)n);
    const double c = (1.0 - g->rest) * g->total_mass;

    const uint32_t last_day = g->o.days - 1;
    while (g->day < last_day && g->day_cum[g->day + 1] <= c) {
        g->day++;
        g->bucket = 0;
    }
    const double day_mass = g->day_cum[g->day + 1] - g->day_cum[g->day];
    double local = (c - g->day_cum[g->day]) / day_mass * g->bucket_cum[BUCKETS_PER_DAY];
    while (g->bucket < BUCKETS_PER_DAY - 1 && g->bucket_cum[g->bucket + 1] <= local)
        g->bucket++;
    const double within = (local - g->bucket_cum[g->bucket]) / g->bucket_w[g->bucket];
    const double bucket_ms = (double)(MS_PER_DAY / BUCKETS_PER_DAY);
    int64_t ts = g->o.start_ms + (int64_t)g->day * MS_PER_DAY +
                 (int64_t)((g->bucket + within) * bucket_ms);
    /* Rounding at bucket edges could step back a millisecond or past the window. */
    const int64_t end = g->o.start_ms + (int64_t)g->o.days * MS_PER_DAY;
    if (ts < g->last_arrival)
        ts = g->last_arrival;
    if (ts >= end)
        ts = end - 1;
    g->last_arrival = ts;
    return ts;
}

/* Late events are clicks recorded earlier than they reach us (offline apps flushing, retried
 * webhooks, postbacks reported the next day): mostly minutes, sometimes hours, rarely days.
 * They never precede the start of the stream, so the whole stream stays inside its window. */
static int64_t late_ts(gen *g, int64_t arrival)
{
    const double u = rng_unit(&g->r);
    int64_t delay;
    if (u < 0.80)
        delay = MS_PER_MIN + (int64_t)rng_below(&g->r, 59 * MS_PER_MIN);
    else if (u < 0.97)
        delay = MS_PER_HOUR + (int64_t)rng_below(&g->r, 23 * MS_PER_HOUR);
    else
        delay = MS_PER_DAY + (int64_t)rng_below(&g->r, 4 * MS_PER_DAY);
    const int64_t elapsed = arrival - g->o.start_ms;
    if (delay > elapsed)
        delay = elapsed > 0 ? 1 + (int64_t)rng_below(&g->r, (uint64_t)elapsed) : 0;
    return arrival - delay;
}

/* ---------------------------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------------------------- */

static void heap_swap(session *a, session *b)
{
    const session t = *a;
    *a = *b;
    *b = t;
}

static int heap_push(gen *g, const session *s)
{
    if (g->nheap == g->heap_cap) {
        const size_t cap = g->heap_cap ? 2 * g->heap_cap : 1024;
        session *h = realloc(g->heap, cap * sizeof *h);
        if (!h)
            return -1;
        g->heap = h;
        g->heap_cap = cap;
    }
    size_t i = g->nheap++;
    g->heap[i] = *s;
    while (i > 0 && g->heap[(i - 1) / 2].due > g->heap[i].due) {
        heap_swap(&g->heap[(i - 1) / 2], &g->heap[i]);
        i = (i - 1) / 2;
    }
    return 0;
}

static void heap_pop(gen *g)
{
    g->heap[0] = g->heap[--g->nheap];
    size_t i = 0;
    for (;;) {
        size_t m = i;
        const size_t l = 2 * i + 1, r = l + 1;
        if (l < g->nheap && g->heap[l].due < g->heap[m].due)
            m = l;
        if (r < g->nheap && g->heap[r].due < g->heap[m].due)
            m = r;
        if (m == i)
            break;
        heap_swap(&g->heap[m], &g->heap[i]);
        i = m;
    }
}

/* The session whose next click is due by `now`, if any. When traffic is thin a waiting
 * session can outlive its 30 minutes: then it simply ended with fewer clicks. */
static int due_session(gen *g, int64_t now, session *out)
{
    while (g->nheap > 0 && g->heap[0].due <= now) {
        *out = g->heap[0];
        heap_pop(g);
        if (now - out->start <= SESSION_WINDOW_MS)
            return 1;
    }
    return 0;
}

/* A visitor's traits come from a hash of the visitor number alone, so every session of a
 * returning visitor sees the same place, device and browser. */
static void visitor_traits(const gen *g, session *s)
{
    uint64_t h = g->o.seed ^ (s->visitor * 0xD1B54A32D192ED03ull);
    const unsigned geo = (unsigned)(splitmix64(&h) % 10000);
    const uint64_t rc = splitmix64(&h), rcity = splitmix64(&h);
    const uint64_t rd = splitmix64(&h), rb = splitmix64(&h);

    s->country = s->city = NO_VALUE;
    if (geo >= GEO_NONE) {
        const uint32_t c = cdf_search(g->country_cdf, COUNT(COUNTRIES), unit(rc));
        s->country = (uint8_t)c;
        if (geo >= GEO_NONE + GEO_COUNTRY_ONLY)
            s->city = (uint8_t)cdf_search(g->city_cdf[c], g->ncities[c], unit(rcity));
    }
    s->device = (uint8_t)pick(DEVICES, COUNT(DEVICES), rd);
    if (s->device == DEVICE_MOBILE)
        s->browser = (uint8_t)pick(MOBILE_BROWSERS, COUNT(MOBILE_BROWSERS), rb);
    else if (s->device == DEVICE_DESKTOP)
        s->browser = (uint8_t)pick(DESKTOP_BROWSERS, COUNT(DESKTOP_BROWSERS), rb);
    else
        s->browser = (uint8_t)pick(TABLET_BROWSERS, COUNT(TABLET_BROWSERS), rb);
}

static const char *browser_name(const session *s)
{
    switch (s->device) {
    case DEVICE_MOBILE: return MOBILE_BROWSERS[s->browser].name;
    case DEVICE_DESKTOP: return DESKTOP_BROWSERS[s->browser].name;
    default: return TABLET_BROWSERS[s->browser].name;
    }
}

static void start_session(gen *g, session *s, int64_t ts)
{
    memset(s, 0, sizeof *s);
    s->start = ts;
    s->workspace = alias_pick(g->ws_pick, g->o.workspaces, rng_next(&g->r));
    /* The visitor is drawn one session ahead so that its counter, most likely out of cache
     * in a population of millions, can be fetched while this session is being made. */
    const uint64_t rank = g->next_rank;
    g->next_rank = zipf_sample(&g->visitors, &g->r);
#ifdef __GNUC__
    __builtin_prefetch(&g->visitor_sessions[g->next_rank], 1);
#endif
    const uint32_t slot = (uint32_t)((rank * g->visitor_step + g->nvisitors / 3) % g->nvisitors);
    s->visitor = slot + 1;
    /* Counted by rank, not by number: the heavy visitors then share a few cache lines. */
    s->number = ++g->visitor_sessions[rank];
    visitor_traits(g, s);

    const double u = 1.0 - rng_unit(&g->r);
    const double clicks = 1.0 + floor(log(u) / log(SESSION_CONTINUE_P));
    s->left = clicks > SESSION_MAX_CLICKS ? SESSION_MAX_CLICKS : (uint32_t)clicks;

    s->ref_kind = (uint8_t)pick(REFERRERS, COUNT(REFERRERS), rng_next(&g->r));
    if (s->ref_kind == REF_MIDTAIL)
        s->ref_site = (uint32_t)zipf_sample(&g->midtail, &g->r);
    else if (s->ref_kind == REF_TAIL)
        s->ref_tail = rng_next(&g->r);
}

/* The referrer string of a session, rebuilt per click from what the session stored. */
static la_str referrer(gen *g, const session *s)
{
    char *b = g->referrer;
    int n;
    if (s->ref_kind == REF_DIRECT)
        return (la_str){NULL, 0};
    if (s->ref_kind < REF_NAMED_COUNT) {
        const char *name = REFERRERS[s->ref_kind].name;
        return (la_str){name, (uint32_t)strlen(name)};
    }
    if (s->ref_kind == REF_MIDTAIL) {
        const uint32_t k = s->ref_site;
        n = snprintf(b, sizeof g->referrer, "%s%s%s", SYLLABLES[k % 24], SYLLABLES[k / 24 % 24],
                     TLDS[k / 576 % 6]);
    } else {
        uint64_t t = s->ref_tail;
        n = snprintf(b, sizeof g->referrer, "https://%s%u.example/%s-%s-%u",
                     TAIL_HOSTS[t % 4], (unsigned)(t >> 8 & 0xFFFFF), WORDS[t >> 32 & 15],
                     WORDS[t >> 36 & 15], (unsigned)(t >> 40 & 0xFFFF));
    }
    return (la_str){b, (uint32_t)n};
}

static size_t put_u64(char *p, uint64_t v)
{
    static const char pairs[201] = "000102030405060708091011121314151617181920212223242526272829"
                                   "303132333435363738394041424344454647484950515253545556575859"
                                   "606162636465666768697071727374757677787980818283848586878889"
                                   "90919293949596979899";
    char tmp[20];
    size_t i = sizeof tmp;
    while (v >= 100) {
        memcpy(tmp + (i -= 2), pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(tmp + (i -= 2), pairs + 2 * v, 2);
    else
        tmp[--i] = (char)('0' + v);
    memcpy(p, tmp + i, sizeof tmp - i);
    return sizeof tmp - i;
}

static la_str cstr(const char *s) { return (la_str){s, (uint32_t)strlen(s)}; }

/* Amounts are log-normal around $30 and mostly land on price points ending in 99 cents, as
 * real checkouts do. */
static int64_t sale_amount(gen *g)
{
    const double u1 = 1.0 - rng_unit(&g->r), u2 = rng_unit(&g->r);
    const double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    int64_t cents = (int64_t)floor(exp(log(3000.0) + 0.9 * z));
    if (rng_unit(&g->r) < 0.7)
        cents = (cents / 100 + 1) * 100 - 1;
    return cents < 500 ? 500 : cents > 50000 ? 50000 : cents;
}

/* ---------------------------------------------------------------------------------------
 * The stream
 * ------------------------------------------------------------------------------------- */

static void fill_event(gen *g, const session *s, int64_t ts, la_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->ts = ts;
    ev->workspace = (la_str){g->ws_ids[s->workspace], WS_ID_LEN};
    const uint32_t first = g->ws_first[s->workspace];
    const uint32_t k = alias_pick(g->link_pick + first, g->ws_links[s->workspace], rng_next(&g->r));
    ev->link = (la_str){g->link_ids[first + k], LINK_ID_LEN};

    const double u = rng_unit(&g->r);
    if (u < 0.95) {
        ev->event_type = cstr("click");
    } else if (u < 0.99) {
        ev->event_type = cstr("lead");
    } else {
        ev->event_type = cstr("sale");
        ev->value = sale_amount(g);
        ev->has_value = 1;
    }

    size_t vn = 0;
    g->visitor[vn++] = 'v';
    vn += put_u64(g->visitor + vn, s->visitor);
    g->visitor[vn] = '\0';
    memcpy(g->session, g->visitor, vn);
    size_t sn = vn;
    g->session[sn++] = '-';
    g->session[sn++] = 's';
    sn += put_u64(g->session + sn, s->number);
    g->session[sn] = '\0';
    g->visitor_len = (uint32_t)vn;
    g->session_len = (uint32_t)sn;
    ev->visitor_id = la_hash_id(g->visitor, vn);
    ev->session_id = la_hash_id(g->session, sn);

    const country *c = s->country == NO_VALUE ? NULL : &COUNTRIES[s->country];
    g->dims[0] = c ? (la_str){c->code, 2} : (la_str){NULL, 0};
    g->dims[1] = c && s->city != NO_VALUE ? cstr(c->cities[s->city]) : (la_str){NULL, 0};
    g->dims[2] = cstr(DEVICES[s->device].name);
    g->dims[3] = cstr(browser_name(s));
    g->dims[4] = referrer(g, s);
    ev->dims = g->dims;
    ev->ndims = GEN_NDIMS;
}

int gen_next(gen *g, la_event *ev)
{
    if (g->emitted >= g->o.events)
        return 0;
    const int64_t now = next_arrival(g);
    g->emitted++;

    session s;
    if (rng_unit(&g->r) < g->o.late_fraction) {
        /* A late click stands alone: its session is the one it was recorded in, long over. */
        const int64_t ts = late_ts(g, now);
        start_session(g, &s, ts);
        fill_event(g, &s, ts, ev);
        return 1;
    }
    if (!due_session(g, now, &s))
        start_session(g, &s, now);
    fill_event(g, &s, now, ev);
    if (--s.left > 0) {
        /* Think time between clicks: a couple of seconds at least, a minute and a half on
         * average; a click that would fall outside the window ends the session instead. */
        s.due = now + 2000 + (int64_t)(-90000.0 * log(1.0 - rng_unit(&g->r)));
        if (s.due - s.start <= SESSION_WINDOW_MS)
            (void)heap_push(g, &s); /* out of memory only cuts this session short */
    }
    return 1;
}

const char *gen_visitor(const gen *g) { return g->visitor; }
const char *gen_session(const gen *g) { return g->session; }

/* ---------------------------------------------------------------------------------------
 * TSV
 * ------------------------------------------------------------------------------------- */

/* The longest line: every field a LA_MAX_STR string with every byte escaped, and the numbers. */
#define GEN_LINE_MAX (12 * (2 * LA_MAX_STR + 1) + 64)

/* The escapes of tsv.h, inlined: one call per field through the shared writer halves the
 * speed, and the generator is meant to produce millions of lines per second. */
static char *put_str(char *p, const char *s, size_t n)
{
    static const char escape[256] = {['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', ['\\'] = '\\',
                                     ['\0'] = '0', ['\b'] = 'b', ['\f'] = 'f'};
    if (!s) {
        memcpy(p, "\\N", 2);
        return p + 2;
    }
    for (size_t i = 0; i < n; i++) {
        const char e = escape[(unsigned char)s[i]];
        if (e) {
            *p++ = '\\';
            *p++ = e;
        } else {
            *p++ = s[i];
        }
    }
    return p;
}

static char *put_field(char *p, la_str s)
{
    *p++ = '\t';
    return put_str(p, s.data, s.len);
}

static char *put_int(char *p, int64_t v)
{
    if (v < 0)
        *p++ = '-';
    return p + put_u64(p, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

int gen_write_tsv(gen *g, FILE *out)
{
    static const char header[] = "ts\tworkspace_id\tlink_id\tevent_type\tvisitor_id\tsession_id"
                                 "\tvalue\tcountry\tcity\tdevice\tbrowser\treferrer\n";
    char line[GEN_LINE_MAX];
    tsv_writer w;
    tsv_writer_init(&w, out);
    tsv_raw_out(&w, header, sizeof header - 1);
    la_event ev;
    while (!w.error && gen_next(g, &ev)) {
        char *p = put_int(line, ev.ts);
        p = put_field(p, ev.workspace);
        p = put_field(p, ev.link);
        p = put_field(p, ev.event_type);
        p = put_field(p, (la_str){g->visitor, g->visitor_len});
        p = put_field(p, (la_str){g->session, g->session_len});
        *p++ = '\t';
        p = ev.has_value ? put_int(p, ev.value) : put_str(p, NULL, 0);
        for (uint32_t i = 0; i < ev.ndims; i++)
            p = put_field(p, ev.dims[i]);
        *p++ = '\n';
        tsv_raw_out(&w, line, (size_t)(p - line));
    }
    return tsv_writer_finish(&w);
}
