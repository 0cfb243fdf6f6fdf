#!/usr/bin/env bash
# The demo: the action run as the GitHub runner runs it, on examples/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/index.js ] || npm run -s bundle
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
touch "$scratch/output" "$scratch/summary" "$scratch/state"
env GITHUB_WORKSPACE="$PWD/examples/demo" GITHUB_OUTPUT="$scratch/output" GITHUB_STEP_SUMMARY="$scratch/summary" GITHUB_STATE="$scratch/state" \
  INPUT_COMMAND=plan INPUT_DESTINATION=staging INPUT_VERSION="${VERSION:-demo}" \
  INPUT_SECRETS="KAMAL_REGISTRY_PASSWORD=demo-registry-password" \
  node dist/index.js
echo
echo "--- job summary ($scratch/summary)"
cat "$scratch/summary"
