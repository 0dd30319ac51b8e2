#!/usr/bin/env bash
# Installs what berth needs on a Debian 12 machine, idempotently:
# Debian packages, Node.js 24 (from the npm registry when the system's
# Node.js is older), npm dependencies, the native executor and the bundled
# commands. Re-running it only redoes what is missing or stale.
#
#   scripts/install.sh            what berth itself needs
#   scripts/install.sh --test     also the reference tools the test suite drives
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
want_test_tools=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test_tools=1 ;;
    *) echo "install.sh: unknown argument \"$arg\"" >&2; exit 2 ;;
  esac
done

log() { printf '==> %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (berth creates namespaces, mounts and cgroups)" >&2
  exit 1
fi

# Debian packages. busybox-static builds the demo and test images; the C
# compiler builds the executor; uidmap brings newuidmap/newgidmap for rootless;
# the golang-github-opencontainers-* packages carry the official OCI JSON
# schemas, which the build compiles into validators; containernetworking-plugins
# (bridge, host-local, portmap, firewall, tuning, loopback) and iptables make
# the containers' networks.
runtime_pkgs=(busybox-static gcc libc6-dev uidmap iproute2 ca-certificates
  golang-github-opencontainers-specs-dev golang-github-opencontainers-image-spec-dev
  containernetworking-plugins iptables)
# Reference tools the tests compare against (never shipped as berth's own
# implementation), plus libseccomp for the differential seccomp test and the
# arm/arm64 kernel headers that scripts/gen-syscalls.ts reads.
test_pkgs=(runc podman skopeo umoci docker-registry openssl
  libseccomp-dev seccomp hyperfine apache2-utils
  linux-libc-dev-arm64-cross linux-libc-dev-armhf-cross zstd buildah containerd)
pkgs=("${runtime_pkgs[@]}")
[ "$want_test_tools" = 1 ] && pkgs+=("${test_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js 24: the system's if it is new enough, otherwise the npm registry's
# node@24 package installed under /opt/berth/node.
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
node_bin=""
if command -v node >/dev/null 2>&1 && [ "$(node_major node)" -ge 24 ]; then
  node_bin=$(command -v node)
else
  node_bin=/opt/berth/node/node_modules/node/bin/node
  if [ ! -x "$node_bin" ] || [ "$(node_major "$node_bin")" -lt 24 ]; then
    log "installing Node.js 24 from the npm registry into /opt/berth/node"
    mkdir -p /opt/berth/node
    npm install --prefix /opt/berth/node --no-audit --no-fund --loglevel=error node@24 >/dev/null
  fi
fi
mkdir -p "$repo/build"
ln -sfn "$node_bin" "$repo/build/node"
log "Node.js $("$node_bin" --version) at $node_bin"

# npm dependencies, exactly as locked.
cd "$repo"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

# The executor, the generated header and the bundled commands.
"$repo/build/node" "$repo/scripts/build.ts"

# Commands on PATH: berth-runtime is its native front (native/front), which starts the
# bundled command line; berth is its client (native/client), which hands a command to berthd
# or starts the bundled command line; berthd is a bundled command line itself.
ln -sfn "$repo/build/berth-runtime" /usr/local/bin/berth-runtime
ln -sfn "$repo/build/berth-client" /usr/local/bin/berth
ln -sfn "$repo/build/berthd.cjs" /usr/local/bin/berthd
