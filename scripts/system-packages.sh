#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Oneway needs, when they are missing.
# Usage: scripts/system-packages.sh run|test
# As root it runs apt-get; otherwise it prints the exact command to run and fails.
set -euo pipefail
want=(ffmpeg:ffmpeg ffprobe:ffmpeg redis-server:redis-server)
if [ "${1:-run}" = test ]; then
  want+=(chromium:chromium chromedriver:chromium-driver espeak-ng:espeak-ng node:nodejs npm:npm)
fi
missing=()
for pair in "${want[@]}"; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "Oneway needs these system packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
