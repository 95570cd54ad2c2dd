/* jsonl.h — one JSON line in the app's event shape to a la_event, for `lactl ingest --format
 * jsonl`. The shape is what the original service passed to trackLinkEvent():
 *   {"timestamp": "2026-11-02T09:00:00Z", "workspaceId": "ws_1", "linkId": "lnk_a",
 *    "eventType": "click", "visitorId": "v-42", "sessionId": "s-9", "value": 4999,
 *    "metadata": {"country": "DE", "city": "Berlin", "device": "mobile", ...}}
 * Each key may also be given by its column name (ts, workspace_id, link_id, event_type,
 * visitor_id, session_id, value; "amount" for value), and dimensions at the top level, so
 * that what `lactl export --format jsonl` writes reads back. The mapping is the TSV one:
 * timestamp an ISO-8601 or epoch-ms string or an integer of epoch ms; eventType defaults to
 * click; ids through textid_parse(); value an integer; null = absent. Keys that are neither
 * built-in nor a dimension of the database are ignored (the app's metadata carries more than
 * the database keeps). The text must be one strict JSON object (RFC 8259, UTF-8, no duplicate
 * keys, nothing after it). */
#ifndef LA_TOOLS_JSONL_H
#define LA_TOOLS_JSONL_H

#include <stddef.h>

#include "la.h"

#define JSONL_WHY_MAX 200

/* Parse line[0..len) with the database's dimension names (ndims of them, at most
 * LA_MAX_DIMS). Returns 0, fills *ev and dims[0..ndims) (ev->dims = dims) and sets *doc to the
 * parsed document that the event's strings point into: they stay valid until jsonl_free(*doc).
 * Or returns -1 with the reason in why[JSONL_WHY_MAX] and *doc = NULL. */
int jsonl_parse(const char *line, size_t len, const char *const *dim_names, unsigned ndims,
                la_event *ev, la_str *dims, void **doc, char why[JSONL_WHY_MAX]);

/* Release a document of jsonl_parse(); accepts NULL. */
void jsonl_free(void *doc);

#endif
