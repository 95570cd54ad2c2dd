/* jsonl.c — JSON lines in the app's event shape to la_event, read with jansson (strict
 * RFC 8259 parser, exact 64-bit integers, strings with their length so that \u0000 survives). */
#include "jsonl.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "textid.h"
#include "timefmt.h"

enum { K_TS, K_WORKSPACE, K_LINK, K_TYPE, K_VISITOR, K_SESSION, K_VALUE, NKEYS };

/* Each built-in field by its name in the app and its column name (and one more alias). */
static const char *const key_names[NKEYS][3] = {
    {"timestamp", "ts", NULL},           {"workspaceId", "workspace_id", NULL},
    {"linkId", "link_id", NULL},         {"eventType", "event_type", NULL},
    {"visitorId", "visitor_id", NULL},   {"sessionId", "session_id", NULL},
    {"value", "amount", NULL},
};

typedef struct found {
    json_t *val[NKEYS];
    const char *key[NKEYS]; /* the name it was given by */
    json_t *dim[LA_MAX_DIMS];
    const char *dim_key[LA_MAX_DIMS];
} found;

__attribute__((format(printf, 2, 3))) static int fail(char *why, const char *fmt, ...);

static int fail(char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, JSONL_WHY_MAX, fmt, ap);
    va_end(ap);
    return -1;
}

static int builtin_index(const char *key)
{
    for (int k = 0; k < NKEYS; k++)
        for (int a = 0; a < 3 && key_names[k][a]; a++)
            if (strcmp(key, key_names[k][a]) == 0)
                return k;
    return -1;
}

static int dim_index(const char *key, const char *const *dim_names, unsigned ndims)
{
    for (unsigned d = 0; d < ndims; d++)
        if (strcmp(key, dim_names[d]) == 0)
            return (int)d;
    return -1;
}

/* Record the dimensions of one object (the top level or "metadata"). */
static int take_dims(found *f, json_t *obj, const char *where, const char *const *dim_names,
                     unsigned ndims, char *why)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        int d = dim_index(key, dim_names, ndims);
        /* at the top level a built-in name is never a dimension; in metadata it may be */
        if (d < 0 || (!where[0] && (builtin_index(key) >= 0 || strcmp(key, "metadata") == 0)))
            continue;
        if (f->dim[d])
            return fail(why, "%s given twice (%s%s and %s%s)", key, f->dim_key[d], key, where,
                        key);
        if (!json_is_string(v) && !json_is_null(v))
            return fail(why, "%s%s: not a string", where, key);
        f->dim[d] = v;
        f->dim_key[d] = where;
    }
    return 0;
}

static la_str str_of(json_t *v)
{
    return json_is_string(v) ? (la_str){json_string_value(v), (uint32_t)json_string_length(v)}
                             : (la_str){NULL, 0};
}

static int map_event(const found *f, la_event *e, la_str *dims, unsigned ndims, char *why)
{
    json_t *ts = f->val[K_TS];
    if (!ts || json_is_null(ts))
        return fail(why, "timestamp is missing");
    if (json_is_integer(ts)) {
        e->ts = json_integer_value(ts);
    } else if (json_is_string(ts)) {
        const char *reason;
        if (timefmt_parse(json_string_value(ts), json_string_length(ts), &e->ts, &reason) != 0)
            return fail(why, "%s: %s", f->key[K_TS], reason);
    } else {
        return fail(why, "%s: not a string or an integer", f->key[K_TS]);
    }
    static const int required[] = {K_WORKSPACE, K_LINK, K_TYPE};
    la_str *req[] = {&e->workspace, &e->link, &e->event_type};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = f->val[required[i]];
        if (!v && required[i] == K_TYPE) {
            *req[i] = (la_str){"click", 5};
            continue;
        }
        if (!v || json_is_null(v))
            return fail(why, "%s is %s", v ? f->key[required[i]] : key_names[required[i]][0],
                        v ? "null" : "missing");
        if (!json_is_string(v))
            return fail(why, "%s: not a string", f->key[required[i]]);
        *req[i] = str_of(v);
    }
    static const int ids[] = {K_VISITOR, K_SESSION};
    uint64_t *id_out[] = {&e->visitor_id, &e->session_id};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = f->val[ids[i]];
        if (v && !json_is_string(v) && !json_is_null(v))
            return fail(why, "%s: not a string", f->key[ids[i]]);
        la_str s = str_of(v);
        *id_out[i] = textid_parse(s.data, s.len);
    }
    json_t *v = f->val[K_VALUE];
    if (v && json_is_integer(v)) {
        e->value = json_integer_value(v);
        e->has_value = 1;
    } else if (v && !json_is_null(v)) {
        return fail(why, "%s: not an integer (store amounts in cents)", f->key[K_VALUE]);
    }
    for (unsigned d = 0; d < ndims; d++)
        dims[d] = str_of(f->dim[d]);
    e->dims = dims;
    e->ndims = ndims;
    return 0;
}

int jsonl_parse(const char *line, size_t len, const char *const *dim_names, unsigned ndims,
                la_event *ev, la_str *dims, void **out_doc, char why[JSONL_WHY_MAX])
{
    *out_doc = NULL;
    memset(ev, 0, sizeof *ev);
    json_error_t err;
    json_t *doc = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!doc)
        return fail(why, "column %d: %s", err.column, err.text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return fail(why, "not a JSON object");
    }
    found f;
    memset(&f, 0, sizeof f);
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(doc, key, v) {
        int k = builtin_index(key);
        if (k < 0)
            continue;
        if (f.val[k]) {
            rc = fail(why, "%s and %s both given", f.key[k], key);
            break;
        }
        f.val[k] = v;
        f.key[k] = key;
    }
    json_t *meta = json_object_get(doc, "metadata");
    if (rc == 0 && meta && !json_is_object(meta) && !json_is_null(meta))
        rc = fail(why, "metadata: not an object");
    if (rc == 0)
        rc = take_dims(&f, doc, "", dim_names, ndims, why);
    if (rc == 0 && json_is_object(meta))
        rc = take_dims(&f, meta, "metadata.", dim_names, ndims, why);
    if (rc == 0)
        rc = map_event(&f, ev, dims, ndims, why);
    if (rc != 0) {
        json_decref(doc);
        return -1;
    }
    *out_doc = doc;
    return 0;
}

void jsonl_free(void *doc)
{
    if (doc)
        json_decref((json_t *)doc);
}
