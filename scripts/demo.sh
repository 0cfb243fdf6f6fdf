#!/usr/bin/env bash
# The demo: two local hosts (real sshd + dockerd in network namespaces), the
# example app deployed with the action exactly as the GitHub runner runs it,
# then a change deployed over it. Needs root on Linux (it installs Debian
# packages and creates the hosts). Tear down with: harness/hosts.sh down
# Exits non-zero when a deploy fails.
#   DEMO_UNHEALTHY_VERSION=v2   ship v2 without its health check file, so that deploy fails
#   DOCKER_CONFIG               passed on to the action (scripts/install-buildx.sh gives one with buildx)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

[ "$(id -u)" = 0 ] || { echo "The demo creates local hosts (network namespaces, dockerd, sshd): run it as root." >&2; exit 1; }
[ -f dist/index.js ] || npm run -s bundle
harness/install-deps.sh
harness/hosts.sh up 2
state=harness/.state/hosts.json
runner_docker=$(node -p "require('./$state').runner.dockerHost")
key=$(node -p "require('./$state').privateKey")
known_hosts=$(node -p "require('./$state').knownHosts")

# The example app in its own git repository, as a user's project would be.
project=$(mktemp -d /tmp/kamal-demo-XXXXXX)
cp -r examples/demo/. "$project"
git -C "$project" init -q -b main
git -C "$project" -c user.email=demo@example.com -c user.name=Demo add -A
git -C "$project" -c user.email=demo@example.com -c user.name=Demo commit -qm "demo app"

deploy() { # version
  local scratch; scratch=$(mktemp -d)
  touch "$scratch/output" "$scratch/summary" "$scratch/state"
  echo "$1" > "$project/app/www/version"
  echo "<h1>demo $1</h1>" > "$project/app/www/index.html"
  if [ "$1" = "${DEMO_UNHEALTHY_VERSION:-}" ]; then rm -f "$project/app/www/up"; else echo ok > "$project/app/www/up"; fi
  git -C "$project" add -A
  git -C "$project" -c user.email=demo@example.com -c user.name=Demo commit -qm "version $1" || true
  echo
  echo "=== deploying $1"
  local status=0
  env -i PATH="$PATH" HOME="$HOME" DOCKER_HOST="$runner_docker" ${DOCKER_CONFIG:+DOCKER_CONFIG="$DOCKER_CONFIG"} \
    GITHUB_WORKSPACE="$project" GITHUB_OUTPUT="$scratch/output" GITHUB_STEP_SUMMARY="$scratch/summary" GITHUB_STATE="$scratch/state" RUNNER_TEMP="$scratch" \
    INPUT_COMMAND=deploy INPUT_VERSION="$1" \
    INPUT_SSH-PRIVATE-KEY="$(cat "$key")" INPUT_SSH-KNOWN-HOSTS="$(cat "$known_hosts")" \
    INPUT_SECRETS="KAMAL_REGISTRY_PASSWORD=demo-registry-password" \
    node "$root/dist/index.js" | { grep -v -e '^::add-mask::' -e '^::save-state' || true; } || status=$?
  last_summary=$scratch/summary
  last_output=$scratch/output
  if [ "$status" != 0 ]; then failed="$failed $1"; echo "=== deploy of $1 failed (exit $status)"; fi
  return "$status"
}

failed=""
# v2 only over a v1 that deployed: a failed v2 then shows the hosts still serving v1.
deploy v1 && deploy v2 || true

echo
echo "=== what each host serves now"
for address in 10.213.0.11 10.213.0.12; do
  printf 'http://%s/ (Host: demo.test) → version %s\n' "$address" "$(curl -s -H 'Host: demo.test' "http://$address/version")"
done
echo
echo "=== outputs of the last deploy"
grep -v '^ghadelimiter' "$last_output" | paste - - | sed 's/<<ghadelimiter_[^\t]*\t/ = /'
echo
echo "=== job summary of the last deploy"
cat "$last_summary"
echo
echo "Hosts are still running: try curl -H 'Host: demo.test' http://10.213.0.11/ — tear down with harness/hosts.sh down"
if [ -n "$failed" ]; then
  echo "demo: FAILED — the deploy of${failed} failed (see its log above)" >&2
  exit 1
fi
