#!/usr/bin/env bash
# The container benchmark (BENCHMARKS.md, "Browser-isolation containers (issue 4)"): request →
# READY, cold and from the warm pool, sequential and concurrent, against a bare `docker run` of the
# same image measured in the same run (the floor), and the 503 answered when no provisioner can
# take a request. A benchmark, not a test. Needs root, MariaDB on 127.0.0.1:3306 (root, empty
# password), the built jars (platform, signal, provisioner, agent) and the bench jar
# (./mvnw -B -q -f bench/pom.xml package).
#
#   bench/run-containers.sh
#
# Starts, in a private working directory: the private Docker Engine of the tests (deploy/test-deps.sh;
# reused when it runs, left running then) with the agent image (deploy/images/build.sh, cached); an
# internal CA and the provisioner's and platform's certificates (deploy/pki.sh); the platform on a
# fresh database (airlock_bench_<time>); one signal node; the provisioner (plain mode, mutual TLS);
# then dev.airlock.bench.ContainerBench on the Java SDK. On exit (also Ctrl-C or an error) it stops
# every process it started, removes every container of its provisioner and of the floor, drops the
# database and removes the directory (KEEP_WORK=1 keeps it, with the logs).
# Env: COUNT (20), CONCURRENCY (10), UNAVAILABLE (20), TIME_LIMIT (1080, seconds for the driver;
# the driver is killed 60 s after it), BUILD_DIR (the checkout whose built jars to run, default this
# one; e.g. a CI copy built at the same commit).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$(cd "${BUILD_DIR:-$REPO}" && pwd)"
JAVA=${JAVA:-java}
RUN="$(date +%s | xargs printf '%x')"
DB="airlock_bench_$RUN"
WORK="$(mktemp -d /tmp/airlock-bench-containers.XXXXXX)"
PROVISIONER_ID=bench
IMAGE_REF=airlock/agent:dev
TIME_LIMIT=${TIME_LIMIT:-1080}
PIDS=()
DOCKER=()

log() { printf '[run-containers %(%H:%M:%S)T load %s] %s\n' -1 "$(cut -d' ' -f1 /proc/loadavg)" "$*" >&2; }

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local rc=$? i pid
  set +e
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[i]}" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [[ ${#DOCKER[@]} -gt 0 ]]; then
    local left
    left="$({ "${DOCKER[@]}" ps -aq --filter "label=dev.airlock.provisioner=$PROVISIONER_ID"
      "${DOCKER[@]}" ps -aq --filter "label=dev.airlock.bench=$RUN"; } 2>/dev/null | sort -u)"
    if [[ -n $left ]]; then
      log "removing $(wc -w <<<"$left") container(s) left on the engine"
      # shellcheck disable=SC2086 # one id per word
      "${DOCKER[@]}" rm -f $left >/dev/null 2>&1
    fi
  fi
  mariadb --no-defaults --protocol=TCP -h127.0.0.1 -uroot --password= \
    -e "DROP DATABASE IF EXISTS \`$DB\`" 2>/dev/null
  # Stops the Docker daemon only if test_deps_docker started it for this run.
  declare -F test_deps_down >/dev/null && test_deps_down
  if [[ ${KEEP_WORK:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  log "cleaned up (exit $rc)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $(id -u) -eq 0 ]] || { echo "needs root (the private Docker Engine)" >&2; exit 1; }
for jar in platform/target/airlock-platform.jar signal/target/airlock-signal.jar \
  provisioner/target/airlock-provisioner.jar agent/target/airlock-agent.jar; do
  [[ -f $BUILD_DIR/$jar ]] || { echo "missing $BUILD_DIR/$jar (build it first; see BENCHMARKS.md)" >&2; exit 1; }
done
[[ -f $REPO/bench/target/airlock-bench.jar ]] ||
  { echo "missing bench/target/airlock-bench.jar (./mvnw -B -q -f bench/pom.xml package)" >&2; exit 1; }
# A platform jar built before the containers API would answer 404 to everything below (grep reads
# all of unzip's output: with -q, pipefail would see unzip's SIGPIPE).
unzip -l "$BUILD_DIR/platform/target/airlock-platform.jar" | grep >/dev/null 'dev/airlock/platform/container/ContainerHandler' ||
  { echo "$BUILD_DIR/platform/target/airlock-platform.jar has no containers API: it predates it; rebuild it" >&2; exit 1; }
if pgrep -f 'airlock test' >/dev/null || pgrep -f surefire >/dev/null; then
  log "WARNING: a test run is in progress; figures will be disturbed"
fi
log "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $("$JAVA" -version 2>&1 | head -1)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])'; }
wait_for() { # file regex seconds
  local deadline=$((SECONDS + $3))
  until grep -qE "$2" "$1" 2>/dev/null; do
    [[ $SECONDS -lt $deadline ]] || { log "no /$2/ in $1 within $3 s"; tail -n 40 "$1" >&2; return 1; }
    sleep 0.3
  done
}

# --- Docker Engine and the agent image ---------------------------------------------------------
# shellcheck source=deploy/test-deps.sh source-path=SCRIPTDIR/..
source "$REPO/deploy/test-deps.sh"
test_deps_docker
DOCKER=("$(_test_deps_docker_client)" -H "$AIRLOCK_TEST_DOCKER_HOST")
"$REPO/deploy/images/build.sh" --docker-host "$AIRLOCK_TEST_DOCKER_HOST" \
  --agent-jar "$BUILD_DIR/agent/target/airlock-agent.jar"
stale="$("${DOCKER[@]}" ps -aq --filter "label=dev.airlock.provisioner=$PROVISIONER_ID")"
[[ -z $stale ]] || { log "removing $(wc -w <<<"$stale") stale container(s) of provisioner $PROVISIONER_ID";
  # shellcheck disable=SC2086
  "${DOCKER[@]}" rm -f $stale >/dev/null; }
log "engine $("${DOCKER[@]}" version --format '{{.Server.Version}}'), image $IMAGE_REF $("${DOCKER[@]}" image inspect --format '{{.Id}}' "$IMAGE_REF" | cut -c1-19)"

# --- certificates ------------------------------------------------------------------------------
PKI="$WORK/pki"
"$REPO/deploy/pki.sh" ca "$PKI"
"$REPO/deploy/pki.sh" server "$PKI" provisioner --dns localhost --ip 127.0.0.1
"$REPO/deploy/pki.sh" client "$PKI" platform

# --- platform ----------------------------------------------------------------------------------
jars=""
for jar in platform/target/airlock-platform.jar signal/target/airlock-signal.jar \
  provisioner/target/airlock-provisioner.jar agent/target/airlock-agent.jar; do
  jars+=" ${jar##*/} ($(date -u -r "$BUILD_DIR/$jar" '+%H:%M:%S UTC'))"
done
log "jars from $BUILD_DIR:$jars"
cp "$BUILD_DIR/platform/target/airlock-platform.jar" "$BUILD_DIR/signal/target/airlock-signal.jar" \
  "$BUILD_DIR/provisioner/target/airlock-provisioner.jar" "$WORK/"
PLATFORM_PORT=$(free_port)
SIGNAL_PORT=$(free_port)
PROVISIONER_PORT=$(free_port)
API="http://127.0.0.1:$PLATFORM_PORT/api/v1"
DATA="$WORK/platform-data"
mkdir -p "$DATA"
log "platform on :$PLATFORM_PORT, database $DB, work $WORK"
"$JAVA" -jar "$WORK/airlock-platform.jar" --server.port="$PLATFORM_PORT" \
  --airlock.database.url="mysql://root:@127.0.0.1:3306/$DB" \
  --airlock.data-dir="$DATA" \
  --airlock.provisioning.cert-file="$PKI/platform.pem" \
  --airlock.provisioning.key-file="$PKI/platform-key.pem" \
  --airlock.provisioning.ca-file="$PKI/ca.pem" \
  --airlock.containers.max-per-user=100 \
  --airlock.jobs.warm-pool.cron='* * * * * *' \
  --airlock.containers.signal-url="ws://127.0.0.1:$SIGNAL_PORT" \
  >"$WORK/platform.log" 2>&1 &
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

# --- signal node -------------------------------------------------------------------------------
# Containers run on the host's network, so the agents inside dial 127.0.0.1.
log "signal node on :$SIGNAL_PORT"
"$JAVA" -jar "$WORK/airlock-signal.jar" --server.port="$SIGNAL_PORT" \
  --airlock.signal.node-id=bench-1 \
  --airlock.signal.tunnel.port=-1 \
  --airlock.signal.public-url="ws://127.0.0.1:$SIGNAL_PORT" \
  --airlock.signal.admin-url="http://127.0.0.1:$SIGNAL_PORT" \
  --airlock.signal.platform-url="http://127.0.0.1:$PLATFORM_PORT" \
  --airlock.signal.platform-key-file="$DATA/signal-node-key" \
  >"$WORK/signal.log" 2>&1 &
PIDS+=("$!")
wait_for "$WORK/signal.log" "Airlock signal node bench-1 listening" 120

# --- provisioner -------------------------------------------------------------------------------
log "provisioner $PROVISIONER_ID on :$PROVISIONER_PORT (plain mode)"
"$JAVA" -jar "$WORK/airlock-provisioner.jar" --server.port="$PROVISIONER_PORT" \
  --airlock.provisioner.id="$PROVISIONER_ID" \
  --airlock.provisioner.docker-host="$AIRLOCK_TEST_DOCKER_HOST" \
  --airlock.provisioner.mode=plain \
  --airlock.provisioner.max-containers=60 \
  --airlock.provisioner.tls.cert-file="$PKI/provisioner.pem" \
  --airlock.provisioner.tls.key-file="$PKI/provisioner-key.pem" \
  --airlock.provisioner.tls.ca-file="$PKI/ca.pem" \
  >"$WORK/provisioner.log" 2>&1 &
PIDS+=("$!")
wait_for "$WORK/provisioner.log" "Airlock provisioner $PROVISIONER_ID listening" 120

# --- the driver --------------------------------------------------------------------------------
log "driver: ContainerBench (time limit ${TIME_LIMIT}s)"
timeout --kill-after=10 $((TIME_LIMIT + 60)) \
  "$JAVA" -cp "$REPO/bench/target/airlock-bench.jar" dev.airlock.bench.ContainerBench \
  --url="http://127.0.0.1:$PLATFORM_PORT" --api-key="$API_KEY" \
  --docker="${DOCKER[0]}" --docker-host="$AIRLOCK_TEST_DOCKER_HOST" \
  --signal-url="ws://127.0.0.1:$SIGNAL_PORT" --provisioner-url="https://127.0.0.1:$PROVISIONER_PORT" \
  --image-ref="$IMAGE_REF" --run="$RUN" --time-limit="${TIME_LIMIT}s" \
  --count="${COUNT:-20}" --concurrency="${CONCURRENCY:-10}" --unavailable="${UNAVAILABLE:-20}" &
driver=$!
PIDS+=("$driver")
status=0
wait "$driver" || status=$?
for part in platform provisioner signal; do
  log "$part log: $(grep -cE ' (WARN|ERROR) ' "$WORK/$part.log" || true) WARN/ERROR lines"
  # Without the timestamp, so that repeated lines count as one.
  grep -E ' (WARN|ERROR) ' "$WORK/$part.log" | sed -E 's/^[^ ]+ +//' | cut -c1-250 | sort | uniq -c |
    sort -rn | head -5 >&2 || true
done
exit "$status"
