# Shared by the benchmark scripts: build once, start servers on loopback,
# wait for them, stop exactly the processes started here.
# shellcheck shell=bash

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mudscf-bench.XXXXXX")
BENCH_PIDS=()

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${BENCH_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT

# bench_build puts mudscf and benchload into $BENCH_TMP/bin.
bench_build() {
  mkdir -p "$BENCH_TMP/bin"
  go build -o "$BENCH_TMP/bin/mudscf" ./cmd/mudscf
  go build -o "$BENCH_TMP/bin/benchload" ./cmd/benchload
}

# bench_start LOGNAME CMD... starts CMD in the background; its PID is in
# $BENCH_LAST_PID and stopped by bench_stop or at exit.
bench_start() {
  local name=$1
  shift
  "$@" >"$BENCH_TMP/$name.log" 2>&1 &
  BENCH_LAST_PID=$!
  BENCH_PIDS+=("$BENCH_LAST_PID")
}

bench_stop() {
  local pid=$1
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# bench_wait URL waits (at most 20 s) until URL answers with any HTTP status.
bench_wait() {
  local i
  for i in $(seq 200); do
    if curl -s -o /dev/null --max-time 1 "$1"; then
      return 0
    fi
    sleep 0.1
  done
  echo "bench: $1 did not come up" >&2
  return 1
}

# bench_stats prints "min median max" of the numbers on stdin.
bench_stats() {
  sort -g | awk '{v[NR]=$1} END {
    if (NR == 0) { print "- - -"; exit }
    m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
    printf "%.2f %.2f %.2f\n", v[1], m, v[NR]
  }'
}
