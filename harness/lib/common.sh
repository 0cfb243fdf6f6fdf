# shellcheck shell=bash
# Shared settings and helpers for the harness scripts. Source it; don't run it.
HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${KDH_STATE_DIR:-$HARNESS_DIR/.state}     # hosts.json, ssh keys, image tarballs
RUN_DIR=${KDH_RUN_DIR:-/var/lib/kdh-harness}         # per-host runtime state (docker data, home, sockets)
BRIDGE=kdh-br0
NET_PREFIX=10.213.0
GATEWAY=$NET_PREFIX.1
REGISTRY_ADDR=$GATEWAY:5000
SSH_DIR=$STATE_DIR/ssh
CLIENT_KEY=$SSH_DIR/id_ed25519
KNOWN_HOSTS=$SSH_DIR/known_hosts
IMAGES_DIR=$STATE_DIR/images
HOSTS_JSON=$STATE_DIR/hosts.json
NS_PREFIX=kdh-              # netns name = kdh-<host>; root-side veth = kdh-v<i>
RUNNER=runner               # the deployer-side build engine (no sshd): netns kdh-runner, 10.213.0.10
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[kdh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1fs", b-a}'; }

host_dir() { echo "$RUN_DIR/$1"; }
host_ip() {   # host3 -> 10.213.0.13, runner -> 10.213.0.10
  if [[ $1 == "$RUNNER" ]]; then echo "$NET_PREFIX.10"; else echo "$NET_PREFIX.$((10 + ${1#host}))"; fi
}
veth_name() { echo "kdh-v${1#host}"; }                 # host3 -> kdh-v3, runner -> kdh-vrunner

# PIDs of processes "belonging" to a harness host: in its cgroup subtree (containers),
# in its mount namespace (dockerd, containerd, shims, sshd, sessions) or its net namespace.
host_pids() {
  local name=$1 d mntns netns p
  d=$(host_dir "$name")
  mntns=$(cat "$d/mntns" 2>/dev/null || true)
  netns=$(cat "$d/netns" 2>/dev/null || true)
  {
    for cg in /sys/fs/cgroup/*/kdh-"$name"; do
      [[ -d $cg ]] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null
    done
    if [[ -n $mntns || -n $netns ]]; then
      # one find over /proc/*/ns instead of a readlink per process; [ ] escaped for -lname
      local pat=()
      [[ -n $mntns ]] && pat+=(-lname "$(sed 's/[][]/\\&/g' <<<"$mntns")")
      [[ -n $netns ]] && pat+=(${pat:+-o} -lname "$(sed 's/[][]/\\&/g' <<<"$netns")")
      find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/[mn][ne]t' \( "${pat[@]}" \) -printf '%h\n' 2>/dev/null |
        cut -d/ -f3
    fi
    for f in "$d"/*.pid; do [[ -f $f ]] && echo "$(<"$f")"; done  # pidfiles may lack a newline
    true
  } 2>/dev/null | { grep -E '^[0-9]+$' || true; } | sort -un | while read -r p; do
    [[ $p != "$$" && $p != 1 ]] || continue
    local stat
    { stat=$(<"/proc/$p/stat"); } 2>/dev/null || continue
    stat=${stat##*) }                 # after "(comm) "
    [[ ${stat:0:1} == Z ]] || echo "$p"  # zombies are already dead
  done
}

kill_host_procs() {
  local name=$1 i pids
  for i in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(host_pids "$name" | tr '\n' ' ')
    [[ -z ${pids// /} ]] && return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
  done
  pids=$(host_pids "$name" | tr '\n' ' ')
  [[ -z ${pids// /} ]] || log "warning: $name: processes still alive: $pids"
}

remove_host_cgroups() {
  local name=$1 cg
  for cg in /sys/fs/cgroup/*/kdh-"$name"; do
    [[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

# Start a "host": net namespace (must exist) + private mount/UTS namespace with its own
# /root, /run, /tmp, /var/lib/docker, /etc/docker; dockerd inside; sshd if $3 == 1.
start_host_namespaces() {
  local name=$1 addr=$2 with_sshd=$3 d
  d=$(host_dir "$name")
  mkdir -p "$d/home" "$d/docker" "$d/etc-docker" /var/lib/docker
  chmod 700 "$d/home"
  ip netns exec "${NS_PREFIX}$name" true 2>/dev/null || die "netns ${NS_PREFIX}$name missing"
  # setsid: detach from our session; the init script ends by exec'ing a long sleep that
  # keeps the namespaces alive and whose pid is the handle host-exec.sh enters.
  setsid nsenter --net="/run/netns/${NS_PREFIX}$name" \
    unshare --mount --uts --propagation private -- \
    "$HARNESS_DIR/lib/host-init.sh" "$name" "$d" "$addr" "$with_sshd" "$REGISTRY_ADDR" \
    </dev/null >"$d/init.log" 2>&1 &
  disown $!
}

wait_for() { # wait_for SECONDS DESCRIPTION CMD...
  local t=$1 what=$2; shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || return 1
    sleep 0.1
  done
}

json_str() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"; }
