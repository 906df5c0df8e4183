#!/usr/bin/env bash
# Packing speed, in one command: per-network milliseconds per training iteration (2AF, batch
# 32, 8 steps, the paper's SGD, one thread per pack) for packs of E = 1 (solo runs), 4, 16 and
# 64 networks at N = 64 and N = 300. Every configuration trains 2E networks as two packs at
# once on two cores (--jobs 2), so E = 1 is "solo runs with --jobs 2" and every row uses the
# machine the same way. Then the wall time of configs/paper_2af.yaml trained unpacked
# (--pack 1) and packed (--pack auto), and the largest difference between their summary.csv
# values. Build first (scripts/build.sh).
#   bench/ensemble_speed.sh [--quick] [build-dir]    (--quick: skip the paper_2af comparison)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
build=${1:-$root/build}
bin=$build/bin/richlazy
source "$root/bench/lib.sh"
require_binary "$bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/bench.yaml" <<'YAML'
experiment: bench
task: {name: 2AF}
model: {name: ctrnn}
train: {batch_size: 32}
metrics: {names: [loss]}
YAML

# mean_ms SUMMARY_CSV: the mean of the ms_per_iteration column (a pack's time divided by its
# networks, metric hooks excluded).
mean_ms() {
  python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"{sum(float(r['ms_per_iteration']) for r in rows) / len(rows):.4f}")
PY
}

echo "per-network ms per training iteration, 2E networks as two packs of E on two cores"
printf "%-4s %-8s %12s %12s %10s %12s\n" N E networks iterations ms/iter "vs solo"
for N in 64 300; do
  # About the same total work per row: iterations * networks.
  work=$(( N == 64 ? 40000 : 8000 ))
  solo=""
  for E in 1 4 16 64; do
    nets=$(( 2 * E ))
    its=$(( work / nets > 20 ? work / nets : 20 ))
    seeds=$(seq -s, 0 $(( nets - 1 )))
    OPENBLAS_NUM_THREADS=1 "$bin" run "$tmp/bench.yaml" --out "$tmp/out" --quiet --no-report --overwrite \
      --pack "$E" --jobs 2 --threads 1 --set model.hidden_size="$N" --set "sweep.seed=[$seeds]" \
      --set train.iterations="$its" --set metrics.every="$its" > /dev/null
    ms=$(mean_ms "$tmp/out/bench/summary.csv")
    [ -n "$solo" ] || solo=$ms
    ratio=$(python3 -c "print(f'{$solo / $ms:.2f}x')")
    printf "%-4s %-8s %12s %12s %10s %12s\n" "$N" "$E" "$nets" "$its" "$ms" "$ratio"
  done
done

[ "$quick" = 1 ] && exit 0
echo
echo "configs/paper_2af.yaml (12 runs, N = 300, 10,000 iterations, every laziness measure)"
for pack in 1 auto; do
  start=$(date +%s.%N)
  OPENBLAS_NUM_THREADS=1 "$bin" run "$root/configs/paper_2af.yaml" --out "$tmp/paper-$pack" --quiet \
    --no-report --pack "$pack" > "$tmp/paper-$pack.txt"
  end=$(date +%s.%N)
  packs=$(python3 -c "import json,glob; print(len({json.load(open(f))['pack']['index'] for f in glob.glob('$tmp/paper-$pack/paper_2af/runs/*/summary.json')}))")
  printf "  --pack %-5s %4d packs  wall %7.1f s\n" "$pack" "$packs" "$(python3 -c "print($end - $start)")"
done
python3 - "$tmp/paper-1/paper_2af/summary.csv" "$tmp/paper-auto/paper_2af/summary.csv" <<'PY'
import csv, math, sys
a, b = (list(csv.DictReader(open(p))) for p in sys.argv[1:])
skip = {"run_id", "status", "steps", "wall_seconds", "ms_per_iteration", "metric_seconds"}
worst = 0.0
for ra, rb in zip(a, b):
    assert ra["run_id"] == rb["run_id"] and ra["status"] == rb["status"]
    for k in ra:
        if k in skip or k.startswith("init.") or k == "seed":
            continue
        x, y = float(ra[k]), float(rb[k])
        if math.isfinite(x) and math.isfinite(y):
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-12))
print(f"  largest relative difference between the two summary.csv files: {worst:.2e}")
PY
