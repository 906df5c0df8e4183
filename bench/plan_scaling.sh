#!/usr/bin/env bash
# Planning a sweep, in one command: `richlazy run --dry-run` (parse, validate every run, pack)
# of seed sweeps of 1,000, 10,000 and 100,000 runs (the cap), with wall time, time per run and
# peak memory. Linear planning keeps the time per run flat across the rows (it was quadratic:
# 4,000 runs took 62 s and 7.9 GB). Build first (scripts/build.sh).
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

printf '%10s %12s %14s %12s\n' runs "wall s" "ms per run" "peak MB"
for n in 1000 10000 "$largest"; do
  {
    printf 'experiment: plan\ntask: {name: 2AF}\nmodel: {name: ctrnn, hidden_size: 32}\n'
    printf 'train: {iterations: 10}\nsweep:\n  seed: ['
    seq -s, 0 $((n - 1)) | tr -d '\n'
    printf ']\n'
  } > "$tmp/plan.yaml"
  # GNU time's %e (wall seconds) and %M (peak resident KB) of the whole process.
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$bin" run "$tmp/plan.yaml" --dry-run --out "$tmp/out" > /dev/null
  read -r wall kb < "$tmp/time"
  awk -v n="$n" -v w="$wall" -v kb="$kb" 'BEGIN { printf "%10d %12.2f %14.3f %12.0f\n", n, w, 1000 * w / n, kb / 1024 }'
done
