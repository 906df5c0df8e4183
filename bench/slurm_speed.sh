#!/usr/bin/env bash
# A 36-run sweep through a local single-node Slurm (tests/slurm/local_slurm.sh; root, Debian's
# packages) against `richlazy run --jobs 2` on the same machine, in one command: wall time of
# each, their ratio, and whether the results are identical. Slurm's side is timed from
# `richlazy submit` to the end of the gather job; each array task gets one CPU and trains its
# shard's packs one at a time (--jobs = its CPUs).
#   bench/slurm_speed.sh [--shards N] [build-dir]     (default 2 shards: one per core)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shards=2
if [ "${1:-}" = "--shards" ]; then shards=$2; shift 2; fi
build=${1:-$root/build}
bin=$build/bin/richlazy
source "$root/bench/lib.sh"
require_binary "$bin"
# shellcheck source=../tests/slurm/local_slurm.sh
source "$root/tests/slurm/local_slurm.sh"
slurm_install
B=$(mktemp -d "${TMPDIR:-/tmp}/richlazy_slurm_bench.XXXXXX")
chmod 755 "$B"
trap 'slurm_stop "$B/cluster"; rm -rf "$B"' EXIT
mkdir -p "$B/cluster"
slurm_start "$B/cluster"

# 36 runs: three recurrent initializations x 12 seeds, 2AF, 100 units, 1,000 updates.
cat > "$B/bench.yaml" <<'YAML'
experiment: bench36
task: {name: 2AF}
model: {name: ctrnn, hidden_size: 100}
train: {iterations: 1000, batch_size: 32}
metrics: {every: 250, names: [loss, accuracy, dw_rec, rep_alignment, kernel_alignment]}
sweep:
  init.W_rec: [{name: low_rank, rank: 1}, {name: low_rank, rank: 10}, {name: gaussian}]
  seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
YAML

t0=$(date +%s.%N)
"$bin" run "$B/bench.yaml" --out "$B/local" --jobs 2 --threads 1 --no-report --quiet > /dev/null
t1=$(date +%s.%N)
out=$("$bin" submit "$B/bench.yaml" --slurm --out "$B/slurm" --shards "$shards" --cpus-per-task 1 --no-report)
mapfile -t ids < <(grep -oE "(job arrays?: |report: job )[0-9]+" <<<"$out" | grep -oE "[0-9]+$")
slurm_wait_jobs 3600 "${ids[@]}"
t2=$(date +%s.%N)

same=DIFFERENT
if cmp -s <(/usr/bin/python3 "$root/tests/scripts/summary_results.py" "$B/local/bench36/summary.csv") \
          <(/usr/bin/python3 "$root/tests/scripts/summary_results.py" "$B/slurm/bench36/summary.csv"); then
  same=identical
fi
/usr/bin/python3 - "$t0" "$t1" "$t2" "$shards" "$same" <<'PY'
import sys
t0, t1, t2 = map(float, sys.argv[1:4])
local, slurm = t1 - t0, t2 - t1
print(f"36-run sweep: richlazy run --jobs 2: {local:.1f} s; local Slurm, {sys.argv[4]} array tasks "
      f"of 1 CPU + gather job: {slurm:.1f} s; Slurm / local = {slurm / local:.2f}; results {sys.argv[5]}")
PY
