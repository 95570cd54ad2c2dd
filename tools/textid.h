/* textid.h — visitor and session ids written as text, one mapping for every input format:
 * exactly 16 hex digits is the 64-bit id itself (how `lactl scan` and `lactl export` print
 * ids), any other string is la_hash_id() of its bytes, and an absent id is 0. */
#ifndef LA_TOOLS_TEXTID_H
#define LA_TOOLS_TEXTID_H

#include <stddef.h>
#include <stdint.h>

/* s == NULL means absent. */
uint64_t textid_parse(const char *s, size_t len);

/* The 16 lowercase hex digits of v (no NUL). */
void textid_format(uint64_t v, char out[16]);

#endif
