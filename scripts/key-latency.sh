#!/usr/bin/env bash
# Measures how long a keystroke takes to show on screen while the dashboard trains at full
# speed: runs the real binary in tmux, switches to full speed, then presses space (pause /
# resume) N times and polls the screen until the header's PAUSED flag appears or disappears.
# The figure includes tmux's own delivery and capture, so it is an upper bound.
# Usage: scripts/key-latency.sh [BINARY] [PRESSES]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/liveq}
presses=${2:-20}
sock=liveq-latency-$$
t() { tmux -L "$sock" "$@"; }
trap 't kill-server 2>/dev/null || true' EXIT
t -u new-session -d -s lat -x 160 -y 48 "LANG=C.UTF-8 $bin 2>/dev/null"
sleep 3
t send-keys -t lat '>'          # 10k steps/s -> full speed
sleep 12                         # past learning_starts: the learner is updating
paused() { t capture-pane -p -t lat | head -3 | grep -q PAUSED; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
results=()
for _ in $(seq "$presses"); do
  if paused; then want=running; else want=paused; fi
  start=$(now_ms)
  t send-keys -t lat Space
  while :; do
    if [ "$want" = paused ] && paused; then break; fi
    if [ "$want" = running ] && ! paused; then break; fi
    if [ $(( $(now_ms) - start )) -gt 2000 ]; then echo "no change within 2 s" >&2; exit 1; fi
  done
  results+=($(( $(now_ms) - start )))
  sleep 0.3
done
t send-keys -t lat q; sleep 0.3; t send-keys -t lat y   # y: the learner has unsaved training
printf '%s\n' "${results[@]}" | sort -n | awk '
  { v[NR] = $1 }
  END { printf "keystroke to screen, %d presses: median %d ms, max %d ms\n", NR, v[int((NR + 1) / 2)], v[NR] }'
