#!/usr/bin/env bash
# What `import richlazy; richlazy.run(...)` costs over `richlazy run` for the same config, in
# one command: both as fresh processes (interpreter start and import included), alternated,
# with the same output options; medians of the wall times, their difference and ratio.
# Build first (scripts/build.sh, with pybind11-dev installed).
#   bench/python_overhead.sh [build-dir] [config] [repeats]   (default build, configs/quick_2af.yaml, 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
config=${2:-$root/configs/quick_2af.yaml}
repeats=${3:-3}
source "$root/bench/lib.sh"
require_binary "$build/bin/richlazy"
if [ ! -f "$build/python/richlazy/__init__.py" ]; then
  echo "$(basename "$0"): $build/python/richlazy not built (apt-get install pybind11-dev, then scripts/build.sh)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$build" "$config" "$repeats" "$tmp" <<'PY'
import os, statistics, subprocess, sys, time
build, config, repeats, tmp = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
env = dict(os.environ, PYTHONPATH=os.path.join(build, "python"))
cli = [os.path.join(build, "bin", "richlazy"), "run", config, "--out", os.path.join(tmp, "cli"), "--overwrite",
       "--quiet", "--no-report"]
py = [sys.executable, "-c",
      "import sys, richlazy; richlazy.run(sys.argv[1], out=sys.argv[2], overwrite=True, quiet=True, report=False)",
      config, os.path.join(tmp, "py")]
imp = [sys.executable, "-c", "import richlazy"]
def wall(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0
times = {"cli": [], "python": [], "import": []}
for i in range(repeats):
    for name, cmd in (("cli", cli), ("python", py)) if i % 2 == 0 else (("python", py), ("cli", cli)):
        times[name].append(wall(cmd))
    times["import"].append(wall(imp))
    print(f"  round {i + 1}: richlazy run {times['cli'][-1]:.2f} s, python -c 'richlazy.run(...)' "
          f"{times['python'][-1]:.2f} s", flush=True)
c, p, m = (statistics.median(times[k]) for k in ("cli", "python", "import"))
print(f"{os.path.basename(config)}, medians of {repeats}: richlazy run {c:.2f} s; "
      f"import richlazy + richlazy.run {p:.2f} s; difference {p - c:+.2f} s ({p / c:.3f}x); "
      f"python -c 'import richlazy' alone {m:.2f} s")
PY
