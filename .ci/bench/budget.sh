#!/usr/bin/env bash
# Budget efficiency: mudscf vs nginx (proxy_cache + proxy_cache_lock +
# limit_req, and the same with stale-while-revalidate) in front of the SCF
# simulator, 1,000 open-loop clients over a Zipf mix of 100 functions, each
# side warmed 30 s and then measured. Prints one markdown section.
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
# nginx_conf NAME EXTRA writes $B/nginx/NAME.conf: the cached location gets
# EXTRA after the directives both variants share. Its access log keeps, per
# answer, the time, status, cache status and the Date of the upstream answer
# it came from (proxy_pass_header Date: nginx would otherwise put its own),
# from which the Age of the answer is computed: nginx sends no Age header.
nginx_conf() {
  cat >"$B/nginx/$1.conf" <<CONF
$NGINX_USER
worker_processes auto;
pid $B/nginx/nginx.pid;
error_log $B/nginx/error.log error;
events { worker_connections 8192; }
http {
  access_log off;
  log_format age '\$msec \$status \$upstream_cache_status \$sent_http_date';
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
    access_log $B/nginx/access.log age buffer=256k flush=1s;
    location / {
      proxy_pass http://budget;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass_header Date;
      proxy_read_timeout 15s;
      proxy_cache logs;
      proxy_cache_key \$request_uri;
      proxy_cache_valid 200 10s;
      proxy_cache_lock on;
      add_header X-Cache \$upstream_cache_status always;
$2
    }
  }
}
CONF
}
nginx_conf nginx '      proxy_cache_use_stale error timeout http_429 http_503;'
nginx_conf nginx-swr '      proxy_cache_use_stale error timeout updating http_429 http_503;
      proxy_cache_background_update on;'
cp "$B/mix-nginx.json" "$B/mix-nginx-swr.json"

WARMUP=30
[ "$DURATION" -gt "$WARMUP" ] || { echo "budget.sh: BENCH_DURATION must be over the ${WARMUP} s warm-up" >&2; exit 1; }

# side NAME runs one side with a fresh simulator and a cold cache: a
# warm-up load of $WARMUP s, then at once the measured load of the rest of
# DURATION, the same clients and schedule. It writes $B/NAME.{warm,load}.json
# (benchload's tallies of each part), $B/NAME.truth.json (the simulator's
# ground truth over both) and the answers' ages, one line per 200 answer in
# whole seconds: $B/NAME.{warm,load}.ages (mudscf: its Age headers, as
# benchload counted them, a MISS without one counting 0; nginx: from its
# access log).
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
    rm -rf "$B/nginx/cache" "$B/nginx/access.log"
    bench_start "$name" nginx -p "$B/nginx" -c "$B/nginx/$name.conf" -e "$B/nginx/error.log" -g 'daemon off;'
    server=$BENCH_LAST_PID
    bench_wait "http://$NGINX/"
  fi
  local split
  "$B/bin/benchload" -mix "$B/mix-$name.json" -clients "$CLIENTS" -rate "$RATE" -duration "${WARMUP}s" >"$B/$name.warm.json"
  split=$(date +%s.%N)
  "$B/bin/benchload" -mix "$B/mix-$name.json" -clients "$CLIENTS" -rate "$RATE" -duration "$((DURATION - WARMUP))s" -seed 2 >"$B/$name.load.json"
  curl -sf "http://$SIM/_sim/truth" >"$B/$name.truth.json"
  bench_stop "$server"
  bench_stop "$sim"
  if [ "$name" = mudscf ]; then
    local part
    for part in warm load; do
      jq -r '.age // {} | to_entries[] | "\(if .key == "none" then 0 else .key end) \(.value)"' "$B/$name.$part.json" |
        awk '{ for (i = 0; i < $2; i++) print $1 }' >"$B/$name.$part.ages"
    done
  else
    # Age = the answer's second minus its upstream Date's second (1 s
    # resolution, as an Age header), from the time of day: no date parsing.
    awk -v cut="$split" -v warm="$B/$name.warm.ages" -v load="$B/$name.load.ages" '
      $2 == 200 {
        split($8, hms, ":"); d = hms[1] * 3600 + hms[2] * 60 + hms[3]
        s = int($1); a = ((s % 86400) - d + 86400) % 86400
        print a > ($1 < cut ? warm : load)
      }' "$B/nginx/access.log"
    touch "$B/$name.warm.ages" "$B/$name.load.ages"
  fi
}

# ages NAME PERIOD (warm, load or all) prints "mean p99" of the
# Age of the period's 200 answers (all = both parts), in whole seconds.
ages() {
  local name=$1 period=$2
  local files=("$B/$name.$period.ages")
  [ "$period" = all ] && files=("$B/$name.warm.ages" "$B/$name.load.ages")
  sort -n "${files[@]}" | awk '
    { v[NR] = $1; s += $1 }
    END {
      if (NR == 0) { print "- -"; exit }
      i = int(0.99 * NR); if (i < 0.99 * NR) i++
      printf "%.2f %d\n", s / NR, v[i] }'
}

# counts NAME PERIOD prints "sent 200 turned-away hit stale errors p50 p99"
# (latencies of the measured part only; "-" for the others).
counts() {
  local q='[.sent, (.status["200"] // 0), ((.status["429"] // 0) + (.status["503"] // 0)), (.cache.HIT // 0),
    ((.cache.STALE // 0) + (.cache.UPDATING // 0)), .errors]'
  case $2 in
  warm | load) jq -r "$q + [.latencyMs.p50, .latencyMs.p99] | @tsv" "$B/$1.$2.json" ;;
  all) jq -rs "[.[] | $q] | transpose | map(add) + [\"-\", \"-\"] | @tsv" "$B/$1.warm.json" "$B/$1.load.json" ;;
  esac
}

# truth NAME prints "calls/s max-calls-in-a-sliding-second RequestLimitExceeded"
# from the simulator's ground truth over the whole side.
truth() {
  local id=$ACCOUNT
  [ "$1" != mudscf ] && id=passthrough
  # Calls per second over the seconds from the first call to the last:
  # clients that fell behind schedule send past the scheduled duration.
  jq -r --arg id "$id" '
    ([.calls[] | select(.secretId == $id and .accepted > 0) | .unix]) as $secs |
    [ (if ($secs | length) == 0 then 0 else (.totalAccepted[$id] // 0) / (($secs | max) - ($secs | min) + 1) end),
      (.maxCallsInAnySlidingSecond[$id] // 0), (.totalRejected[$id] // 0) ] | @tsv' "$B/$1.truth.json"
}

SIDES="mudscf nginx nginx-swr"
: >"$B/rows.tsv"
for r in $(seq "$ROUNDS"); do
  for name in $SIDES; do
    echo "budget: round $r of $ROUNDS: $name" >&2
    side "$name"
    for period in load all; do
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$name" "$period" "$(counts "$name" "$period")" \
        "$(ages "$name" "$period" | tr ' ' '\t')" "$(truth "$name")" >>"$B/rows.tsv"
    done
  done
done
# rows.tsv: 1 round, 2 side, 3 period, 4 sent, 5 answered 200, 6 turned away
# (429 + 503), 7 HIT, 8 STALE (+ UPDATING), 9 errors, 10 p50 ms, 11 p99 ms,
# 12 mean Age, 13 p99 Age, 14 calls/s, 15 max calls in a sliding second,
# 16 RequestLimitExceeded.

nginx_v=$(nginx -v 2>&1 | sed 's/.*\///')
cat <<MD
## Budget efficiency: mudscf vs nginx proxy_cache + limit_req, with and without stale-while-revalidate

What: $CLIENTS open-loop clients sending $RATE requests/s in all for ${DURATION} s (a ${WARMUP} s warm-up, then
$((DURATION - WARMUP)) s measured), over a Zipf(s=1.1, v=1) mix of 100 functions, against the SCF simulator (100 functions,
one execution every 20 s each). Each side starts cold (fresh simulator, empty cache) in each round; the three
sides alternate within each round, $ROUNDS rounds.

- **mudscf**: \`mudscf proxy\` with its default cache (pageTTL 10 s, keys that live their full TTL,
  \`staleWhileRevalidate\` 1 m with refreshes ordered by reads × age, the last good answer up to \`staleMaxAge\` 10 m
  rather than a 429) and budget (5 calls in any sliding second, maxWait 2 s), \`logLevel: error\`; clients
  ask \`GET /api/functions/projects/p1/functions/fNNN/logs?limit=20&stats=false\` (stats=false so one miss
  costs one upstream call on all sides).
- **nginx** (Debian's $nginx_v): \`proxy_cache\` (\`proxy_cache_valid 200 10s\`, the same
  TTL), \`proxy_cache_lock on\`, \`proxy_cache_use_stale error timeout http_429 http_503\` (mudscf's
  stale-if-error), and \`limit_req zone=budget rate=5r/s burst=10\` on an internal hop that only cache misses
  reach — \`limit_req\` in the cached location itself would throttle hits too. \`burst=10\` without \`nodelay\`
  queues up to 2 s of calls and releases them one per 200 ms, like mudscf's maxWait of 2 s; \`nodelay\`
  would release a burst at once and overrun the upstream's sliding second.
- **nginx-swr**: the same, plus \`updating\` in \`proxy_cache_use_stale\` and \`proxy_cache_background_update on\`:
  an expired entry is answered at once (\`X-Cache: UPDATING\`) while one background subrequest refreshes it —
  nginx's stale-while-revalidate, nginx at its best here.

nginx cannot sign TC3 or translate, so both nginx sides front the simulator's pass-through route
(\`simulate --passthrough\`, \`/_sim/passthrough/logs?function=fNNN&limit=20\`), which costs and counts like
\`GetFunctionLogs\` under the same 5/s sliding limit.

Load: \`cmd/benchload\` (internal/loadgen): open loop, each client on a fixed schedule, latency measured
from the *intended* send time into an HdrHistogram (no coordinated omission). The warm-up and the measured part
are two benchload runs back to back (same clients and rate, the second with another seed). Upstream figures are
the simulator's ground truth (\`/_sim/truth\`) over the whole side, warm-up included. Shares are of requests
sent: answered (200) = HIT + STALE + MISS answers; turned away = client 429 (mudscf) + 503 (nginx's
\`limit_req\`); the rest are client errors (timeouts at 10 s). **STALE** is mudscf's \`X-Cache: STALE\`, which now
counts both stale-while-revalidate answers (past the TTL, refresh queued; metric result \`revalidate\`) and
last-good answers when the budget cannot serve a request in time; for nginx it is STALE + UPDATING.

**Age of answers** (request-weighted over all 200 answers, a MISS counting 0; mean and exact p99, whole
seconds on both sides). mudscf's are the \`Age\` headers of its answers, each counted by benchload. nginx sends
no \`Age\`, so its access log records each answer's time and the \`Date\` of the upstream answer it came from
(\`proxy_pass_header Date\`); Age = the second of the answer minus that Date, whole seconds like an Age header.

### After the ${WARMUP} s warm-up ($((DURATION - WARMUP)) s measured per side and round)

| round | side | answered 200 | turned away | HIT | STALE | mean Age s | p99 Age s | p50 ms | p99 ms | upstream calls/s | max calls in a sliding second | upstream RequestLimitExceeded | client errors |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
MD
awk -F'\t' '$3 == "load" {printf "| %s | %s | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %s | %s | %.1f | %.1f | %.2f | %d | %d | %d |\n",
  $1, $2, 100*$5/$4, 100*$6/$4, 100*$7/$4, 100*$8/$4, $12, $13, $10, $11, $14, $15, $16, $9}' "$B/rows.tsv"
cat <<MD

### Overall (warm-up included, ${DURATION} s per side and round)

| round | side | answered 200 | turned away | HIT | STALE | mean Age s | p99 Age s | client errors |
|---|---|---|---|---|---|---|---|---|
MD
awk -F'\t' '$3 == "all" {printf "| %s | %s | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %s | %s | %d |\n",
  $1, $2, 100*$5/$4, 100*$6/$4, 100*$7/$4, 100*$8/$4, $12, $13, $9}' "$B/rows.tsv"

# per SIDE PERIOD EXPR: min/median/max over rounds of an awk expression of a row.
per() {
  awk -F'\t' -v s="$1" -v p="$2" "\$2 == s && \$3 == p {print $3}" "$B/rows.tsv" | bench_stats
}
# ratio SIDE PERIOD EXPR: min/median/max over rounds of mudscf's EXPR / SIDE's.
ratio() {
  awk -F'\t' -v s="$1" -v p="$2" "\$3 == p && \$2 == \"mudscf\" {m[\$1] = $3} \$3 == p && \$2 == s {n[\$1] = $3}
    END {for (r in m) if (n[r] != 0) print m[r] / n[r]; else if (m[r] == 0) print 0; else print \"inf\"}" "$B/rows.tsv" | bench_stats
}
echo
echo "Per side over the $ROUNDS rounds (min / median / max):"
echo
echo "| side | answered after warm-up % | answered overall % | turned away after warm-up % | turned away overall % | mean Age after warm-up s | p99 Age after warm-up s | mean Age overall s | p99 Age overall s | max calls in a sliding second | RequestLimitExceeded |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for name in $SIDES; do
  echo "| $name | $(per "$name" load '100*$5/$4' | sed 's/ / \/ /g') | $(per "$name" all '100*$5/$4' | sed 's/ / \/ /g') | $(per "$name" load '100*$6/$4' | sed 's/ / \/ /g') | $(per "$name" all '100*$6/$4' | sed 's/ / \/ /g') | $(per "$name" load '$12' | sed 's/ / \/ /g') | $(per "$name" load '$13' | sed 's/ / \/ /g') | $(per "$name" all '$12' | sed 's/ / \/ /g') | $(per "$name" all '$13' | sed 's/ / \/ /g') | $(per "$name" all '$15' | sed 's/ / \/ /g') | $(per "$name" all '$16' | sed 's/ / \/ /g') |"
done
echo
echo "mudscf / each nginx side, per round, after the warm-up (min / median / max; turn-aways and Age: lower is better):"
echo
echo "| figure | mudscf / nginx | mudscf / nginx-swr |"
echo "|---|---|---|"
for spec in 'answered 200:$5/$4' 'turned away:$6/$4' 'mean Age:$12' 'p99 Age:$13' 'upstream calls/s:$14'; do
  echo "| ${spec%%:*} | $(ratio nginx load "${spec#*:}" | sed 's/ / \/ /g') | $(ratio nginx-swr load "${spec#*:}" | sed 's/ / \/ /g') |"
done

# targets PERIOD (load: after the warm-up, all: overall) judges the issue's
# targets on every round against both nginx sides.
targets() {
  awk -F'\t' -v period="$1" '$3 == period {k = $1 SUBSEP $2; ans[k] = $5/$4; turn[k] = $6/$4; mean[k] = $12; p99[k] = $13; mx[k] = $15; rle[k] = $16; rounds[$1] = 1}
    function verdict(ok) { return ok ? "**met**" : "**not met**" }
    END {
      a = 1; t = 1; m = 1; p = 1; s = 1
      for (r in rounds) {
        M = r SUBSEP "mudscf"
        if (ans[M] < 0.99) a = 0
        if (mx[M] > 5 || rle[M] > 0) s = 0
        for (i = 1; i <= 2; i++) {
          N = r SUBSEP (i == 1 ? "nginx" : "nginx-swr")
          if (!(turn[M] < turn[N] / 10 || (turn[M] == 0 && turn[N] == 0))) t = 0
          if (mean[M] > mean[N]) m = 0
          if (p99[M] + 0 > p99[N] + 0) p = 0
        }
      }
      printf "- answered ≥ 99%% of requests, every round: %s\n", verdict(a)
      printf "- turn-aways below a tenth of nginx'"'"'s and of nginx-swr'"'"'s, every round: %s\n", verdict(t)
      printf "- mean Age no worse than either nginx side, every round: %s\n", verdict(m)
      printf "- p99 Age no worse than either nginx side, every round: %s\n", verdict(p)
      printf "- ≤ 5 calls in any sliding second and 0 RequestLimitExceeded, every round: %s\n", verdict(s)
    }' "$B/rows.tsv"
}
echo
echo "Targets (issue 13), judged on every round against both nginx sides, after the warm-up:"
echo
targets load
echo
echo "The same, overall (warm-up included; the issue asks for the share after the warm-up):"
echo
targets all
cat <<'MD'

100 functions at one page per 10 s TTL need 10 upstream calls/s, twice the budget, so no side can keep every
page fresh: the question is who is turned away and how old the answers are. nginx's `limit_req` paces calls
200 ms apart by its own clock, but the upstream counts a call when it arrives, so some land six in a sliding
second: those are its RequestLimitExceeded. mudscf counts each call from its answer instead.
MD
echo
echo "Reproduce: \`make bench\` (this section alone: \`.ci/bench/budget.sh\`; \`BENCH_DURATION\` (s, > 30: the warm-up is 30 s), \`BENCH_ROUNDS\` override)."
echo
