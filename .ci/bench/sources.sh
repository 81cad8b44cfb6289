#!/usr/bin/env bash
# A miss through each source: one Mudbase request's page and stats, through
# the GetFunctionLogs source and through the CLS source (with and without
# the log text), against the simulator over loopback with every call
# answered after the same fixed latency. Prints one markdown section.
# BENCH_ROUNDS (default 5) overrides the number of rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/bench/lib.sh

ROUNDS=${BENCH_ROUNDS:-5}
CMD="go test ./internal/logsource -run '^\$' -bench '^BenchmarkMissPerSource\$' -benchtime 20x -count 1"
# One go test per round: each round runs every source back to back.
for _ in $(seq "$ROUNDS"); do
  eval "$CMD" | grep '^BenchmarkMissPerSource/'
done >"$BENCH_TMP/raw.txt"

# round gfl-ns cls-ns clsnolog-ns gfl-calls cls-calls clsnolog-calls
awk '
  /getFunctionLogs/ { g = $3; gc = $5 }
  /\/cls-log=false/ { printf "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", ++n, g, c, $3, gc, cc, $5; next }
  /\/cls-/          { c = $3; cc = $5 }
' "$BENCH_TMP/raw.txt" >"$BENCH_TMP/rows.tsv"

cat <<MD
## A miss through each source: GetFunctionLogs vs CLS

What: one cache miss of a Mudbase request, its page (20 executions) and its stats, through the
\`getFunctionLogs\` source and through the \`cls\` source with and without the log text
(\`logsource.BenchmarkMissPerSource\`), against the simulator over loopback HTTP, every call answered after the
same fixed latency of 100 ms (the simulator's latency model; a real account's latencies differ by API and load),
every budget set high. Calls per request are exact. The time is decided by how many calls are made one after
another: getFunctionLogs makes its three in a row (the page, then the stats' two); cls makes the page's count
and report lines together, then its lines (return values and log text: one call per 200 executions, and with
the log text up to three), then the stats' one SQL query. What the CLS source buys is exact stats over all
executions, and reading the data source real accounts have.

Reproduce: \`make bench\` (this section alone: \`.ci/bench/sources.sh\`, which runs \`$CMD\` $ROUNDS times).

| round | getFunctionLogs ms/request | cls ms/request | cls, log=false ms/request | cls / getFunctionLogs | calls/request: getFunctionLogs, cls, cls log=false |
|---|---|---|---|---|---|
MD
awk -F'\t' '{printf "| %d | %.1f | %.1f | %.1f | %.2f | %s, %s, %s |\n", $1, $2/1e6, $3/1e6, $4/1e6, $3/$2, $5, $6, $7}' "$BENCH_TMP/rows.tsv"
echo
read -r lo med hi <<<"$(awk -F'\t' '{print $3/$2}' "$BENCH_TMP/rows.tsv" | bench_stats)"
echo "cls / getFunctionLogs time per request over $ROUNDS rounds: **min $lo, median $med, max $hi**."
echo
