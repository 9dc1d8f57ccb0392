#!/usr/bin/env bash
# Builds Airlock's container images on a Docker Engine without pulling anything from a registry:
#
#   airlock/base:bookworm     Debian bookworm (debootstrap, minbase) with a Java 17 runtime and
#                             the libraries webrtc-java loads; imported from a tarball
#   airlock/agent:dev         the agent (also tagged airlock/agent:latest), FROM the base
#   airlock/test-probe:dev    the base sleeping forever, for the provisioner tests
#   airlock/rbi-chromium:dev  Chromium in kiosk mode on a virtual display with the agent, FROM
#                             the base (its packages come from the Debian mirror; see docs/rbi.md)
#
# Usage: deploy/images/build.sh [--docker-host URL] [--agent-jar PATH] [--no-rbi] [--force]
#
#   --docker-host URL  the daemon to build on (default: $DOCKER_HOST, else docker's default)
#   --agent-jar PATH   the agent's jar (default: agent/target/airlock-agent.jar)
#   --no-rbi           skip airlock/rbi-chromium:dev (it needs the Debian mirror at build time)
#   --force            rebuild every image even when it is up to date
#
# Each image is rebuilt only when what it is made of changed: the base when it is missing or
# has another package list, the others when their base, their Dockerfile, the launcher script
# or the jar (by sha256) differ from what the image's labels record. Building the base needs
# root and debootstrap; its mirror is AIRLOCK_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# which the RBI image's build reaches too (docker build --network host).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

BASE_IMAGE=airlock/base:bookworm
AGENT_IMAGE=airlock/agent:dev
AGENT_IMAGE_LATEST=airlock/agent:latest
PROBE_IMAGE=airlock/test-probe:dev
RBI_IMAGE=airlock/rbi-chromium:dev
SUITE=bookworm
MIRROR="${AIRLOCK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# A browser needs its security updates: the RBI image installs from bookworm-security too
# (AIRLOCK_DEBIAN_SECURITY_MIRROR empty: from the base's mirror only).
SECURITY_MIRROR="${AIRLOCK_DEBIAN_SECURITY_MIRROR-http://deb.debian.org/debian-security}"
# The Java runtime, libpulse0 and the X11/udev libraries are what libwebrtc-java.so links
# against (ldd); without one of them the first WebRTC session fails to load it.
BASE_PACKAGES=openjdk-17-jre-headless,libpulse0,libxfixes3,libxrandr2,libxcomposite1,libudev1,ca-certificates,iproute2,procps

log() { printf '[images] %s\n' "$*" >&2; }
die() {
  printf '[images] ERROR: %s\n' "$*" >&2
  exit 1
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

# Seconds since $1 (an $EPOCHREALTIME), with one decimal.
elapsed() {
  awk -v from="${1/,/.}" -v to="${EPOCHREALTIME/,/.}" 'BEGIN { printf "%.1f s", to - from }'
}

docker_host=""
agent_jar="$REPO/agent/target/airlock-agent.jar"
force=0
rbi=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --docker-host) [[ $# -ge 2 ]] || die "--docker-host: missing URL (expected: --docker-host unix:///path/docker.sock)"
      docker_host=$2; shift 2 ;;
    --docker-host=*) docker_host=${1#*=}; shift ;;
    --agent-jar) [[ $# -ge 2 ]] || die "--agent-jar: missing path (expected: --agent-jar PATH)"
      agent_jar=$2; shift 2 ;;
    --agent-jar=*) agent_jar=${1#*=}; shift ;;
    --no-rbi) rbi=0; shift ;;
    --force) force=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument $1 (expected: [--docker-host URL] [--agent-jar PATH] [--no-rbi] [--force])" ;;
  esac
done

[[ -f $agent_jar ]] ||
  die "agent jar not found: $agent_jar (expected: build it with ./mvnw -pl agent -am -DskipTests package, or pass --agent-jar PATH)"
agent_jar="$(cd "$(dirname "$agent_jar")" && pwd)/$(basename "$agent_jar")"

# --- Docker --------------------------------------------------------------------------------

# A newer client (e.g. /usr/local/bin/docker) negotiates the API of Debian's 20.10 daemon;
# Debian's own client is the fallback.
docker=()
found_client=0
for client in "$(command -v docker 2>/dev/null)" /usr/bin/docker; do
  [[ -n $client && -x $client ]] || continue
  found_client=1
  candidate=("$client")
  [[ -z $docker_host ]] || candidate+=(-H "$docker_host")
  if answer="$(timeout 20 "${candidate[@]}" version --format '{{.Server.Version}}' 2>&1)"; then
    docker=("${candidate[@]}")
    break
  fi
done
[[ $found_client -eq 1 ]] ||
  die "docker not found (expected: a docker client; install Debian's docker.io, e.g. via deploy/test-deps.sh)"
answer="$(printf '%s' "$answer" | tr -s '\n' ' ' | sed 's/^ //; s/ $//')"
[[ ${#docker[@]} -gt 0 ]] ||
  die "no Docker daemon answers on ${docker_host:-${DOCKER_HOST:-the default socket}}: $answer (start one, e.g. deploy/test-deps.sh up, or pass --docker-host URL)"
log "daemon: ${docker_host:-${DOCKER_HOST:-default socket}}, Docker Engine $answer, client ${docker[0]}"
# Newer clients default to BuildKit through the buildx plugin, which neither Debian's docker.io
# nor every newer client has; the classic builder is built into every daemon.
export DOCKER_BUILDKIT=0

image_id() { "${docker[@]}" image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
image_label() {
  "${docker[@]}" image inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}
# Removes a replaced image if nothing else uses or tags it (otherwise docker refuses: fine).
remove_replaced() {
  [[ -n $1 && $1 != "$(image_id "$2")" ]] || return 0
  "${docker[@]}" image rm "$1" >/dev/null 2>&1 || true
}

work="$(mktemp -d "${TMPDIR:-/var/tmp}/airlock-images.XXXXXX")"
cleanup() {
  local mount
  # debootstrap mounts /proc and /sys in the target; an interrupted run may leave them there.
  if [[ -d $work/rootfs ]]; then
    findmnt -rn -o TARGET 2>/dev/null | { grep -F "$work/rootfs" || true; } | sort -r |
      while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# --- airlock/base:bookworm -------------------------------------------------------------------

build_base() {
  command -v debootstrap >/dev/null 2>&1 || [[ -x /usr/sbin/debootstrap ]] ||
    die "debootstrap not found (expected: apt-get install debootstrap; deploy/test-deps.sh installs it)"
  [[ $(id -u) -eq 0 ]] || die "building $BASE_IMAGE needs root (debootstrap creates device nodes and runs chroot)"
  local debootstrap rootfs="$work/rootfs" started arch java_home
  debootstrap="$(command -v debootstrap 2>/dev/null || echo /usr/sbin/debootstrap)"

  started=$EPOCHREALTIME
  log "base: debootstrap --variant=minbase $SUITE from $MIRROR (about a minute)"
  if ! "$debootstrap" --variant=minbase --components=main --include="$BASE_PACKAGES" \
    "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
    tail -n 25 "$work/debootstrap.log" >&2
    [[ ! -f $rootfs/debootstrap/debootstrap.log ]] || tail -n 25 "$rootfs/debootstrap/debootstrap.log" >&2
    die "debootstrap failed (mirror: $MIRROR; set AIRLOCK_DEBIAN_MIRROR to use another)"
  fi
  log "base: debootstrap done in $(elapsed "$started")"
  [[ -s $rootfs/etc/ssl/certs/java/cacerts ]] ||
    die "the Java trust store $rootfs/etc/ssl/certs/java/cacerts is missing or empty after debootstrap"

  started=$EPOCHREALTIME
  # Nothing in a container reads documentation, translations or package lists; licences stay.
  (
    cd "$rootfs"
    rm -rf var/lib/apt/lists/* var/cache/apt/*.bin var/cache/apt/archives/*.deb \
      var/cache/debconf/*-old var/lib/dpkg/*-old usr/share/man/* usr/share/info/* \
      usr/share/lintian usr/share/linda
    find usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
    find usr/share/doc -mindepth 1 -type d -empty -delete
    find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    find usr/lib/locale -mindepth 1 -maxdepth 1 ! -name C.utf8 -exec rm -rf {} +
    find var/log -type f -delete
    # Docker provides these at run time; the build machine's must not leak into the image.
    : >etc/resolv.conf
    printf 'airlock\n' >etc/hostname
    # Keeps what a derived image installs as small as this one.
    cat >etc/dpkg/dpkg.cfg.d/airlock-minimal <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  )
  arch="$(chroot "$rootfs" dpkg --print-architecture)"
  java_home=/usr/lib/jvm/java-17-openjdk-$arch
  [[ -x $rootfs$java_home/bin/java ]] || die "no Java runtime at $java_home in the base image"
  log "base: trimmed to $(du -sh --one-file-system "$rootfs" | cut -f1) in $(elapsed "$started")"

  started=$EPOCHREALTIME
  tar --numeric-owner -C "$rootfs" -cf - . |
    "${docker[@]}" import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' \
      --change "ENV JAVA_HOME=$java_home" \
      --change 'CMD ["bash"]' \
      --change 'LABEL dev.airlock.image=base' \
      --change "LABEL dev.airlock.base-packages=$BASE_PACKAGES" \
      --change "LABEL dev.airlock.debian-mirror=$MIRROR" \
      --message "debootstrap --variant=minbase --include=$BASE_PACKAGES $SUITE" \
      - "$BASE_IMAGE" >/dev/null ||
    die "docker import of $BASE_IMAGE failed"
  log "base: imported $BASE_IMAGE in $(elapsed "$started")"
}

# --- airlock/agent:dev -----------------------------------------------------------------------

build_agent() {
  local launcher="$REPO/agent/bin/airlock-agent" dockerfile="$HERE/agent/Dockerfile.local"
  local jar_sha inputs_sha base_id old_id started
  jar_sha="$(sha256sum "$agent_jar" | cut -d' ' -f1)"
  base_id="$(image_id "$BASE_IMAGE")"
  inputs_sha="$({ printf '%s\n' "$base_id"; cat "$dockerfile" "$launcher"; } | sha256sum | cut -d' ' -f1)"
  old_id="$(image_id "$AGENT_IMAGE")"
  if [[ $force -eq 0 && -n $old_id &&
    $(image_label "$AGENT_IMAGE" dev.airlock.agent-jar-sha256) == "$jar_sha" &&
    $(image_label "$AGENT_IMAGE" dev.airlock.build-inputs-sha256) == "$inputs_sha" ]]; then
    "${docker[@]}" tag "$AGENT_IMAGE" "$AGENT_IMAGE_LATEST"
    log "agent: $AGENT_IMAGE is up to date (jar sha256 ${jar_sha:0:12})"
    return 0
  fi

  started=$EPOCHREALTIME
  # The context mirrors agent/ (what the operator Dockerfile builds from) with only the two
  # files the image needs, so the same COPY lines serve both Dockerfiles.
  local context="$work/agent-context"
  install -D -m 0644 "$agent_jar" "$context/target/airlock-agent.jar"
  install -D -m 0755 "$launcher" "$context/bin/airlock-agent"
  install -D -m 0644 "$dockerfile" "$context/Dockerfile"
  log "agent: building $AGENT_IMAGE from $agent_jar (sha256 ${jar_sha:0:12})"
  "${docker[@]}" build --network host --force-rm -q \
    --label "dev.airlock.agent-jar-sha256=$jar_sha" \
    --label "dev.airlock.build-inputs-sha256=$inputs_sha" \
    -t "$AGENT_IMAGE" -t "$AGENT_IMAGE_LATEST" "$context" >"$work/agent-build.log" 2>&1 || {
    cat "$work/agent-build.log" >&2
    die "docker build of $AGENT_IMAGE failed"
  }
  remove_replaced "$old_id" "$AGENT_IMAGE"
  log "agent: built $AGENT_IMAGE and $AGENT_IMAGE_LATEST in $(elapsed "$started")"
}

# --- airlock/test-probe:dev --------------------------------------------------------------------

build_probe() {
  local base_id old_id started
  base_id="$(image_id "$BASE_IMAGE")"
  old_id="$(image_id "$PROBE_IMAGE")"
  if [[ $force -eq 0 && -n $old_id && $(image_label "$PROBE_IMAGE" dev.airlock.base-id) == "$base_id" ]]; then
    log "probe: $PROBE_IMAGE is up to date"
    return 0
  fi
  started=$EPOCHREALTIME
  # No context: the Dockerfile comes on stdin.
  local dockerfile
  dockerfile="$(printf 'FROM %s\nLABEL dev.airlock.image=test-probe\nCMD ["sleep", "infinity"]\n' "$BASE_IMAGE")"
  if ! "${docker[@]}" build --network host --force-rm -q --label "dev.airlock.base-id=$base_id" \
    -t "$PROBE_IMAGE" - <<<"$dockerfile" >"$work/probe-build.log" 2>&1; then
    cat "$work/probe-build.log" >&2
    die "docker build of $PROBE_IMAGE failed"
  fi
  remove_replaced "$old_id" "$PROBE_IMAGE"
  log "probe: built $PROBE_IMAGE in $(elapsed "$started")"
}

# --- airlock/rbi-chromium:dev -------------------------------------------------------------------

build_rbi() {
  local dir="$HERE/rbi" inputs_sha base_id agent_id old_id started
  base_id="$(image_id "$BASE_IMAGE")"
  agent_id="$(image_id "$AGENT_IMAGE")"
  # The agent comes from its image (COPY --from), so its id stands for the jar and the launcher.
  inputs_sha="$({ printf '%s\n%s\n%s\n' "$base_id" "$agent_id" "$SECURITY_MIRROR"; cat "$dir/Dockerfile.local" "$dir/rbi-entrypoint"; } |
    sha256sum | cut -d' ' -f1)"
  old_id="$(image_id "$RBI_IMAGE")"
  if [[ $force -eq 0 && -n $old_id &&
    $(image_label "$RBI_IMAGE" dev.airlock.build-inputs-sha256) == "$inputs_sha" ]]; then
    log "rbi: $RBI_IMAGE is up to date"
    return 0
  fi
  started=$EPOCHREALTIME
  local context="$work/rbi-context"
  install -D -m 0644 "$dir/Dockerfile.local" "$context/Dockerfile"
  install -D -m 0755 "$dir/rbi-entrypoint" "$context/rbi-entrypoint"
  log "rbi: building $RBI_IMAGE (Chromium, Xvfb, fonts from the Debian mirror: a minute or two the first time)"
  # The classic builder's cache keeps the package layer while only the agent changes; each
  # step is shown as it starts, the full output only when the build fails.
  local rc=0
  "${docker[@]}" build --network host --force-rm \
    --build-arg "DEBIAN_SECURITY=$SECURITY_MIRROR" \
    --label "dev.airlock.build-inputs-sha256=$inputs_sha" \
    -t "$RBI_IMAGE" "$context" 2>&1 |
    tee "$work/rbi-build.log" |
    while IFS= read -r line; do
      case "$line" in
        Step\ *) log "rbi: ${line:0:110} ($(elapsed "$started"))" ;;
      esac
    done || rc=$?
  [[ $rc -eq 0 ]] || {
    tail -n 40 "$work/rbi-build.log" >&2
    die "docker build of $RBI_IMAGE failed (the package step needs $MIRROR; set AIRLOCK_DEBIAN_MIRROR, or --no-rbi)"
  }
  remove_replaced "$old_id" "$RBI_IMAGE"
  log "rbi: built $RBI_IMAGE in $(elapsed "$started")"
}

# --- main ---------------------------------------------------------------------------------------

total=$EPOCHREALTIME
old_base="$(image_id "$BASE_IMAGE")"
if [[ -z $old_base || $force -eq 1 ]]; then
  build_base
elif [[ $(image_label "$BASE_IMAGE" dev.airlock.base-packages) != "$BASE_PACKAGES" ]]; then
  log "base: $BASE_IMAGE exists but was built with other packages, or not by this script; rebuilding"
  build_base
else
  log "base: $BASE_IMAGE exists (--force rebuilds it)"
fi
build_agent
build_probe
[[ $rbi -eq 0 ]] || build_rbi
# The old base goes last: docker keeps it while images built on it exist.
remove_replaced "$old_base" "$BASE_IMAGE"
"${docker[@]}" image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' |
  grep -E "^(${BASE_IMAGE%:*}|${AGENT_IMAGE%:*}|${PROBE_IMAGE%:*}|${RBI_IMAGE%:*}):" |
  while read -r line; do log "image $line"; done
log "done in $(elapsed "$total")"
