#!/usr/bin/env bash
# Budget efficiency: mudscf vs nginx (proxy_cache + proxy_cache_lock +
# limit_req) in front of the SCF simulator, 1,000 open-loop clients over a
# Zipf mix of 100 functions. Prints one markdown section.
# BENCH_DURATION (s, default 60), BENCH_ROUNDS (default 5), BENCH_CLIENTS
# (1000), BENCH_RATE (requests/s, 1000) and BENCH_PORT_BASE (28000) override.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/bench/lib.sh

DURATION=${BENCH_DURATION:-60}
ROUNDS=${BENCH_ROUNDS:-5}
CLIENTS=${BENCH_CLIENTS:-1000}
RATE=${BENCH_RATE:-1000}
BASE=${BENCH_PORT_BASE:-28000}
SIM=127.0.0.1:$BASE
PROXY=127.0.0.1:$((BASE + 80))
ADMIN=127.0.0.1:$((BASE + 90))
NGINX=127.0.0.1:$((BASE + 81))
NGINX_BUDGET=127.0.0.1:$((BASE + 82))
ACCOUNT=AKIDmudscfSimulator0001

command -v nginx >/dev/null || { echo "budget.sh: needs Debian's nginx (apt-get install nginx)" >&2; exit 1; }
command -v jq >/dev/null || { echo "budget.sh: needs jq (apt-get install jq)" >&2; exit 1; }
bench_build
B=$BENCH_TMP

# 100 functions, each running every 20 s.
{
  echo "functions:"
  for i in $(seq -f %03g 0 99); do echo "  - {name: f$i, ratePerSecond: 0.05}"; done
} >"$B/sim.yaml"

export MUDSCF_BENCH_JWT_SECRET=mudscf-benchmark-secret-0123456789abcdef
export MUDSCF_BENCH_SECRET_ID=$ACCOUNT
export MUDSCF_BENCH_SECRET_KEY=mudscf-simulator-secret-key
cat >"$B/proxy.yaml" <<YAML
listen: "$PROXY"
adminListen: "$ADMIN"
logLevel: error
upstream: {endpoint: "$SIM", scheme: http}
jwt: {algorithms: [HS256], secretEnv: MUDSCF_BENCH_JWT_SECRET}
projects:
  p1:
    region: ap-guangzhou
    credentials: {secretIdEnv: MUDSCF_BENCH_SECRET_ID, secretKeyEnv: MUDSCF_BENCH_SECRET_KEY}
    readers: {subjects: [bench]}
    functionIdAsName: true
YAML
TOKEN=$(MUDSCF_JWT_SECRET=$MUDSCF_BENCH_JWT_SECRET "$B/bin/mudscf" token --sub bench --ttl 3h)

# The same 100 pages on both sides, most popular first. mudscf's clients
# ask stats=false: the pass-through route has no stats, so both sides pay
# one upstream call per page miss.
urls() { for i in $(seq -f %03g 0 99); do printf '"%s"\n' "$(printf "$1" "$i")"; done | paste -sd, -; }
echo "[{\"name\":\"page\",\"weight\":1,\"header\":{\"Authorization\":\"Bearer $TOKEN\"},\"urls\":[$(urls "http://$PROXY/api/functions/projects/p1/functions/f%s/logs?limit=20&stats=false")]}]" >"$B/mix-mudscf.json"
echo "[{\"name\":\"page\",\"weight\":1,\"urls\":[$(urls "http://$NGINX/_sim/passthrough/logs?function=f%s&limit=20")]}]" >"$B/mix-nginx.json"

mkdir -p "$B/nginx"
NGINX_USER=""
[ "$(id -u)" = 0 ] && NGINX_USER="user root;"
cat >"$B/nginx/nginx.conf" <<CONF
$NGINX_USER
worker_processes auto;
pid $B/nginx/nginx.pid;
error_log $B/nginx/error.log error;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $B/nginx/body;
  proxy_temp_path $B/nginx/proxy;
  fastcgi_temp_path $B/nginx/fastcgi;
  uwsgi_temp_path $B/nginx/uwsgi;
  scgi_temp_path $B/nginx/scgi;
  proxy_cache_path $B/nginx/cache levels=1:2 keys_zone=logs:10m max_size=64m inactive=10m use_temp_path=off;
  # One key for the whole zone: the budget is per account, not per client.
  limit_req_zone \$server_port zone=budget:1m rate=5r/s;
  upstream sim { server $SIM; keepalive 16; }
  upstream budget { server $NGINX_BUDGET; keepalive 64; }
  # The budget hop: only cache misses reach it. limit_req in front of the
  # cache would throttle hits too (it runs before the cache is consulted).
  server {
    listen $NGINX_BUDGET;
    location / {
      limit_req zone=budget burst=10;
      proxy_pass http://sim;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 10s;
    }
  }
  server {
    listen $NGINX;
    location / {
      proxy_pass http://budget;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 15s;
      proxy_cache logs;
      proxy_cache_key \$request_uri;
      proxy_cache_valid 200 10s;
      proxy_cache_lock on;
      proxy_cache_use_stale error timeout http_429 http_503;
      add_header X-Cache \$upstream_cache_status always;
    }
  }
}
CONF

# side NAME runs one side with a fresh simulator and a cold cache and
# writes $B/NAME.load.json and $B/NAME.truth.json.
side() {
  local name=$1 sim server
  if [ "$name" = mudscf ]; then
    bench_start sim "$B/bin/mudscf" simulate --addr "$SIM" --config "$B/sim.yaml"
    sim=$BENCH_LAST_PID
    bench_wait "http://$SIM/_sim/healthz"
    bench_start proxy "$B/bin/mudscf" proxy --config "$B/proxy.yaml"
    server=$BENCH_LAST_PID
    bench_wait "http://$ADMIN/readyz"
  else
    bench_start sim "$B/bin/mudscf" simulate --addr "$SIM" --config "$B/sim.yaml" --passthrough
    sim=$BENCH_LAST_PID
    bench_wait "http://$SIM/_sim/healthz"
    rm -rf "$B/nginx/cache"
    bench_start nginx nginx -p "$B/nginx" -c "$B/nginx/nginx.conf" -e "$B/nginx/error.log" -g 'daemon off;'
    server=$BENCH_LAST_PID
    bench_wait "http://$NGINX/"
  fi
  "$B/bin/benchload" -mix "$B/mix-$name.json" -clients "$CLIENTS" -rate "$RATE" -duration "${DURATION}s" >"$B/$name.load.json"
  curl -sf "http://$SIM/_sim/truth" >"$B/$name.truth.json"
  bench_stop "$server"
  bench_stop "$sim"
}

# row NAME prints: calls/s max-sliding cache-share stale-share p50 p99 429 503 upstream-429 errors
row() {
  local id=$ACCOUNT
  [ "$1" = nginx ] && id=passthrough
  # Calls per second over the seconds from the first call to the last:
  # clients that fell behind schedule send past the scheduled duration.
  jq -r --slurpfile t "$B/$1.truth.json" --arg id "$id" '
    ($t[0]) as $t |
    ([$t.calls[] | select(.secretId == $id and .accepted > 0) | .unix]) as $secs |
    [ (if ($secs | length) == 0 then 0 else ($t.totalAccepted[$id] // 0) / (($secs | max) - ($secs | min) + 1) end),
      ($t.maxCallsInAnySlidingSecond[$id] // 0),
      (((.cache.HIT // 0) + (.cache.STALE // 0) + (.cache.UPDATING // 0)) / ([.completed, 1] | max)),
      ((.cache.STALE // 0) / ([.completed, 1] | max)),
      .latencyMs.p50, .latencyMs.p99,
      (.status["429"] // 0), (.status["503"] // 0),
      ($t.totalRejected[$id] // 0), .errors ] | @tsv' "$B/$1.load.json"
}

: >"$B/rows.tsv"
for r in $(seq "$ROUNDS"); do
  for name in mudscf nginx; do
    side "$name"
    printf '%s\t%s\t%s\n' "$r" "$name" "$(row "$name")" >>"$B/rows.tsv"
  done
done

cat <<MD
## Budget efficiency: mudscf vs nginx proxy_cache + limit_req

What: $CLIENTS open-loop clients sending $RATE requests/s in all for ${DURATION} s, over a Zipf(s=1.1, v=1)
mix of 100 functions, against the SCF simulator (100 functions, one execution every 20 s each). Each side
starts cold (fresh simulator, empty cache) in each round; the two sides alternate, $ROUNDS rounds.

- **mudscf**: \`mudscf proxy\` with its default cache (pageTTL 10 s, stale-while-revalidate 1 m, stale answers on
  upstream failure) and budget (5 calls in any sliding second, maxWait 2 s), \`logLevel: error\`; clients
  ask \`GET /api/functions/projects/p1/functions/fNNN/logs?limit=20&stats=false\` (stats=false so one miss
  costs one upstream call on both sides).
- **nginx** (Debian's, $(nginx -v 2>&1 | sed 's/.*\///')): \`proxy_cache\` (\`proxy_cache_valid 200 10s\`, the same
  TTL), \`proxy_cache_lock on\`, \`proxy_cache_use_stale error timeout http_429 http_503\` (mudscf's
  stale-if-error), and \`limit_req zone=budget rate=5r/s burst=10\` on an internal hop that only cache misses
  reach — \`limit_req\` in the cached location itself would throttle hits too. \`burst=10\` without \`nodelay\`
  queues up to 2 s of calls and releases them one per 200 ms, like mudscf's maxWait of 2 s; \`nodelay\`
  would release a burst at once and overrun the upstream's sliding second. nginx cannot sign TC3 or
  translate, so it fronts the simulator's pass-through route (\`simulate --passthrough\`,
  \`/_sim/passthrough/logs?function=fNNN&limit=20\`), which costs and counts like \`GetFunctionLogs\`
  under the same 5/s sliding limit.

Load: \`cmd/benchload\` (internal/loadgen): open loop, each client on a fixed schedule, latency measured
from the *intended* send time into an HdrHistogram, so a stalled server is charged for every request it
delayed (no coordinated omission). Upstream figures are the simulator's ground truth (\`/_sim/truth\`).
"Served from cache" is HIT + STALE (+ nginx's UPDATING) over all answers. Client 429s come from mudscf,
503s from nginx's \`limit_req\`; "upstream 429" is the simulator's \`RequestLimitExceeded\`.

| round | side | upstream calls/s | max calls in a sliding second | served from cache | of which stale | p50 ms | p99 ms | client 429 | client 503 | upstream 429 | errors |
|---|---|---|---|---|---|---|---|---|---|---|---|
MD
awk -F'\t' '{printf "| %s | %s | %.2f | %d | %.1f%% | %.1f%% | %.2f | %.2f | %d | %d | %d | %d |\n", $1, $2, $3, $4, $5*100, $6*100, $7, $8, $9, $10, $11, $12}' "$B/rows.tsv"

ratio() { # column of rows.tsv -> "min median max" of mudscf/nginx per round
  awk -F'\t' -v c="$1" '$2=="mudscf"{m[$1]=$c} $2=="nginx"{n[$1]=$c} END {for (r in m) if (n[r] != 0) print m[r]/n[r]}' "$B/rows.tsv" | bench_stats
}
echo
echo "mudscf / nginx, per round (min / median / max):"
echo
echo "| figure | min | median | max |"
echo "|---|---|---|---|"
for spec in "3:upstream calls/s" "5:served from cache" "7:p50 latency" "8:p99 latency"; do
  read -r lo med hi <<<"$(ratio "${spec%%:*}")"
  echo "| ${spec#*:} | $lo | $med | $hi |"
done
echo
awk -F'\t' '{mx[$2] = (mx[$2] > $4) ? mx[$2] : $4; up[$2] += $11; rej[$2] += $9 + $10}
  END {printf "Over all rounds: max calls in any sliding second mudscf %d, nginx %d; upstream RequestLimitExceeded mudscf %d, nginx %d; clients turned away (429 + 503) mudscf %d, nginx %d.\n", mx["mudscf"], mx["nginx"], up["mudscf"], up["nginx"], rej["mudscf"], rej["nginx"]}' "$B/rows.tsv"
cat <<'MD'

100 functions at one page per 10 s TTL need 10 upstream calls/s, twice the budget, so neither side can keep
every page fresh: both turn some clients away and answer others from older entries. nginx's `limit_req`
paces calls 200 ms apart by its own clock, but the upstream counts a call when it arrives, so some land six
in a sliding second: those are its RequestLimitExceeded. mudscf counts each call from its answer instead.
MD
echo
echo "Reproduce: \`make bench\` (this section alone: \`.ci/bench/budget.sh\`; \`BENCH_DURATION=10 BENCH_ROUNDS=1\` for a quick look)."
echo
