#!/usr/bin/env bash
# A headless soak: `liveq run --policy dqn` for STEPS steps with the resident memory (RSS)
# sampled every INTERVAL seconds into OUT (CSV: seconds, rss_mb). Memory should be flat once
# the replay buffer is full.
#   scripts/soak.sh 20000000 60 soak.csv [extra liveq run flags]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-2000000}"
interval="${2:-10}"
out="${3:-soak.csv}"
shift 3 2>/dev/null || true
cargo build --release >/dev/null 2>&1
./target/release/liveq run --policy dqn --steps "$steps" --quiet --json "${out%.csv}.json" "$@" &
pid=$!
echo "seconds,rss_mb" > "$out"
start=$SECONDS
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$((SECONDS - start)),$((rss / 1024))" >> "$out"
  sleep "$interval"
done
wait "$pid"
echo "done: $(wc -l < "$out") samples in $out; summary in ${out%.csv}.json"
