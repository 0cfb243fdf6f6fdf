#!/usr/bin/env bash
# Plain-HTTP Docker registry (Debian's docker-registry binary, no container) on 10.213.0.1:5000,
# in the root namespace, storage under $RUN_DIR/registry. Needs the bridge (hosts.sh up).
# Usage: harness/registry.sh up | down | status
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
R=$RUN_DIR/registry
PIDFILE=$R/registry.pid

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

case ${1:-} in
  up)
    ip -4 addr show dev "$BRIDGE" 2>/dev/null | grep -q "$GATEWAY/" || die "bridge $BRIDGE with $GATEWAY missing: run harness/hosts.sh up"
    if running; then echo "registry already running at $REGISTRY_ADDR"; exit 0; fi
    mkdir -p "$R/data"
    cat >"$R/config.yml" <<CFG
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $R/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
CFG
    setsid docker-registry serve "$R/config.yml" </dev/null >"$R/registry.log" 2>&1 &
    echo $! >"$PIDFILE"
    wait_for 15 registry curl -fsS "http://$REGISTRY_ADDR/v2/" || { tail "$R/registry.log" >&2; die "registry did not start"; }
    echo "registry up at http://$REGISTRY_ADDR (storage $R/data)"
    ;;
  down)
    if [[ -f $PIDFILE ]]; then
      pid=$(cat "$PIDFILE")
      kill -KILL "$pid" 2>/dev/null || true  # nothing to flush: storage is deleted below
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    fi
    rm -rf "$R"
    echo "registry down"
    ;;
  status)
    if running && curl -fsS -m 3 "http://$REGISTRY_ADDR/v2/" >/dev/null; then
      echo "registry $REGISTRY_ADDR: up (pid $(cat "$PIDFILE")), catalog: $(curl -fsS -m 3 "http://$REGISTRY_ADDR/v2/_catalog")"
    else
      echo "registry $REGISTRY_ADDR: down"; exit 1
    fi
    ;;
  *) echo "usage: $0 up | down | status" >&2; exit 2 ;;
esac
