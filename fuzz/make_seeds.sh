#!/usr/bin/env bash
# (Re)write the seeds of fuzz/corpus/ from the project's own code: crafted inputs
# (make_seeds.c) plus a real tiny database made by lagen + lactl ingest. Needs `make all`
# first. Other files there (inputs the fuzzers found, named by hash) are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
C=fuzz/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
targets=$(ls fuzz/fuzz_*.c | sed 's|fuzz/fuzz_\(.*\)\.c|\1|')
for t in $targets; do mkdir -p "$C/$t"; done

${CC:-cc} -std=c11 -D_GNU_SOURCE -O1 -Iinclude -Iformat -Itools -Ifuzz -o "$T/make_seeds" \
    fuzz/make_seeds.c fuzz/common.c "$B/libla.a" -llz4 -lzstd -lxxhash -lpthread -lm
"$T/make_seeds" "$C"

# A real database: its la.meta, and its segment up to the end of the sealed block (the file
# is preallocated to megabytes; the tail sits far out in it, so it is left out here).
"$B/lagen" --events 100 --days 1 -o "$T/events.tsv"
"$B/lactl" ingest "$T/db" "$T/events.tsv" --quiet
cp "$T/db/la.meta" "$C/meta/default"
seg=$(ls "$T"/db/*.seg | head -1)
end=$("$B/lactl" dump "$seg" | awk '/active_slot/ { s = $2 } /blocks_end/ { e[n++] = $2 } END { print e[s] }')
{ printf '\0'; head -c "$end" "$seg"; } > "$C/segment/real-lz4"
{ printf '\0'; head -c "$end" "$seg" | tail -c +4097; } > "$C/block/real-lz4"

# The same day sealed (sorted zstd blocks with key ranges, segment version 2): whole, since a
# sealed file ends at its last block.
"$B/lactl" compact "$T/db" --all > /dev/null
seg=$(ls "$T"/db/*.seg | head -1)
{ printf '\0'; cat "$seg"; } > "$C/segment/real-sealed"
{ printf '\0'; cat "$seg"; } > "$C/db_open/real-sealed"
{ printf '\0'; tail -c +4097 "$seg"; } > "$C/block/real-sealed"

# Rollup files of that database (hour, day, week): the flag byte 0 keeps their checksums.
for f in "$T"/db/*.hr.roll "$T"/db/????-??-??.roll "$T"/db/*-W*.roll; do
    [ -e "$f" ] && { printf '\0'; cat "$f"; } > "$C/rollfile/real-$(basename "$f")"
done

# Zones from the system tzdata: whole hours, 30/45-minute offsets, a midnight DST change.
for z in Europe/Berlin Asia/Kolkata Asia/Kathmandu America/Santiago Australia/Lord_Howe; do
    cp "/usr/share/zoneinfo/$z" "$C/tzif/${z//\//_}"
done

# TSV lines: the header and a few rows of lagen output, plus escapes and absent values.
head -4 "$T/events.tsv" | awk -v d="$C/tsv" '{ f = d "/line" NR; printf "%s", $0 > f }'
printf 'a\\tb\\\\c\t\\N\t\\Nx\t\\0\\b\\f\\r\\n\\'"'"'\tlast\r' > "$C/tsv/escapes"
# JSON lines in the app's shape, the column-name shape, and lines the parser must refuse.
printf '%s' '{"timestamp":"2026-11-02T09:00:00Z","workspaceId":"ws_1","linkId":"lnk_a","eventType":"click","visitorId":"v-42","sessionId":"s-9","metadata":{"country":"DE","city":"Berlin","device":"mobile","browser":"Safari","referrer":null,"userAgent":"x"}}' > "$C/jsonl/app"
printf '%s' '{"ts":1793577600000,"workspace_id":"w","link_id":"l\u0000b","event_type":"sale","visitor_id":"00000000000000ff","session_id":null,"amount":4999,"country":"FR","utm_source":"news"}' > "$C/jsonl/columns"
printf '%s' '{"timestamp":"2026-11-02","workspaceId":"w","linkId":"l","country":"DE","metadata":{"country":"FR","timestamp":"t"}}' > "$C/jsonl/twice"
printf '%s' '{"timestamp":1.5e3,"workspaceId":"w","workspaceId":"v"} x' > "$C/jsonl/bad"
chmod -R u+rw,go+r "$C"
du -sh --apparent-size "$C"
