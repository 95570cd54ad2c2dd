#!/bin/sh
# examples.sh — the programs of examples/, built against the in-tree library, run in the order
# an application would (track, dashboard, cleanup) on a scratch database. dashboard's output
# must be examples/dashboard.expected, worked out by hand from the events track.c appends (its
# realtime line counts the one click track stamps now, so dashboard runs right after track);
# cleanup with a 7-day window must delete the two past days and leave today's click.
set -eu
BUILD=${BUILD:-build}
LACTL=${LACTL:-$BUILD/lactl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BUILD/examples/track" "$tmp/db" > "$tmp/track.out"
grep -q '^tracked 7 events; last 30 minutes: 1 events, 1 visitors active$' "$tmp/track.out" ||
    { cat "$tmp/track.out"; echo "examples.sh: track"; exit 1; }
"$BUILD/examples/dashboard" "$tmp/db" > "$tmp/dashboard.out"
diff -u examples/dashboard.expected "$tmp/dashboard.out"
"$BUILD/examples/cleanup" "$tmp/db" 7 > "$tmp/cleanup.out"
for want in '^expired: 2026-11-02 ' '^expired: 2026-11-03 ' '^deleted 2 days, '; do
    grep -q "$want" "$tmp/cleanup.out" || { cat "$tmp/cleanup.out"; echo "examples.sh: no '$want'"; exit 1; }
done
[ "$("$LACTL" scan "$tmp/db" --no-header | wc -l)" -eq 1 ] || { echo "examples.sh: cleanup left more than today's click"; exit 1; }
"$LACTL" verify "$tmp/db" >/dev/null
echo "examples.sh: ok"
