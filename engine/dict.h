/* dict.h — a segment's in-memory dictionary for one column: id <-> string (or uint64).
 * Id 0 is "absent"; entries get ids 1, 2, ... in the order the segment's blocks introduce them
 * (SPEC.md §6.3). Entry arrays are never moved while the dictionary lives: when they grow, the
 * old array is kept, so a batch handed to a reader stays valid while a writer thread extends
 * the dictionary. */
#ifndef LA_ENGINE_DICT_H
#define LA_ENGINE_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "la.h"

typedef struct la_dict la_dict;

la_dict *la_dict_new(int is_u64);
void la_dict_free(la_dict *d);

uint32_t la_dict_size(const la_dict *d);
/* The string entries, index = id (entry 0 is absent). Valid while the dictionary lives. */
const la_str *la_dict_strs(const la_dict *d);
const uint64_t *la_dict_u64s(const la_dict *d);

/* Id of a value, 0 if not present (or if hashing the loaded entries ran out of memory).
 * Not const: the first lookup hashes what was loaded with la_dict_push_*(). */
uint32_t la_dict_find_str(la_dict *d, const char *s, uint32_t len);
uint32_t la_dict_find_u64(la_dict *d, uint64_t v);
/* Id of a value, adding it if absent. Returns 0 on allocation failure (ids start at 1). */
uint32_t la_dict_intern_str(la_dict *d, const char *s, uint32_t len);
uint32_t la_dict_intern_u64(la_dict *d, uint64_t v);
/* The same with the value's hash computed ahead (la_dict_hash_*), so that a caller interning
 * many values can la_dict_prefetch() the table slots of values it will intern next. */
uint64_t la_dict_hash_str(const char *s, uint32_t len);
uint64_t la_dict_hash_u64(uint64_t v);
void la_dict_prefetch(const la_dict *d, uint64_t h);
uint32_t la_dict_intern_str_h(la_dict *d, const char *s, uint32_t len, uint64_t h);
uint32_t la_dict_intern_u64_h(la_dict *d, uint64_t v, uint64_t h);
/* Append an entry without looking for an equal one: loading a file must keep its ids even if
 * (in a damaged or hand-made file) an entry repeats. Hashing waits for the first lookup.
 * Returns the id, 0 on allocation failure. */
uint32_t la_dict_push_str(la_dict *d, const char *s, uint32_t len);
uint32_t la_dict_push_u64(la_dict *d, uint64_t v);
/* Make room for ids up to n in one step (loading knows the count). Returns 0 or -1. */
int la_dict_reserve(la_dict *d, uint32_t n);
/* Forget entries with id > n (undo of a failed seal). */
void la_dict_truncate(la_dict *d, uint32_t n);

#endif
