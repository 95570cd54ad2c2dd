#!/usr/bin/env bash
# The main job on a fresh machine: generate a click stream, ingest it, show it back.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-200000}
DB=${DB:-demo.la}
B=build
echo "== lagen: $EVENTS events over 7 days"
$B/lagen --events "$EVENTS" --days 7 --seed 42 -o demo-events.tsv
head -3 demo-events.tsv | cut -c1-150
rm -rf "$DB"
echo "== lactl ingest $DB demo-events.tsv"
$B/lactl ingest "$DB" demo-events.tsv
echo "== lactl verify $DB"
$B/lactl verify "$DB"
echo "== on disk (allocated blocks; TSV input was $(stat -c %s demo-events.tsv) bytes)"
du -s --block-size=1 "$DB" | awk -v n="$EVENTS" '{printf "%d bytes, %.1f bytes per event\n", $1, $1 / n}'
ws=$($B/lactl scan "$DB" --no-header | awk -F'\t' '{ n[$2]++ } END { for (k in n) if (n[k] > best) { best = n[k]; w = k }; print w }')
T="--format table"
echo "== dashboard of the busiest workspace, $ws, from its rollups (lactl query and lactl top)"
echo "-- per UTC day"
$B/lactl query "$DB" --workspace "$ws" --from 2026-11-01 --to 2026-11-08 $T
echo "-- leads per day in the viewer's time zone, Asia/Kolkata (UTC+05:30)"
$B/lactl query "$DB" --workspace "$ws" --event-type lead --from 2026-11-01 --to 2026-11-08 --tz Asia/Kolkata $T
for dim in country referrer device; do
    echo "-- top 5 ${dim} values, the whole week"
    $B/lactl top "$DB" --workspace "$ws" --dim "$dim" --from 2026-11-01 --to 2026-11-08 -k 5 $T
done
echo "== top links of $ws (a raw scan: lactl scan --workspace)"
$B/lactl scan "$DB" --workspace "$ws" --no-header |
    awk -F'\t' '{ n[$3]++; if (!(($3, $5) in seen)) { seen[$3, $5] = 1; v[$3]++ } }
        END { for (k in n) print n[k] "\t" v[k] "\t" k }' |
    sort -rn | awk -F'\t' 'NR <= 5 { printf "%8d events %6d visitors  %s\n", $1, $2, $3 }'
echo "== lactl dump $DB (first 60 lines)"
$B/lactl dump "$DB" > demo-dump.txt
head -60 demo-dump.txt
rm -f demo-dump.txt
