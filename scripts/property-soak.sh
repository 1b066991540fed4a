#!/usr/bin/env bash
# The model-based property suite of the engine, long: RUNS runs (default 20,000) on each of
# five fixed seeds nobody tuned the engine to, two at a time (this machine has 2 cores).
# Prints each seed's result and the wall time; exits non-zero if any seed fails.
#   npm run test:properties:long            # 5 × 20,000 runs
#   RUNS=2000 SEEDS="1 2" npm run test:properties:long
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20000}
SEEDS=${SEEDS:-"1234567 55555 8675309 271828 314159"}
PARALLEL=${PARALLEL:-2}
npm run build --silent
logs=$(mktemp -d)
start=$(date +%s)
trap "kill 0" INT TERM  # a stopped soak takes its mocha runs with it
run() {
  local seed=$1
  if (cd packages/core && HAFENCE_PROPERTY_SEED=$seed HAFENCE_PROPERTY_RUNS=$RUNS \
      npx mocha --grep 'after every step' >"$logs/$seed.log" 2>&1); then
    echo "seed $seed: $RUNS runs passed"
  else
    echo "seed $seed: FAILED (log: $logs/$seed.log)"; grep -E 'Counterexample|Caused by' "$logs/$seed.log" | head -3
    return 1
  fi
}
export -f run; export logs RUNS
status=0
# In the background and waited for, so a stop signal runs the trap at once (bash defers
# traps while a foreground command runs).
printf '%s\n' $SEEDS | xargs -P "$PARALLEL" -I{} bash -c 'run {}' &
wait $! || status=1
echo "property soak: $(echo $SEEDS | wc -w) seeds × $RUNS runs in $(( $(date +%s) - start )) s"
exit $status
