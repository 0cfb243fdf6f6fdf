#!/usr/bin/env bash
# Installs what scripts/kamal-side/kamal needs (run as root on Debian 12) and checks the sources.
#   scripts/kamal-side/setup.sh DIR
# DIR must hold kamal/ (basecamp/kamal at tag v2.12.0) and dotenv/ (bkeepers/dotenv, tag v3.2.0);
# where github.com is reachable, missing ones are cloned.
set -euo pipefail
dir=${1:?usage: $0 DIR (holding kamal/ and dotenv/)}
mkdir -p "$dir"
clone() { # clone NAME REPO TAG
  [[ -d $dir/$1 ]] || git clone -q --depth 1 --branch "$3" "https://github.com/$2.git" "$dir/$1" ||
    { echo "setup: $dir/$1 is missing and could not be cloned; put $2 at $3 there" >&2; exit 1; }
}
clone kamal basecamp/kamal v2.12.0
clone dotenv bkeepers/dotenv v3.2.0
packages=(ruby ruby-sshkit ruby-activesupport ruby-thor ruby-zeitwerk ruby-net-ssh ruby-ed25519 ruby-bcrypt-pbkdf ruby-concurrent ruby-net-scp ruby-net-sftp ruby-i18n ruby-tzinfo)
missing=()
for package in "${packages[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if ((${#missing[@]})); then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi
version=$(KAMAL_SIDE_SOURCES=$dir "$(dirname "$0")/kamal" version)
[[ $version == 2.12.0 ]] || { echo "setup: $dir/kamal is Kamal $version, not 2.12.0" >&2; exit 1; }
echo "kamal-side: Kamal $version from $dir/kamal on $(ruby --version | cut -d' ' -f1-2)"
