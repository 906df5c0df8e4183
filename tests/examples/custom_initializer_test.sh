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

# To a file first: `| tee | grep -q` fails under pipefail whenever grep -q exits at its
# match before tee has written the rest (tee dies of SIGPIPE): a race.
"$exe" list initializers > "$work/list.txt"
grep -q '^  sparse_gaussian: ' "$work/list.txt"
grep -q '^  low_rank: ' "$work/list.txt"   # the built-in entries are still there
# The registry gives the outside entry the common option norm (sparse_gaussian.cpp never
# mentions it): listed with its options, default none.
awk '/^  sparse_gaussian: /{on=1; next} /^  [^ ]/{on=0} on && /norm = none/{found=1} END{exit !found}' "$work/list.txt"

"$exe" init describe --spec '{name: sparse_gaussian, density: 0.05}' --size 200 --json "$work/d.json" > /dev/null
# Expected Frobenius norm g * sqrt(N) = 1.25 * sqrt(200) = 17.68, within 5%.
norm=$(sed -n 's/.*"frobenius_norm": \([0-9.eE+-]*\).*/\1/p' "$work/d.json")
awk -v n="$norm" 'BEGIN { e = 1.25 * sqrt(200); exit !(n > 0.95 * e && n < 1.05 * e) }'
grep -q '"shape": \[' "$work/d.json"

# norm from the registry: a number is the Frobenius norm exactly, auto is gain * sqrt(N).
frobenius() { sed -n 's/.*"frobenius_norm": \([0-9.eE+-]*\).*/\1/p' "$1"; }
"$exe" init describe --spec '{name: sparse_gaussian, density: 0.05, norm: 7}' --size 200 --json "$work/n7.json" > /dev/null
awk -v n="$(frobenius "$work/n7.json")" 'BEGIN { exit !(n > 7 * (1 - 1e-5) && n < 7 * (1 + 1e-5)) }' ||
  { echo "norm: 7 gave Frobenius norm $(frobenius "$work/n7.json")" >&2; exit 1; }
"$exe" init describe --spec '{name: sparse_gaussian, density: 0.01, gain: 2, norm: auto}' --size 200 \
       --json "$work/nauto.json" > /dev/null
awk -v n="$(frobenius "$work/nauto.json")" 'BEGIN { e = 2 * sqrt(200); exit !(n > e * (1 - 1e-5) && n < e * (1 + 1e-5)) }' ||
  { echo "norm: auto gave Frobenius norm $(frobenius "$work/nauto.json")" >&2; exit 1; }
if "$exe" init describe --spec '{name: sparse_gaussian, norm: -1}' --size 20 2> "$work/norm_err.txt"; then
  echo "expected a config error for norm: -1" >&2; exit 1
fi
grep -q 'norm must be a number > 0, auto, none, {spectral_radius: r}, {spectral_norm: s} or {matched_loss: SPEC}, got -1' "$work/norm_err.txt"

"$exe" run "$source_dir/examples/custom_initializer/sparse_2af.yaml" --out "$work/out" --quiet \
       --set train.iterations=20 --set model.hidden_size=50 > "$work/run.txt"
grep -q 'density-0.01' "$work/out/sparse_2af/summary.csv"
test -f "$work/out/sparse_2af/runs/density-0.01/weights/W_rec_init.npy"
# The example's config compares densities at norm: auto: every initial W_rec has norm
# 1.25 * sqrt(50), whatever its density.
for density in 1.0 0.1 0.01; do
  /usr/bin/python3 - "$work/out/sparse_2af/runs/density-$density/summary.json" <<'PY'
import json, math, sys
init = {i["param"]: i for i in json.load(open(sys.argv[1]))["init"]}
n, e = init["W_rec"]["frobenius_norm"], 1.25 * math.sqrt(50)
assert "norm: auto" in init["W_rec"]["spec"], init["W_rec"]["spec"]
assert abs(n - e) < 1e-5 * e, f"{sys.argv[1]}: W_rec norm {n}, expected {e}"
PY
done
if "$exe" run "$source_dir/examples/custom_initializer/sparse_2af.yaml" --out "$work/out2" \
       --set init.W_rec.density=2 --set sweep={} 2> "$work/err.txt"; then
  echo "expected a config error for density=2" >&2; exit 1
fi
grep -q 'init.W_rec.density must be in (0, 1], got 2' "$work/err.txt"
echo "custom initializer example: ok"
