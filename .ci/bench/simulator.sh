#!/usr/bin/env bash
# The simulator's CLS: mudscf's queries over a busy function's last 24 h,
# in a topic of its own and in a region's shared topic of 10,000
# functions. Prints one markdown section. BENCH_ROUNDS (default 3)
# overrides the number of rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/bench/lib.sh

ROUNDS=${BENCH_ROUNDS:-3}
CMD="go test ./internal/tencentsim/cls -run '^\$' -bench '^BenchmarkSearchLog24h\$' -benchtime 10x -count 1"
for _ in $(seq "$ROUNDS"); do
  eval "$CMD" | grep '^BenchmarkSearchLog24h/'
done >"$BENCH_TMP/raw.txt"

# case query ns records, one line per round and sub-benchmark; the names
# are "busy_1/s,_own_topic/count-2" and so on (the case's "/" nests too).
awk '{
  name = $1; sub(/^BenchmarkSearchLog24h\//, "", name); sub(/-[0-9]+$/, "", name)
  k = split(name, parts, "/"); q = parts[k]; c = parts[1]
  for (i = 2; i < k; i++) c = c "/" parts[i]
  printf "%s\t%s\t%s\t%s\n", c, q, $3, $5
}' "$BENCH_TMP/raw.txt" | awk -F'\t' '{ # the median of the rounds
  k = $1 "\t" $2; n[k]++; t[k, n[k]] = $3; r[k] = $4; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
  END { for (i = 1; i <= m; i++) { k = order[i]; c = n[k]
    for (a = 1; a <= c; a++) for (b = a + 1; b <= c; b++) if (t[k, b] < t[k, a]) { x = t[k, a]; t[k, a] = t[k, b]; t[k, b] = x }
    med = (c % 2) ? t[k, (c + 1) / 2] : (t[k, c / 2] + t[k, c / 2 + 1]) / 2
    printf "%s\t%s\t%s\n", k, med, r[k] } }' >"$BENCH_TMP/rows.tsv"

cat <<MD
## The simulator's CLS: a busy function's 24 h

What: each query the CLS source sends (\`translate/cls\`'s forms: the page's count, a page at offset 9,990,
the stats, a batch of 100 response lines, a batch of 100 invocations' log lines) over the last 24 h of a
function running 1 or 10 times a second, in a topic of its own and in a region's shared topic holding 9,999
other functions (\`BenchmarkSearchLog24h\`, in process: planning and answering, no HTTP). **records** is what
the query examined, which the latency model charges (\`cls.latency.perRecord\`). The shared topic's column is
the ratio to the same function's own topic: the time index keeps a query's cost to the function's own records.

Reproduce: \`make bench\` (this section alone: \`.ci/bench/simulator.sh\`, which runs \`$CMD\` $ROUNDS times;
the figures are each query's median).

| query | 1/s, own topic: ms (records) | 10/s, own topic: ms (records) | 1/s, shared topic of 10,000: ms (records) | shared / own (1/s) |
|---|---|---|---|---|
MD
awk -F'\t' '
  { key = $2; if (!(key in seen)) { seen[key] = 1; q[++m] = key }
    col = ($1 ~ /10\/s/) ? 2 : ($1 ~ /10000/) ? 3 : 1; ms[key, col] = $3 / 1e6; rec[key, col] = $4 }
  END { for (i = 1; i <= m; i++) { k = q[i]
    printf "| %s | %.2f (%d) | %.2f (%d) | %.2f (%d) | %.2f |\n", k, ms[k, 1], rec[k, 1], ms[k, 2], rec[k, 2], ms[k, 3], rec[k, 3], ms[k, 3] / ms[k, 1] } }
' "$BENCH_TMP/rows.tsv" | sed 's/_/ /g'
echo
