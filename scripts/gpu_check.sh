#!/usr/bin/env bash
# The GPU check, for a machine the device tool lends (an NVIDIA GPU, PyTorch with CUDA, CMake
# and a compiler, no package registry). It builds richlazy against that machine's PyTorch,
# with the other dependencies from .gpu-bundle/ (scripts/gpu_bundle.sh, run here and carried
# there), runs the [cuda] tests, and measures:
#   - training throughput of packs of E = 1, 16, 256, 1024 and 4096 networks of N = 300 on
#     2AF, and the largest E that fits (richlazy_pack_speed --grow), against one network on
#     one CPU core of the same machine;
#   - the wall time of the three paper sweeps (2AF, DMS, CXT: 4 ranks x 3 seeds, 10,000
#     iterations, every laziness measure) packed on the GPU, run at the same time.
# Everything it finds goes to $OUT (or --out DIR): gpu_check.txt (the tables), info.txt,
# cuda_tests.log, pack_speed.jsonl, build.log.
#   scripts/gpu_check.sh [--dry-run] [--build-dir DIR] [--out DIR]
# --dry-run runs the same steps on the CPU with tiny sizes (here, before device minutes are
# spent on it); --build-dir DIR uses the programs of a build folder as they are.
# With the device tool: run `bash scripts/gpu_bundle.sh` here, then
#   run(command="bash scripts/gpu_check.sh", carry=[".gpu-bundle"], timeout_s=600)
# (about 8 minutes there: the build, a few minutes of measurements; its steps print their
# elapsed times, and what it measured before a timeout is already under $OUT).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dry=0
build=""
out=${OUT:-$root/gpu-check-out}
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1 ;;
    --build-dir) build=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "gpu_check: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out"
report="$out/gpu_check.txt"
: > "$report"
say() { echo "$*" | tee -a "$report"; }
start=$(date +%s)
elapsed() { echo $(( $(date +%s) - start )); }
# The whole check keeps within GPU_CHECK_SECONDS (default 480: the device tool's 10-minute
# command limit, with room to spare): the pack measurements stop in time to leave the paper
# sweeps RESERVE seconds, and whatever was measured before a stop is reported.
budget=${GPU_CHECK_SECONDS:-480}
reserve=150
left() { local l=$(( budget - $(elapsed) - ${1:-0} )); echo $(( l > 10 ? l : 10 )); }

# 1. Build: against the PyTorch of this machine's python3 (the device image's) when there is
#    one, else against whatever LibTorch CMake finds (a dry run on Debian).
jobs=$(nproc)
if [ -z "$build" ]; then
  build="$root/build-gpu"
  prefix=""
  if torch_dir=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null); then
    prefix="$torch_dir"
  fi
  [ -d "$root/.gpu-bundle/root/usr" ] && prefix="${prefix:+$prefix;}$root/.gpu-bundle/root/usr"
  generator=()
  command -v ninja > /dev/null && generator=(-G Ninja)
  arch=()
  if [ "$dry" = 0 ] && command -v nvidia-smi > /dev/null; then
    cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1)
    [ -n "$cc" ] && arch=(-DTORCH_CUDA_ARCH_LIST="$cc")
  fi
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release ${prefix:+-DCMAKE_PREFIX_PATH="$prefix"} \
    "${arch[@]}" > "$out/build.log" 2>&1 || { tail -n 30 "$out/build.log" >&2; exit 1; }
  cmake --build "$build" -j "$jobs" --target richlazy_cli richlazy_cuda_tests richlazy_pack_speed >> "$out/build.log" 2>&1 ||
    { tail -n 30 "$out/build.log" >&2; exit 1; }
else
  for f in bin/richlazy bench/richlazy_pack_speed tests/richlazy_cuda_tests; do
    [ -x "$build/$f" ] || { echo "gpu_check: no $build/$f (build it first)" >&2; exit 1; }
  done
fi
bin="$build/bin/richlazy"
say "gpu_check$([ "$dry" = 1 ] && echo ' --dry-run (CPU, tiny sizes)'): built in $build after $(elapsed) s"
"$bin" info > "$out/info.txt" 2>&1
sed 's/^/  /' "$out/info.txt" | tee -a "$report"

# 2. The [cuda] tests (reported as skipped where no CUDA device is visible).
set +e
# A dry run hides any GPU, so that it checks the skipping path wherever it runs.
hide=()
[ "$dry" = 1 ] && hide=(env CUDA_VISIBLE_DEVICES=)
(cd "$build" && "${hide[@]}" ctest -L cuda --no-tests=error --output-on-failure) > "$out/cuda_tests.log" 2>&1
tests=$?
set -e
say "[cuda] tests: $(grep -E 'tests passed|tests failed' "$out/cuda_tests.log" | tail -n1) ($(grep -c '\*\*\*Skipped' "$out/cuda_tests.log" || true) skipped), exit $tests, after $(elapsed) s"

# 3. Throughput of packs, and one network on one CPU core for comparison.
if [ "$dry" = 1 ]; then
  device=cpu; hidden=16; members=1,2,4; grow=(); its=20; warm=2
else
  # --grow: past 4096, double E until a pack does not fit or measuring one takes over 30 s.
  # 5 warm-up iterations: the trainer records its CUDA graph at the fifth.
  device=cuda; hidden=300; members=1,16,256,1024,4096; grow=(--grow --max-seconds 30); its=30; warm=5
fi
"$build/bench/richlazy_pack_speed" --device cpu --hidden "$hidden" --members 1 --iterations $(( its * 4 )) \
  --warmup "$warm" --threads 1 > "$out/pack_speed.jsonl"
timeout "$(left "$reserve")" \
  "$build/bench/richlazy_pack_speed" --device "$device" --hidden "$hidden" --members "$members" "${grow[@]}" \
  --iterations "$its" --warmup "$warm" --threads "$jobs" >> "$out/pack_speed.jsonl" ||
  say "pack measurements stopped (exit $?; 124: the time budget), after $(elapsed) s"
python3 - "$out/pack_speed.jsonl" <<'PY' | tee -a "$report"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
cpu = rows[0]
def ratio(r):  # one CPU core's ms per network-iteration over this pack's
    return f"{cpu['ms_per_iteration'] / r['ms_per_network_iteration']:>13.1f}x" if r['ms_per_network_iteration'] > 0 else f"{'-':>14}"
print(f"training throughput, 2AF, N = {cpu['hidden']}, batch 32, 8 steps, SGD")
print(f"  one network on one CPU core: {cpu['ms_per_iteration']:.3f} ms per iteration")
print(f"  {'E':>6} {'ms/iteration':>13} {'ms/network-iteration':>21} {'network-its/s':>14} {'vs 1 CPU core':>14}")
fits = [r for r in rows[1:] if "error" not in r]
for r in rows[1:]:
    if "error" in r:
        print(f"  {r['members']:>6} did not fit: {r['error'][:100]}")
        continue
    print(f"  {r['members']:>6} {r['ms_per_iteration']:>13.3f} {r['ms_per_network_iteration']:>21.5f} "
          f"{r['network_iterations_per_second'] or 0:>14.0f} {ratio(r)}")
if fits:
    largest = max(r['members'] for r in fits)
    why = ("the next size did not fit" if "error" in rows[-1] else
           "larger ones were not tried" if rows[-1]["members"] == largest else "")
    print(f"  largest pack measured: E = {largest}" + (f" ({why})" if why else ""))
PY
say "after $(elapsed) s"

# 4. The three paper sweeps, packed, at the same time.
if [ "$dry" = 1 ]; then
  sets=(--device cpu --set train.iterations=20 --set metrics.every=10 --set model.hidden_size=16
        --set metrics.probe_trials=16 --set metrics.kernel_trials=4 --set metrics.test_trials=50
        --set "sweep.init.W_rec.rank=[1,16]")
else
  sets=(--device cuda --threads "$(( jobs / 3 > 0 ? jobs / 3 : 1 ))")
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s.%N)
pids=()
for task in 2af dms cxt; do
  timeout "$(left)" "$bin" run "$root/configs/paper_$task.yaml" --out "$tmp" --no-report "${sets[@]}" \
    > "$tmp/$task.txt" 2> "$tmp/$task.err" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
t1=$(date +%s.%N)
say "paper sweeps (2AF, DMS, CXT packed, at the same time): $(python3 -c "print(f'{$t1 - $t0:.1f}')") s wall, exit $status"
graphs=$(cat "$tmp"/*.txt "$tmp"/*.err | grep -E "CUDA graph" | sed -E 's/^.*pack [0-9]+\/[0-9]+: //' | sort | uniq -c || true)
[ -n "$graphs" ] && say "  packs: $graphs"
for task in 2af dms cxt; do
  grep -iE "error|fail" "$tmp/$task.err" | sed 's/^/  /' | tail -n 5 | tee -a "$report" || true
  tail -n 8 "$tmp/$task.txt" | sed 's/^/  /' >> "$report"
done
say "gpu_check: done in $(elapsed) s; results in $out"
[ "$tests" = 0 ] && [ "$status" = 0 ]
