#!/usr/bin/env bash
# A miss through each source: one Mudbase request's page and stats, through
# the GetFunctionLogs source and through the CLS source, against the
# simulator over loopback. Prints one markdown section.
# BENCH_ROUNDS (default 5) overrides the number of rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/bench/lib.sh

ROUNDS=${BENCH_ROUNDS:-5}
CMD="go test ./upstream -run '^\$' -bench '^BenchmarkMissPerSource\$' -benchtime 2s -count 1"
# One go test per round: each round runs both sources back to back.
for _ in $(seq "$ROUNDS"); do
  eval "$CMD" | grep '^BenchmarkMissPerSource/'
done >"$BENCH_TMP/raw.txt"

# round gfl-ns cls-ns gfl-calls cls-calls
awk '
  /getFunctionLogs/ { g = $3; gc = $5 }
  /\/cls/           { printf "%d\t%s\t%s\t%s\t%s\n", ++n, g, $3, gc, $5 }
' "$BENCH_TMP/raw.txt" >"$BENCH_TMP/rows.tsv"

cat <<MD
## A miss through each source: GetFunctionLogs vs CLS

What: one cache miss of a Mudbase request, its page (20 executions) and its stats, through the
\`getFunctionLogs\` source and through the \`cls\` source (\`upstream.BenchmarkMissPerSource\`), against the
simulator over loopback HTTP, with every budget set high so that only the source's own work and the
simulator's answers are timed. Upstream calls per request are exact; the time is mostly the simulator's: its CLS
side rebuilds every log record of the window for each query and runs the SQL over them, which says nothing
of how fast Tencent's CLS answers. What the CLS source buys is exact stats over all executions, and reading the
data source real accounts have.

Reproduce: \`make bench\` (this section alone: \`.ci/bench/sources.sh\`, which runs \`$CMD\` $ROUNDS times).

| round | getFunctionLogs ms/request | cls ms/request | cls / getFunctionLogs | getFunctionLogs calls/request | cls calls/request |
|---|---|---|---|---|---|
MD
awk -F'\t' '{printf "| %d | %.2f | %.2f | %.2f | %s | %s |\n", $1, $2/1e6, $3/1e6, $3/$2, $4, $5}' "$BENCH_TMP/rows.tsv"
echo
read -r lo med hi <<<"$(awk -F'\t' '{print $3/$2}' "$BENCH_TMP/rows.tsv" | bench_stats)"
echo "cls / getFunctionLogs time per request over $ROUNDS rounds: **min $lo, median $med, max $hi**. Calls per"
echo "request: getFunctionLogs 3 (the page, then the stats' two: all executions and the successful ones, spending"
echo "the 5/s budget), cls 4 (the page's total and its report lines at once, then its return-value lines, then one"
echo "SQL query for the stats, within SearchLog's 15 concurrent queries per topic and 10,000 per second)."
echo
