# fuzz/sanitizer_env.sh: the runtime options of the sanitized build (build-asan/), sourced by
# scripts/sanitize.sh and scripts/fuzz.sh.
richlazy_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RICHLAZY_ASAN_BUILD_DIR=${RICHLAZY_ASAN_BUILD_DIR:-$richlazy_root/build-asan}
# Any report is fatal (UBSan aborts too: the code is built with -fno-sanitize-recover).
# Leaks are checked, except those lsan.supp names (third-party code only; see there).
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_init_order=1:check_initialization_order=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$richlazy_root/fuzz/lsan.supp:print_suppressions=0}

# richlazy_sanitize_configure: configures build-asan/ with clang-14, ASan + UBSan and the
# fuzz targets (RICHLAZY_FUZZ implies RICHLAZY_SANITIZE). -O1: the usual for sanitizers
# (readable stacks, a fraction of -O3's compile time); assertions stay on (no NDEBUG).
richlazy_sanitize_configure() {
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  cmake -S "$richlazy_root" -B "$RICHLAZY_ASAN_BUILD_DIR" -DCMAKE_CXX_COMPILER=clang++-14 \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DRICHLAZY_FUZZ=ON "$@"
}

# richlazy_sanitize_packages: installs clang-14 and its sanitizer/libFuzzer runtimes when
# missing (as root, or with sudo), like scripts/setup.sh does for the rest.
richlazy_sanitize_packages() {
  local missing=() p SUDO=""
  for p in clang-14 libclang-rt-14-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "sanitize: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo > /dev/null; then SUDO=sudo; else
      echo "sanitize: installing ${missing[*]} needs root" >&2
      return 1
    fi
  fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
}
