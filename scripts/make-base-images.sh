#!/usr/bin/env bash
# Builds the documented base images into berth's store with `berth import`:
#   busybox    Debian's busybox-static: /bin/busybox and a link per applet
#   node-base  the host's Node.js 24 (build/node resolved), the shared
#              libraries it links (found with ldd), and /etc/ssl/certs
#
#   scripts/make-base-images.sh [--root DIR] [busybox] [node-base]   (default: both)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
berth=("$repo/bin/berth")
want=()
while [ $# -gt 0 ]; do
  case "$1" in
    --root) berth+=(--root "$2"); shift 2 ;;
    busybox|node-base) want+=("$1"); shift ;;
    *) echo "make-base-images.sh: unknown argument \"$1\"" >&2; exit 2 ;;
  esac
done
[ "${#want[@]}" -eq 0 ] && want=(busybox node-base)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

skeleton() {
  local root=$1
  mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,root,home,var,run}
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

make_busybox() {
  local root=$work/busybox
  [ -x /bin/busybox ] || { echo "make-base-images.sh: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
  skeleton "$root"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  "${berth[@]}" import --change 'CMD ["sh"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --message 'busybox-static from Debian' "$root" busybox:latest
}

make_node_base() {
  local root=$work/node-base node
  node=$(readlink -f "$repo/build/node")
  skeleton "$root"
  mkdir -p "$root/usr/local/bin"
  cp "$node" "$root/usr/local/bin/node"
  # The dynamic loader and every library node links, at the paths it expects.
  for lib in $(ldd "$node" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  if [ -d /etc/ssl/certs ]; then
    mkdir -p "$root/etc/ssl"
    cp -rL /etc/ssl/certs "$root/etc/ssl/certs"
  fi
  "${berth[@]}" import --change 'CMD ["node"]' --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --message 'Node.js from the host' "$root" node-base:latest
}

for image in "${want[@]}"; do
  case "$image" in
    busybox) make_busybox ;;
    node-base) make_node_base ;;
  esac
done
