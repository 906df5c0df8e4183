#!/usr/bin/env bash
# The README's second command: install what is missing, build, and run the whole test suite
# (against Debian's LibTorch; RICHLAZY_TORCH=pip: against PyPI's LibTorch 2.x, see
# scripts/torch_env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
source scripts/torch_env.sh
cd "$RICHLAZY_BUILD_DIR"
ctest -j2 --output-on-failure "$@"
