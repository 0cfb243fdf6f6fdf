#!/usr/bin/env bash
# Idempotent: installs the Debian packages the harness needs, only those missing.
# Usage: harness/install-deps.sh
set -euo pipefail
start=$(date +%s.%N)
PKGS=(docker.io openssh-server openssh-client busybox-static docker-registry iproute2 util-linux iptables procps curl)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# binaries we rely on (the node binary is also needed, for the kamal-proxy stand-in)
command -v node >/dev/null || missing+=(nodejs)
if ((${#missing[@]})); then
  echo "install-deps: installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d: never let the packages start services (no systemd here, and we start things ourselves)
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/kdh-install-deps.log 2>&1 || {
    tail -30 /tmp/kdh-install-deps.log; exit 1; }
  [[ -n "${created_policy:-}" ]] && rm -f /usr/sbin/policy-rc.d
else
  echo "install-deps: all present (${PKGS[*]})"
fi
# a distro docker.io may come with its own client in /usr/bin; keep whatever is there.
for b in dockerd containerd runc sshd ssh ssh-keygen busybox docker-registry nsenter unshare setsid ip iptables ldd; do
  command -v "$b" >/dev/null || [[ -x /usr/sbin/$b ]] || { echo "install-deps: missing binary $b" >&2; exit 1; }
done
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" 'BEGIN{printf "install-deps: done in %.1fs\n", b-a}'
