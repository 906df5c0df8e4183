#!/usr/bin/env bash
# Builds richlazy and its test suite with AddressSanitizer + UndefinedBehaviorSanitizer
# (clang-14, in build-asan/, with the fuzz targets: fuzz/CMakeLists.txt) and runs the tests.
# Any sanitizer report fails the test it happens in (UBSan aborts; see fuzz/sanitizer_env.sh).
#   scripts/sanitize.sh [extra ctest arguments]
# Not run under sanitizers (the rest of the suite is, every Catch2 test included):
#   example_custom_initializer  builds an outside project with the system compiler (g++,
#                               no sanitizer flags: richlazy's package does not export them)
#                               against the installed librichlazy, and the link fails on the
#                               library's undefined __asan_*/__sanitizer_cov_* symbols; it
#                               tests packaging, which the normal builds' suites cover.
#   gpu_check_dry_run, [cuda]   scripts/gpu_check.sh and the CUDA tests: need
#                               richlazy_cuda_tests and the bench programs, not built here;
#                               Debian's LibTorch has no CUDA, so they test nothing here.
set -euo pipefail
cd "$(dirname "$0")/.."
source fuzz/sanitizer_env.sh
bash scripts/setup.sh > /dev/null
richlazy_sanitize_packages
start=$(date +%s)
richlazy_sanitize_configure > /dev/null
cmake --build "$RICHLAZY_ASAN_BUILD_DIR" -j2 --target richlazy_cli richlazy_tests \
      fuzz_config fuzz_npy fuzz_idx fuzz_matrix fuzz_cell_types
echo "sanitize: built in $(( $(date +%s) - start )) s"
start=$(date +%s)
cd "$RICHLAZY_ASAN_BUILD_DIR"
ctest -j2 --output-on-failure -LE cuda \
      -E '^(example_custom_initializer$|gpu_check_dry_run$|richlazy_cuda_tests_NOT_BUILT)' "$@"
echo "sanitize: tests ran in $(( $(date +%s) - start )) s"
