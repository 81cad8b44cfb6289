#!/usr/bin/env bash
# Exporter at scale: N = 100, 1,000 and 10,000 functions per source, both
# sources side by side in each run (cmd/benchscale). Prints one markdown
# section. SCALE_NS, SCALE_RUN, SCALE_SETTLE and SCALE_LATENCY override.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/bench/lib.sh

NS=${SCALE_NS:-100 1000 10000}
RUN=${SCALE_RUN:-4m}
SETTLE=${SCALE_SETTLE:-3m}
LATENCY=${SCALE_LATENCY:-300ms}
bench_build
go build -o "$BENCH_TMP/bin/benchscale" ./cmd/benchscale
for n in $NS; do
  echo "bench: scale n=$n" >&2
  "$BENCH_TMP/bin/benchscale" -bin "$BENCH_TMP/bin/mudscf" -n "$n" -run "$RUN" -settle "$SETTLE" -cls-latency "$LATENCY" \
    >"$BENCH_TMP/scale-$n.json"
done

cat <<MD
## Exporter at scale: 100, 1,000 and 10,000 functions, GetFunctionLogs and CLS side by side

What: \`cmd/benchscale\` starts, as processes of their own, one simulator with N functions in namespace \`gfl\`
and N in namespace \`cls\` (every function of the region in its one shared CLS topic, as SCF delivers by
default; one execution per function every 10 s; a SearchLog query takes $LATENCY, the simulator's latency
model), one proxy serving them as two projects (\`getFunctionLogs\` and \`cls\`, one account: GetFunctionLogs's
5 calls per second), and one exporter per project at the example settings (30 s interval, 2 min overlap,
\`concurrency: 5\`, \`projectPageSize: 5000\`, the proxy's \`topicShare\` of 3). The exporters are scraped
every 13 s as Prometheus scrapes (OpenMetrics, gzip), so their CPU includes their /metrics. The functions run
for $RUN, then stop; the figures below are of the steady state (after the first minute, until the stop), then
the tool waits up to $SETTLE for every function's count to reach the simulator's ground truth.

- **lag**: executions not yet exported, in seconds of the function's run (10 s an execution), over 20 sampled
  functions per source at every scrape: the ground truth's count minus the exported count, times 10 s;
- **cursor age**: the largest \`mudscf_exporter_cursor_age_seconds\` of any function at any scrape;
- **calls/s**: the upstream calls of the source's API (GetFunctionLogs; SearchLog) the simulator admitted;
- **topic**: the most SearchLog queries the shared topic ran at once (the simulator's count);
- **CPU** and **RSS**: the exporter process's (\`/proc\`: CPU time over wall time; resident size at the end,
  and its peak, VmHWM);
- **exact**: functions whose final count equals the ground truth (under: fewer; over: more, which would be a
  double count), and how long after the stop the last one got there.

Reproduce: \`make bench\` (this section alone: \`.ci/bench/scale.sh\`).

| N | source | lag p50 / max s | cursor age max s | calls/s | topic | CPU cores | RSS / peak MiB | exact (under, over) | settled after s |
|---|---|---|---|---|---|---|---|---|---|
MD
for n in $NS; do
  jq -r --arg n "$n" '.sources[] | "| \($n) | \(.source) | \(.LagP50|floor) / \(.LagMax|floor) | \(.CursorAgeMax*10|floor/10) | \(.CallsPerSecond*100|floor/100) | \(if .source == "cls" then .TopicConcurrencyMax else "–" end) | \(.CPUCores*1000|floor/1000) | \(.RSSMiB|floor) / \(.RSSPeakMiB|floor) | \(.Exact) (\(.Under), \(.Over)) | \(if .SettledAfter > 0 then (.SettledAfter|floor|tostring) else "not within the wait" end) |"' \
    "$BENCH_TMP/scale-$n.json"
done
echo
echo "The simulator and the proxy (both sources together), CPU cores in the steady state:"
for n in $NS; do
  jq -r --arg n "$n" '"N = \($n): simulator \(.SimulatorCores*100|floor/100), proxy \(.ProxyCores*100|floor/100)."' "$BENCH_TMP/scale-$n.json"
done
echo
echo "GetFunctionLogs, functions one account serves per interval: computed by the exporter"
echo "(\`mudscf_exporter_function_capacity\`: 5 calls/s × 30 s ÷ calls per turn) against measured (functions whose"
echo "last successful turn ended within the last interval, averaged over the steady state's scrapes; all N when"
echo "N is below it):"
for n in $NS; do
  jq -r --arg n "$n" '.sources[] | select(.source == "getFunctionLogs") | "N = \($n): computed \(.CapacityComputed), measured \(.CapacityMeasured*10|floor/10)" + (if .CapacityComputed > 0 and .CapacityMeasured + 0.5 < ($n|tonumber) then " (measured / computed \(.CapacityMeasured/.CapacityComputed*100|floor/100))." else "." end)' \
    "$BENCH_TMP/scale-$n.json"
done
echo
