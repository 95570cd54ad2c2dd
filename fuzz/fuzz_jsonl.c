/* fuzz_jsonl.c — jsonl_parse of one line (lactl ingest --format jsonl). On success the event
 * must be well formed, and writing it back as JSON in the column-name shape (ids as 16 hex
 * digits) must parse to the same event. */
#include <jansson.h>
#include <string.h>

#include "jsonl.h"
#include "textid.h"

#include "fuzz.h"

static const char *const dims[] = {"country", "city", "device", "browser", "referrer",
                                   "timestamp", "utm_source"};
#define NDIMS (sizeof dims / sizeof dims[0])

static int same_str(la_str a, la_str b)
{
    return (a.data == NULL) == (b.data == NULL) && a.len == b.len &&
           (!a.len || memcmp(a.data, b.data, a.len) == 0);
}

static json_t *jstr(la_str s) { return s.data ? json_stringn(s.data, s.len) : json_null(); }

static json_t *hex_id(uint64_t v)
{
    char buf[16];
    textid_format(v, buf);
    return json_stringn(buf, 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    la_event ev, back;
    la_str d1[NDIMS], d2[NDIMS];
    void *doc, *doc2;
    char why[JSONL_WHY_MAX];
    if (jsonl_parse((const char *)data, size, dims, NDIMS, &ev, d1, &doc, why) != 0) {
        FZ_ASSERT(doc == NULL && memchr(why, '\0', sizeof why) != NULL);
        return 0;
    }
    FZ_ASSERT(ev.workspace.data && ev.link.data && ev.event_type.data);
    FZ_ASSERT(ev.ndims == NDIMS && ev.dims == d1);

    json_t *o = json_object();
    json_object_set_new(o, "ts", json_integer(ev.ts));
    json_object_set_new(o, "workspace_id", jstr(ev.workspace));
    json_object_set_new(o, "link_id", jstr(ev.link));
    json_object_set_new(o, "event_type", jstr(ev.event_type));
    json_object_set_new(o, "visitor_id", hex_id(ev.visitor_id));
    json_object_set_new(o, "session_id", hex_id(ev.session_id));
    json_object_set_new(o, "value", ev.has_value ? json_integer(ev.value) : json_null());
    json_t *meta = json_object();
    for (size_t d = 0; d < NDIMS; d++)
        json_object_set_new(meta, dims[d], jstr(d1[d]));
    json_object_set_new(o, "metadata", meta);
    char *text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    FZ_ASSERT(text != NULL);
    json_decref(o);
    FZ_ASSERT(jsonl_parse(text, strlen(text), dims, NDIMS, &back, d2, &doc2, why) == 0);
    FZ_ASSERT(back.ts == ev.ts && back.visitor_id == ev.visitor_id &&
              back.session_id == ev.session_id && back.has_value == ev.has_value &&
              back.value == ev.value);
    FZ_ASSERT(same_str(back.workspace, ev.workspace) && same_str(back.link, ev.link) &&
              same_str(back.event_type, ev.event_type));
    for (size_t d = 0; d < NDIMS; d++)
        FZ_ASSERT(same_str(d2[d], d1[d]));
    free(text);
    jsonl_free(doc2);
    jsonl_free(doc);
    return 0;
}
