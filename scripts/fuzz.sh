#!/usr/bin/env bash
# Runs the property tests of the scenario parser, the validator and the checkpoint loader
# (tests/robustness.rs) for about SECONDS seconds, with a fresh seed per round. A failing case
# prints its seed and input: add it as a fixture under tests/fixtures/.
#   scripts/fuzz.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
cargo test --release --test robustness --no-run >/dev/null 2>&1
end=$((SECONDS + seconds))
round=0
while [ "$SECONDS" -lt "$end" ]; do
  round=$((round + 1))
  seed=$((RANDOM * 32768 + RANDOM))
  echo "round $round, seed $seed"
  LIVEQ_FUZZ_SEED="$seed" LIVEQ_FUZZ_CASES=20000 cargo test --release --test robustness -q 2>&1 \
    | grep -E "passed|failed|panicked|case" || true
done
