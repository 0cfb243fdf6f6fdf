#!/usr/bin/env bash
# Run a command inside a harness host's namespaces (net + mount + UTS), as root, cwd = /root.
# Usage: harness/host-exec.sh host1 docker ps
#        harness/host-exec.sh host1 sh -c 'ls -la ~/.kamal'
# Without a command: an interactive shell.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
name=${1:?usage: $0 HOST [CMD...]}; shift
pidf=$(host_dir "$name")/init.pid
[[ -f $pidf ]] && kill -0 "$(cat "$pidf")" 2>/dev/null || die "host $name is not running"
(($#)) || set -- bash -l
# --wd would resolve /root before entering the mount namespace, so change directory inside it.
exec nsenter -t "$(cat "$pidf")" -m -u -n -- env HOME=/root sh -c 'cd /root && exec "$@"' sh "$@"
