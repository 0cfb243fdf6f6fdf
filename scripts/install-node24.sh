#!/usr/bin/env bash
# Node.js 24, the action's runtime (action.yml: using: node24), for chosen runs only.
#
#   PATH=$(scripts/install-node24.sh):$PATH npx jest -c jest.e2e.config.js
#
# Prints the directory that holds `node` (put it first in PATH: jest then runs on it, and so does
# every `node dist/index.js` the tests start, through process.execPath). The binary comes from the
# npm registry (the node-linux-<arch> package that the `node` package installs), into tmp/node24/,
# never system-wide. Idempotent: a node 24 already there is reused. Progress goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/tmp/node24 # gitignored (/tmp/ in .gitignore)
bin=$work/package/bin
say() { echo "install-node24: $*" >&2; }

if [[ -x $bin/node ]] && [[ $("$bin/node" --version) == v24.* ]]; then
  say "node $("$bin/node" --version) ready"
  echo "$bin"; exit 0
fi
case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) say "no node-linux package for $(uname -m)"; exit 1 ;;
esac
rm -rf "$work"
mkdir -p "$work"
tarball=$(cd "$work" && npm pack --silent "node-linux-$arch@24" 2>/dev/null | tail -1)
tar -xzf "$work/$tarball" -C "$work"
rm -f "$work/$tarball"
say "node $("$bin/node" --version) in $bin"
echo "$bin"
