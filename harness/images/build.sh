#!/usr/bin/env bash
# Builds the images every harness host needs (nothing can be pulled) and saves them as
# tarballs under harness/.state/images/, using a throwaway dockerd in its own namespaces:
#   busybox:harness              FROM scratch + Debian's busybox-static (sh, httpd, wget, ...)
#   basecamp/kamal-proxy:v0.9.2  the kamal-proxy stand-in (node binary + its libs + harness/kamal-proxy,
#                                /usr/local/bin/kamal-proxy = its C client, kamal-proxy/cli.c; needs gcc)
# Usage: harness/images/build.sh          build (always)
#        harness/images/build.sh --stale  print "stale" if inputs changed since the last build
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

NODE_BIN=$(readlink -f "$(command -v node)")
BUSYBOX_BIN=/bin/busybox
inputs_hash() {
  { cat "$HARNESS_DIR/images/build.sh" "$HARNESS_DIR"/kamal-proxy/*.js "$HARNESS_DIR"/kamal-proxy/lib/*.js "$HARNESS_DIR"/kamal-proxy/cli.c
    stat -c '%s %Y %n' "$NODE_BIN" "$BUSYBOX_BIN"; command -v gcc || echo no-gcc; } | sha256sum | cut -c1-16
}
if [[ ${1:-} == --stale ]]; then
  [[ -f $IMAGES_DIR/inputs.sha && "$(cat "$IMAGES_DIR/inputs.sha")" == "$(inputs_hash)" && -f $IMAGES_DIR/busybox.tar && -f $IMAGES_DIR/kamal-proxy.tar ]] || echo stale
  exit 0
fi
[[ $EUID == 0 ]] || die "must run as root"
t0=$(now)
B=builder
BD=$(host_dir $B)
CTX=$RUN_DIR/$B-ctx

cleanup() {
  kill_host_procs $B
  ip netns del "${NS_PREFIX}$B" 2>/dev/null || true
  remove_host_cgroups $B
  rm -rf "$BD" "$CTX"
}
trap cleanup EXIT
cleanup

# --- build contexts -------------------------------------------------------------------
mkdir -p "$CTX/busybox/rootfs/bin" "$CTX/busybox/rootfs/etc" "$CTX/busybox/rootfs/tmp" "$CTX/busybox/rootfs/www" "$CTX/busybox/rootfs/root"
cp "$BUSYBOX_BIN" "$CTX/busybox/rootfs/bin/busybox"
for app in $("$BUSYBOX_BIN" --list); do
  [[ $app == busybox ]] || ln -sf busybox "$CTX/busybox/rootfs/bin/$app"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$CTX/busybox/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$CTX/busybox/rootfs/etc/group"
chmod 1777 "$CTX/busybox/rootfs/tmp"
cat >"$CTX/busybox/Dockerfile" <<'DF'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["sh"]
DF

P=$CTX/kamal-proxy/rootfs
mkdir -p "$P/usr/bin" "$P/usr/local/bin" "$P/opt" "$P/etc" "$P/tmp" "$P/home/kamal-proxy/.config/kamal-proxy" "$P/home/kamal-proxy/.apps-config"
cp "$NODE_BIN" "$P/usr/bin/node"
# the dynamic loader and every library ldd lists, at their own paths
for lib in $(ldd "$NODE_BIN" | grep -oE '/[^ ]+'); do
  mkdir -p "$P$(dirname "$lib")"
  cp -L "$lib" "$P$lib"
done
cp -r "$HARNESS_DIR/kamal-proxy" "$P/opt/kamal-proxy"
rm -rf "$P/opt/kamal-proxy/test"
rm -f "$P/opt/kamal-proxy/cli.c"
chmod 755 "$P/opt/kamal-proxy/kamal-proxy.js"
sed -i '1s|.*|#!/usr/bin/node|' "$P/opt/kamal-proxy/kamal-proxy.js"
# The CLI: a static C client that has the running server execute the command (a node CLI would add
# ~40 ms of node start-up to every `docker exec kamal-proxy kamal-proxy ...`); it execs the node CLI
# for `run`. It finds the socket in KAMAL_PROXY_SOCKET, set below to what lib/paths.js computes in
# the image (its one definition; env -i: the image sets no TMPDIR).
KP_SOCKET=$(env -i "$NODE_BIN" -p "require('$HARNESS_DIR/kamal-proxy/lib/paths').socketPath()")
if command -v gcc >/dev/null && gcc -O2 -static -o "$P/usr/local/bin/kamal-proxy" "$HARNESS_DIR/kamal-proxy/cli.c"; then :; else
  log "note: no gcc (or no static libc): /usr/local/bin/kamal-proxy is the node CLI (~40 ms slower per call)"
  ln -sf /opt/kamal-proxy/kamal-proxy.js "$P/usr/local/bin/kamal-proxy"
fi
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nkamal-proxy:x:1000:1000::/home/kamal-proxy:/usr/sbin/nologin\n' >"$P/etc/passwd"
printf 'root:x:0:\nkamal-proxy:x:1000:\n' >"$P/etc/group"
printf 'hosts: files dns\n' >"$P/etc/nsswitch.conf"
chmod 1777 "$P/tmp"
cat >"$CTX/kamal-proxy/Dockerfile" <<DF
FROM scratch
COPY rootfs/ /
LABEL org.opencontainers.image.title=kamal-proxy
ENV HOME=/home/kamal-proxy PATH=/usr/local/bin:/usr/bin:/bin KAMAL_PROXY_SOCKET=$KP_SOCKET
WORKDIR /home/kamal-proxy
EXPOSE 80 443
CMD ["kamal-proxy", "run"]
DF

# --- throwaway engine: own netns (loopback only) + private mount ns, no sshd ---------------
mkdir -p "$BD"
ip netns add "${NS_PREFIX}$B"
start_host_namespaces $B "" 0
wait_for 60 dockerd env DOCKER_HOST="unix://$BD/docker.sock" docker version || { tail -20 "$BD/dockerd.log" >&2; die "builder dockerd did not start"; }
export DOCKER_HOST=unix://$BD/docker.sock DOCKER_BUILDKIT=0
quiet_build() { # legacy builder (no buildx here); drop only its deprecation notice
  docker build -q "$@" 2>&1 >/dev/null | { grep -vE 'DEPRECATED: The legacy builder|BuildKit is currently disabled|environment-variable\.|^$' || true; } >&2
  return "${PIPESTATUS[0]}"
}
quiet_build -t busybox:harness "$CTX/busybox"
quiet_build -t basecamp/kamal-proxy:v0.9.2 "$CTX/kamal-proxy"
# smoke tests
docker run --rm busybox:harness sh -c 'httpd --help >/dev/null 2>&1; wget --help >/dev/null 2>&1; echo ok' | grep -qx ok || die "busybox image broken"
docker run --rm --entrypoint kamal-proxy basecamp/kamal-proxy:v0.9.2 version | grep -q stand-in || die "kamal-proxy image broken"
docker run --detach --name kp-smoke --network none basecamp/kamal-proxy:v0.9.2 >/dev/null
wait_for 10 "kamal-proxy list" docker exec kp-smoke kamal-proxy list || die "kamal-proxy image: the CLI does not reach the server"
docker rm --force kp-smoke >/dev/null
mkdir -p "$IMAGES_DIR"
docker save -o "$IMAGES_DIR/busybox.tar" busybox:harness
docker save -o "$IMAGES_DIR/kamal-proxy.tar" basecamp/kamal-proxy:v0.9.2
inputs_hash >"$IMAGES_DIR/inputs.sha"
log "images built in $(elapsed "$t0"): $(cd "$IMAGES_DIR" && du -h ./*.tar | tr '\t\n' '  ')"
