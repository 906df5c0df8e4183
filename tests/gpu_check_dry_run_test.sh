#!/usr/bin/env bash
# scripts/gpu_check.sh --dry-run: the GPU check's every step on the CPU with tiny sizes, so
# that the script is known to work before device minutes are spent on it.
#   tests/gpu_check_dry_run_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash "$src/scripts/gpu_check.sh" --dry-run --build-dir "$build" --out "$out"
report="$out/gpu_check.txt"
fail() { echo "gpu_check dry run: $*" >&2; cat "$report" >&2; exit 1; }
for f in gpu_check.txt info.txt cuda_tests.log pack_speed.jsonl; do
  [ -s "$out/$f" ] || fail "no $f"
done
grep -q "^  version  *richlazy " "$report" || fail "no richlazy info in the report"
grep -q "CUDA available" "$out/info.txt" || fail "info.txt does not say whether CUDA is available"
# Without a CUDA device the [cuda] tests are skipped, not passed, and the check says so.
grep -Eq '^\[cuda\] tests: .* \(([1-9][0-9]*) skipped\), exit 0' "$report" || fail "the [cuda] tests were not reported as skipped"
[ "$(wc -l < "$out/pack_speed.jsonl")" = 4 ] || fail "pack_speed.jsonl should have 4 rows (1 CPU core, E = 1, 2, 4)"
for e in 1 2 4; do
  grep -Eq "^ +$e +[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9.]+x$" "$report" || fail "no throughput row for E = $e"
done
grep -Eq '^paper sweeps .*: [0-9.]+ s wall, exit 0$' "$report" || fail "the paper sweeps did not all finish"
grep -q "^gpu_check: done" "$report" || fail "the check did not finish"
echo "gpu_check dry run: ok"
