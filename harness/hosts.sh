#!/usr/bin/env bash
# Multi-host harness: N "hosts" (host1..hostN), each = net namespace on bridge kdh-br0
# (10.213.0.0/24) + private mount/UTS namespace with its own dockerd and sshd.
# Usage: harness/hosts.sh up [N] | down | status
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[[ $EUID == 0 ]] || die "must run as root"

ssh_opts() { echo "-i $CLIENT_KEY -o UserKnownHostsFile=$KNOWN_HOSTS -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5"; }

existing_hosts() {
  local d
  for d in "$RUN_DIR"/host*; do [[ -d $d ]] && basename "$d"; done
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${NS_PREFIX}host[0-9]+$" | sed "s/^${NS_PREFIX}//" || true
}

down_host() {
  local name=$1 d
  d=$(host_dir "$name")
  kill_host_procs "$name"
  ip netns del "${NS_PREFIX}$name" 2>/dev/null || true
  ip link del "kdh-v${name#host}" 2>/dev/null || true
  remove_host_cgroups "$name"
  rm -rf "$d"
}

cmd_down() {
  local t0 n=0 h
  t0=$(now)
  "$HARNESS_DIR/registry.sh" down >/dev/null 2>&1 || true
  for h in $(existing_hosts | sort -u); do down_host "$h"; n=$((n + 1)); done
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -f "$HOSTS_JSON" "$STATE_DIR/hosts.env"
  rmdir "$RUN_DIR" 2>/dev/null || true
  log "down: removed $n host(s), bridge $BRIDGE ($(elapsed "$t0"))"
}

ensure_client_key() {
  mkdir -p "$SSH_DIR" && chmod 700 "$SSH_DIR"
  [[ -f $CLIENT_KEY ]] || ssh-keygen -q -t ed25519 -N '' -C kdh-deployer -f "$CLIENT_KEY"
  chmod 600 "$CLIENT_KEY"
}

write_sshd_config() {
  local name=$1 addr=$2 d
  d=$(host_dir "$name")
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$d/ssh_host_ed25519_key"
  cat >"$d/sshd_config" <<CFG
ListenAddress $addr:22
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
PrintLastLog no
MaxStartups 200:30:400
MaxSessions 200
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
CFG
  mkdir -p "$d/home/.ssh" && chmod 700 "$d/home/.ssh"
  cp "$CLIENT_KEY.pub" "$d/home/.ssh/authorized_keys" && chmod 600 "$d/home/.ssh/authorized_keys"
}

load_images() { # load every tarball into one host engine
  local name=$1 sock f
  sock=$(host_dir "$name")/docker.sock
  for f in "$IMAGES_DIR"/*.tar; do
    DOCKER_HOST=unix://$sock docker load -q -i "$f" >/dev/null || return 1
  done
}

cmd_up() {
  local n=${1:-2} t0 i name addr d pids=() fail=0
  [[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 200 ]] || die "bad host count: $n"
  t0=$(now)
  for b in dockerd sshd nsenter unshare docker-registry busybox; do command -v "$b" >/dev/null || die "missing $b: run harness/install-deps.sh"; done
  if ! ls "$IMAGES_DIR"/*.tar >/dev/null 2>&1 || [[ -n "$("$HARNESS_DIR/images/build.sh" --stale)" ]]; then
    log "up: image tarballs missing or stale, building them"
    "$HARNESS_DIR/images/build.sh"
  fi
  cmd_down 2>/dev/null
  mkdir -p "$RUN_DIR" "$STATE_DIR"
  ensure_client_key

  ip link add "$BRIDGE" type bridge
  ip addr add "$GATEWAY/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up

  for ((i = 1; i <= n; i++)); do
    name=host$i addr=$(host_ip "$name") d=$(host_dir "$name")
    mkdir -p "$d"
    ip netns add "${NS_PREFIX}$name"
    ip link add "kdh-v$i" type veth peer name eth0 netns "${NS_PREFIX}$name"
    ip link set "kdh-v$i" master "$BRIDGE" up
    ip -n "${NS_PREFIX}$name" addr add "$addr/24" dev eth0
    ip -n "${NS_PREFIX}$name" link set eth0 up
    ip -n "${NS_PREFIX}$name" link set lo up
    write_sshd_config "$name" "$addr"
    start_host_namespaces "$name" "$addr" 1
  done

  "$HARNESS_DIR/registry.sh" up >/dev/null

  for ((i = 1; i <= n; i++)); do
    name=host$i d=$(host_dir "$name")
    (
      wait_for 60 dockerd env DOCKER_HOST="unix://$d/docker.sock" docker version \
        || { log "$name: dockerd did not start; tail of $d/dockerd.log:"; tail -20 "$d/dockerd.log" >&2; exit 1; }
      load_images "$name" || { log "$name: docker load failed"; exit 1; }
    ) &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || fail=1; done
  ((fail == 0)) || die "up failed (state left in $RUN_DIR for inspection; run '$0 down')"

  : >"$KNOWN_HOSTS"
  for ((i = 1; i <= n; i++)); do
    name=host$i addr=$(host_ip "$name") d=$(host_dir "$name")
    echo "$addr $(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")" >>"$KNOWN_HOSTS"
  done
  for ((i = 1; i <= n; i++)); do
    addr=$(host_ip "host$i")
    # shellcheck disable=SC2046
    wait_for 20 sshd ssh $(ssh_opts) "root@$addr" true || die "ssh to host$i ($addr) failed; see $(host_dir host$i)/sshd.log"
  done
  write_state "$n"
  log "up: $n host(s) ready in $(elapsed "$t0"); state: $HOSTS_JSON"
}

write_state() {
  local n=$1 i name
  {
    echo "{"
    echo "  \"bridge\": \"$BRIDGE\", \"subnet\": \"$NET_PREFIX.0/24\", \"gateway\": \"$GATEWAY\","
    echo "  \"registry\": \"$REGISTRY_ADDR\","
    echo "  \"sshUser\": \"root\", \"sshPort\": 22,"
    echo "  \"privateKey\": $(json_str "$CLIENT_KEY"), \"publicKey\": $(json_str "$CLIENT_KEY.pub"),"
    echo "  \"knownHosts\": $(json_str "$KNOWN_HOSTS"),"
    echo "  \"hostExec\": $(json_str "$HARNESS_DIR/host-exec.sh"),"
    echo "  \"hosts\": ["
    for ((i = 1; i <= n; i++)); do
      name=host$i
      printf '    {"name": "%s", "address": "%s", "sshPort": 22, "sshUser": "root", "home": "/root", "homeOnDisk": %s, "dockerHost": %s, "netns": "%s", "stateDir": %s}%s\n' \
        "$name" "$(host_ip "$name")" "$(json_str "$(host_dir "$name")/home")" \
        "$(json_str "unix://$(host_dir "$name")/docker.sock")" "${NS_PREFIX}$name" \
        "$(json_str "$(host_dir "$name")")" "$([[ $i -lt $n ]] && echo ,)"
    done
    echo "  ]"
    echo "}"
  } >"$HOSTS_JSON.tmp"
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))' "$HOSTS_JSON.tmp"
  mv "$HOSTS_JSON.tmp" "$HOSTS_JSON"
  {
    echo "KDH_SSH_KEY=$CLIENT_KEY"
    echo "KDH_KNOWN_HOSTS=$KNOWN_HOSTS"
    echo "KDH_REGISTRY=$REGISTRY_ADDR"
    echo "KDH_HOSTS=\"$(for ((i = 1; i <= n; i++)); do printf '%s ' "$(host_ip host$i)"; done | sed 's/ $//')\""
    for ((i = 1; i <= n; i++)); do echo "KDH_DOCKER_HOST_host$i=unix://$(host_dir host$i)/docker.sock"; done
  } >"$STATE_DIR/hosts.env"
}

cmd_status() {
  local h d ok=0 addr
  [[ -f $HOSTS_JSON ]] && echo "state: $HOSTS_JSON" || echo "state: (no hosts.json)"
  ip link show "$BRIDGE" >/dev/null 2>&1 && echo "bridge $BRIDGE: up ($GATEWAY/24)" || echo "bridge $BRIDGE: absent"
  for h in $(existing_hosts | sort -u -V); do
    d=$(host_dir "$h") addr=$(host_ip "$h")
    local dk="down" sh="down"
    DOCKER_HOST=unix://$d/docker.sock timeout 5 docker info --format '{{.ServerVersion}} containers={{.ContainersRunning}}' >/tmp/kdh-st.$$ 2>/dev/null && dk="up ($(cat /tmp/kdh-st.$$))"
    # shellcheck disable=SC2046
    timeout 5 ssh $(ssh_opts) "root@$addr" true 2>/dev/null && sh="up"
    echo "$h $addr: dockerd $dk, sshd $sh, docker socket unix://$d/docker.sock"
    [[ $dk != down && $sh == up ]] || ok=1
  done
  rm -f /tmp/kdh-st.$$
  "$HARNESS_DIR/registry.sh" status || true
  return $ok
}

case ${1:-} in
  up) cmd_up "${2:-2}" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up [N] | down | status" >&2; exit 2 ;;
esac
