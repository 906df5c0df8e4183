#!/usr/bin/env bash
# Configures and builds richlazy (Release, tests included) in build/ with 2 jobs.
#   scripts/build.sh [extra cmake arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache and precompiled headers: let ccache reuse objects compiled with the PCH.
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j2
