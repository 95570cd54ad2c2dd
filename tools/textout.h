/* textout.h — events written as text rows, in the two formats ClickHouse reads: TSVWithNames
 * (a header line of column names, then TabSeparated rows, see tsv.h) and JSONEachRow (one
 * JSON object per line, keys the column names, absent values null). Columns: ts (epoch ms),
 * workspace_id, link_id, event_type, visitor_id, session_id (16 hex digits), value, then the
 * database's dimensions. `lactl scan` and `lactl export` print through here, so that what they
 * print is what `lactl ingest` reads back. */
#ifndef LA_TOOLS_TEXTOUT_H
#define LA_TOOLS_TEXTOUT_H

#include "la.h"
#include "tsv.h"

/* JSON string s[0..n) (null when s is NULL): quotes, backslashes and control characters
 * escaped, valid UTF-8 as it is, and each byte that is not part of valid UTF-8 as U+FFFD, so
 * that every line is valid JSON (TSV is the lossless format for such bytes). */
void textout_json_str(tsv_writer *w, const char *s, size_t n);
void textout_i64(tsv_writer *w, int64_t v);
void textout_u64(tsv_writer *w, uint64_t v);

/* The TSV header line of an event row (JSON has none). */
void textout_event_header(tsv_writer *w, const la_db *db);
/* Row r of batch b, as TSV (json == 0) or as a JSON object; ends with a newline. */
void textout_event(tsv_writer *w, int json, const la_db *db, const la_batch *b, size_t r);

#endif
