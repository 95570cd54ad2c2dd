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
$B/lactl scan "$DB" > demo-scan.tsv
echo "== dashboard (from lactl scan): events per UTC day and type"
printf "%-12s %8s %8s %8s %8s\n" day all click lead sale
awk -F'\t' 'NR > 1 { d = int($1 / 86400000); n[d]++; t[d, $4]++ }
    END { for (d in n) printf "%-12s %8d %8d %8d %8d\n", strftime("%Y-%m-%d", d * 86400, 1), n[d],
                              t[d, "click"], t[d, "lead"], t[d, "sale"] }' demo-scan.tsv | sort
echo "== top 5 countries and referrers (\\N = absent: no geo, direct traffic)"
awk -F'\t' 'NR > 1 { c[$8]++; r[$12]++ }
    END { for (k in c) print c[k] "\tcountry\t" k; for (k in r) print r[k] "\treferrer\t" k }' \
    demo-scan.tsv | sort -rn | awk -F'\t' '{ if (seen[$2]++ < 5) print }' | column -t -s $'\t'
ws=$(awk -F'\t' 'NR > 1 { n[$2]++ } END { for (k in n) if (n[k] > best) { best = n[k]; w = k }; print w }' demo-scan.tsv)
echo "== top links of the busiest workspace $ws (lactl scan --workspace)"
$B/lactl scan "$DB" --workspace "$ws" --no-header |
    awk -F'\t' '{ n[$3]++; if (!(($3, $5) in seen)) { seen[$3, $5] = 1; v[$3]++ } }
        END { for (k in n) print n[k] "\t" v[k] "\t" k }' |
    sort -rn | awk -F'\t' 'NR <= 5 { printf "%8d events %6d visitors  %s\n", $1, $2, $3 }'
rm -f demo-scan.tsv
echo "== lactl dump $DB (first 60 lines)"
$B/lactl dump "$DB" > demo-dump.txt
head -60 demo-dump.txt
rm -f demo-dump.txt
