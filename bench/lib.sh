# bench/lib.sh: shared checks of the benchmark scripts (sourced, not run).

# require_binary PATH: the benchmark binary must have been built.
require_binary() {
  if [ ! -x "$1" ]; then
    echo "$(basename "$0"): $1 not found; build with scripts/build.sh (needs libbenchmark-dev)" >&2
    exit 1
  fi
}

# require_python_torch: the Python reference runs on Debian's python3-torch (LibTorch 1.13).
require_python_torch() {
  if ! /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
    echo "$(basename "$0"): the Python reference needs Debian's python3-torch: apt-get install python3-torch" >&2
    exit 1
  fi
}
