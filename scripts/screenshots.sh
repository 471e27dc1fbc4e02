#!/usr/bin/env bash
# Captures the dashboard's views from the real binary running in tmux into assets/: plain text
# (NAME.txt) and text with colours (NAME.ansi, `tmux capture-pane -e`, for `less -R` or an
# ANSI-to-HTML/PNG converter). Usage: scripts/screenshots.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/liveq}
sock=liveq-shots-$$
t() { tmux -L "$sock" "$@"; }
trap 't kill-server 2>/dev/null || true' EXIT
t -u new-session -d -s shots -x 120 -y 36 "LANG=C.UTF-8 $bin"
sleep 45                      # let the charts fill (the learner trains at ~2,000 steps/s)
t send-keys -t shots Space    # pause: every view shows the same moment
sleep 0.5
t send-keys -t shots .        # one step, so the inspector shows the newest decision
sleep 0.5
for v in 1:overview 2:board 3:inspector 4:tuning; do
  t send-keys -t shots "${v%%:*}"
  sleep 0.5
  t capture-pane -p -t shots > "assets/${v#*:}.txt"
  t capture-pane -p -e -t shots > "assets/${v#*:}.ansi"
done
t send-keys -t shots q; sleep 0.3; t send-keys -t shots y   # y: the learner has unsaved training
