#!/usr/bin/env bash
# Installs and starts the real components that Airlock's tests need, reusing what is
# already there. One function per dependency (test_deps_<name>); each one exports what the
# tests read and registers how to undo what it started.
#
# Sourced (what ./airlock test does):
#   source deploy/test-deps.sh
#   trap test_deps_down EXIT
#   test_deps_up            # exports AIRLOCK_TEST_DATABASE_URL, AIRLOCK_TEST_DOCKER_HOST, ...
# Executed (to run ./mvnw by hand):
#   eval "$(deploy/test-deps.sh up)"   # logs on stderr, export lines on stdout
#   deploy/test-deps.sh down           # stops what 'up' started
#
# Dependencies: MariaDB, Node.js, Xvfb with X tools and Debian's Chromium, OpenSSH (server and
# client, for the tunnel tests), libpulse, network namespaces and coturn for the WebRTC tests,
# SMTP servers (aiosmtpd) for the mail tests, OpenLDAP's slapd for the directory tests, a
# private Docker Engine in Swarm mode (with
# debootstrap, to build images locally).
#
# Environment:
#   AIRLOCK_TEST_DATABASE_URL      already set: used as is, nothing is started
#   AIRLOCK_TEST_FORCE_PRIVATE_DB  1: start a private MariaDB even if one answers on 3306
#   AIRLOCK_TEST_DOCKER_HOST       set to another daemon than the private one: used as is
#
# Debian/Ubuntu; installing packages needs root (or sudo).

# Not setting shell options here: when sourced, the caller's options apply.

TEST_DEPS_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Where 'up' (executed) leaves what 'down' needs to stop its processes later.
TEST_DEPS_STATE_FILE="$TEST_DEPS_REPO/.airlock/test-deps.state"

_test_deps_stops=()     # functions to call, in reverse order, on test_deps_down
_test_deps_apt_updated=0
_test_deps_tmp=""       # private working directory, created on first use

test_deps_log() { printf '[test-deps] %s\n' "$*" >&2; }
test_deps_fail() { printf '[test-deps] ERROR: %s\n' "$*" >&2; return 1; }

# Registers a function that undoes something this run started.
_test_deps_on_down() { _test_deps_stops+=("$1"); }

# Sets _test_deps_tmp (not in a subshell, so that test_deps_down can remove it).
_test_deps_workdir() {
  [[ -n $_test_deps_tmp ]] ||
    _test_deps_tmp="$(mktemp -d "${TMPDIR:-/tmp}/airlock-test-deps.XXXXXX")"
}

# Finds an executable on PATH or in the sbin directories a non-login shell may lack.
_test_deps_which() {
  local name=$1 dir
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    return 0
  fi
  for dir in /usr/sbin /sbin /usr/local/sbin /usr/local/bin; do
    if [[ -x $dir/$name ]]; then
      printf '%s\n' "$dir/$name"
      return 0
    fi
  done
  return 1
}

# True when something accepts TCP connections on host:port.
_test_deps_port_open() {
  # shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
  timeout 2 bash -c ': >"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

_test_deps_as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    test_deps_fail "needs root to run: $* (run as root, or install sudo)"
  fi
}

# apt-get install without starting services, updating the package lists once per run.
test_deps_apt_install() {
  command -v apt-get >/dev/null 2>&1 ||
    test_deps_fail "apt-get not found; install these yourself: $*" || return 1
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300)
  if [[ $_test_deps_apt_updated -eq 0 ]]; then
    test_deps_log "apt-get update"
    _test_deps_as_root "${apt[@]}" update >&2 || return 1
    _test_deps_apt_updated=1
  fi
  test_deps_log "apt-get install $*"
  # A policy-rc.d that answers 101 keeps postinst scripts from starting services (the tests
  # start their own private instances); an existing one (e.g. in a container) is left alone.
  local policy=/usr/sbin/policy-rc.d added_policy=0 rc=0
  if [[ ! -e $policy ]]; then
    _test_deps_as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy" &&
      added_policy=1
  fi
  _test_deps_as_root "${apt[@]}" install --no-install-recommends "$@" >&2 || rc=$?
  if [[ $added_policy -eq 1 ]]; then
    _test_deps_as_root rm -f "$policy"
  fi
  [[ $rc -eq 0 ]] || test_deps_fail "apt-get install $* failed (exit $rc)"
}

# --- MariaDB ---------------------------------------------------------------------------

_test_deps_mariadb_client() {
  _test_deps_which mariadb || _test_deps_which mysql
}

# True when root with an empty password can run a query over TCP on 127.0.0.1:port.
_test_deps_mariadb_root_ok() {
  local client
  client="$(_test_deps_mariadb_client)" || return 1
  "$client" --no-defaults --protocol=TCP -h127.0.0.1 -P"$1" -uroot --password= \
    --connect-timeout=5 -e 'select 1' >/dev/null 2>&1
}

test_deps_mariadb() {
  if [[ -n ${AIRLOCK_TEST_DATABASE_URL:-} ]]; then
    test_deps_log "database: using AIRLOCK_TEST_DATABASE_URL from the environment"
    return 0
  fi
  if [[ ${AIRLOCK_TEST_FORCE_PRIVATE_DB:-0} == 1 ]]; then
    test_deps_log "database: AIRLOCK_TEST_FORCE_PRIVATE_DB=1, not looking at 127.0.0.1:3306"
  elif _test_deps_port_open 127.0.0.1 3306; then
    if ! _test_deps_mariadb_client >/dev/null; then
      test_deps_log "database: something listens on 127.0.0.1:3306; installing a client to check it"
      test_deps_apt_install mariadb-client || return 1
    fi
    if _test_deps_mariadb_root_ok 3306; then
      export AIRLOCK_TEST_DATABASE_URL="mysql://root:@127.0.0.1:3306"
      test_deps_log "database: reusing the server on 127.0.0.1:3306 (root, empty password)"
      return 0
    fi
    test_deps_log "database: 127.0.0.1:3306 refuses root with an empty password; starting a private instance"
  else
    test_deps_log "database: nothing on 127.0.0.1:3306; starting a private instance"
  fi
  _test_deps_mariadb_private
}

_test_deps_mariadb_private() {
  local mariadbd install_db client
  if ! mariadbd="$(_test_deps_which mariadbd)" ||
    ! install_db="$(_test_deps_which mariadb-install-db)" ||
    ! client="$(_test_deps_mariadb_client)"; then
    test_deps_apt_install mariadb-server mariadb-client || return 1
    mariadbd="$(_test_deps_which mariadbd)" &&
      install_db="$(_test_deps_which mariadb-install-db)" &&
      client="$(_test_deps_mariadb_client)" ||
      test_deps_fail "mariadb-server is installed but mariadbd / mariadb-install-db are not found" ||
      return 1
  fi

  local port=3307
  while _test_deps_port_open 127.0.0.1 "$port"; do
    port=$((port + 1))
    [[ $port -le 3399 ]] || test_deps_fail "no free port in 3307..3399 for a private MariaDB" || return 1
  done

  local dir
  _test_deps_workdir && dir="$_test_deps_tmp/mariadb" && mkdir -p "$dir" ||
    test_deps_fail "could not create a working directory under ${TMPDIR:-/tmp}" || return 1
  local as_user=()
  [[ $(id -u) -ne 0 ]] || as_user=(--user=root)

  test_deps_log "database: initialising a private MariaDB in $dir/data"
  if ! "$install_db" --no-defaults --datadir="$dir/data" "${as_user[@]}" \
    --auth-root-authentication-method=normal --skip-test-db \
    >"$dir/install-db.log" 2>&1; then
    tail -n 20 "$dir/install-db.log" >&2
    test_deps_fail "mariadb-install-db failed (log: $dir/install-db.log)"
    return 1
  fi

  # --no-defaults keeps the system's my.cnf (its socket, its port) out of the way; the
  # character set matches Debian's server defaults; durability is traded for speed.
  "$mariadbd" --no-defaults "${as_user[@]}" --datadir="$dir/data" \
    --port="$port" --bind-address=127.0.0.1 --socket="$dir/mysqld.sock" \
    --pid-file="$dir/mariadbd.pid" --log-error="$dir/mariadbd.err" \
    --skip-name-resolve --skip-log-bin \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb-flush-log-at-trx-commit=0 --max-connections=500 \
    </dev/null >/dev/null 2>&1 &
  local pid=$!
  _TEST_DEPS_MARIADB_PID=$pid
  _TEST_DEPS_MARIADB_DIR=$dir
  _test_deps_on_down _test_deps_mariadb_stop
  test_deps_log "database: started mariadbd (pid $pid) on 127.0.0.1:$port; waiting for it"

  local deadline=$((SECONDS + 60))
  until "$client" --no-defaults --socket="$dir/mysqld.sock" -uroot --password= \
    --connect-timeout=2 -e 'select 1' >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$dir/mariadbd.err" >&2 2>/dev/null || true
      test_deps_fail "mariadbd exited during startup (log: $dir/mariadbd.err)"
      return 1
    fi
    if [[ $SECONDS -ge $deadline ]]; then
      tail -n 30 "$dir/mariadbd.err" >&2 2>/dev/null || true
      test_deps_fail "mariadbd did not accept connections within 60 s (log: $dir/mariadbd.err)"
      return 1
    fi
    sleep 0.5
  done

  # The tests connect over TCP as root with an empty password; make sure that account exists
  # for 127.0.0.1 whatever mariadb-install-db created.
  "$client" --no-defaults --socket="$dir/mysqld.sock" -uroot --password= -e "
    CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
    FLUSH PRIVILEGES;" >&2 || test_deps_fail "could not grant root@127.0.0.1" || return 1
  _test_deps_mariadb_root_ok "$port" ||
    test_deps_fail "private MariaDB on port $port refuses root with an empty password over TCP" ||
    return 1

  export AIRLOCK_TEST_DATABASE_URL="mysql://root:@127.0.0.1:$port"
  test_deps_log "database: private MariaDB ready at $AIRLOCK_TEST_DATABASE_URL"
}

_test_deps_mariadb_stop() {
  local pid=${_TEST_DEPS_MARIADB_PID:-} dir=${_TEST_DEPS_MARIADB_DIR:-}
  [[ -n $pid ]] || return 0
  test_deps_log "database: stopping the private MariaDB (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && [[ $SECONDS -lt $deadline ]]; do
    sleep 0.3
  done
  if kill -0 "$pid" 2>/dev/null; then
    test_deps_log "database: mariadbd did not stop within 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true # reaps it when it is our child
  [[ -z $dir ]] || rm -rf "$dir"
  _TEST_DEPS_MARIADB_PID=""
}

# --- Node.js ---------------------------------------------------------------------------

_test_deps_node_major() {
  local v
  v="$(node --version 2>/dev/null)" || return 1
  v=${v#v}
  printf '%s\n' "${v%%.*}"
}

test_deps_node() {
  local major found_node found_npm
  major="$(_test_deps_node_major)" || major=0
  if [[ $major -lt 18 ]] || ! command -v npm >/dev/null 2>&1; then
    found_node="$(node --version 2>/dev/null)" || found_node=none
    found_npm="$(npm --version 2>/dev/null)" || found_npm=none
    test_deps_log "node: need Node.js >= 18 and npm (found node $found_node, npm $found_npm); installing"
    test_deps_apt_install nodejs npm || return 1
    hash -r
    major="$(_test_deps_node_major)" || major=0
    [[ $major -ge 18 ]] ||
      test_deps_fail "this distribution's nodejs is too old ($(node --version 2>/dev/null || echo none)); install Node.js >= 18 (e.g. from nodejs.org) and rerun" ||
      return 1
  fi
  test_deps_log "node: $(node --version), npm $(npm --version)"
}

# --- Displays and a browser: Xvfb, X tools, Chromium -----------------------------------------
#
# The agent's screen, input and clipboard tests run a private Xvfb; the portal's end-to-end
# test drives Debian's Chromium with playwright-core (never a downloaded browser).

test_deps_display() {
  local missing=() cmd pkg
  for cmd in Xvfb:xvfb xclip:xclip xrandr:x11-xserver-utils xdotool:xdotool xwininfo:x11-utils chromium:chromium; do
    pkg=${cmd#*:}
    command -v "${cmd%%:*}" >/dev/null 2>&1 || missing+=("$pkg")
  done
  ldconfig -p 2>/dev/null | grep -q 'libXtst\.so\.6' || missing+=(libxtst6)
  if [[ ${#missing[@]} -gt 0 ]]; then
    test_deps_log "display: installing ${missing[*]}"
    test_deps_apt_install "${missing[@]}" || return 1
  fi
  export AIRLOCK_TEST_CHROMIUM
  AIRLOCK_TEST_CHROMIUM="$(command -v chromium)"
  test_deps_log "display: Xvfb, xclip, xrandr, xdotool and $($AIRLOCK_TEST_CHROMIUM --version 2>/dev/null | head -n 1)"
}

# --- OpenSSH, for the reverse-tunnel tests (a real sshd at the edge, a real ssh client) ------
test_deps_ssh() {
  local missing=()
  _test_deps_which sshd >/dev/null || missing+=(openssh-server)
  command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
  if [[ ${#missing[@]} -gt 0 ]]; then
    test_deps_log "ssh: installing ${missing[*]}"
    test_deps_apt_install "${missing[@]}" || return 1
  fi
  # sshd refuses to start without its privilege separation directory.
  mkdir -p /run/sshd
  export AIRLOCK_TEST_SSHD
  AIRLOCK_TEST_SSHD="$(_test_deps_which sshd)"
  test_deps_log "ssh: $AIRLOCK_TEST_SSHD and $(ssh -V 2>&1 | head -n 1)"
}

# --- WebRTC peers: libpulse, network namespaces, coturn -------------------------------------
#
# webrtc-java ignores loopback, so the WebRTC tests run their peers in network namespaces:
#
#   root namespace: bridge alk-br0 10.231.0.1/24 (platform, signal, coturn listen here)
#                   bridge alk-br1 10.232.0.1/24
#   alk-a1 10.231.0.11, alk-a2 10.231.0.12 (agents), alk-cl 10.231.0.21 (client)  on alk-br0
#   alk-iso 10.232.0.11 (an agent), alk-edge 10.232.0.13 (an edge site: sshd, web app, node
#   agent; its services listen on its own loopback, so only its tunnel reaches them)  on alk-br1
#
# No namespace has a default route, so alk-iso and alk-cl cannot reach each other while both
# reach the root namespace: peer to peer is impossible between them and the relay must work.

TEST_NETNS_BR0_ADDR=10.231.0.1
TEST_NETNS_BR1_ADDR=10.232.0.1

test_deps_webrtc_libs() {
  if ldconfig -p 2>/dev/null | grep -q 'libpulse\.so\.0'; then
    return 0
  fi
  test_deps_log "webrtc: installing libpulse0 (webrtc-java links against it, even headless)"
  test_deps_apt_install libpulse0
}

_test_deps_netns_add() { # name bridge address
  local ns=$1 br=$2 addr=$3 host="v-$1"
  ip netns add "$ns" || return 1
  ip link add "$host" type veth peer name eth0 netns "$ns" || return 1
  ip link set "$host" master "$br" up || return 1
  ip -n "$ns" addr add "$addr/24" dev eth0 || return 1
  ip -n "$ns" link set eth0 up || return 1
  ip -n "$ns" link set lo up || return 1
}

test_deps_netns() {
  if [[ $(id -u) -ne 0 ]]; then
    test_deps_fail "the WebRTC tests create network namespaces and need root"
    return 1
  fi
  if ! command -v ip >/dev/null 2>&1; then
    test_deps_apt_install iproute2 || return 1
  fi
  _test_deps_netns_stop 2>/dev/null # leftovers of an interrupted run
  _test_deps_on_down _test_deps_netns_stop
  ip link add alk-br0 type bridge && ip addr add "$TEST_NETNS_BR0_ADDR/24" dev alk-br0 &&
    ip link set alk-br0 up &&
    ip link add alk-br1 type bridge && ip addr add "$TEST_NETNS_BR1_ADDR/24" dev alk-br1 &&
    ip link set alk-br1 up &&
    _test_deps_netns_add alk-a1 alk-br0 10.231.0.11 &&
    _test_deps_netns_add alk-a2 alk-br0 10.231.0.12 &&
    _test_deps_netns_add alk-cl alk-br0 10.231.0.21 &&
    _test_deps_netns_add alk-iso alk-br1 10.232.0.11 &&
    _test_deps_netns_add alk-edge alk-br1 10.232.0.13 ||
    { test_deps_fail "could not create the test network namespaces (ip netns / veth / bridge)"; return 1; }
  # Check each path (when ping is there; the tests would fail anyway, less clearly).
  local ns
  command -v ping >/dev/null 2>&1 || { export AIRLOCK_TEST_NETNS=1; return 0; }
  for ns in alk-a1 alk-a2 alk-cl; do
    ip netns exec "$ns" ping -c1 -W2 "$TEST_NETNS_BR0_ADDR" >/dev/null 2>&1 ||
      { test_deps_fail "namespace $ns cannot reach $TEST_NETNS_BR0_ADDR"; return 1; }
  done
  ip netns exec alk-iso ping -c1 -W2 "$TEST_NETNS_BR1_ADDR" >/dev/null 2>&1 ||
    { test_deps_fail "namespace alk-iso cannot reach $TEST_NETNS_BR1_ADDR"; return 1; }
  if ip netns exec alk-iso ping -c1 -W1 10.231.0.21 >/dev/null 2>&1; then
    test_deps_fail "alk-iso reaches alk-cl; the no-route topology is broken"
    return 1
  fi
  export AIRLOCK_TEST_NETNS=1
  test_deps_log "netns: alk-a1, alk-a2, alk-cl on alk-br0 ($TEST_NETNS_BR0_ADDR), alk-iso and alk-edge on alk-br1 ($TEST_NETNS_BR1_ADDR)"
}

_test_deps_netns_stop() {
  local ns
  for ns in alk-a1 alk-a2 alk-cl alk-iso alk-edge; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    ip link del "v-$ns" 2>/dev/null
  done
  ip link del alk-br0 2>/dev/null
  ip link del alk-br1 2>/dev/null
  return 0
}

test_deps_coturn() {
  local turnserver
  if ! turnserver="$(_test_deps_which turnserver)"; then
    test_deps_apt_install coturn || return 1
    turnserver="$(_test_deps_which turnserver)" ||
      { test_deps_fail "coturn is installed but turnserver is not found"; return 1; }
  fi
  local dir
  _test_deps_workdir && dir="$_test_deps_tmp/coturn" && mkdir -p "$dir" || return 1
  "$turnserver" --stun-only -n --no-cli --listening-ip "$TEST_NETNS_BR0_ADDR" \
    --listening-ip "$TEST_NETNS_BR1_ADDR" --listening-port 3478 --no-tls --no-dtls \
    --log-file "$dir/turnserver.log" --simple-log --pidfile "$dir/turnserver.pid" \
    </dev/null >/dev/null 2>&1 &
  _TEST_DEPS_COTURN_PID=$!
  _test_deps_on_down _test_deps_coturn_stop
  local deadline=$((SECONDS + 15))
  until grep -qs "listener opened on" "$dir/turnserver.log" 2>/dev/null || ss -lun 2>/dev/null | grep -q "$TEST_NETNS_BR0_ADDR:3478"; do
    if ! kill -0 "$_TEST_DEPS_COTURN_PID" 2>/dev/null; then
      tail -n 20 "$dir/turnserver.log" >&2 2>/dev/null
      test_deps_fail "turnserver exited during startup"
      return 1
    fi
    [[ $SECONDS -lt $deadline ]] || { test_deps_fail "turnserver did not listen within 15 s"; return 1; }
    sleep 0.2
  done
  export AIRLOCK_TEST_STUN_URL="stun:$TEST_NETNS_BR0_ADDR:3478"
  export AIRLOCK_TEST_COTURN_LOG="$dir/turnserver.log"
  test_deps_log "coturn: STUN on $TEST_NETNS_BR0_ADDR:3478 and $TEST_NETNS_BR1_ADDR:3478 (pid $_TEST_DEPS_COTURN_PID)"
}

_test_deps_coturn_stop() {
  local pid=${_TEST_DEPS_COTURN_PID:-}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  _TEST_DEPS_COTURN_PID=""
}

# --- SMTP, for the mail tests ---------------------------------------------------------------
#
# Debian's python3-aiosmtpd, three times, all filing what they receive into one Maildir: a
# plain SMTP server, one that requires STARTTLS and one that speaks TLS from the first byte
# (SMTPS), both with a certificate generated here for localhost and 127.0.0.1 (the tests trust
# that certificate as their CA). The tests pause the plain one (SIGSTOP, then SIGCONT) to see
# mail wait in the outbox while the server does not answer.

# Prints a Python that imports aiosmtpd (Debian's, not one earlier on PATH without it).
_test_deps_aiosmtpd_python() {
  local python
  for python in /usr/bin/python3 "$(command -v python3 2>/dev/null)"; do
    [[ -n $python && -x $python ]] || continue
    if "$python" -c 'import aiosmtpd' 2>/dev/null; then
      printf '%s\n' "$python"
      return 0
    fi
  done
  return 1
}

# Waits until pid listens on 127.0.0.1:port; fails if it exits first or after 15 s.
_test_deps_smtp_wait() {
  local pid=$1 port=$2 log=$3 deadline=$((SECONDS + 15))
  until _test_deps_port_open 127.0.0.1 "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" >&2 2>/dev/null
      test_deps_fail "aiosmtpd on port $port exited during startup (log: $log)"
      return 1
    fi
    [[ $SECONDS -lt $deadline ]] ||
      { test_deps_fail "aiosmtpd did not listen on 127.0.0.1:$port within 15 s (log: $log)"; return 1; }
    sleep 0.2
  done
}

test_deps_smtp() {
  local python
  if ! python="$(_test_deps_aiosmtpd_python)"; then
    test_deps_apt_install python3-aiosmtpd || return 1
    python="$(_test_deps_aiosmtpd_python)" ||
      { test_deps_fail "python3-aiosmtpd is installed but /usr/bin/python3 cannot import aiosmtpd"; return 1; }
  fi
  if ! command -v openssl >/dev/null 2>&1; then
    test_deps_apt_install openssl || return 1
  fi
  local dir port starttls_port tls_port
  _test_deps_workdir && dir="$_test_deps_tmp/smtp" && mkdir -p "$dir" || return 1
  port="$(_test_deps_free_port 2525 t)" &&
    starttls_port="$(_test_deps_free_port $((port + 1)) t)" &&
    tls_port="$(_test_deps_free_port $((starttls_port + 1)) t)" ||
    { test_deps_fail "no free ports near 2525 for the SMTP servers"; return 1; }
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >"$dir/openssl.log" 2>&1 ||
    { test_deps_fail "openssl could not make the SMTP server's certificate (log: $dir/openssl.log)"; return 1; }

  # The three servers share one Maildir. Each would create it when missing, and started side by
  # side they race to (one then dies with "File exists"), so it is made here, whole, first.
  mkdir -p -m 700 "$dir/maildir" "$dir/maildir/cur" "$dir/maildir/new" "$dir/maildir/tmp" ||
    { test_deps_fail "could not create the SMTP servers' Maildir $dir/maildir"; return 1; }
  # -n: stay root rather than switch to nobody, who could not write the Maildir.
  "$python" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$dir/maildir" \
    </dev/null >"$dir/smtp.log" 2>&1 &
  _TEST_DEPS_SMTP_PID=$!
  "$python" -m aiosmtpd -n -l "127.0.0.1:$starttls_port" --tlscert "$dir/cert.pem" \
    --tlskey "$dir/key.pem" -c aiosmtpd.handlers.Mailbox "$dir/maildir" \
    </dev/null >"$dir/smtp-starttls.log" 2>&1 &
  _TEST_DEPS_SMTP_STARTTLS_PID=$!
  "$python" -m aiosmtpd -n -l "127.0.0.1:$tls_port" --smtpscert "$dir/cert.pem" \
    --smtpskey "$dir/key.pem" -c aiosmtpd.handlers.Mailbox "$dir/maildir" \
    </dev/null >"$dir/smtps.log" 2>&1 &
  _TEST_DEPS_SMTP_TLS_PID=$!
  _test_deps_on_down _test_deps_smtp_stop
  _test_deps_smtp_wait "$_TEST_DEPS_SMTP_PID" "$port" "$dir/smtp.log" &&
    _test_deps_smtp_wait "$_TEST_DEPS_SMTP_STARTTLS_PID" "$starttls_port" "$dir/smtp-starttls.log" &&
    _test_deps_smtp_wait "$_TEST_DEPS_SMTP_TLS_PID" "$tls_port" "$dir/smtps.log" || return 1

  export AIRLOCK_TEST_SMTP_HOST=127.0.0.1 AIRLOCK_TEST_SMTP_PORT=$port
  export AIRLOCK_TEST_SMTP_PID=$_TEST_DEPS_SMTP_PID AIRLOCK_TEST_SMTP_MAILBOX="$dir/maildir"
  export AIRLOCK_TEST_SMTP_STARTTLS_PORT=$starttls_port AIRLOCK_TEST_SMTP_TLS_PORT=$tls_port
  export AIRLOCK_TEST_SMTP_CA_FILE="$dir/cert.pem"
  test_deps_log "smtp: aiosmtpd $("$python" -m aiosmtpd --version 2>&1 | awk '{print $NF}') on 127.0.0.1:$port plain (pid $_TEST_DEPS_SMTP_PID), :$starttls_port STARTTLS required, :$tls_port SMTPS; Maildir $AIRLOCK_TEST_SMTP_MAILBOX"
}

_test_deps_smtp_stop() {
  local pid
  for pid in ${_TEST_DEPS_SMTP_PID:-} ${_TEST_DEPS_SMTP_STARTTLS_PID:-} ${_TEST_DEPS_SMTP_TLS_PID:-}; do
    kill -CONT "$pid" 2>/dev/null # a test may have left it paused
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  _TEST_DEPS_SMTP_PID=""
  _TEST_DEPS_SMTP_STARTTLS_PID=""
  _TEST_DEPS_SMTP_TLS_PID=""
}

# --- OpenLDAP, for the directory sync tests ---------------------------------------------
#
# A private slapd from Debian's package (the package's own configuration and service are never
# used) on 127.0.0.1: LDAP with StartTLS and LDAPS on free ports, with a certificate from a CA
# made here, suffix dc=airlock,dc=test, and an administrator the tests bind as to load their
# own entries (each test class under an ou of its own).

TEST_LDAP_SUFFIX="dc=airlock,dc=test"
TEST_LDAP_ADMIN_DN="cn=admin,$TEST_LDAP_SUFFIX"

test_deps_ldap() {
  local slapd slapadd slaptest
  if ! slapd="$(_test_deps_which slapd)" || ! command -v ldapsearch >/dev/null 2>&1; then
    # debconf asks nothing under DEBIAN_FRONTEND=noninteractive; policy-rc.d keeps the
    # package's own slapd service from starting.
    test_deps_apt_install slapd ldap-utils || return 1
    hash -r
  fi
  slapd="$(_test_deps_which slapd)" && slapadd="$(_test_deps_which slapadd)" &&
    slaptest="$(_test_deps_which slaptest)" && command -v ldapsearch >/dev/null 2>&1 ||
    { test_deps_fail "slapd and ldap-utils are installed but slapd, slapadd, slaptest or ldapsearch is not found"; return 1; }

  local dir port tls_port password
  _test_deps_workdir && dir="$_test_deps_tmp/ldap" && mkdir -p "$dir/slapd.d" "$dir/db" ||
    { test_deps_fail "could not create a working directory under ${TMPDIR:-/tmp}"; return 1; }
  port="$(_test_deps_free_port 3890 t)" && tls_port="$(_test_deps_free_port 6360 t)" ||
    { test_deps_fail "no free ports near 3890 and 6360 for slapd"; return 1; }
  password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"

  # A CA and a server certificate for 127.0.0.1 and localhost, valid for two days.
  if ! {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Airlock test LDAP CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      -keyout "$dir/ca.key" -out "$dir/ca.crt" &&
      openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" &&
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
        >"$dir/server.ext" &&
      openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.crt"
  } >"$dir/openssl.log" 2>&1; then
    tail -n 20 "$dir/openssl.log" >&2
    test_deps_fail "could not make the LDAP test certificates (log: $dir/openssl.log)"
    return 1
  fi

  cat >"$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
TLSCACertificateFile $dir/ca.crt
TLSCertificateFile $dir/server.crt
TLSCertificateKeyFile $dir/server.key
database mdb
suffix "$TEST_LDAP_SUFFIX"
rootdn "$TEST_LDAP_ADMIN_DN"
rootpw $password
directory $dir/db
index objectClass eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
CONF
  printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: airlock\no: Airlock tests\n' \
    "$TEST_LDAP_SUFFIX" >"$dir/base.ldif"
  # The database first (slaptest opens it), then the cn=config directory slapd reads, converted
  # from slapd.conf as a packaged server's is.
  if ! { "$slapadd" -f "$dir/slapd.conf" -b "$TEST_LDAP_SUFFIX" -l "$dir/base.ldif" &&
    "$slaptest" -f "$dir/slapd.conf" -F "$dir/slapd.d"; } >"$dir/setup.log" 2>&1; then
    tail -n 20 "$dir/setup.log" >&2
    test_deps_fail "slaptest/slapadd could not build the LDAP test configuration (log: $dir/setup.log)"
    return 1
  fi

  # -d 0: stay in the foreground, so this shell holds its pid.
  "$slapd" -d 0 -F "$dir/slapd.d" -h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$tls_port/" \
    </dev/null >"$dir/slapd.log" 2>&1 &
  _TEST_DEPS_SLAPD_PID=$!
  _test_deps_on_down _test_deps_ldap_stop
  local deadline=$((SECONDS + 30))
  until LDAPTLS_CACERT="$dir/ca.crt" ldapsearch -x -ZZ -H "ldap://127.0.0.1:$port" \
    -D "$TEST_LDAP_ADMIN_DN" -w "$password" -b "$TEST_LDAP_SUFFIX" -s base >/dev/null 2>&1; do
    if ! kill -0 "$_TEST_DEPS_SLAPD_PID" 2>/dev/null; then
      tail -n 20 "$dir/slapd.log" >&2 2>/dev/null
      test_deps_fail "slapd exited during startup (log: $dir/slapd.log)"
      return 1
    fi
    [[ $SECONDS -lt $deadline ]] ||
      { test_deps_fail "slapd did not answer a StartTLS bind within 30 s (log: $dir/slapd.log)"; return 1; }
    sleep 0.2
  done
  LDAPTLS_CACERT="$dir/ca.crt" ldapsearch -x -H "ldaps://127.0.0.1:$tls_port" \
    -D "$TEST_LDAP_ADMIN_DN" -w "$password" -b "$TEST_LDAP_SUFFIX" -s base >/dev/null 2>&1 ||
    { test_deps_fail "slapd does not answer over LDAPS on 127.0.0.1:$tls_port (log: $dir/slapd.log)"; return 1; }

  export AIRLOCK_TEST_LDAP_URL="ldap://127.0.0.1:$port"
  export AIRLOCK_TEST_LDAPS_URL="ldaps://127.0.0.1:$tls_port"
  export AIRLOCK_TEST_LDAP_BASE="$TEST_LDAP_SUFFIX"
  export AIRLOCK_TEST_LDAP_ADMIN_DN="$TEST_LDAP_ADMIN_DN"
  export AIRLOCK_TEST_LDAP_ADMIN_PASSWORD="$password"
  export AIRLOCK_TEST_LDAP_CA="$dir/ca.crt"
  test_deps_log "ldap: slapd (pid $_TEST_DEPS_SLAPD_PID) at $AIRLOCK_TEST_LDAP_URL (StartTLS) and $AIRLOCK_TEST_LDAPS_URL, CA $AIRLOCK_TEST_LDAP_CA"
}

_test_deps_ldap_stop() {
  local pid=${_TEST_DEPS_SLAPD_PID:-}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null && [[ $SECONDS -lt $deadline ]]; do
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true # reaps it when it is our child
  _TEST_DEPS_SLAPD_PID=""
}

# --- Docker Engine -----------------------------------------------------------------------
#
# The provisioner tests drive a real Docker Engine in Swarm mode. They get a private daemon on
# its own socket, so that they neither disturb nor depend on a system docker. Its data root
# persists between runs: images built locally by deploy/images/build.sh (no registry is
# needed) stay cached; a fresh machine builds them again. Test containers use host networking:
# the daemon runs without iptables rules and without the default bridge.

TEST_DOCKER_RUN_DIR=/run/airlock-test-docker
TEST_DOCKER_DATA_ROOT=/var/lib/airlock-test-docker
TEST_DOCKER_HOST="unix://$TEST_DOCKER_RUN_DIR/docker.sock"

# Prints a docker client that talks to the private daemon (a newer client in /usr/local/bin
# negotiates the older API of Debian's daemon; Debian's own client is the fallback).
_test_deps_docker_client() {
  local client
  for client in "$(command -v docker 2>/dev/null)" /usr/bin/docker; do
    [[ -n $client && -x $client ]] || continue
    if timeout 10 "$client" -H "$TEST_DOCKER_HOST" version >/dev/null 2>&1; then
      printf '%s\n' "$client"
      return 0
    fi
  done
  return 1
}

# Prints the first free TCP (and, for the data path, UDP) port from $1 up to $1 + 20.
_test_deps_free_port() {
  local port=$1 proto=${2:-t}
  while ss -Hln"$proto" "sport = :$port" 2>/dev/null | grep -q .; do
    port=$((port + 1))
    [[ $port -le $(($1 + 20)) ]] || return 1
  done
  printf '%s\n' "$port"
}

test_deps_docker() {
  if [[ -n ${AIRLOCK_TEST_DOCKER_HOST:-} && $AIRLOCK_TEST_DOCKER_HOST != "$TEST_DOCKER_HOST" ]]; then
    test_deps_log "docker: using AIRLOCK_TEST_DOCKER_HOST=$AIRLOCK_TEST_DOCKER_HOST from the environment"
    return 0
  fi
  local dockerd
  if ! dockerd="$(_test_deps_which dockerd)" || ! _test_deps_which debootstrap >/dev/null; then
    test_deps_log "docker: installing Debian's Docker Engine and debootstrap (deploy/images/build.sh needs it)"
    test_deps_apt_install docker.io debootstrap || return 1
    hash -r
    dockerd="$(_test_deps_which dockerd)" ||
      { test_deps_fail "docker.io is installed but dockerd is not found"; return 1; }
  fi

  local client log="$TEST_DOCKER_RUN_DIR/dockerd.log"
  if client="$(_test_deps_docker_client)"; then
    test_deps_log "docker: reusing the daemon on $TEST_DOCKER_HOST (left running)"
  else
    [[ $(id -u) -eq 0 ]] ||
      { test_deps_fail "starting the private Docker daemon needs root"; return 1; }
    local pidfile="$TEST_DOCKER_RUN_DIR/docker.pid" old
    old="$(cat "$pidfile" 2>/dev/null)" || old=""
    if [[ -n $old ]] && kill -0 "$old" 2>/dev/null; then
      test_deps_fail "dockerd (pid $old, $pidfile) is running but does not answer on $TEST_DOCKER_HOST; stop it or look at $log"
      return 1
    fi
    mkdir -p "$TEST_DOCKER_RUN_DIR/exec" "$TEST_DOCKER_DATA_ROOT" && rm -f "$pidfile" ||
      { test_deps_fail "could not create $TEST_DOCKER_RUN_DIR and $TEST_DOCKER_DATA_ROOT"; return 1; }
    "$dockerd" --host "$TEST_DOCKER_HOST" --data-root "$TEST_DOCKER_DATA_ROOT" \
      --exec-root "$TEST_DOCKER_RUN_DIR/exec" --pidfile "$pidfile" \
      --iptables=false --bridge=none \
      </dev/null >"$log" 2>&1 &
    _TEST_DEPS_DOCKER_PID=$!
    _test_deps_on_down _test_deps_docker_stop
    test_deps_log "docker: started dockerd (pid $_TEST_DEPS_DOCKER_PID) on $TEST_DOCKER_HOST; waiting for it"
    local deadline=$((SECONDS + 60))
    until client="$(_test_deps_docker_client)"; do
      if ! kill -0 "$_TEST_DEPS_DOCKER_PID" 2>/dev/null; then
        tail -n 30 "$log" >&2 2>/dev/null
        test_deps_fail "dockerd exited during startup (log: $log)"
        return 1
      fi
      if [[ $SECONDS -ge $deadline ]]; then
        tail -n 30 "$log" >&2 2>/dev/null
        test_deps_fail "dockerd did not answer on $TEST_DOCKER_HOST within 60 s (log: $log)"
        return 1
      fi
      sleep 0.5
    done
  fi

  local docker=("$client" -H "$TEST_DOCKER_HOST") state
  state="$("${docker[@]}" info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null)" ||
    state=""
  if [[ $state != "active true" ]]; then
    # Another daemon on this machine (a system docker in Swarm mode) may hold the default
    # ports; the first free ones above them do as well for a single-node swarm.
    local listen data out
    listen="$(_test_deps_free_port 2377 t)" && data="$(_test_deps_free_port 4789 u)" ||
      { test_deps_fail "no free ports for Swarm near 2377/tcp and 4789/udp"; return 1; }
    if out="$("${docker[@]}" swarm init --advertise-addr 127.0.0.1 \
      --listen-addr "127.0.0.1:$listen" --data-path-port "$data" 2>&1)"; then
      test_deps_log "docker: initialised a single-node swarm (manager on 127.0.0.1:$listen)"
    elif [[ $out != *"already part of a swarm"* ]]; then
      printf '%s\n' "$out" >&2
      test_deps_fail "docker swarm init failed on $TEST_DOCKER_HOST (log: $log)"
      return 1
    fi
  fi

  export AIRLOCK_TEST_DOCKER_HOST="$TEST_DOCKER_HOST"
  test_deps_log "docker: Engine $("${docker[@]}" version --format '{{.Server.Version}}' 2>/dev/null) on $AIRLOCK_TEST_DOCKER_HOST, Swarm manager"
}

_test_deps_docker_stop() {
  local pid=${_TEST_DEPS_DOCKER_PID:-}
  [[ -n $pid ]] || return 0
  test_deps_log "docker: stopping the private dockerd (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 15))
  while kill -0 "$pid" 2>/dev/null && [[ $SECONDS -lt $deadline ]]; do
    sleep 0.3
  done
  if kill -0 "$pid" 2>/dev/null; then
    test_deps_log "docker: dockerd did not stop within 15 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true # reaps it when it is our child
  _TEST_DEPS_DOCKER_PID=""
}

# --- entry points ------------------------------------------------------------------------

# Ensures every test dependency; on failure, stops what it already started.
test_deps_up() {
  local dep
  for dep in test_deps_mariadb test_deps_node test_deps_display test_deps_ssh test_deps_webrtc_libs test_deps_netns test_deps_coturn test_deps_smtp test_deps_ldap test_deps_docker; do
    if ! "$dep"; then
      test_deps_down
      return 1
    fi
  done
  test_deps_log "ready: AIRLOCK_TEST_DATABASE_URL=$AIRLOCK_TEST_DATABASE_URL AIRLOCK_TEST_DOCKER_HOST=$AIRLOCK_TEST_DOCKER_HOST"
}

# Stops what test_deps_up started, newest first. Safe to call more than once.
test_deps_down() {
  local i
  for ((i = ${#_test_deps_stops[@]} - 1; i >= 0; i--)); do
    "${_test_deps_stops[i]}" || true
  done
  _test_deps_stops=()
  if [[ -n $_test_deps_tmp ]]; then
    rm -rf "$_test_deps_tmp"
    _test_deps_tmp=""
  fi
}

_test_deps_main() {
  set -euo pipefail
  case "${1:-}" in
    up)
      [[ ! -e $TEST_DEPS_STATE_FILE ]] ||
        test_deps_fail "$TEST_DEPS_STATE_FILE exists: run '$0 down' first"
      test_deps_up
      mkdir -p "$(dirname "$TEST_DEPS_STATE_FILE")"
      {
        declare -p _TEST_DEPS_MARIADB_PID _TEST_DEPS_MARIADB_DIR _TEST_DEPS_COTURN_PID _TEST_DEPS_SMTP_PID _TEST_DEPS_SMTP_STARTTLS_PID _TEST_DEPS_SMTP_TLS_PID _TEST_DEPS_SLAPD_PID _TEST_DEPS_DOCKER_PID _test_deps_stops _test_deps_tmp 2>/dev/null || true
      } >"$TEST_DEPS_STATE_FILE"
      printf 'export AIRLOCK_TEST_DATABASE_URL=%q\n' "$AIRLOCK_TEST_DATABASE_URL"
      printf 'export AIRLOCK_TEST_NETNS=1 AIRLOCK_TEST_STUN_URL=%q AIRLOCK_TEST_COTURN_LOG=%q\n' "$AIRLOCK_TEST_STUN_URL" "$AIRLOCK_TEST_COTURN_LOG"
      printf 'export AIRLOCK_TEST_DOCKER_HOST=%q\n' "$AIRLOCK_TEST_DOCKER_HOST"
      printf 'export AIRLOCK_TEST_CHROMIUM=%q\n' "$AIRLOCK_TEST_CHROMIUM"
      printf 'export AIRLOCK_TEST_SSHD=%q\n' "$AIRLOCK_TEST_SSHD"
      printf 'export AIRLOCK_TEST_SMTP_HOST=%q AIRLOCK_TEST_SMTP_PORT=%q AIRLOCK_TEST_SMTP_PID=%q AIRLOCK_TEST_SMTP_MAILBOX=%q\n' \
        "$AIRLOCK_TEST_SMTP_HOST" "$AIRLOCK_TEST_SMTP_PORT" "$AIRLOCK_TEST_SMTP_PID" "$AIRLOCK_TEST_SMTP_MAILBOX"
      printf 'export AIRLOCK_TEST_SMTP_STARTTLS_PORT=%q AIRLOCK_TEST_SMTP_TLS_PORT=%q AIRLOCK_TEST_SMTP_CA_FILE=%q\n' \
        "$AIRLOCK_TEST_SMTP_STARTTLS_PORT" "$AIRLOCK_TEST_SMTP_TLS_PORT" "$AIRLOCK_TEST_SMTP_CA_FILE"
      printf 'export AIRLOCK_TEST_LDAP_URL=%q AIRLOCK_TEST_LDAPS_URL=%q AIRLOCK_TEST_LDAP_BASE=%q\n' "$AIRLOCK_TEST_LDAP_URL" "$AIRLOCK_TEST_LDAPS_URL" "$AIRLOCK_TEST_LDAP_BASE"
      printf 'export AIRLOCK_TEST_LDAP_ADMIN_DN=%q AIRLOCK_TEST_LDAP_ADMIN_PASSWORD=%q AIRLOCK_TEST_LDAP_CA=%q\n' "$AIRLOCK_TEST_LDAP_ADMIN_DN" "$AIRLOCK_TEST_LDAP_ADMIN_PASSWORD" "$AIRLOCK_TEST_LDAP_CA"
      test_deps_log "left running; stop with: $0 down"
      ;;
    down)
      if [[ ! -e $TEST_DEPS_STATE_FILE ]]; then
        test_deps_log "nothing to stop ($TEST_DEPS_STATE_FILE does not exist)"
        return 0
      fi
      # shellcheck source=/dev/null
      source "$TEST_DEPS_STATE_FILE"
      test_deps_down
      rm -f "$TEST_DEPS_STATE_FILE"
      ;;
    *)
      echo "usage: $0 up|down   (or: source $0; test_deps_up; ...; test_deps_down)" >&2
      return 2
      ;;
  esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  _test_deps_main "$@"
fi
