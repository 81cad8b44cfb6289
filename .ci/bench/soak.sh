#!/usr/bin/env bash
# make soak: SOAK_DURATION seconds (default 600) of steady mixed load on
# `mudscf demo` (simulator, proxy and exporter in one process) on loopback,
# sampling the process's RSS, goroutines and open file descriptors every
# 10 s. Writes the Soak section of BENCHMARKS.md (between its markers) and
# prints it. SOAK_PORT_BASE (default 29000) moves the ports.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/bench/lib.sh

DURATION=${SOAK_DURATION:-600}
BASE=${SOAK_PORT_BASE:-29000}
API=127.0.0.1:$BASE
ADMIN=127.0.0.1:$((BASE + 1))
SIM=127.0.0.1:$((BASE + 2))
EXP=127.0.0.1:$((BASE + 3))
SECRET=mudscf-soak-secret-0123456789abcdef0123
command -v jq >/dev/null || { echo "soak.sh: needs jq (apt-get install jq)" >&2; exit 1; }
bench_build
B=$BENCH_TMP

bench_start demo "$B/bin/mudscf" demo --addr "$API" --admin-addr "$ADMIN" --sim-addr "$SIM" --exporter-addr "$EXP" --jwt-secret "$SECRET"
DEMO=$BENCH_LAST_PID
bench_wait "http://$ADMIN/readyz"
TOKEN=$(MUDSCF_JWT_SECRET=$SECRET "$B/bin/mudscf" token --sub usr_morgan_de --ttl 2h)
BAD=$(MUDSCF_JWT_SECRET=not-the-demo-secret-0123456789abcdef "$B/bin/mudscf" token --sub usr_morgan_de --ttl 2h)
P=http://$API/api/functions/projects/proj_AsIu33tafZGe/functions
FNS=(MVPQVsgjuHBlvWFB 65a4f0c2e4b0a1b2c3d4e5f1 65a4f0c2e4b0a1b2c3d4e5f2 65a4f0c2e4b0a1b2c3d4e5f3)
urls() { local f; for f in "${FNS[@]}"; do printf '"%s/%s/logs%s"\n' "$P" "$f" "$1"; done | paste -sd, -; }
cat >"$B/mix.json" <<JSON
[
 {"name":"hit","weight":84,"header":{"Authorization":"Bearer $TOKEN"},"urls":[$(urls "?limit=20")]},
 {"name":"miss","weight":1,"header":{"Authorization":"Bearer $TOKEN"},"urls":[$(urls "?limit=20&stats=false")],"varyWindow":true},
 {"name":"401","weight":5,"header":{"Authorization":"Bearer $BAD"},"urls":[$(urls "?limit=20")]},
 {"name":"404","weight":5,"header":{"Authorization":"Bearer $TOKEN"},"urls":["$P/65a4f0c2e4b0a1b2c3d4e5ff/logs"]},
 {"name":"400","weight":5,"header":{"Authorization":"Bearer $TOKEN"},"urls":[$(urls "?limit=abc")]}
]
JSON
"$B/bin/benchload" -mix "$B/mix.json" -clients 200 -rate 200 -duration "${DURATION}s" >"$B/load.json" &
LOAD=$!
BENCH_PIDS+=("$LOAD")

sample() { # elapsed -> "elapsed rss-KiB goroutines fds heap-inuse-bytes cache-bytes"
  local rss fds
  rss=$(awk '/^VmRSS:/{print $2}' "/proc/$DEMO/status")
  fds=$(find "/proc/$DEMO/fd" -mindepth 1 -maxdepth 1 | wc -l)
  curl -s "http://$ADMIN/metrics" | awk -v t="$1" -v rss="$rss" -v fds="$fds" '
    /^go_goroutines / { g = $2 } /^go_memstats_heap_inuse_bytes / { h = $2 } /^mudscf_cache_size_bytes / { c = $2 }
    END { printf "%s\t%s\t%d\t%s\t%.0f\t%.0f\n", t, rss, g, fds, h, c }'
}
: >"$B/samples.tsv"
start=$(date +%s)
# Samples while the load runs only: one after it would show the idle
# process, not the loaded one.
while sleep 10 && kill -0 "$LOAD" 2>/dev/null; do
  sample $(( $(date +%s) - start )) >>"$B/samples.tsv"
done
wait "$LOAD"
# Ten seconds after the load: what is left once the requests in flight
# are done (a leak of goroutines or descriptors would stay).
sleep 10
sample after >"$B/idle.tsv"
bench_stop "$DEMO"

# The verdict compares the second half of the run with the first: flat if
# the RSS peaks at most 10% higher, and the median goroutines and open
# descriptors (whose peaks follow momentary queues) are at most 10% or 10
# higher.
verdict=$(awk -F'\t' '
  function median(a, lo, hi,   n, i, j, t, v) {
    n = 0; for (i = lo; i <= hi; i++) v[++n] = a[i]
    for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j > 0 && v[j] > t; j--) v[j+1] = v[j]; v[j+1] = t }
    return (n % 2) ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2
  }
  function grew(x1, x2) { return x2 > x1 + ((x1 / 10 > 10) ? x1 / 10 : 10) }
  {r[NR]=$2; g[NR]=$3; f[NR]=$4}
  END {
  h = int(NR/2)
  for (i = 1; i <= NR; i++) {
    if (i <= h) r1 = (r[i] > r1) ? r[i] : r1; else r2 = (r[i] > r2) ? r[i] : r2
  }
  g1 = median(g, 1, h); g2 = median(g, h+1, NR); f1 = median(f, 1, h); f2 = median(f, h+1, NR)
  ok = (r2 <= r1 * 1.10) && !grew(g1, g2) && !grew(f1, f2)
  printf "%s: peak RSS %.1f MiB in the first half, %.1f MiB in the second; median goroutines %d then %d; median open fds %d then %d", ok ? "**Flat**" : "**Growing**", r1/1024, r2/1024, g1, g2, f1, f2
}' "$B/samples.tsv")

{
  echo "<!-- soak:begin -->"
  cat <<MD
## Soak

What: \`make soak\` (\`.ci/bench/soak.sh\`) runs \`mudscf demo\` (simulator, proxy and exporter in one process) on
loopback and holds $DURATION s of steady mixed load from \`cmd/benchload\`: 200 open-loop clients, 200
requests/s in all — 84% default-window page+stats requests over the four demo functions (cache hits, and
the refresh when the window moves), 1% misses (one of the last day's 23 whole-hour windows at random: 92
keys, each usually expired when asked again, so they spend the 5/s budget and may get 429s), 5% 401s (a token signed with another
secret), 5% 404s (an unknown function), 5% 400s (\`limit=abc\`) — while the demo's exporter polls every 10 s.
Every 10 s it samples the process's RSS (\`VmRSS\` in /proc/PID/status), goroutines (\`go_goroutines\` from the
proxy's /metrics) and open file descriptors (/proc/PID/fd), and, to explain the RSS, the Go heap in use and the
bytes in the proxy's cache (\`mudscf_cache_size_bytes\`). The cache keeps an entry for stale answers up to
\`staleMaxAge\` (10 min) within \`maxBytes\` (64 MiB), and the simulator keeps 10 minutes of per-second ground
truth. The exporter's polls ask for ever-new windows (from its cursor to now), each a new key, so the cache
grows for the first 10 minutes of any run, until its oldest entries leave, within \`maxBytes\` in all.

Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(go version | cut -d' ' -f3).

Answers: $(jq -r '[.byClass | to_entries[] | "\(.key): \(.value | to_entries | map("\(.value) × \(.key)") | join(", "))"] | join("; ")' "$B/load.json");
$(jq -r '"\(.errors) without an answer; client latency p50 \(.latencyMs.p50) ms, p99 \(.latencyMs.p99) ms."' "$B/load.json")

$verdict. Goroutines and descriptors under load are mostly requests in flight (queued for the budget
at each window step); 10 s after the load stopped: $(awk -F'\t' '{printf "%d goroutines, %d open fds, RSS %.1f MiB", $3, $4, $2/1024}' "$B/idle.tsv").

| s | RSS MiB | goroutines | open fds | Go heap in use MiB | proxy cache MiB |
|---|---|---|---|---|---|
MD
  awk -F'\t' '{printf "| %d | %.1f | %d | %d | %.1f | %.1f |\n", $1, $2/1024, $3, $4, $5/1048576, $6/1048576}' "$B/samples.tsv"
  echo
  echo "<!-- soak:end -->"
} >"$B/section.md"

# Replace the section between its markers, or append it.
if grep -q '<!-- soak:begin -->' BENCHMARKS.md; then
  awk -v f="$B/section.md" '
    /<!-- soak:begin -->/ { while ((getline l < f) > 0) print l; skip = 1; next }
    /<!-- soak:end -->/   { skip = 0; next }
    !skip' BENCHMARKS.md >"$B/BENCHMARKS.md"
else
  { cat BENCHMARKS.md; echo; cat "$B/section.md"; } >"$B/BENCHMARKS.md"
fi
cp "$B/BENCHMARKS.md" BENCHMARKS.md
cat "$B/section.md"
