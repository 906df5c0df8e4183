#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run the quick variant of
# the paper's rank sweep (configs/quick_2af.yaml, a few minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
source scripts/torch_env.sh
exec "$RICHLAZY_BUILD_DIR/bin/richlazy" run configs/quick_2af.yaml --overwrite "$@"
