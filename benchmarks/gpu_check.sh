#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU (and its driver), from a clone of this
# repository,
#
#     bash benchmarks/gpu_check.sh [OUT]        # OUT defaults to gpu_check/
#
# installs the [gpu] extra, records `cookbook info` (OUT/info.log), runs the quick tour on
# the GPU plain, with --mixed-precision, with --jit and with --strategy mirrored, then the
# benchmark suite, and writes every result, log and time under OUT (OUT/times.txt: one line per step with its
# exit status and seconds). A step that fails is recorded and the next one still runs; the
# script exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-gpu_check}
mkdir -p "$OUT"
: > "$OUT/times.txt"
failed=0

step() {
  local name=$1
  shift
  local started=$SECONDS
  "$@" > "$OUT/$name.log" 2>&1
  local status=$?
  echo "$name exit=$status seconds=$((SECONDS - started))" | tee -a "$OUT/times.txt"
  [ "$status" -eq 0 ] || failed=1
}

step install pip install --quiet ".[gpu]"
step info cookbook info
step tour_gpu cookbook run all --quick --device gpu --out "$OUT/tour_gpu"
step tour_mixed_precision cookbook run all --quick --device gpu --mixed-precision --out "$OUT/tour_mixed_precision"
step tour_jit cookbook run all --quick --device gpu --jit --out "$OUT/tour_jit"
step tour_mirrored cookbook run all --quick --device gpu --strategy mirrored --out "$OUT/tour_mirrored"
step benchmarks python -m benchmarks.suite --out "$OUT/benchmarks.json"
exit "$failed"
