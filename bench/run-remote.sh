#!/usr/bin/env bash
# The remote-access benchmarks (BENCHMARKS.md, "Agents, signalling and sessions"). Needs root
# (network namespaces), MariaDB on 127.0.0.1:3306 (root, empty password), the built jars
# (platform, signal, agent) and the bench jar (./mvnw -B -q -f bench/pom.xml package).
#
#   bench/run-remote.sh idle [N]     # N synthetic idle agents on one signal node (default 50000)
#   bench/run-remote.sh sessions     # connect latency (p2p, relay), relayed sessions, throughput
#   bench/run-remote.sh view [WxH]   # remote view: frame rate, agent CPU, input to photon (default 1280x720)
#
# Starts, in a private working directory: the platform jar on a fresh database
# (airlock_bench_<time>), one signal node (-Xmx2g) in this namespace; for "sessions", two real
# agents in namespaces alkb-a1 / alkb-a2 and the SDK client in alkb-cl, all on bridge alkb-br0
# (10.241.0.1/24, no default routes; webrtc ignores loopback). On exit (also Ctrl-C or an error) it
# stops every process it started, deletes its namespaces and bridge and drops the database.
# Env: SIGNAL_XMX (2g), SIGNAL_JVM_ARGS (e.g. -XX:NativeMemoryTracking=summary), IDLE_TIME_LIMIT (600s), IDLE_HOLD (70s), IDLE_TOKENS, IDLE_CONCURRENCY (64), LATENCY_COUNT (200), RELAY_SESSIONS (100),
# THROUGHPUT_BYTES (52428800), VIEW_SECONDS (20), VIEW_PRESSES (50), VIEW_SCENE (scroll | ticker:
# see bench/view-page.html), VIEW_TRACE (a file name: also run bench/xprobe.py on the desktop and
# write each press's times, for bench/view-split.py FILE), VIEW_CHROMIUM_FLAGS (more flags for the
# desktop's Chromium), AGENT_JVM_ARGS (JVM options of the agent, "view" only).
# "view" also needs Xvfb and Debian's chromium (deploy/test-deps.sh installs them): the agent in
# alkb-a1 shows bench/view-page.html in Chromium on a private Xvfb of that size.
set -euo pipefail

MODE=${1:?usage: $0 idle [N] | sessions | view [WxH]}
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAVA=${JAVA:-java}
SIGNAL_XMX=${SIGNAL_XMX:-2g}
BR=alkb-br0
HUB=10.241.0.1
NAMESPACES=(alkb-a1 alkb-a2 alkb-cl)
DB="airlock_bench_$(date +%s | xargs printf '%x')"
WORK="$(mktemp -d /tmp/airlock-bench-remote.XXXXXX)"
PIDS=()

log() { printf '[run-remote %(%H:%M:%S)T load %s] %s\n' -1 "$(cut -d' ' -f1 /proc/loadavg)" "$*" >&2; }

cleanup() {
  local rc=$? i pid
  set +e
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for ns in "${NAMESPACES[@]}"; do
    ip netns del "$ns" 2>/dev/null
    ip link del "v-$ns" 2>/dev/null
  done
  ip link del "$BR" 2>/dev/null
  mariadb --no-defaults --protocol=TCP -h127.0.0.1 -uroot --password= \
    -e "DROP DATABASE IF EXISTS \`$DB\`" 2>/dev/null
  if [[ ${KEEP_WORK:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  log "cleaned up (exit $rc)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces)" >&2; exit 1; }
if pgrep -f 'airlock test' >/dev/null || pgrep -f surefire >/dev/null; then
  log "WARNING: a test run is in progress; figures will be disturbed"
fi
log "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(java -version 2>&1 | head -1)"
# Each connection is a file descriptor in the signal node (and in the driver). Raise the soft
# limit as far as the hard one allows; raising the hard one needs CAP_SYS_RESOURCE.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log "open files limit: $(ulimit -n)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])'; }
wait_for() { # file regex seconds
  local deadline=$((SECONDS + $3))
  until grep -qE "$2" "$1" 2>/dev/null; do
    [[ $SECONDS -lt $deadline ]] || { log "no /$2/ in $1 within $3 s"; tail -n 40 "$1" >&2; return 1; }
    sleep 0.3
  done
}

# --- network ----------------------------------------------------------------------------
netns_up() {
  ip link add "$BR" type bridge
  ip addr add "$HUB/24" dev "$BR"
  ip link set "$BR" up
  local n=11 ns
  for ns in "${NAMESPACES[@]}"; do
    ip netns add "$ns"
    ip link add "v-$ns" type veth peer name eth0 netns "$ns"
    ip link set "v-$ns" master "$BR" up
    ip -n "$ns" addr add "10.241.0.$n/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    n=$((n + 1))
  done
}

# --- platform ---------------------------------------------------------------------------
cp "$REPO/platform/target/airlock-platform.jar" "$REPO/signal/target/airlock-signal.jar" \
  "$REPO/agent/target/airlock-agent.jar" "$WORK/"
PLATFORM_PORT=$(free_port)
SIGNAL_PORT=$(free_port)
API="http://127.0.0.1:$PLATFORM_PORT/api/v1"
mkdir -p "$WORK/platform-data"
log "platform on :$PLATFORM_PORT, database $DB, work $WORK"
"$JAVA" -jar "$WORK/airlock-platform.jar" --server.port="$PLATFORM_PORT" \
  --airlock.database.url="mysql://root:@127.0.0.1:3306/$DB" \
  --airlock.data-dir="$WORK/platform-data" >"$WORK/platform.log" 2>&1 &
PLATFORM_PID=$!
PIDS+=("$PLATFORM_PID")
deadline=$((SECONDS + 180))
until curl -fsS "$API/health" >/dev/null 2>&1; do
  kill -0 "$PLATFORM_PID" || { tail -n 40 "$WORK/platform.log"; exit 1; }
  [[ $SECONDS -lt $deadline ]] || { log "platform not healthy"; exit 1; }
  sleep 0.5
done
until [[ -s $WORK/platform-data/initial-admin-password ]]; do sleep 0.3; done
ONE_TIME=$(<"$WORK/platform-data/initial-admin-password")
PASSWORD="bench-$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
json() { curl -fsS -H 'Content-Type: application/json' -H 'Accept: application/json' "$@"; }
TOKEN=$(json -X POST "$API/auth/login" -d "{\"username\":\"admin\",\"password\":\"$ONE_TIME\"}" | jq -r .accessToken)
curl -fsS -X PUT -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  "$API/auth/password" -d "{\"currentPassword\":\"$ONE_TIME\",\"newPassword\":\"$PASSWORD\"}"
TOKEN=$(json -X POST "$API/auth/login" -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" | jq -r .accessToken)
API_KEY=$(json -X POST -H "Authorization: Bearer $TOKEN" "$API/api-keys" \
  -d '{"name":"bench","roles":["admin"]}' | jq -r .secret)
join_token() { # maxUses
  json -X POST -H "Authorization: Bearer $API_KEY" "$API/agents/join-tokens" \
    -d "{\"kind\":\"desktop\",\"maxUses\":$1,\"ttlSeconds\":7200,\"description\":\"bench\"}" | jq -r .token
}
until [[ -s $WORK/platform-data/signal-node-key ]]; do sleep 0.3; done

# --- signal node ------------------------------------------------------------------------
[[ $MODE == sessions || $MODE == view ]] && netns_up
log "signal node on :$SIGNAL_PORT (-Xmx$SIGNAL_XMX ${SIGNAL_JVM_ARGS:-})"
# shellcheck disable=SC2086 # SIGNAL_JVM_ARGS is a list of options
"$JAVA" "-Xmx$SIGNAL_XMX" ${SIGNAL_JVM_ARGS:-} -jar "$WORK/airlock-signal.jar" --server.port="$SIGNAL_PORT" \
  --airlock.signal.node-id=bench-1 \
  --airlock.signal.tunnel.port=-1 \
  --airlock.signal.public-url="ws://$HUB:$SIGNAL_PORT" \
  --airlock.signal.admin-url="http://127.0.0.1:$SIGNAL_PORT" \
  --airlock.signal.platform-url="http://127.0.0.1:$PLATFORM_PORT" \
  --airlock.signal.platform-key-file="$WORK/platform-data/signal-node-key" \
  >"$WORK/signal.log" 2>&1 &
SIGNAL_PID=$!
PIDS+=("$SIGNAL_PID")
wait_for "$WORK/signal.log" "Airlock signal node bench-1 listening" 120
BENCH_CP="$REPO/bench/target/airlock-bench.jar"

case "$MODE" in
  idle)
    N=${2:-50000}
    # Join tokens allow 10,000 uses at most; IDLE_TOKENS spreads the enrolments over more.
    T=${IDLE_TOKENS:-$(((N + 9999) / 10000))}
    tokens=()
    for ((t = 0; t < T; t++)); do tokens+=("$(join_token $(((N + T - 1) / T)))"); done
    log "idle: $N synthetic agents, ${#tokens[@]} join token(s)"
    "$JAVA" -Xmx4g -cp "$BENCH_CP" dev.airlock.bench.IdleAgents \
      --signal-url="ws://127.0.0.1:$SIGNAL_PORT/signal/v1/agent" \
      --join-tokens="$(IFS=,; echo "${tokens[*]}")" --signal-pid="$SIGNAL_PID" \
      --count="$N" --time-limit="${IDLE_TIME_LIMIT:-600s}" --hold="${IDLE_HOLD:-70s}" --concurrency="${IDLE_CONCURRENCY:-64}" &
    driver=$!
    PIDS+=("$driver")
    wait "$driver"
    log "signal log: $(grep -cE ' (WARN|ERROR) ' "$WORK/signal.log" || true) WARN/ERROR lines"
    grep -E ' (WARN|ERROR) ' "$WORK/signal.log" | cut -c1-300 | sort | uniq -c | sort -rn | head -5 >&2 || true
    ;;
  sessions)
    token=$(join_token 2)
    for i in 1 2; do
      mkdir -p "$WORK/agent-$i"
      printf 'signal-url = ws://%s:%s\nstate-dir = %s\nhostname = bench-agent-%s\njoin-token = %s\n' \
        "$HUB" "$SIGNAL_PORT" "$WORK/agent-$i" "$i" "$token" >"$WORK/agent-$i/agent.conf"
      ip netns exec "alkb-a$i" "$JAVA" -jar "$WORK/airlock-agent.jar" --config "$WORK/agent-$i/agent.conf" \
        >"$WORK/agent-$i.log" 2>&1 &
      PIDS+=("$!")
    done
    wait_for "$WORK/agent-1.log" "online at node bench-1" 90
    wait_for "$WORK/agent-2.log" "online at node bench-1" 90
    client() {
      ip netns exec alkb-cl "$JAVA" -cp "$BENCH_CP" dev.airlock.bench.SignalBench "$@" \
        --url="http://$HUB:$PLATFORM_PORT" --api-key="$API_KEY" &
      local pid=$!
      PIDS+=("$pid")
      wait "$pid"
    }
    count=${LATENCY_COUNT:-200}
    log "connect latency, p2p (auto), $count after 10 warm-up"
    client latency --target=bench-agent-1 --transport=auto --warmup=10 --count="$count"
    log "connect latency, relay, $count after 10 warm-up"
    client latency --target=bench-agent-1 --transport=relay --warmup=10 --count="$count"
    log "throughput, one session"
    client throughput --target=bench-agent-1 --transport=relay --bytes="${THROUGHPUT_BYTES:-52428800}"
    client throughput --target=bench-agent-1 --transport=auto --bytes="${THROUGHPUT_BYTES:-52428800}"
    log "${RELAY_SESSIONS:-100} concurrent relayed sessions over two agents"
    client sessions --targets=bench-agent-1,bench-agent-2 --count="${RELAY_SESSIONS:-100}" \
      --signal-pid="$SIGNAL_PID"
    ;;
  view)
    SIZE=${2:-1280x720}
    [[ $SIZE =~ ^[0-9]+x[0-9]+$ ]] || { echo "view: size '$SIZE' (expected: WxH, e.g. 1920x1080)" >&2; exit 2; }
    token=$(join_token 1)
    DISPLAY_NUM=:$((90 + RANDOM % 9))
    log "view: Xvfb $DISPLAY_NUM at $SIZE, Chromium showing bench/view-page.html (scene ${VIEW_SCENE:-scroll}), agent, all in alkb-a1"
    ip netns exec alkb-a1 Xvfb "$DISPLAY_NUM" -screen 0 "${SIZE}x24" -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
    XVFB_PID=$!
    PIDS+=("$XVFB_PID")
    sleep 1
    ip netns exec alkb-a1 env DISPLAY="$DISPLAY_NUM" chromium --no-sandbox --kiosk --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync --disable-gpu \
      --window-position=0,0 --window-size="${SIZE/x/,}" --user-data-dir="$WORK/chromium" ${VIEW_CHROMIUM_FLAGS:-} \
      "file://$REPO/bench/view-page.html?scene=${VIEW_SCENE:-scroll}" >"$WORK/chromium.log" 2>&1 &
    CHROMIUM_PID=$!
    PIDS+=("$CHROMIUM_PID")
    mkdir -p "$WORK/agent-1"
    printf 'signal-url = ws://%s:%s\nstate-dir = %s\nhostname = bench-agent-1\njoin-token = %s\n' \
      "$HUB" "$SIGNAL_PORT" "$WORK/agent-1" "$token" >"$WORK/agent-1/agent.conf"
    ip netns exec alkb-a1 env AIRLOCK_AGENT_DISPLAY="$DISPLAY_NUM" "$JAVA" ${AGENT_JVM_ARGS:-} -jar "$WORK/airlock-agent.jar" \
      --config "$WORK/agent-1/agent.conf" >"$WORK/agent-1.log" 2>&1 &
    AGENT_PID=$!
    PIDS+=("$AGENT_PID")
    wait_for "$WORK/agent-1.log" "online at node bench-1" 90
    sleep 3 # Chromium's first paint
    if [[ -n ${VIEW_TRACE:-} ]]; then
      ip netns exec alkb-a1 python3 "$REPO/bench/xprobe.py" "$DISPLAY_NUM" "$VIEW_TRACE.x" &
      PIDS+=("$!")
    fi
    ip netns exec alkb-cl "$JAVA" -cp "$BENCH_CP" dev.airlock.bench.ViewBench \
      --url="http://$HUB:$PLATFORM_PORT" --api-key="$API_KEY" --target=bench-agent-1 \
      --agent-pid="$AGENT_PID" --display-pids="$XVFB_PID,$(pgrep -d, -f "user-data-dir=$WORK/chromium" || echo "$CHROMIUM_PID")" \
      --seconds="${VIEW_SECONDS:-20}" --count="${VIEW_PRESSES:-50}" ${VIEW_TRACE:+--trace="$VIEW_TRACE"} &
    driver=$!
    PIDS+=("$driver")
    wait "$driver"
    # The same, as a person sees it: the portal's remote view in Chromium (bench/view-latency.mjs).
    if [[ -d $REPO/portal/node_modules/playwright-core ]]; then
      log "input to photon in the portal (Chromium, playwright-core)"
      ip netns exec alkb-cl env BENCH_URL="http://$HUB:$PLATFORM_PORT" BENCH_USERNAME=admin \
        BENCH_PASSWORD="$PASSWORD" BENCH_TARGET=bench-agent-1 BENCH_PRESSES="${VIEW_PRESSES:-50}" ${VIEW_TRACE:+BENCH_TRACE="$VIEW_TRACE.browser"} \
        node "$REPO/bench/view-latency.mjs" &
      driver=$!
      PIDS+=("$driver")
      wait "$driver"
    else
      log "portal/node_modules has no playwright-core (build the portal first): no browser figure"
    fi
    ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
