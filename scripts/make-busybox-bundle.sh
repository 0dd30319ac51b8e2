#!/usr/bin/env bash
# Prepares an OCI runtime bundle (rootfs + config.json) from Debian's
# busybox-static: every applet as a link to one static binary.
#
#   scripts/make-busybox-bundle.sh DIR [-- ARGS...]   (default args: a greeting)
set -euo pipefail
dir=${1:?usage: make-busybox-bundle.sh DIR [-- ARGS...]}
shift
[ "${1:-}" = "--" ] && shift
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "make-busybox-bundle.sh: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
rootfs="$dir/rootfs"
mkdir -p "$rootfs"/{bin,dev,etc,proc,sys,tmp,root,home,var,run}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
args_json='["sh","-c","echo Hello from a berth container: $(hostname), pid $$, $(id)"]'
if [ "$#" -gt 0 ]; then
  args_json=$("$script_dir/../build/node" -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- "$@")
fi
rm -f "$dir/config.json"
"$script_dir/../bin/berth-runtime" spec --bundle "$dir"
# runc's default spec asks for a terminal and runs "sh"; the bundle runs the
# given command without one.
"$script_dir/../build/node" -e '
  const fs = require("node:fs");
  const [file, args] = process.argv.slice(1);
  const config = JSON.parse(fs.readFileSync(file, "utf8"));
  config.process.terminal = false;
  config.process.args = JSON.parse(args);
  fs.writeFileSync(file, JSON.stringify(config, null, "\t") + "\n");
' "$dir/config.json" "$args_json"
echo "$dir"
