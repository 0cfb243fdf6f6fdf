#!/usr/bin/env bash
# Makes `docker buildx` available to chosen runs only, never system-wide.
#
#   export DOCKER_CONFIG=$(scripts/install-buildx.sh [DIR])   # prints the DOCKER_CONFIG dir
#
# DIR (default tmp/buildx/docker-config) gets cli-plugins/docker-buildx, a link to the one
# copy of the plugin kept in tmp/buildx/; docker login and buildx write their state in DIR.
#
# The docker CLI looks for plugins in $DOCKER_CONFIG/cli-plugins (besides the system
# dirs), so buildx exists exactly for the processes that get this DOCKER_CONFIG. The
# plugin is never put in /usr/libexec/docker/cli-plugins, /usr/local/lib/docker/cli-plugins
# or ~/.docker/cli-plugins: other runs on this machine rely on there being no buildx.
#
# Debian 12 has no docker-buildx package; the one in Debian's next suite is fetched with
# a private apt configuration (its own sources.list, lists and cache under tmp/buildx/),
# from the Debian mirror already configured for this machine, and unpacked with dpkg-deb.
# Idempotent: a working plugin is reused. Progress goes to stderr, the dir to stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/tmp/buildx                  # gitignored (/tmp/ in .gitignore)
config_dir=${1:-$work/docker-config}
plugin=$work/docker-buildx
link=$config_dir/cli-plugins/docker-buildx
suite=${BUILDX_DEBIAN_SUITE:-trixie}
say() { echo "install-buildx: $*" >&2; }

has_buildx() { DOCKER_CONFIG=$1 docker buildx version >/dev/null 2>&1; }

mkdir -p "$config_dir/cli-plugins" "$work"
[[ -x $plugin ]] && ln -sfn "$plugin" "$link"
if has_buildx "$config_dir"; then
  say "buildx ready: $(DOCKER_CONFIG=$config_dir docker buildx version 2>/dev/null)"
  echo "$config_dir"; exit 0
fi
mkdir -p "$work/no-plugins"
if has_buildx "$work/no-plugins"; then
  # e.g. a GitHub-hosted runner: the system already has it, nothing to add.
  say "the system docker already has buildx: $(docker buildx version 2>/dev/null)"
  echo "$config_dir"; exit 0
fi

# The mirror this machine already uses for Debian (deb822 or one-line sources).
mirror=$(grep -rhoE 'https?://[^ ]*/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null | head -1 | tr -d ' ' || true)
mirror=${mirror%/}
[[ -n $mirror ]] || { say "no Debian mirror found in /etc/apt: this script needs Debian's apt (or install buildx yourself)"; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $keyring ]] || { say "missing $keyring (package debian-archive-keyring)"; exit 1; }

start=$(date +%s.%N)
apt_dir=$work/apt
rm -rf "$apt_dir"
mkdir -p "$apt_dir"/{sources.list.d,preferences.d,lists/partial,cache/archives/partial,debs}
echo "deb [signed-by=$keyring] $mirror $suite main" >"$apt_dir/sources.list"
cat >"$apt_dir/apt.conf" <<EOF
Dir::Etc::SourceList "$apt_dir/sources.list";
Dir::Etc::SourceParts "$apt_dir/sources.list.d";
Dir::Etc::Preferences "$apt_dir/preferences";
Dir::Etc::PreferencesParts "$apt_dir/preferences.d";
Dir::State::Lists "$apt_dir/lists";
Dir::Cache "$apt_dir/cache";
Dir::Cache::archives "$apt_dir/cache/archives";
Acquire::Languages "none";
APT::Architectures { "$(dpkg --print-architecture)"; };
APT::Sandbox::User "root";
EOF
say "fetching docker-buildx from $mirror $suite (private apt config in $apt_dir)"
export APT_CONFIG=$apt_dir/apt.conf
apt-get update -qq >"$apt_dir/update.log" 2>&1 || { cat "$apt_dir/update.log" >&2; exit 1; }
(cd "$apt_dir/debs" && apt-get download -qq docker-buildx >"$apt_dir/download.log" 2>&1) || { cat "$apt_dir/download.log" >&2; exit 1; }
deb=$(ls "$apt_dir"/debs/docker-buildx_*.deb)
dpkg-deb -x "$deb" "$apt_dir/unpacked"
install -m 0755 "$apt_dir/unpacked/usr/libexec/docker/cli-plugins/docker-buildx" "$plugin"
ln -sfn "$plugin" "$link"
# Keep only the plugin: the indexes and the .deb are ~25 MB.
rm -rf "$apt_dir"
has_buildx "$config_dir" || { say "the unpacked plugin does not run with this docker client"; exit 1; }
end=$(date +%s.%N)
say "$(DOCKER_CONFIG=$config_dir docker buildx version 2>/dev/null) in $plugin ($(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1fs", b-a}'))"
echo "$config_dir"
