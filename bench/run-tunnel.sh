#!/usr/bin/env bash
# The reverse-tunnel benchmarks (BENCHMARKS.md, "Reverse tunnels"). Needs root (a network
# namespace), MariaDB on 127.0.0.1:3306 (root, empty password), OpenSSH (ssh, sshd, ssh-keygen),
# the built jars (platform, signal, agent) and the bench jar (./mvnw -B -q -f bench/pom.xml package).
#
#   bench/run-tunnel.sh traffic      # one stream's throughput, round-trip latency, an upload beside
#                                    # a stalled stream, 1,000 streams at once: Airlock's tunnel
#                                    # against direct TCP and OpenSSH ssh -R
#   bench/run-tunnel.sh idle [N]     # N synthetic idle edge nodes (one HTTP/2 over TLS connection
#                                    # each, signalling on a stream of it) on one signal node, and
#                                    # what each costs it (default 10000, at most the open-files
#                                    # limit - 500)
#   bench/run-tunnel.sh all [N]      # both, idle on a signal node of its own
#
# Starts, in a private working directory: the platform jar on a fresh database
# (airlock_bench_<time>) and a signal node (-Xmx2g) whose tunnel endpoint speaks TLS (a private CA
# from deploy/pki.sh), in this namespace. "traffic" also creates namespace alkb-edge (10.243.0.13)
# on bridge alkb-tn0 (10.243.0.1/24, no default route), the edge site, running
# dev.airlock.bench.TunnelEdgeService (echo, sink, source on :7100 of every edge address) and a
# real node agent declaring tcp:7100; and an sshd in this namespace (10.243.0.1, throw-away keys,
# remote forwarding only) to which the edge runs `ssh -N -R 127.0.0.1:P:127.0.0.1:7100`. The driver,
# dev.airlock.bench.TunnelBench, runs here and reaches the service three ways: directly at
# 10.243.0.13:7100, through the tunnel (Java SDK), and at 127.0.0.1:P through sshd.
# On exit (also Ctrl-C, an error or the time limit) it stops every process it started, deletes the
# namespace and bridge and drops the database.
#
# Env (sizes; the defaults are the full run):
#   BULK_BYTES (1073741824) BULK_SECONDS (20): per route and direction, whichever ends first
#   BULK_WARMUP_BYTES (4294967296) BULK_WARMUP_SECONDS (10): untimed, before each route and
#   direction, for the JIT BULK_ROUNDS (3: fresh JVMs need some 30 s of traffic, so the first
#   round is still partly cold and the later ones show warm JVMs)
#   PING_COUNT (10000) PING_WARMUP (2000) PING_SIZE (64)
#   STREAMS (1000) STREAM_BYTES (16384) OPEN_CONCURRENCY (64)
#   STALL_BYTES (67108864) STALL_SECONDS (20): phase "stall", upload beside a stalled connection
#   ROUTES (direct,tunnel,ssh) PHASES (bulk,latency,stall,streams; run in that order)
#   SSH_OPTIONS (e.g. "-c aes128-gcm@openssh.com"; default: OpenSSH's own choice)
#   IDLE_TIME_LIMIT (600s) IDLE_HOLD (70s) IDLE_CONCURRENCY (32) IDLE_TOKENS IDLE_PER_WORKER (5000
#   nodes per driver JVM)
#   SDK_POOL_MAX_CONNECTIONS (STREAMS + 64, at least 500; the SDK's tunnels no longer use the pool
#   since ccaaa66, so this only matters for older SDKs) DRIVER_XMX (4g) DRIVER_JVM_ARGS
#   SIGNAL_XMX (2g) SIGNAL_JVM_ARGS AGENT_JVM_ARGS TIME_LIMIT (1800, seconds per driver)
#   RESULTS (bench/target/tunnel-results-<UTC time>.md: the driver's Markdown tables) KEEP_WORK=1
set -euo pipefail

MODE=${1:-traffic}
case "$MODE" in traffic | idle | all) ;; *)
  echo "usage: $0 traffic | idle [N] | all [N]" >&2
  exit 2
  ;;
esac
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAVA=${JAVA:-java}
SIGNAL_XMX=${SIGNAL_XMX:-2g}
TIME_LIMIT=${TIME_LIMIT:-1800}
SSHD=${SSHD:-${AIRLOCK_TEST_SSHD:-/usr/sbin/sshd}}
BR=alkb-tn0
HUB=10.243.0.1
EDGE_NS=alkb-edge
EDGE_ADDRESS=10.243.0.13
EDGE_PORT=7100
NODE=bench-edge
DB="airlock_bench_$(date +%s | xargs printf '%x')"
WORK="$(mktemp -d /tmp/airlock-bench-tunnel.XXXXXX)"
STAMP=$(date -u +%Y%m%d-%H%M%S)
RESULTS=${RESULTS:-$REPO/bench/target/tunnel-results-$STAMP.md}
PIDS=()
NETNS_CREATED=0
mkdir -p "$(dirname "$RESULTS")"

log() { printf '[run-tunnel %(%H:%M:%S)T load %s] %s\n' -1 "$(cut -d' ' -f1 /proc/loadavg)" "$*" >&2; }

stop_pid() { # pid: TERM, up to 30 s, then KILL
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? i
  set +e
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[i]}" 2>/dev/null
  done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${PIDS[i]}"
  done
  if [[ $NETNS_CREATED == 1 ]]; then
    ip netns del "$EDGE_NS" 2>/dev/null
    ip link del "v-$EDGE_NS" 2>/dev/null
    ip link del "$BR" 2>/dev/null
  fi
  mariadb --no-defaults --protocol=TCP -h127.0.0.1 -uroot --password= \
    -e "DROP DATABASE IF EXISTS \`$DB\`" 2>/dev/null
  if [[ ${KEEP_WORK:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  log "cleaned up (exit $rc)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces)" >&2; exit 1; }
for jar in platform/target/airlock-platform.jar signal/target/airlock-signal.jar \
  agent/target/airlock-agent.jar bench/target/airlock-bench.jar; do
  [[ -f $REPO/$jar ]] || { echo "$jar is missing: build it first (see BENCHMARKS.md)" >&2; exit 1; }
done
if [[ $MODE != idle ]]; then
  for tool in ssh ssh-keygen "$SSHD"; do
    command -v "$tool" >/dev/null || { echo "$tool is missing (OpenSSH client and server)" >&2; exit 1; }
  done
fi
if pgrep -f 'airlock test' >/dev/null || pgrep -f surefire >/dev/null || pgrep -f 'maven.home' >/dev/null; then
  log "WARNING: a build or test run is in progress; figures will be disturbed"
fi
log "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $("$JAVA" -version 2>&1 | head -1)"
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log "open files limit: $(ulimit -n); work $WORK"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])'; }
wait_for() { # file regex seconds
  local deadline=$((SECONDS + $3))
  until grep -qE "$2" "$1" 2>/dev/null; do
    [[ $SECONDS -lt $deadline ]] || { log "no /$2/ in $1 within $3 s"; tail -n 40 "$1" >&2; return 1; }
    sleep 0.3
  done
}

# --- certificates: the tunnel endpoint's, for the bridge address (the edge) and loopback ---------
PKI="$WORK/pki"
"$REPO/deploy/pki.sh" ca "$PKI" 2>/dev/null
"$REPO/deploy/pki.sh" server "$PKI" signal-tunnel --dns localhost --ip 127.0.0.1 --ip "$HUB" 2>/dev/null

# --- platform ------------------------------------------------------------------------------------
jars=""
for jar in platform/target/airlock-platform.jar signal/target/airlock-signal.jar \
  agent/target/airlock-agent.jar bench/target/airlock-bench.jar; do
  jars+=" ${jar##*/} ($(date -u -r "$REPO/$jar" '+%H:%M:%S UTC'))"
done
log "jars:$jars; commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo ?)$(git -C "$REPO" diff --quiet 2>/dev/null || echo ' (working tree differs)')"
cp "$REPO/platform/target/airlock-platform.jar" "$REPO/signal/target/airlock-signal.jar" \
  "$REPO/agent/target/airlock-agent.jar" "$WORK/"
BENCH_CP="$REPO/bench/target/airlock-bench.jar"
PLATFORM_PORT=$(free_port)
API="http://127.0.0.1:$PLATFORM_PORT/api/v1"
DATA="$WORK/platform-data"
mkdir -p "$DATA"
log "platform on :$PLATFORM_PORT, database $DB"
"$JAVA" -jar "$WORK/airlock-platform.jar" --server.port="$PLATFORM_PORT" \
  --airlock.database.url="mysql://root:@127.0.0.1:3306/$DB" \
  --airlock.data-dir="$DATA" >"$WORK/platform.log" 2>&1 &
PLATFORM_PID=$!
PIDS+=("$PLATFORM_PID")
deadline=$((SECONDS + 180))
until curl -fsS "$API/health" >/dev/null 2>&1; do
  kill -0 "$PLATFORM_PID" || { tail -n 40 "$WORK/platform.log"; exit 1; }
  [[ $SECONDS -lt $deadline ]] || { log "platform not healthy within 180 s"; exit 1; }
  sleep 0.5
done
deadline=$((SECONDS + 30))
until [[ -s $DATA/initial-admin-password && -s $DATA/signal-node-key ]]; do
  [[ $SECONDS -lt $deadline ]] || { log "no initial-admin-password / signal-node-key in $DATA"; exit 1; }
  sleep 0.3
done
ONE_TIME=$(<"$DATA/initial-admin-password")
PASSWORD="bench-$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
json() { curl -fsS --max-time 30 -H 'Content-Type: application/json' -H 'Accept: application/json' "$@"; }
TOKEN=$(json -X POST "$API/auth/login" -d "{\"username\":\"admin\",\"password\":\"$ONE_TIME\"}" | jq -r .accessToken)
curl -fsS --max-time 30 -X PUT -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  "$API/auth/password" -d "{\"currentPassword\":\"$ONE_TIME\",\"newPassword\":\"$PASSWORD\"}"
TOKEN=$(json -X POST "$API/auth/login" -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" | jq -r .accessToken)
API_KEY=$(json -X POST -H "Authorization: Bearer $TOKEN" "$API/api-keys" \
  -d '{"name":"bench","roles":["admin"]}' | jq -r .secret)
node_token() { # maxUses
  json -X POST -H "Authorization: Bearer $API_KEY" "$API/agents/join-tokens" \
    -d "{\"kind\":\"node\",\"labels\":{\"site\":\"bench\"},\"maxUses\":$1,\"ttlSeconds\":7200,\"description\":\"bench\"}" |
    jq -r .token
}

# --- signal node ---------------------------------------------------------------------------------
start_signal() { # node-id; sets SIGNAL_PID SIGNAL_PORT TUNNEL_PORT SIGNAL_LOG
  SIGNAL_PORT=$(free_port)
  TUNNEL_PORT=$(free_port)
  SIGNAL_LOG="$WORK/signal-$1.log"
  log "signal node $1 on :$SIGNAL_PORT, tunnel endpoint :$TUNNEL_PORT (TLS) (-Xmx$SIGNAL_XMX ${SIGNAL_JVM_ARGS:-})"
  # shellcheck disable=SC2086 # SIGNAL_JVM_ARGS is a list of options
  "$JAVA" "-Xmx$SIGNAL_XMX" ${SIGNAL_JVM_ARGS:-} -jar "$WORK/airlock-signal.jar" --server.port="$SIGNAL_PORT" \
    --airlock.signal.node-id="$1" \
    --airlock.signal.public-url="ws://$HUB:$SIGNAL_PORT" \
    --airlock.signal.admin-url="http://127.0.0.1:$SIGNAL_PORT" \
    --airlock.signal.platform-url="http://127.0.0.1:$PLATFORM_PORT" \
    --airlock.signal.platform-key-file="$DATA/signal-node-key" \
    --airlock.signal.tunnel.port="$TUNNEL_PORT" \
    --airlock.signal.tunnel.public-url="https://$HUB:$TUNNEL_PORT" \
    --airlock.signal.tunnel.tls-cert-file="$PKI/signal-tunnel.pem" \
    --airlock.signal.tunnel.tls-key-file="$PKI/signal-tunnel-key.pem" \
    >"$SIGNAL_LOG" 2>&1 &
  SIGNAL_PID=$!
  PIDS+=("$SIGNAL_PID")
  wait_for "$SIGNAL_LOG" "Airlock signal node $1 listening" 120
}

# The bridge address must exist before the signal node announces it (idle dials 127.0.0.1 instead).
netns_up() {
  if ip link show "$BR" >/dev/null 2>&1 || ip netns list | grep -qw "$EDGE_NS"; then
    log "$BR or $EDGE_NS exists: another run-tunnel.sh is running, or one was killed (then:" \
      "ip netns del $EDGE_NS; ip link del $BR)"
    exit 1
  fi
  ip link add "$BR" type bridge
  NETNS_CREATED=1
  ip addr add "$HUB/24" dev "$BR"
  ip link set "$BR" up
  ip netns add "$EDGE_NS"
  ip link add "v-$EDGE_NS" type veth peer name eth0 netns "$EDGE_NS"
  ip link set "v-$EDGE_NS" master "$BR" up
  ip -n "$EDGE_NS" addr add "$EDGE_ADDRESS/24" dev eth0
  ip -n "$EDGE_NS" link set eth0 up
  ip -n "$EDGE_NS" link set lo up
}

signal_warnings() {
  log "signal log: $(grep -cE ' (WARN|ERROR) ' "$SIGNAL_LOG" || true) WARN/ERROR lines"
  grep -E ' (WARN|ERROR) ' "$SIGNAL_LOG" | cut -c1-300 | sed -E 's/[0-9a-f-]{36}/…/g' |
    sort | uniq -c | sort -rn | head -5 >&2 || true
}

run_driver() { # class jvm-options args...: in the background, so that Ctrl-C reaches the trap at once
  local class=$1 options=$2
  shift 2
  # shellcheck disable=SC2086 # options is a list
  timeout --kill-after=10 "$TIME_LIMIT" "$JAVA" "-Xmx${DRIVER_XMX:-4g}" $options -cp "$BENCH_CP" "dev.airlock.bench.$class" "$@" &
  local pid=$!
  PIDS+=("$pid")
  wait "$pid"
}

# --- traffic: direct TCP, the tunnel, ssh -R ---------------------------------------------------------
traffic() {
  netns_up
  start_signal bench-1
  local traffic_signal_pid=$SIGNAL_PID

  log "edge service in $EDGE_NS on :$EDGE_PORT"
  ip netns exec "$EDGE_NS" "$JAVA" -Xss512k -cp "$BENCH_CP" dev.airlock.bench.TunnelEdgeService "$EDGE_PORT" \
    >"$WORK/edge-service.log" 2>&1 &
  EDGE_PID=$!
  PIDS+=("$EDGE_PID")
  wait_for "$WORK/edge-service.log" "edge service up" 60

  local state="$WORK/agent-state"
  mkdir -p "$state"
  printf '%s\n' "signal-url = ws://$HUB:$SIGNAL_PORT" "state-dir = $state" "hostname = $NODE" \
    "join-token = $(node_token 1)" "ca-file = $PKI/ca.pem" "display = none" "tcp = $EDGE_PORT" \
    >"$state/agent.conf"
  log "node agent $NODE in $EDGE_NS (tcp = $EDGE_PORT) ${AGENT_JVM_ARGS:-}"
  # shellcheck disable=SC2086 # AGENT_JVM_ARGS is a list of options
  ip netns exec "$EDGE_NS" "$JAVA" ${AGENT_JVM_ARGS:-} -jar "$WORK/airlock-agent.jar" --config "$state/agent.conf" \
    >"$WORK/agent.log" 2>&1 &
  AGENT_PID=$!
  PIDS+=("$AGENT_PID")
  wait_for "$WORK/agent.log" "Tunnel up at https://" 90

  local ssh_pids=""
  if [[ ,${ROUTES:-direct,tunnel,ssh}, == *,ssh,* ]]; then
    # The same shape as the tunnel: the edge dials out to a relay here, which listens for clients.
    local ssh="$WORK/ssh" sshd_port forward_port
    mkdir -p "$ssh" /run/sshd
    ssh-keygen -q -t ed25519 -N '' -C bench-host -f "$ssh/host"
    ssh-keygen -q -t ed25519 -N '' -C bench-edge -f "$ssh/edge"
    cp "$ssh/edge.pub" "$ssh/authorized_keys"
    sshd_port=$(free_port)
    forward_port=$(free_port)
    echo "[$HUB]:$sshd_port $(cut -d' ' -f1-2 "$ssh/host.pub")" >"$ssh/known_hosts"
    printf '%s\n' "Port $sshd_port" "ListenAddress $HUB" "HostKey $ssh/host" "PidFile $ssh/sshd.pid" \
      "AuthorizedKeysFile $ssh/authorized_keys" "PermitRootLogin prohibit-password" \
      "PasswordAuthentication no" "KbdInteractiveAuthentication no" "UsePAM no" "StrictModes no" \
      "AllowTcpForwarding remote" "PermitListen 127.0.0.1:$forward_port" "GatewayPorts no" \
      "PermitTTY no" "X11Forwarding no" "AllowAgentForwarding no" >"$ssh/sshd_config"
    log "sshd on $HUB:$sshd_port ($("$SSHD" -V 2>&1 | head -1 || true)); ssh -R 127.0.0.1:$forward_port:127.0.0.1:$EDGE_PORT from $EDGE_NS ${SSH_OPTIONS:-}"
    "$SSHD" -D -e -f "$ssh/sshd_config" >"$WORK/sshd.log" 2>&1 &
    SSHD_PID=$!
    PIDS+=("$SSHD_PID")
    wait_for "$WORK/sshd.log" "Server listening on $HUB port $sshd_port" 30
    # shellcheck disable=SC2086 # SSH_OPTIONS is a list of options
    ip netns exec "$EDGE_NS" ssh -N -v -p "$sshd_port" -i "$ssh/edge" -o IdentitiesOnly=yes -o BatchMode=yes \
      -o UserKnownHostsFile="$ssh/known_hosts" -o StrictHostKeyChecking=yes -o ExitOnForwardFailure=yes \
      ${SSH_OPTIONS:-} -R "127.0.0.1:$forward_port:127.0.0.1:$EDGE_PORT" "root@$HUB" >"$WORK/ssh.log" 2>&1 &
    SSH_PID=$!
    PIDS+=("$SSH_PID")
    wait_for "$WORK/ssh.log" "remote forward success" 30
    log "ssh: $(grep -m1 -oE 'kex: server->client cipher: [^ ]+ MAC: [^ ]+' "$WORK/ssh.log" || echo 'cipher unknown'), $(grep -m1 -oE 'kex: algorithm: [^ ]+' "$WORK/ssh.log" || true)"
    ssh_pids="$SSHD_PID,$SSH_PID"
    SSH_ROUTE="127.0.0.1:$forward_port"
  fi

  # The SDK opens each stream's WebSocket from reactor-netty's global connection pool, which holds
  # at most 500 connections per address unless told otherwise: a client with more streams open at
  # once waits for a free one (and gives up after its 15 s open timeout).
  local streams=${STREAMS:-1000} pool
  pool=${SDK_POOL_MAX_CONNECTIONS:-$((streams + 64 > 500 ? streams + 64 : 500))}
  log "driver: TunnelBench (time limit ${TIME_LIMIT}s; SDK pool: reactor.netty.pool.maxConnections=$pool);" \
    "tables also go to $RESULTS"
  run_driver TunnelBench "-Dreactor.netty.pool.maxConnections=$pool ${DRIVER_JVM_ARGS:-}" \
    --url="http://127.0.0.1:$PLATFORM_PORT" --api-key="$API_KEY" --node="$NODE" --target="tcp:$EDGE_PORT" \
    --direct="$EDGE_ADDRESS:$EDGE_PORT" --ssh="${SSH_ROUTE:-}" --routes="${ROUTES:-direct,tunnel,ssh}" \
    --phases="${PHASES:-bulk,latency,stall,streams}" \
    --tunnel-pids="$traffic_signal_pid,$AGENT_PID" --ssh-pids="$ssh_pids" --edge-pid="$EDGE_PID" \
    --signal-pid="$traffic_signal_pid" --agent-pid="$AGENT_PID" \
    --bulk-bytes="${BULK_BYTES:-1073741824}" --bulk-seconds="${BULK_SECONDS:-20}" \
    --bulk-warmup-bytes="${BULK_WARMUP_BYTES:-4294967296}" --bulk-warmup-seconds="${BULK_WARMUP_SECONDS:-10}" --bulk-rounds="${BULK_ROUNDS:-3}" \
    --ping-count="${PING_COUNT:-10000}" --ping-warmup="${PING_WARMUP:-2000}" --ping-size="${PING_SIZE:-64}" \
    --streams="${STREAMS:-1000}" --stream-bytes="${STREAM_BYTES:-16384}" \
    --open-concurrency="${OPEN_CONCURRENCY:-64}" \
    --stall-bytes="${STALL_BYTES:-67108864}" --stall-seconds="${STALL_SECONDS:-20}" --results="$RESULTS"
  signal_warnings
  # How sessions ended, as the signal node saw it: the driver closes each stream itself and cannot
  # tell a clean end from one its tunnel connection lost at the same moment.
  log "tunnel sessions ended at the signal node: $(grep -c 'ended: closed by the client' "$SIGNAL_LOG" || true)" \
    "closed by the client, $(grep -c 'ended: tunnel connection lost' "$SIGNAL_LOG" || true) lost with" \
    "the node's tunnel connection ($(grep -c 'Maximum number of RST frames reached' "$SIGNAL_LOG" || true)" \
    "times 'Maximum number of RST frames reached')"
  log "agent log: $(grep -cE ' (WARN|ERROR) ' "$WORK/agent.log" || true) WARN/ERROR lines"
  grep -E ' (WARN|ERROR) ' "$WORK/agent.log" | cut -c1-300 | sed -E 's/[0-9a-f-]{36}/…/g' |
    sort | uniq -c | sort -rn | head -5 >&2 || true
}

# --- idle: synthetic edge nodes ---------------------------------------------------------------------
idle() { # N
  local n=$1 t tokens=() most
  # Each node is one connection, so one file descriptor in the signal node (and in the driver).
  most=$(($(ulimit -n) - 500))
  if ((n > most)); then
    log "idle: $n nodes need $n file descriptors in the signal node; the open-files limit is" \
      "$(ulimit -n) (raising it needs CAP_SYS_RESOURCE), so $most nodes"
    n=$most
  fi
  # A signal node of its own, so that the memory measured is the idle nodes' and not traffic's.
  start_signal bench-idle
  # Join tokens allow 10,000 uses at most; IDLE_TOKENS spreads the enrolments over more.
  t=${IDLE_TOKENS:-$(((n + 9999) / 10000))}
  for ((i = 0; i < t; i++)); do tokens+=("$(node_token $(((n + t - 1) / t)))"); done
  log "idle: $n synthetic edge nodes, ${#tokens[@]} join token(s)"
  run_driver IdleNodes "${DRIVER_JVM_ARGS:-}" \
    --signal-url="ws://127.0.0.1:$SIGNAL_PORT/signal/v1/agent" --tunnel-host=127.0.0.1 \
    --ca-file="$PKI/ca.pem" --join-tokens="$(IFS=,; echo "${tokens[*]}")" --signal-pid="$SIGNAL_PID" \
    --count="$n" --time-limit="${IDLE_TIME_LIMIT:-600s}" --hold="${IDLE_HOLD:-70s}" \
    --concurrency="${IDLE_CONCURRENCY:-32}" --per-worker="${IDLE_PER_WORKER:-5000}" --signal-heap="-Xmx$SIGNAL_XMX" --results="$RESULTS"
  signal_warnings
}

case "$MODE" in
  traffic) traffic ;;
  idle) idle "${2:-10000}" ;;
  all)
    traffic
    log "stopping the traffic run's processes before the idle run"
    for pid in ${SSH_PID:-} ${SSHD_PID:-} "$AGENT_PID" "$EDGE_PID" "$SIGNAL_PID"; do
      stop_pid "$pid"
    done
    idle "${2:-10000}"
    ;;
esac
log "done; the driver's tables: $RESULTS"
