#!/usr/bin/env bash
# A real window under a real window manager, captured as a person would see it.
#
#   scripts/xvfb-screenshot.sh 1366x768 docs/console-1366x768.png [SECONDS]
#
# Starts Xvfb on a free display with a screen of that size, openbox as the window manager,
# runs `rtcc demo` in a real (xcb) window that fits the screen, waits SECONDS (default 45)
# for calls, cameras and live video, then captures the whole screen with ImageMagick's
# `import -window root` and closes everything. Needs xvfb, openbox, imagemagick (Debian).
set -euo pipefail
size=${1:?usage: $0 WIDTHxHEIGHT OUT.png [SECONDS]}
out=${2:?usage: $0 WIDTHxHEIGHT OUT.png [SECONDS]}
wait_s=${3:-45}
here="$(cd "$(dirname "$0")/.." && pwd)"
rtcc="${RTCC:-$here/.venv/bin/rtcc}"
for tool in Xvfb openbox import xdotool; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is missing (apt-get install xvfb openbox imagemagick xdotool)" >&2; exit 2; }
done
display=""
for n in $(seq 90 120); do
  if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then display=":$n"; break; fi
done
[ -n "$display" ] || { echo "$0: no free X display" >&2; exit 2; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
Xvfb "$display" -screen 0 "${size}x24" -nolisten tcp >/dev/null 2>&1 & pids+=($!)
for _ in $(seq 50); do DISPLAY=$display xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.1; done
DISPLAY=$display openbox >/dev/null 2>&1 & pids+=($!)
sleep 1
log=$(mktemp)
DISPLAY=$display QT_QPA_PLATFORM=xcb "$rtcc" demo --exit-after "$((wait_s + 20))" >"$log" 2>&1 & pids+=($!)
demo=$!
sleep "$wait_s"
kill -0 "$demo" 2>/dev/null || { echo "$0: the demo ended early:" >&2; tail -20 "$log" >&2; exit 1; }
DISPLAY=$display xdotool search --name "RTCC Console" >/dev/null || { echo "$0: no console window" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
DISPLAY=$display import -window root "$out"
grep -E "^demo (server|analyst)" "$log" || true
echo "wrote $out"
