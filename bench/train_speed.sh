#!/usr/bin/env bash
# Training speed of the paper's network, in one command: richlazy's training step, the same
# step recorded op by op for autograd, and the public Python reference's step (Debian's
# python3-torch, the same LibTorch 1.13), with ratios. Build first (scripts/build.sh).
#   bench/train_speed.sh [build-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bench=$build/bench/richlazy_bench
source "$root/bench/lib.sh"
require_binary "$bench"
require_python_torch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=1 \
  /usr/bin/python3 "$root/bench/reference_train_step.py" 300 > "$tmp/python.json"
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=1 \
  "$bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_format=json > "$tmp/cpp.json"
/usr/bin/python3 - "$tmp/cpp.json" "$tmp/python.json" <<'PY'
import json, sys
cpp = json.load(open(sys.argv[1]))
py = json.load(open(sys.argv[2]))
def ms(name):
    for b in cpp["benchmarks"]:
        if b["name"].startswith(name) and b.get("aggregate_name") == "median":
            scale = {"ms": 1.0, "us": 1e-3, "ns": 1e-6}[b["time_unit"]]
            return b["real_time"] * scale
    raise SystemExit(f"no benchmark {name}")
fused, autograd, sample = ms("BM_TrainStep_richlazy"), ms("BM_TrainStep_autograd"), ms("BM_Sample2AF")
ref = py["ms_per_iteration"]
print("training iteration, N = 300, batch 32, 8 steps, one thread (medians of 3 repetitions)")
print(f"  Python reference (PyTorch {py['torch']}, no data pipeline) {ref:8.3f} ms")
print(f"  richlazy, recurrence recorded op by op for autograd   {autograd:8.3f} ms")
print(f"  richlazy, fused forward + hand-written BPTT           {fused:8.3f} ms")
print(f"  drawing a batch of 32 2AF trials                      {sample:8.3f} ms")
print(f"speed-up of richlazy's step: {ref / fused:.2f}x vs the Python reference, "
      f"{autograd / fused:.2f}x vs op-by-op autograd")
PY
