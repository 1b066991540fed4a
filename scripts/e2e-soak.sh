#!/usr/bin/env bash
# Soak of the real-process e2e test (packages/cli/test/e2e-kvm.test.ts: three `hafence agent`
# processes, `hafence serve`, SimBmc over UDP on 127.0.0.1; kill -9 of one agent must end in
# a verified off/on and one release). Builds once, then runs that test N times in a row
# beside a CPU burner (one busy loop per core, normal priority), stops at the first failure
# and prints the pass count and the wall time. Exit 0 only if every run passed.
#
# Usage: scripts/e2e-soak.sh [N]          (or: npm run e2e:soak -- N)
#   N / E2E_SOAK_RUNS      runs (default 20)
#   E2E_SOAK_BURNERS       busy-loop processes (default: one per core; 0 = no load)
#   E2E_SOAK_RUN_LIMIT     seconds one run may take before it counts as failed (default 240)
#
# Bounded: every run has a time limit, every burner exits by itself after the whole soak's
# budget even if this script is killed, and the burners are stopped on exit or signal.
# Loopback only: the test binds 127.0.0.1; this script opens no socket of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-${E2E_SOAK_RUNS:-20}}
burners=${E2E_SOAK_BURNERS:-$(nproc)}
limit=${E2E_SOAK_RUN_LIMIT:-240}
for v in runs burners limit; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]]; then echo "e2e-soak: $v must be a non-negative integer, got '${!v}'" >&2; exit 2; fi
done
if [ "$runs" -lt 1 ] || [ "$limit" -lt 1 ]; then echo "e2e-soak: runs and run limit must be at least 1" >&2; exit 2; fi

spec=dist-test/test/e2e-kvm.test.js
grep='e2e: hafence agent'
logs=$(mktemp -d "${TMPDIR:-/tmp}/hafence-e2e-soak.XXXXXX")
burner_pids=()

stop_burners() {
  for pid in "${burner_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${burner_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  burner_pids=()
}

# Kills what a run left behind (only after a timeout: mocha killed before its `after` hook).
# The test's children are found by the run's own TMPDIR in their argv, and killed by pid.
reap_run() {
  local dir=$1 pid
  for pid in $(grep -lsF -- "$dir" /proc/[0-9]*/cmdline | cut -d/ -f3); do
    [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] || kill -9 "$pid" 2>/dev/null || true
  done
}

current_tmp=''
on_exit() {
  stop_burners
  if [ -n "$current_tmp" ]; then reap_run "$current_tmp"; fi
}
trap on_exit EXIT
trap 'echo "e2e-soak: interrupted" >&2; exit 130' INT TERM

echo "e2e-soak: building"
npm run build --silent
if [ ! -f "packages/cli/$spec" ]; then echo "e2e-soak: packages/cli/$spec missing after the build" >&2; exit 1; fi

budget=$(( runs * limit + 60 ))
for ((i = 0; i < burners; i++)); do
  timeout "$budget" node -e 'for (;;) {}' &
  burner_pids+=($!)
done
echo "e2e-soak: $runs run(s) of '$grep', $burners CPU burner(s), at most ${limit}s a run; logs in $logs"

started=$SECONDS
passed=0
failed_run=0
for ((n = 1; n <= runs; n++)); do
  log="$logs/run-$n.log"
  tmp="$logs/tmp-$n"
  mkdir -p "$tmp"
  current_tmp=$tmp
  t0=$SECONDS
  rc=0
  (cd packages/cli && TMPDIR="$tmp" timeout --kill-after=10 "$limit" \
    npx mocha --no-config --require reflect-metadata --timeout 20000 --grep "$grep" "$spec") >"$log" 2>&1 || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "(timed out after ${limit}s)" >>"$log"
    reap_run "$tmp"
  fi
  current_tmp=''
  # mocha exits 0 when every test passed; also refuse a run that ran nothing.
  if [ "$rc" -eq 0 ] && grep -qE '^ +[1-9][0-9]* passing' "$log" && ! grep -qE '^ +[0-9]+ failing' "$log"; then
    passed=$((passed + 1))
    echo "e2e-soak: run $n/$runs passed ($(grep -oE '[0-9]+ passing' "$log" | tail -1), $((SECONDS - t0))s)"
    rm -rf "$tmp"
  else
    failed_run=$n
    echo "e2e-soak: run $n/$runs FAILED (exit $rc, $((SECONDS - t0))s); key lines of $log:"
    grep -nE 'passing|failing|pending|^ +[0-9]+\) |Error|expected|timed out|AssertionError' "$log" | head -40 || true
    break
  fi
done
stop_burners

wall=$((SECONDS - started))
echo "e2e-soak: $passed/$runs passed, wall time ${wall}s ($((wall / 60))m$((wall % 60))s)"
if [ "$failed_run" -ne 0 ]; then echo "e2e-soak: first failure in run $failed_run; full log $logs/run-$failed_run.log"; exit 1; fi
rm -rf "$logs"
