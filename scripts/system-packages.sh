#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Oneway needs, when they are missing.
# Usage: scripts/system-packages.sh run|test
# As root it runs apt-get; otherwise it prints the exact command to run and fails.
set -euo pipefail
want=(ffmpeg:ffmpeg ffprobe:ffmpeg redis-server:redis-server)
if [ "${1:-run}" = test ]; then
  want+=(chromium:chromium chromedriver:chromium-driver espeak-ng:espeak-ng node:nodejs npm:npm
         firefox-esr:firefox-esr pulseaudio:pulseaudio nginx:nginx openssl:openssl)
fi
missing=()
for pair in "${want[@]}"; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
# Ubuntu has no firefox-esr (its Firefox is a snap): there it is left out, and the Firefox
# browser test skips.
drop_firefox_if_unavailable() {
  [[ " ${missing[*]} " == *" firefox-esr "* ]] || return 0
  apt-cache show firefox-esr >/dev/null 2>&1 && return 0
  echo "firefox-esr is not in this system's apt sources: the Firefox browser test will skip" >&2
  local kept=() pkg
  for pkg in "${missing[@]}"; do [ "$pkg" = firefox-esr ] || kept+=("$pkg"); done
  missing=(${kept[@]+"${kept[@]}"})
}
if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  drop_firefox_if_unavailable
  [ ${#missing[@]} -eq 0 ] && exit 0
  echo "Installing system packages: ${missing[*]}"
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  drop_firefox_if_unavailable
  [ ${#missing[@]} -eq 0 ] && exit 0
  echo "Oneway needs these system packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
