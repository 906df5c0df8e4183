#!/usr/bin/env bash
# Installs richlazy from the build tree into a temporary prefix, builds the outside example
# project against it, and checks that its own initializer is registered and usable.
#   custom_initializer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$source_dir/examples/custom_initializer" -B "$work/build" \
      -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log"
cmake --build "$work/build" -j2 > "$work/build.log"
exe="$work/build/my_richlazy"

"$exe" list initializers | tee "$work/list.txt" | grep -q '^  sparse_gaussian: '
grep -q '^  low_rank: ' "$work/list.txt"   # the built-in entries are still there

"$exe" init describe --spec '{name: sparse_gaussian, density: 0.05}' --size 200 --json "$work/d.json" > /dev/null
# Expected Frobenius norm g * sqrt(N) = 1.25 * sqrt(200) = 17.68, within 5%.
norm=$(sed -n 's/.*"frobenius_norm": \([0-9.eE+-]*\).*/\1/p' "$work/d.json")
awk -v n="$norm" 'BEGIN { e = 1.25 * sqrt(200); exit !(n > 0.95 * e && n < 1.05 * e) }'
grep -q '"shape": \[' "$work/d.json"

"$exe" run "$source_dir/examples/custom_initializer/sparse_2af.yaml" --out "$work/out" --quiet \
       --set train.iterations=20 --set model.hidden_size=50 > "$work/run.txt"
grep -q 'density-0.01' "$work/out/sparse_2af/summary.csv"
test -f "$work/out/sparse_2af/runs/density-0.01/weights/W_rec_init.npy"
if "$exe" run "$source_dir/examples/custom_initializer/sparse_2af.yaml" --out "$work/out2" \
       --set init.W_rec.density=2 --set sweep={} 2> "$work/err.txt"; then
  echo "expected a config error for density=2" >&2; exit 1
fi
grep -q 'init.W_rec.density must be in (0, 1], got 2' "$work/err.txt"
echo "custom initializer example: ok"
