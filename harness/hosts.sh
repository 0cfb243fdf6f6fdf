#!/usr/bin/env bash
# Multi-host harness: N "hosts" (host1..hostN), each = net namespace on bridge kdh-br0
# (10.213.0.0/24) + private mount/UTS namespace with its own dockerd and sshd; plus "runner"
# (10.213.0.10): the same recipe without sshd, the deployer-side engine that builds and pushes.
# Usage: harness/hosts.sh up [N] | down | status
#   up reads KDH_NO_SFTP ("all" or "host1 host2": sshd without a `Subsystem sftp` line) and
#   KDH_ONLY_VIA ("host3=host2 …": host3's sshd admits only connections from host2's address).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[[ $EUID == 0 ]] || die "must run as root"

ssh_opts() { echo "-i $CLIENT_KEY -o UserKnownHostsFile=$KNOWN_HOSTS -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5"; }

existing_hosts() {
  local d
  for d in "$RUN_DIR"/host* "$RUN_DIR/$RUNNER"; do [[ -d $d ]] && basename "$d"; done
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${NS_PREFIX}(host[0-9]+|$RUNNER)$" | sed "s/^${NS_PREFIX}//" || true
}

down_host() {
  local name=$1 d
  d=$(host_dir "$name")
  kill_host_procs "$name"
  ip netns del "${NS_PREFIX}$name" 2>/dev/null || true
  ip link del "$(veth_name "$name")" 2>/dev/null || true
  remove_host_cgroups "$name"
  rm -rf "$d"
}

cmd_down() {
  local t0 n=0 h p
  t0=$(now)
  "$HARNESS_DIR/registry.sh" down >/dev/null 2>&1 || true
  local pids=() runner=""
  for h in $(existing_hosts | sort -u); do  # independent: torn down in parallel
    down_host "$h" & pids+=($!)
    if [[ $h == "$RUNNER" ]]; then runner=" + $RUNNER"; else n=$((n + 1)); fi
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -f "$HOSTS_JSON" "$STATE_DIR/hosts.env"
  rmdir "$RUN_DIR" 2>/dev/null || true
  log "down: removed $n host(s)$runner, bridge $BRIDGE ($(elapsed "$t0"))"
}

ensure_client_key() {
  mkdir -p "$SSH_DIR" && chmod 700 "$SSH_DIR"
  [[ -f $CLIENT_KEY ]] || ssh-keygen -q -t ed25519 -N '' -C kdh-deployer -f "$CLIENT_KEY"
  chmod 600 "$CLIENT_KEY"
}

write_sshd_config() { # write_sshd_config NAME ADDR SFTP(1|0) [ONLY_FROM_ADDR]
  local name=$1 addr=$2 sftp=$3 only_from=${4:-} d
  d=$(host_dir "$name")
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$d/ssh_host_ed25519_key"
  : >"$d/commands.log"
  install -m 755 "$HARNESS_DIR/lib/log-command.sh" "$d/log-command.sh"  # $d is visible inside the host; the checkout may not be (/tmp is private there)
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
# every exec/subsystem/shell request is logged, then run with the user's shell (port forwarding unaffected)
ForceCommand $d/log-command.sh $d/commands.log
CFG
  # external sftp-server: under ForceCommand, internal-sftp could not be exec'd by the wrapper
  if [[ $sftp == 1 ]]; then echo "Subsystem sftp /usr/lib/openssh/sftp-server" >>"$d/sshd_config"; fi
  # reachable only through another host: any user, but only from that host's address
  if [[ -n $only_from ]]; then echo "AllowUsers *@$only_from" >>"$d/sshd_config"; fi
  mkdir -p "$d/home/.ssh" && chmod 700 "$d/home/.ssh"
  cp "$CLIENT_KEY.pub" "$d/home/.ssh/authorized_keys" && chmod 600 "$d/home/.ssh/authorized_keys"
}

# Options of `up` (also from the environment): KDH_NO_SFTP="host1 host2" or "all" — those sshds have
# no `Subsystem sftp` line; KDH_ONLY_VIA="host3=host1 host1=host2" — host3's sshd admits only
# connections from host1's address (so it is reachable only by jumping through host1).
host_has_sftp() { [[ " ${KDH_NO_SFTP:-} " != *" all "* && " ${KDH_NO_SFTP:-} " != *" $1 "* ]]; }
only_via() { local pair; for pair in ${KDH_ONLY_VIA:-}; do [[ ${pair%%=*} == "$1" ]] && echo "${pair#*=}"; done; return 0; }

add_netns() { # net namespace kdh-<name> with eth0 = <addr>/24 on the bridge (veth kdh-v<i>)
  local name=$1 addr=$2 veth
  veth=$(veth_name "$name")
  ip netns add "${NS_PREFIX}$name"
  ip link add "$veth" type veth peer name eth0 netns "${NS_PREFIX}$name"
  ip link set "$veth" master "$BRIDGE" up
  ip -n "${NS_PREFIX}$name" addr add "$addr/24" dev eth0
  ip -n "${NS_PREFIX}$name" link set eth0 up
  ip -n "${NS_PREFIX}$name" link set lo up
}

load_images() { # load_images NAME [TARBALL...]: load the tarballs (default: all) into one engine
  local name=$1 sock f; shift
  sock=$(host_dir "$name")/docker.sock
  (($#)) || set -- "$IMAGES_DIR"/*.tar
  for f in "$@"; do
    DOCKER_HOST=unix://$sock docker load -q -i "$f" >/dev/null || return 1
  done
}

cmd_up() {
  local n=${1:-2} t0 i name addr d via pids=() fail=0
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
    add_netns "$name" "$addr"
    via=$(only_via "$name")
    write_sshd_config "$name" "$addr" "$(host_has_sftp "$name" && echo 1 || echo 0)" "${via:+$(host_ip "$via")}"
    start_host_namespaces "$name" "$addr" 1
  done
  # the runner: same namespaces + dockerd (--insecure-registry), no sshd
  mkdir -p "$(host_dir "$RUNNER")"
  add_netns "$RUNNER" "$(host_ip "$RUNNER")"
  start_host_namespaces "$RUNNER" "$(host_ip "$RUNNER")" 0

  "$HARNESS_DIR/registry.sh" up >/dev/null

  for name in $(for ((i = 1; i <= n; i++)); do echo "host$i"; done) "$RUNNER"; do
    d=$(host_dir "$name")
    (
      wait_for 60 dockerd env DOCKER_HOST="unix://$d/docker.sock" docker version \
        || { log "$name: dockerd did not start; tail of $d/dockerd.log:"; tail -20 "$d/dockerd.log" >&2; exit 1; }
      if [[ $name == "$RUNNER" ]]; then
        load_images "$name" "$IMAGES_DIR/busybox.tar"   # base image for app builds; nothing else needed
      else
        load_images "$name"
      fi || { log "$name: docker load failed"; exit 1; }
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
    addr=$(host_ip "host$i") via=$(only_via "host$i")
    if [[ -n $via ]]; then  # try from the one address it admits: inside the via host's net namespace
      # shellcheck disable=SC2046
      wait_for 20 sshd ip netns exec "${NS_PREFIX}$via" ssh $(ssh_opts) "root@$addr" true || die "ssh to host$i ($addr) from $via failed; see $(host_dir host$i)/sshd.log"
    else
      # shellcheck disable=SC2046
      wait_for 20 sshd ssh $(ssh_opts) "root@$addr" true || die "ssh to host$i ($addr) failed; see $(host_dir host$i)/sshd.log"
    fi
  done
  for ((i = 1; i <= n; i++)); do : >"$(host_dir "host$i")/commands.log"; done  # the readiness probes above are not the user's
  write_state "$n"
  log "up: $n host(s) + $RUNNER ready in $(elapsed "$t0"); state: $HOSTS_JSON"
}

write_state() {
  local n=$1 i name rsock args=()
  rsock=unix://$(host_dir "$RUNNER")/docker.sock
  # one node process formats the whole file (a node start per value cost ~0.1 s each)
  for name in "$RUNNER" $(for ((i = 1; i <= n; i++)); do echo "host$i"; done); do
    args+=("$name" "$(host_ip "$name")" "$(host_dir "$name")")
  done
  BRIDGE=$BRIDGE SUBNET=$NET_PREFIX.0/24 GATEWAY=$GATEWAY REGISTRY=$REGISTRY_ADDR NS_PREFIX=$NS_PREFIX \
    KEY=$CLIENT_KEY KH=$KNOWN_HOSTS HOST_EXEC=$HARNESS_DIR/host-exec.sh node -e '
      const e = process.env, j = JSON.stringify, a = process.argv.slice(1);
      const o = (x) => Array.isArray(x) ? `[${x.map(o).join(", ")}]` // compact one-line objects, as before
        : x && typeof x === "object" ? `{${Object.entries(x).map(([k, v]) => `${j(k)}: ${o(v)}`).join(", ")}}` : j(x);
      const m = []; for (let i = 0; i < a.length; i += 3) m.push({ name: a[i], address: a[i + 1], dir: a[i + 2] });
      const [r, ...hosts] = m, sock = (h) => `unix://${h.dir}/docker.sock`;
      const runner = { name: r.name, address: r.address, dockerHost: sock(r), env: { DOCKER_HOST: sock(r), DOCKER_BUILDKIT: "0" },
        images: ["busybox:harness"], netns: e.NS_PREFIX + r.name, stateDir: r.dir };
      const noSftp = ` ${e.KDH_NO_SFTP || ""} `, via = Object.fromEntries((e.KDH_ONLY_VIA || "").split(/\s+/).filter(Boolean).map((p) => p.split("=")));
      const hs = hosts.map((h) => ({ name: h.name, address: h.address, sshPort: 22, sshUser: "root", home: "/root",
        homeOnDisk: `${h.dir}/home`, dockerHost: sock(h), netns: e.NS_PREFIX + h.name, stateDir: h.dir,
        commandsLog: `${h.dir}/commands.log`, sftp: !noSftp.includes(" all ") && !noSftp.includes(` ${h.name} `),
        ...(via[h.name] ? { onlyVia: via[h.name] } : {}) }));
      const out = `{
  "bridge": ${j(e.BRIDGE)}, "subnet": ${j(e.SUBNET)}, "gateway": ${j(e.GATEWAY)},
  "registry": ${j(e.REGISTRY)},
  "sshUser": "root", "sshPort": 22,
  "privateKey": ${j(e.KEY)}, "publicKey": ${j(e.KEY + ".pub")},
  "knownHosts": ${j(e.KH)},
  "hostExec": ${j(e.HOST_EXEC)},
  "runner": ${o(runner)},
  "hosts": [
${hs.map((h) => "    " + o(h)).join(",\n")}
  ]
}
`;
      JSON.parse(out); process.stdout.write(out);' "${args[@]}" >"$HOSTS_JSON.tmp"
  mv "$HOSTS_JSON.tmp" "$HOSTS_JSON"
  {
    echo "KDH_SSH_KEY=$CLIENT_KEY"
    echo "KDH_KNOWN_HOSTS=$KNOWN_HOSTS"
    echo "KDH_REGISTRY=$REGISTRY_ADDR"
    echo "KDH_HOSTS=\"$(for ((i = 1; i <= n; i++)); do printf '%s ' "$(host_ip host$i)"; done | sed 's/ $//')\""
    for ((i = 1; i <= n; i++)); do echo "KDH_DOCKER_HOST_host$i=unix://$(host_dir host$i)/docker.sock"; done
    echo "KDH_RUNNER_DOCKER_HOST=$rsock"
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
    if [[ $h == "$RUNNER" ]]; then
      echo "$h $addr: dockerd $dk, no sshd (build engine), docker socket unix://$d/docker.sock"
      [[ $dk != down ]] || ok=1
      continue
    fi
    # shellcheck disable=SC2046
    timeout 5 ssh $(ssh_opts) "root@$addr" true 2>/dev/null && sh="up"
    local from; from=$(sed -n 's/^AllowUsers \*@//p' "$d/sshd_config" 2>/dev/null)
    # shellcheck disable=SC2046
    [[ $sh == down && -n $from ]] && timeout 5 ip netns exec "${NS_PREFIX}host$((${from##*.} - 10))" ssh $(ssh_opts) "root@$addr" true 2>/dev/null && sh="up (only from $from)"
    echo "$h $addr: dockerd $dk, sshd $sh, docker socket unix://$d/docker.sock"
    [[ $dk != down && $sh == up* ]] || ok=1
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
