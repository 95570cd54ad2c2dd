#!/bin/sh
# examples.sh — the programs of examples/, built against the in-tree library, run in the order
# an application would (track, then dashboard) on a scratch database; dashboard's output must be
# examples/dashboard.expected, worked out by hand from the events track.c appends.
set -eu
BUILD=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BUILD/examples/track" "$tmp/db" >/dev/null
"$BUILD/examples/dashboard" "$tmp/db" > "$tmp/dashboard.out"
diff -u examples/dashboard.expected "$tmp/dashboard.out"
echo "examples.sh: ok"
