#!/usr/bin/env bash
# Airlock's internal PKI, for mutual TLS between the platform and its provisioners (and any other
# internal HTTPS link): one private CA per deployment, and certificates it signs.
#
# Usage:
#   deploy/pki.sh ca DIR
#       Creates the CA in DIR unless it exists: DIR/ca.pem (certificate, 10 years) and
#       DIR/ca-key.pem (EC P-256, PKCS#8, mode 0600). Run it once per deployment; keep
#       ca-key.pem off the servers (only ca.pem is copied to them).
#   deploy/pki.sh server DIR NAME [--dns HOST]... [--ip ADDR]... [--days N]
#       Issues a server certificate signed by the CA in DIR: DIR/NAME.pem and DIR/NAME-key.pem
#       (EC P-256, PKCS#8, 0600), extended key usage serverAuth, subject CN=NAME, and the given
#       DNS names and IP addresses as subject alternative names (at least one is required;
#       clients check the name they connect to against these, never the CN).
#   deploy/pki.sh client DIR NAME [--days N]
#       Issues a client certificate signed by the CA in DIR: DIR/NAME.pem and DIR/NAME-key.pem,
#       extended key usage clientAuth, subject CN=NAME (e.g. the platform, for a provisioner).
#
# Certificates are valid for 825 days unless --days says otherwise. An existing NAME.pem or
# NAME-key.pem is never overwritten: remove both to issue again. DIR/ca.pem stays next to the
# issued files, which is what both ends of a link need as their trust anchor.
#
# Example (a provisioner on host prov1, and the platform as its client):
#   deploy/pki.sh ca /etc/airlock/pki
#   deploy/pki.sh server /etc/airlock/pki prov1 --dns prov1.internal --ip 10.0.0.21
#   deploy/pki.sh client /etc/airlock/pki platform
#
# Needs bash and openssl 1.1.1 or newer.
set -euo pipefail

CA_SUBJECT="/O=Airlock/CN=Airlock internal CA"
CA_DAYS=3650
DEFAULT_DAYS=825

die() {
  printf '[pki] ERROR: %s\n' "$*" >&2
  exit 1
}
log() { printf '[pki] %s\n' "$*" >&2; }

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

command -v openssl >/dev/null 2>&1 ||
  die "openssl not found (expected: openssl 1.1.1 or newer; apt-get install openssl)"

# Keys are created readable by their owner only.
umask 077

# Writes a new EC P-256 private key, PKCS#8 PEM, mode 0600, to $1.
new_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ||
    die "openssl could not create an EC P-256 key at $1"
  chmod 0600 "$1"
}

require_dir() {
  [[ -n ${1:-} ]] || die "missing DIR (expected: deploy/pki.sh $2 DIR ...)"
}

require_ca() {
  local dir=$1
  [[ -f $dir/ca.pem && -f $dir/ca-key.pem ]] ||
    die "no CA in $dir (expected: $dir/ca.pem and $dir/ca-key.pem; create it with deploy/pki.sh ca $dir)"
}

require_name() {
  local name=${1:-}
  [[ -n $name ]] || die "missing NAME (expected: deploy/pki.sh $2 DIR NAME ...)"
  [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] ||
    die "NAME '$name' (expected: letters, digits, '.', '_' or '-', e.g. prov1 or platform)"
  [[ $name != ca && $name != ca-key ]] || die "NAME '$name' is the CA's own file name (expected: another name)"
}

cmd_ca() {
  local dir=${1:-}
  require_dir "$dir" ca
  [[ $# -le 1 ]] || die "unexpected argument ${2} (expected: deploy/pki.sh ca DIR)"
  mkdir -p "$dir"
  if [[ -f $dir/ca.pem && -f $dir/ca-key.pem ]]; then
    log "CA exists: $dir/ca.pem (unchanged)"
    return 0
  fi
  [[ ! -e $dir/ca.pem && ! -e $dir/ca-key.pem ]] ||
    die "$dir holds only one of ca.pem and ca-key.pem (expected: both or neither; remove the other to create a new CA)"
  new_key "$dir/ca-key.pem"
  openssl req -x509 -new -sha256 -key "$dir/ca-key.pem" -subj "$CA_SUBJECT" -days "$CA_DAYS" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$dir/ca.pem" ||
    die "openssl could not create the CA certificate $dir/ca.pem"
  chmod 0644 "$dir/ca.pem"
  log "CA created: $dir/ca.pem (key $dir/ca-key.pem, mode 0600; valid $CA_DAYS days)"
}

# issue KIND DIR NAME DAYS EXTENSIONS
issue() {
  local kind=$1 dir=$2 name=$3 days=$4 extensions=$5
  local cert=$dir/$name.pem key=$dir/$name-key.pem work
  [[ ! -e $cert && ! -e $key ]] ||
    die "$cert or $key exists (expected: new files; remove both to issue $name again)"
  work="$(mktemp -d "${TMPDIR:-/tmp}/airlock-pki.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: the trap must remove this directory
  trap "rm -rf '$work'" EXIT
  printf '%s\n' "$extensions" >"$work/extensions.cnf"
  new_key "$work/key.pem"
  openssl req -new -sha256 -key "$work/key.pem" -subj "/O=Airlock/CN=$name" -out "$work/request.csr" ||
    die "openssl could not create a certificate request for $name"
  openssl x509 -req -sha256 -in "$work/request.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$days" \
    -extfile "$work/extensions.cnf" -out "$work/cert.pem" 2>"$work/x509.log" || {
    cat "$work/x509.log" >&2
    die "openssl could not sign the $kind certificate for $name with $dir/ca.pem"
  }
  mv "$work/key.pem" "$key"
  chmod 0600 "$key"
  mv "$work/cert.pem" "$cert"
  chmod 0644 "$cert"
  log "$kind certificate issued: $cert (key $key, mode 0600; valid $days days; trust anchor $dir/ca.pem)"
}

parse_days() {
  [[ ${1:-} =~ ^[1-9][0-9]{0,4}$ ]] || die "--days '${1:-}' (expected: a number of days, 1..99999)"
  printf '%s\n' "$1"
}

cmd_server() {
  local dir=${1:-} name=${2:-} days=$DEFAULT_DAYS sans=()
  require_dir "$dir" server
  require_name "$name" server
  shift 2
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --dns)
        [[ $# -ge 2 ]] || die "--dns: missing HOST (expected: --dns prov1.internal)"
        [[ $2 =~ ^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || die "--dns '$2' (expected: a DNS name)"
        sans+=("DNS:$2")
        shift 2
        ;;
      --ip)
        [[ $# -ge 2 ]] || die "--ip: missing ADDR (expected: --ip 10.0.0.21)"
        [[ $2 =~ ^[0-9.]+$ || $2 =~ ^[0-9A-Fa-f:]+$ ]] || die "--ip '$2' (expected: an IPv4 or IPv6 address)"
        sans+=("IP:$2")
        shift 2
        ;;
      --days) days="$(parse_days "${2:-}")"; shift 2 ;;
      *) die "unknown argument $1 (expected: --dns HOST, --ip ADDR or --days N)" ;;
    esac
  done
  [[ ${#sans[@]} -gt 0 ]] ||
    die "no --dns or --ip for server $name (expected: the names and addresses clients connect to)"
  require_ca "$dir"
  local IFS=,
  issue server "$dir" "$name" "$days" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
subjectAltName=${sans[*]}"
}

cmd_client() {
  local dir=${1:-} name=${2:-} days=$DEFAULT_DAYS
  require_dir "$dir" client
  require_name "$name" client
  shift 2
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --days) days="$(parse_days "${2:-}")"; shift 2 ;;
      *) die "unknown argument $1 (expected: --days N)" ;;
    esac
  done
  require_ca "$dir"
  issue client "$dir" "$name" "$days" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid"
}

case "${1:-}" in
  ca) shift; cmd_ca "$@" ;;
  server) shift; cmd_server "$@" ;;
  client) shift; cmd_client "$@" ;;
  -h | --help | help) usage ;;
  "") usage >&2; exit 2 ;;
  *) die "unknown command $1 (expected: ca, server or client; see deploy/pki.sh --help)" ;;
esac
