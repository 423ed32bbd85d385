#!/usr/bin/env bash
# Installs the Debian packages physics-state needs, if any are missing.
# Idempotent and silent when everything is present. Run as root or with sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libhiredis-dev libsimdjson-dev libeigen3-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libboost-dev
  redis-server redis-tools docker-compose tmux
  python3 python3-numpy python3-scipy
)
# Extra packages by purpose, requested with flags so the run command stays lean.
if [[ " $* " == *" --browser "* ]]; then packages+=(chromium); fi
if [[ " $* " == *" --fuzz "* ]]; then packages+=(clang libclang-rt-14-dev); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
