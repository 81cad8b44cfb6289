#!/usr/bin/env bash
# Translation: upstream body -> Mudbase body against the decode floor (a
# plain json.Unmarshal of the same body). Prints one markdown section.
# BENCH_ROUNDS (default 5) overrides the number of rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/bench/lib.sh

ROUNDS=${BENCH_ROUNDS:-5}
CMD="go test ./translate/scf -run '^\$' -bench '^BenchmarkTranslate\$' -benchtime 2s -count 1"
# One go test per round (-count would run all rounds of one side first):
# each round runs the floor and then the translation, back to back.
for _ in $(seq "$ROUNDS"); do
  eval "$CMD" | grep '^BenchmarkTranslate/'
done >"$BENCH_TMP/raw.txt"

# round floor-ns translate-ns floor-B translate-B floor-allocs translate-allocs
awk '
  /floor-unmarshal/ { f = $3; fb = $7; fa = $9 }
  /\/translate/     { printf "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", ++n, f, $3, fb, $7, fa, $9 }
' "$BENCH_TMP/raw.txt" >"$BENCH_TMP/rows.tsv"

cat <<MD
## Translation: upstream body to Mudbase body vs json.Unmarshal

What: a \`GetFunctionLogs\` answer of 100 realistic records (~52 KB) turned into the Mudbase \`executions\`
array: decode, translate (\`scf.ReadPage\` and \`translate.NewExecution\`), encode — the work of a cache miss. The floor is a
plain \`json.Unmarshal\` of the same body into the upstream types: no translation can skip decoding.
Goal: within 2x of the floor.

Reproduce: \`make bench\` (this section alone: \`.ci/bench/translate.sh\`, which runs \`$CMD\` $ROUNDS times).

| round | floor ns/op | translate ns/op | time ratio | floor B/op | translate B/op | floor allocs/op | translate allocs/op |
|---|---|---|---|---|---|---|---|
MD
awk -F'\t' '{printf "| %d | %d | %d | %.2f | %d | %d | %d | %d |\n", $1, $2, $3, $3/$2, $4, $5, $6, $7}' "$BENCH_TMP/rows.tsv"
echo
read -r lo med hi <<<"$(awk -F'\t' '{print $3/$2}' "$BENCH_TMP/rows.tsv" | bench_stats)"
read -r blo bmed bhi <<<"$(awk -F'\t' '{print $5/$4}' "$BENCH_TMP/rows.tsv" | bench_stats)"
read -r alo amed ahi <<<"$(awk -F'\t' '{print $7/$6}' "$BENCH_TMP/rows.tsv" | bench_stats)"
echo "translate / floor over $ROUNDS rounds: time **min $lo, median $med, max $hi**; bytes allocated min $blo,"
echo "median $bmed, max $bhi; allocations min $alo, median $amed, max $ahi."
echo
