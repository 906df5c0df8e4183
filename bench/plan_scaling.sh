#!/usr/bin/env bash
# Planning a sweep, in one command: `richlazy run --dry-run` (parse, validate every run, pack)
# of seed sweeps of 1,000, 10,000 and 100,000 runs (the cap), then sweeps of another key
# (train.iterations) of 1,000 and 10,000 runs, with wall time, time per run and peak memory.
# Runs that differ only in the seed share one validation; other keys are validated run by
# run, in time linear in the runs (planning was quadratic: 4,000 seeds took 62 s and 7.9 GB).
# The first row includes LibTorch's start-up (about a second). Build first (scripts/build.sh).
#   bench/plan_scaling.sh [build-dir] [largest]    (largest: default 100000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
largest=${2:-100000}
bin=$build/bin/richlazy
source "$root/bench/lib.sh"
require_binary "$bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%-18s %10s %12s %14s %12s\n' "swept key" runs "wall s" "ms per run" "peak MB"
for row in "seed 1000" "seed 10000" "seed $largest" "train.iterations 1000" "train.iterations 10000"; do
  read -r key n <<< "$row"
  {
    printf 'experiment: plan\ntask: {name: 2AF}\nmodel: {name: ctrnn, hidden_size: 32}\n'
    printf 'train: {iterations: 10}\nsweep:\n  %s: [' "$key"
    seq -s, 1 "$n" | tr -d '\n'
    printf ']\n'
  } > "$tmp/plan.yaml"
  # GNU time's %e (wall seconds) and %M (peak resident KB) of the whole process.
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$bin" run "$tmp/plan.yaml" --dry-run --out "$tmp/out" > /dev/null
  read -r wall kb < "$tmp/time"
  awk -v k="$key" -v n="$n" -v w="$wall" -v kb="$kb" \
    'BEGIN { printf "%-18s %10d %12.2f %14.3f %12.0f\n", k, n, w, 1000 * w / n, kb / 1024 }'
done
