#!/usr/bin/env bash
# Configures and builds richlazy (Release, tests included) with 2 jobs: against Debian's
# LibTorch in build/, or with RICHLAZY_TORCH=pip against the venv's LibTorch 2.x (CUDA) in
# build-pip/ (scripts/torch_env.sh).
#   scripts/build.sh [extra cmake arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/torch_env.sh
if [ "$RICHLAZY_TORCH" = pip ]; then
  if [ ! -x "$RICHLAZY_VENV/bin/python" ]; then
    echo "build: no $RICHLAZY_VENV; run RICHLAZY_TORCH=pip bash scripts/setup.sh first" >&2
    exit 1
  fi
  prefix=$(richlazy_torch_prefix)
  # Torch_DIR too: a build folder configured before keeps its cached one otherwise.
  RICHLAZY_CMAKE_TORCH=(-DCMAKE_PREFIX_PATH="$prefix" -DTorch_DIR="$prefix/share/cmake/Torch")
fi
# ccache and precompiled headers: let ccache reuse objects compiled with the PCH.
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
cmake -S . -B "$RICHLAZY_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${RICHLAZY_CMAKE_TORCH[@]}" "$@"
cmake --build "$RICHLAZY_BUILD_DIR" -j2
