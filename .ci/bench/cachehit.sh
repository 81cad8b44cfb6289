#!/usr/bin/env bash
# The "Cache-hit path" section of BENCHMARKS.md, printed as markdown on
# stdout (progress goes to stderr). Over loopback, with Debian's wrk, it
# measures the Mudbase route on a warm cache in three servers, alternating
# them round by round so that a noisy machine hits all alike:
#   mudscf     mudscf proxy (in front of mudscf simulate), valid JWT, cache hit
#   bare Echo  cmd/benchserve: the same bytes and headers from a bare Echo handler
#   nginx      Debian's nginx, proxy_cache in front of the same mudscf proxy
# then the in-process go benchmark (allocations) and the hit path's profile.
# Every server it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}

log() { echo "cachehit: $*" >&2; }
fail() { echo "cachehit: FAILED: $*" >&2; exit 1; }

for tool in wrk nginx taskset curl go awk ss; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (Debian: apt-get install wrk nginx util-linux curl)"
done
[ "$(nproc)" -ge 2 ] || fail "needs 2 cores: one for the servers, one for wrk"

tmp=${BENCH_TMP:-$(mktemp -d)}
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${BENCH_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# Free loopback ports, so that a server of someone else's is never measured.
port=${BENCH_BASE_PORT:-21080} # under the ephemeral range (32768-60999), where clients take ports
for name in sim_port api_port admin_port echo_port nginx_port; do
  while [ -n "$(ss -Htan "sport = :$port")" ]; do port=$((port + 1)); done
  printf -v "$name" %d "$port"
  port=$((port + 1))
done

log "building"
go build -o "$tmp/mudscf" ./cmd/mudscf
go build -o "$tmp/benchserve" ./cmd/benchserve

# Servers are started as "taskset ... &" directly, never through a shell
# function: $! must be the server itself for the cleanup to stop it.

wait_http() { # url: until it answers at all, at most 10 s
  for _ in $(seq 100); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  fail "nothing answers at $1"
}

# The simulator and the proxy, with caches that stay fresh for the whole run.
export MUDSCF_JWT_SECRET MUDSCF_BENCH_SECRET_ID=AKIDbenchmark00000000000000000000000 MUDSCF_BENCH_SECRET_KEY=benchmark-secret-key-0000000000000
MUDSCF_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$tmp/proxy.yaml" <<YAML
listen: 127.0.0.1:$api_port
adminListen: 127.0.0.1:$admin_port
logLevel: info
upstream: {endpoint: "127.0.0.1:$sim_port", scheme: http}
jwt: {algorithms: [HS256], secretEnv: MUDSCF_JWT_SECRET}
cache: {pageTTL: 1h, statsTTL: 1h}
projects:
  proj_AsIu33tafZGe:
    region: ap-guangzhou
    credentials: {secretIdEnv: MUDSCF_BENCH_SECRET_ID, secretKeyEnv: MUDSCF_BENCH_SECRET_KEY}
    readers: {subjects: [usr_morgan_de]}
    functions: {MVPQVsgjuHBlvWFB: {name: APITest}}
YAML
MUDSCF_SIM_SECRET_KEY=$MUDSCF_BENCH_SECRET_KEY taskset -c "$SERVER_CPU" "$tmp/mudscf" simulate --addr "127.0.0.1:$sim_port" \
  --secret-id "$MUDSCF_BENCH_SECRET_ID" >"$tmp/sim.log" 2>&1 &
pids+=($!)
taskset -c "$SERVER_CPU" "$tmp/mudscf" proxy --config "$tmp/proxy.yaml" >"$tmp/proxy.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$sim_port/"
wait_http "http://127.0.0.1:$admin_port/readyz"
token=$("$tmp/mudscf" token --sub usr_morgan_de --ttl 24h)
auth="Authorization: Bearer $token"

# A fixed window, so that every request of the run asks for the same key.
until=$(date -u +%Y-%m-%dT%H:%M:%SZ)
since=$(date -u -d "$until - 1 hour" +%Y-%m-%dT%H:%M:%SZ)
route="/api/functions/projects/proj_AsIu33tafZGe/functions/MVPQVsgjuHBlvWFB/logs?limit=20&since=$since&until=$until"

header_of() { # name file: the value of a response header in a curl -D dump
  awk -v name="$1" 'BEGIN{IGNORECASE=1} tolower($1)==tolower(name)":" {sub(/\r$/, "", $2); print $2}' "$2"
}

log "warming mudscf"
curl -sf -o /dev/null -H "$auth" "http://127.0.0.1:$api_port$route" || fail "mudscf's first answer is not a 200"
curl -sf -D "$tmp/mudscf.h" -o "$tmp/body.json" -H "$auth" "http://127.0.0.1:$api_port$route"
[ "$(header_of X-Cache "$tmp/mudscf.h")" = HIT ] || fail "mudscf's second answer is not a cache hit"

taskset -c "$SERVER_CPU" "$tmp/benchserve" --addr "127.0.0.1:$echo_port" --body "$tmp/body.json" >"$tmp/echo.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$echo_port/"
curl -sf -o "$tmp/echo.json" "http://127.0.0.1:$echo_port$route"
cmp -s "$tmp/body.json" "$tmp/echo.json" || fail "bare Echo does not answer mudscf's bytes"

# nginx as a caching reverse proxy in front of mudscf, set up for
# throughput; one worker, pinned like the others.
mkdir -p "$tmp/nginx/cache" "$tmp/nginx/temp"
# The worker runs as the current user (nginx would otherwise drop root to
# nobody, who cannot write the cache under our temporary directory).
cat >"$tmp/nginx/nginx.conf" <<NGINX
user $(id -un) $(id -gn);
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  client_body_temp_path $tmp/nginx/temp/body;
  proxy_temp_path $tmp/nginx/temp/proxy;
  fastcgi_temp_path $tmp/nginx/temp/fastcgi;
  uwsgi_temp_path $tmp/nginx/temp/uwsgi;
  scgi_temp_path $tmp/nginx/temp/scgi;
  proxy_cache_path $tmp/nginx/cache levels=1:2 keys_zone=mudscf:10m max_size=256m inactive=1h use_temp_path=off;
  upstream mudscf { server 127.0.0.1:$api_port; keepalive 16; }
  server {
    listen 127.0.0.1:$nginx_port;
    location /api/ {
      proxy_pass http://mudscf;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache mudscf;
      proxy_cache_key "\$request_uri|\$http_authorization";
      proxy_cache_valid 200 1h;
      proxy_ignore_headers Cache-Control Expires Set-Cookie X-Accel-Expires Vary;
      add_header X-Upstream-Cache \$upstream_cache_status always;
    }
  }
}
NGINX
taskset -c "$SERVER_CPU" nginx -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
wait_http "http://127.0.0.1:$nginx_port/"
curl -sf -o /dev/null -H "$auth" "http://127.0.0.1:$nginx_port$route" || fail "nginx's first answer is not a 200"
curl -sf -D "$tmp/nginx.h" -o "$tmp/nginx.json" -H "$auth" "http://127.0.0.1:$nginx_port$route"
[ "$(header_of X-Upstream-Cache "$tmp/nginx.h")" = HIT ] || fail "nginx's second answer is not a cache HIT"
cmp -s "$tmp/body.json" "$tmp/nginx.json" || fail "nginx does not answer mudscf's bytes"

# Prometheus counters of the proxy, summed over their labels.
metric_sum() { # metric-name label-filter
  curl -sf "http://127.0.0.1:$admin_port/metrics" | awk -v m="$1" -v f="$2" 'index($1, m"{") == 1 && index($1, f) {s += $2} END {printf "%.0f\n", s}'
}

# wrk_run side url: prints "req/s p50-ms p99-ms"; any non-2xx answer or
# socket error fails the run.
wrk_run() {
  local out
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$auth" "$2")
  if grep -qE "Non-2xx|Socket errors" <<<"$out"; then
    echo "$out" >&2
    fail "$1: non-2xx answers or socket errors"
  fi
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    $1 == "50%" {p50 = ms($2)} $1 == "99%" {p99 = ms($2)} $1 == "Requests/sec:" {rps = $2}
    END {printf "%.0f %.3f %.3f\n", rps, p50, p99}' <<<"$out"
}

url_mudscf="http://127.0.0.1:$api_port$route"
url_echo="http://127.0.0.1:$echo_port$route"
url_nginx="http://127.0.0.1:$nginx_port$route"

log "warming the three servers under load (1 s each)"
for url in "$url_mudscf" "$url_echo" "$url_nginx"; do DURATION=1s wrk_run warm-up "$url" >/dev/null; done

results=()
for round in $(seq "$ROUNDS"); do
  log "round $round of $ROUNDS"
  misses=$(metric_sum mudscf_cache_requests_total 'result="miss"')
  m=$(wrk_run mudscf "$url_mudscf")
  [ "$(metric_sum mudscf_cache_requests_total 'result="miss"')" = "$misses" ] || fail "mudscf missed its cache during the round"
  e=$(wrk_run "bare Echo" "$url_echo")
  served=$(metric_sum mudscf_http_requests_total '')
  n=$(wrk_run nginx "$url_nginx")
  [ "$(metric_sum mudscf_http_requests_total '')" = "$served" ] || fail "nginx passed requests to mudscf: not every answer was a cache HIT"
  results+=("$round $m $e $n")
done

log "in-process benchmark ($ROUNDS rounds)"
inproc=()
for round in $(seq "$ROUNDS"); do
  inproc+=("$round $(go test ./proxy -run '^$' -bench CacheHit -benchtime 1s -count 1 -benchmem |
    awk '/bare-echo/ {b = $3; bb = $5; ba = $7} /mudscf-/ {m = $3; mb = $5; ma = $7} END {print b, m, ba, ma, bb, mb}')")
done
log "profiling the hit path"
go test ./proxy -run '^$' -bench 'CacheHit/mudscf' -benchtime 2s -count 1 -cpuprofile "$tmp/cpu.out" -o "$tmp/proxy.test" >/dev/null
profile=$(go tool pprof -top -cum -focus 'echo/v4.\(\*Echo\).ServeHTTP' "$tmp/proxy.test" "$tmp/cpu.out" 2>/dev/null |
  awk '/flat%/ {on = 1; next} on && !/testing\.|BenchmarkCacheHit|runtime\.(mcall|park|gosched|systemstack)/ && n++ < 25')

# Ratio summaries: min, median, max of one column of numbers.
stats3() { sort -g | awk '{v[NR] = $1} END {printf "min %.2f, median %.2f, max %.2f", v[1], (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[NR]}'; }
ratio_col() { printf '%s\n' "${results[@]}" | awk -v a="$1" -v b="$2" '{printf "%.4f\n", $a / $b}'; }
vs_echo=$(ratio_col 2 5 | stats3)
vs_nginx=$(ratio_col 2 8 | stats3)
p99_vs_echo=$(ratio_col 4 7 | stats3)
p99_vs_nginx=$(ratio_col 4 10 | stats3)
inproc_ratio=$(printf '%s\n' "${inproc[@]}" | awk '{printf "%.4f\n", $2 / $3}' | stats3)
read -r _ _ _ echo_allocs mudscf_allocs echo_bytes mudscf_bytes <<<"${inproc[-1]}"

cat <<MD
## Cache-hit path

**What.** \`GET $route\`
with a valid HS256 JWT, answered from a warm cache: ~$(($(wc -c <"$tmp/body.json") / 1000)) KB of JSON (20 executions and the
window's stats, both cache hits). Three servers answer the same bytes on loopback:

- **mudscf**: \`mudscf proxy\` (log level info, so hits are not logged; no OTEL_* set, so no tracing) in front of
  \`mudscf simulate\`; page and stats TTLs of 1 h so that the whole run is hits. The route's whole chain runs: request
  ID, metrics, recover, JWT check (verified-token cache), parameter validation (memoized plan), two cache lookups.
- **bare Echo** (\`cmd/benchserve\`): the ceiling of this stack — a bare Echo handler on the same route writing the
  same bytes with the same headers (Content-Type, Content-Length, X-Request-Id of the same length, X-Cache, Age).
- **nginx** (Debian's $(nginx -v 2>&1 | sed 's/.*: //')): \`proxy_cache\` in front of the same mudscf proxy, one worker, \`access_log off\`,
  \`sendfile on\`, \`tcp_nopush on\`, \`tcp_nodelay on\`, \`keepalive_requests 1000000\` (wrk's connections are never
  closed on it, as Go never closes them), upstream keepalive, \`proxy_cache_valid 200 1h\`, \`proxy_ignore_headers\`
  for the upstream's caching headers. **The cache key is \`\$request_uri|\$http_authorization\`**: nginx does not verify
  JWTs, so a key without the token would hand a cached answer to any request, even one without a token; with it,
  only the exact token mudscf verified is served from nginx's cache (until \`proxy_cache_valid\`, which outlives a
  token's \`exp\`: a real deployment would have to bound it). Every nginx answer measured is a cache HIT: the proxy's
  request counter does not move during nginx's rounds (the script fails otherwise), and a probe before the rounds
  sees \`X-Upstream-Cache: HIT\` (\`\$upstream_cache_status\`).

**How.** Each server runs pinned to CPU $SERVER_CPU (\`taskset -c $SERVER_CPU\`; Go then runs with GOMAXPROCS=1) and wrk to
CPU $LOAD_CPU, the same for every side, so that load generator and server never compete for a core and each server gets exactly one.
Each round runs \`taskset -c $LOAD_CPU wrk -t1 -c$CONNECTIONS -d$DURATION --latency -H 'Authorization: Bearer …' URL\` against mudscf,
bare Echo and nginx, one after the other; $ROUNDS rounds. wrk is Debian's (closed loop: its latencies do not
correct for coordinated omission, so p99 is compared between sides measured alike, not as an absolute SLO). Any
non-2xx answer or socket error fails the run, and mudscf's cache-miss counter must not move during its rounds.

Reproduce: \`make bench\` (runs \`.ci/bench/cachehit.sh\`; \`ROUNDS\`, \`DURATION\`, \`CONNECTIONS\`, \`SERVER_CPU\`, \`LOAD_CPU\`
override).

| round | mudscf req/s | p50 / p99 ms | bare Echo req/s | p50 / p99 ms | nginx req/s | p50 / p99 ms | mudscf / bare Echo | mudscf / nginx |
|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${results[@]}" | awk '{printf "| %d | %d | %.3f / %.3f | %d | %.3f / %.3f | %d | %.3f / %.3f | %.2f | %.2f |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $2 / $5, $2 / $8}')

Throughput, mudscf / bare Echo: **$vs_echo** (goal ≥ 0.90).
Throughput, mudscf / nginx: **$vs_nginx** (goal ≥ 1.00).
p99 latency, mudscf / bare Echo: $p99_vs_echo; mudscf / nginx: $p99_vs_nginx (lower is better).

### In process: the handler chain alone

\`go test ./proxy -run '^\$' -bench CacheHit -benchtime 1s -count 1 -benchmem\`, $ROUNDS times: both sides in one process,
\`b.RunParallel\` on both cores, writing into a byte-counting ResponseWriter (no network, no body copy), so this is
the handler chain's own cost: what mudscf adds on top of Echo.

| round | bare Echo ns/op | mudscf ns/op | mudscf / bare Echo throughput |
|---|---|---|---|
$(printf '%s\n' "${inproc[@]}" | awk '{printf "| %d | %d | %d | %.2f |\n", $1, $2, $3, $2 / $3}')

Throughput ratio: **$inproc_ratio**. Per request: mudscf $mudscf_allocs allocations, $mudscf_bytes B; bare Echo
$echo_allocs allocations, $echo_bytes B (both including the benchmark's own request clone).

Where mudscf's time goes (\`go test ./proxy -run '^\$' -bench CacheHit/mudscf -cpuprofile cpu.out\`, then
\`go tool pprof -top -cum -focus 'Echo).ServeHTTP'\`; cumulative, as a share of all samples):

\`\`\`
$profile
\`\`\`
MD
