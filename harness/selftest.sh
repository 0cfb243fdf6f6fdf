#!/usr/bin/env bash
# End-to-end proof of the harness, driven the way Kamal drives a host: over SSH.
#   hosts up 3 -> on host1: network kamal, kamal-proxy with Kamal's exact run flags, app v1/v2/bad
#   -> kamal-proxy deploy v1, v2 (switch), bad (exit 1, v2 keeps serving) -> proxy restart/reboot
#   keeps routes -> maintenance page -> ~/.kamal bind mount -> registry push/pull across hosts
#   -> the runner engine (deployer side): docker build (legacy builder) + push from the root
#   namespace, pull on host1 over SSH -> hosts down leaves nothing behind.
# Usage: harness/selftest.sh [--keep]   (--keep: leave the hosts up at the end)
set -uo pipefail
HARNESS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HARNESS/lib/common.sh"
pass=0 fail=0
ok() { pass=$((pass + 1)); printf 'PASS  %s\n' "$*"; }
ko() { fail=$((fail + 1)); printf 'FAIL  %s\n' "$*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }
t() { local s; s=$(now); "$@"; local rc=$?; LAST_T=$(elapsed "$s"); return $rc; }

t "$HARNESS/hosts.sh" up 3 || { echo "hosts.sh up failed"; exit 1; }
ok "hosts.sh up 3 ($LAST_T)"
KEY=$CLIENT_KEY KH=$KNOWN_HOSTS
on() { local h=$1; shift; ssh -i "$KEY" -o UserKnownHostsFile="$KH" -o StrictHostKeyChecking=yes -o BatchMode=yes "root@$h" "$@"; }
H1=10.213.0.11 H2=10.213.0.12 H3=10.213.0.13
get() { curl -s -m 5 -H "Host: $1" "http://$H1${2:-/}"; }
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' -H "Host: $1" "http://$H1${2:-/}"; }

for h in $H1 $H2 $H3; do check "ssh root@$h runs docker against its own engine" test "$(on $h 'hostname; docker info --format {{.Name}}' | sort -u | wc -l)" = 1; done

PROXY_RUN='docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m basecamp/kamal-proxy:v0.9.2 kamal-proxy run'
on $H1 "docker network create kamal >/dev/null && mkdir -p .kamal/proxy/apps-config && $PROXY_RUN >/dev/null" && ok "proxy booted with Kamal's run command" || ko "proxy boot"
sleep 0.5
on $H1 'set -e; for v in v1 v2 bad; do mkdir -p app-$v/www; echo "hello from $v" > app-$v/www/index.html; [ $v = bad ] || echo ok > app-$v/www/up
  printf "FROM busybox:harness\nCOPY www /www\nLABEL service=app\nCMD [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]\n" > app-$v/Dockerfile
  DOCKER_BUILDKIT=0 docker build -q -t app:$v app-$v >/dev/null 2>&1
  docker run --detach --restart unless-stopped --name app-web-$v --network kamal --label service=app app:$v >/dev/null; done' \
  && ok "built FROM busybox:harness app images v1/v2/bad and started them" || ko "app images"
cid() { on $H1 "docker container ls --all --filter name=^app-web-$1\$ --quiet"; }
V1=$(cid v1) V2=$(cid v2) BAD=$(cid bad)
OPTS='--host="app.example.test" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"'
deploy() { on $H1 "docker exec kamal-proxy kamal-proxy deploy app-web --target=\"$1:80\" ${2:-$OPTS}"; }

check "before any deploy: 404" test "$(code app.example.test)" = 404
t deploy "$V1"; check "deploy v1 (target $V1:80, short id via Docker DNS) exits 0 in $LAST_T" test $? = 0
check "curl -H 'Host: app.example.test' http://$H1/ -> v1" test "$(get app.example.test)" = "hello from v1"
t deploy "$V2"; check "deploy v2 exits 0 in $LAST_T" test $? = 0
check "-> v2" test "$(get app.example.test)" = "hello from v2"
out=$(t deploy "$BAD" "${OPTS/30s/3s}" 2>&1); rc=$?
check "deploy of a container failing /up exits 1" test $rc = 1
check "  with 'Error: target failed to become healthy within configured timeout (3s)'" test "$out" = "Error: target failed to become healthy within configured timeout (3s)"
check "  and v2 keeps serving" test "$(get app.example.test)" = "hello from v2"
check "unknown Host -> 404" test "$(code nope.test)" = 404
out=$(on $H1 'docker exec kamal-proxy kamal-proxy deploy app-web --target=x:80 --bogus' 2>&1); rc=$?
check "unknown flag rejected: '$out' rc=$rc" test "$out" = "Error: unknown flag: --bogus" -a $rc = 1

t on $H1 'docker restart kamal-proxy >/dev/null'; sleep 0.3
check "docker restart kamal-proxy ($LAST_T): route restored" test "$(get app.example.test)" = "hello from v2"
on $H1 "docker container stop kamal-proxy >/dev/null; docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy >/dev/null; $PROXY_RUN >/dev/null"; sleep 0.5
check "proxy reboot (stop, prune by label, run): route restored from kamal-proxy-config volume" test "$(get app.example.test)" = "hello from v2"

on $H1 'mkdir -p .kamal/proxy/apps-config/app/error_pages/v2 && echo "<p>custom 503: {{ .Message }}</p>" > .kamal/proxy/apps-config/app/error_pages/v2/503.html'
deploy "$V2" "--host=\"app.example.test\" --error-pages=\"/home/kamal-proxy/.apps-config/app/error_pages/v2\"" >/dev/null
on $H1 'docker exec kamal-proxy kamal-proxy stop app-web --drain-timeout="5s" --message="Upgrading"'
check "stop: 503 with the app's error page" test "$(code app.example.test)/$(get app.example.test)" = "503/<p>custom 503: Upgrading</p>"
on $H1 'docker exec kamal-proxy kamal-proxy resume app-web'
check "resume: v2 again" test "$(get app.example.test)" = "hello from v2"
on $H1 'docker exec kamal-proxy kamal-proxy list'

on $H1 'mkdir -p .kamal/x && echo written-over-ssh > .kamal/x/file'
check "\$HOME/.kamal written over SSH is visible to a container mounting \$PWD/.kamal/x" \
  test "$(on $H1 'docker run --rm --volume $PWD/.kamal/x:/data busybox:harness cat /data/file')" = written-over-ssh
check "host-exec.sh sees the same ~/.kamal" test "$("$HARNESS/host-exec.sh" host1 cat /root/.kamal/x/file)" = written-over-ssh

on $H1 "docker tag app:v1 $REGISTRY_ADDR/app:v1 && docker push -q $REGISTRY_ADDR/app:v1 >/dev/null"
check "push from host1, pull + run on host2 via $REGISTRY_ADDR" test "$(on $H2 "docker pull -q $REGISTRY_ADDR/app:v1 >/dev/null && docker run --rm $REGISTRY_ADDR/app:v1 cat /www/index.html")" = "hello from v1"
( export DOCKER_HOST=unix://$(host_dir host1)/docker.sock; docker tag app:v2 $REGISTRY_ADDR/app:v2 && docker push -q $REGISTRY_ADDR/app:v2 >/dev/null )
check "push from the root namespace (DOCKER_HOST=host1 socket), pull on host3" test "$(on $H3 "docker pull -q $REGISTRY_ADDR/app:v2 >/dev/null && docker run --rm $REGISTRY_ADDR/app:v2 cat /www/index.html")" = "hello from v2"
check "host2 reaches host1's proxy over the bridge" test "$("$HARNESS/host-exec.sh" host2 curl -s -m 3 -H 'Host: app.example.test' http://$H1/)" = "hello from v2"
check "hosts have no route outside 10.213.0.0/24" test "$("$HARNESS/host-exec.sh" host2 ip route | grep -c default)" = 0

# --- runner: the deployer-side build engine, used from the root namespace like the action does ---
RUNNER_SOCK=unix://$(host_dir runner)/docker.sock
check "hosts.json: runner {name, address 10.213.0.10, dockerHost}, hosts = host1..host3 only" test "$(node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log([s.runner.name, s.runner.address, s.runner.dockerHost, s.runner.env.DOCKER_BUILDKIT, s.hosts.map((h) => h.name).join()].join(" "))' "$HOSTS_JSON")" \
  = "runner 10.213.0.10 $RUNNER_SOCK 0 host1,host2,host3"
check "hosts.env: KDH_RUNNER_DOCKER_HOST=$RUNNER_SOCK" grep -qx "KDH_RUNNER_DOCKER_HOST=$RUNNER_SOCK" "$STATE_DIR/hosts.env"
check "hosts.sh status: runner dockerd up" grep -q '^runner 10.213.0.10: dockerd up' <<<"$("$HARNESS/hosts.sh" status 2>&1)"
check "runner is its own engine (name runner, busybox:harness preloaded, no app images)" \
  test "$(DOCKER_HOST=$RUNNER_SOCK docker info --format '{{.Name}}') $(DOCKER_HOST=$RUNNER_SOCK docker image ls --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')" = "runner busybox:harness "
CTX=$(mktemp -d) && mkdir -p "$CTX/www" && echo "built on the runner" >"$CTX/www/index.html" && echo ok >"$CTX/www/up"
printf 'FROM busybox:harness\nCOPY www /www\nRUN echo run-step-ok > /www/run.txt\nLABEL service=app\nCMD ["httpd", "-f", "-p", "80", "-h", "/www"]\n' >"$CTX/Dockerfile"
RIMG=$REGISTRY_ADDR/t/app:1
t env DOCKER_HOST="$RUNNER_SOCK" DOCKER_BUILDKIT=0 docker build -q -t "$RIMG" "$CTX" >/dev/null 2>&1
check "root ns: DOCKER_HOST=runner DOCKER_BUILDKIT=0 docker build -t $RIMG (COPY, RUN, LABEL) in $LAST_T" test $? = 0
rm -rf "$CTX"
t env DOCKER_HOST="$RUNNER_SOCK" docker push -q "$RIMG" >/dev/null
check "root ns: DOCKER_HOST=runner docker push $RIMG in $LAST_T" test $? = 0
check "registry catalog lists t/app" grep -q '"t/app"' <<<"$(curl -fsS -m 3 "http://$REGISTRY_ADDR/v2/_catalog")"
check "host1 over SSH: docker pull $RIMG + run it (COPY and RUN output, label service=app)" \
  test "$(on $H1 "docker pull -q $RIMG >/dev/null && docker run --rm $RIMG cat /www/index.html /www/run.txt && docker image inspect -f '{{.Config.Labels.service}}' $RIMG")" = "$(printf 'built on the runner\nrun-step-ok\napp')"
check "runner has no sshd (nothing listens on 10.213.0.10:22)" test -z "$("$HARNESS/host-exec.sh" runner ss -Hltn)"

if [[ ${1:-} != --keep ]]; then
  t "$HARNESS/hosts.sh" down; ok "hosts.sh down ($LAST_T)"
  check "no kdh netns left" test -z "$(ip netns list | grep kdh)"
  check "no kdh links left" test -z "$(ip -br link | grep kdh)"
  check "no state dir left" test ! -e "$RUN_DIR"
  sleep 3  # this VM's PID 1 reaps orphaned zombies lazily
  check "no harness processes left" test -z "$(ps -eo args | grep -E '^(dockerd|/usr/sbin/sshd -f|containerd|docker-registry|kdh-ns-holder|httpd|/usr/bin/node /usr/local/bin/kamal-proxy)' )"
fi
echo "$pass passed, $fail failed"
((fail == 0))
