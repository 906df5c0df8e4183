#!/usr/bin/env bash
# The tangent-kernel benchmark in one command, at the paper's size (N = 300, 8 steps x 32
# trials x 3 classes = 768 rows), on one network and one set of inputs:
#   (a) the public reference's Python loop (Debian's python3-torch, same LibTorch 1.13),
#   (b) a C++ loop with one backward pass per row into a preallocated Jacobian,
#   (c) richlazy's factorized kernel (Gram matrices of errors and activities).
# Prints the three times, the ratios of (c) to each, and the largest differences between the
# kernels relative to the kernel's scale (max |K1 - K2| / max |K2|). Everything runs on one
# thread, as richlazy's runs do. (a) takes about a minute.
#   bench/kernel_speed.sh [build-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bench=$build/bench/richlazy_kernel_bench
source "$root/bench/lib.sh"
require_binary "$bench"
require_python_torch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
"$bench" "$tmp" > "$tmp/cpp.json"
/usr/bin/python3 "$root/bench/reference_kernel.py" "$tmp" > "$tmp/python.json"
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
import numpy as np
d = sys.argv[1]
cpp = json.load(open(f"{d}/cpp.json"))
py = json.load(open(f"{d}/python.json"))
a, b, c = (np.load(f"{d}/{n}.npy").astype(np.float64) for n in ("K_reference", "K_bruteforce", "K_fast"))
rel = lambda x, y: np.abs(x - y).max() / np.abs(y).max()
ta, tb, tc = py["seconds"], cpp["bruteforce_seconds"], cpp["fast_seconds"]
print(f"tangent kernel w.r.t. W_rec, N = 300, {cpp['rows']} rows, one thread")
print(f"  (a) reference Python loop (PyTorch {py['torch']})      {ta:10.3f} s")
print(f"  (b) C++, one backward pass per row                     {tb:10.3f} s")
print(f"  (c) richlazy, Gram matrices of errors and activities   {tc:10.4f} s")
print(f"(c) is {ta / tc:.0f}x faster than (a) and {tb / tc:.1f}x faster than (b)")
print(f"largest difference relative to the kernel's scale: (c) vs (a) {rel(c, a):.2e}, "
      f"(c) vs (b) {rel(c, b):.2e}, (b) vs (a) {rel(b, a):.2e}")
PY
