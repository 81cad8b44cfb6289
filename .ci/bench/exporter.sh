#!/usr/bin/env bash
# Exporter: CPU time and peak heap for 100k, 300k and 1M executions.
# Prints one markdown section. EXPORTER_ROUNDS (default 3) overrides.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/bench/lib.sh

ROUNDS=${EXPORTER_ROUNDS:-3}
CMD="go test ./exporter -run '^\$' -bench '^BenchmarkExporterBacklog\$' -benchtime 1x -count 1 -timeout 30m"
for _ in $(seq "$ROUNDS"); do
  eval "$CMD" | grep '^BenchmarkExporterBacklog/'
done >"$BENCH_TMP/raw.txt"

# round n cpu-s cpu-ns/exec peak-heap peak-live max-seen retained
awk '
  {
    split($1, a, "="); sub(/-[0-9]+$/, "", a[2]); n = a[2]
    if (n == 100000) r++
    for (i = 3; i < NF; i++) v[$(i+1)] = $i
    printf "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r, n, v["cpu-s"], v["cpu-ns/exec"], v["peak-heap-MiB"], v["peak-live-MiB"], v["max-seen-ids"], v["retained-MiB"]
  }
' "$BENCH_TMP/raw.txt" >"$BENCH_TMP/rows.tsv"

cat <<MD
## Exporter: CPU time and memory over 1,000,000 executions

What: \`BenchmarkExporterBacklog\` (exporter/bench_test.go) feeds n executions through the exporter's real
path: HTTP from an in-process fake Mudbase endpoint (httptest; pages of 100 written without
encoding/json so that it costs little of the measured CPU), JSON decoding, de-duplication, the Prometheus
metrics, and one span per execution on the OTel SDK (batching span processor, IDs derived from the
requestId, a no-op span exporter that drops the batches). The executions, one per second, form a backlog
the exporter catches up on a one-day window at a time, each window past Tencent's 10,000-record cap, so
the paging, the narrowing below 10,000 and the overlap's de-duplication all run. CPU time is the
process's (getrusage: exporter, endpoint and harness together); peak heap is sampled every 5 ms from
runtime/metrics (\`/memory/classes/heap/objects:bytes\`, and \`/gc/heap/live:bytes\`, what each GC kept), and
the heap retained after a final GC is what the exporter holds at the end. A peak is a maximum over all the
GC cycles of a run, so it creeps up with the run's length even when the state does not.
Every run checks that exactly n executions were counted.

Reproduce: \`make bench\` (this section alone: \`.ci/bench/exporter.sh\`, which runs \`$CMD\` $ROUNDS times).

| round | executions | CPU s | CPU µs / execution | peak heap MiB | peak live heap MiB | retained after GC MiB | max IDs held for de-duplication |
|---|---|---|---|---|---|---|---|
MD
awk -F'\t' '{printf "| %d | %d | %.2f | %.1f | %.1f | %.1f | %.1f | %d |\n", $1, $2, $3, $4/1000, $5, $6, $8, $7}' "$BENCH_TMP/rows.tsv"
echo
flat() { # column -> min median max of (value at 1M) / (value at 100k), per round
  awk -F'\t' -v c="$1" '$2==100000{b[$1]=$c} $2==1000000{print $c/b[$1]}' "$BENCH_TMP/rows.tsv" | bench_stats
}
read -r hlo hmed hhi <<<"$(flat 5)"
read -r llo lmed lhi <<<"$(flat 6)"
read -r rlo rmed rhi <<<"$(flat 8)"
echo "1M / 100k executions, per round: retained heap **min $rlo, median $rmed, max $rhi**; peak heap min $hlo,"
echo "median $hmed, max $hhi; peak live heap min $llo, median $lmed, max $lhi. The de-duplication set holds the"
echo "IDs of the scan window and the overlap (here a day's 86,400 while catching up; in steady polling, the"
echo "executions of one interval plus the overlap), whatever the total."
echo
