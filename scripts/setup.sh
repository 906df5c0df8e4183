#!/usr/bin/env bash
# Installs what richlazy needs on Debian 12, skipping what is already there. Run as root
# (or with sudo available). Safe to run again.
#
# OpenBLAS matters: Debian's LibTorch uses whatever libblas.so.3 is installed, and without
# libopenblas0-pthread that is the reference BLAS, about 20x slower for our matrix products.
set -euo pipefail

packages=(
  g++ cmake make ccache git
  libtorch-dev libopenblas0-pthread zlib1g-dev
  dataset-fashion-mnist  # real Fashion-MNIST for the sfmnist task and its tests
  libblas3  # the reference BLAS, for the test of the slow-BLAS warning; OpenBLAS outranks it
  libfmt-dev libyaml-cpp-dev libcli11-dev nlohmann-json3-dev catch2 libbenchmark-dev
  python3-matplotlib  # draws the report figures (richlazy report)
  chromium fonts-dejavu-core  # the test that renders the report page in a headless browser
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo > /dev/null; then SUDO=sudo; else
      echo "setup: these packages are missing and installing them needs root: ${missing[*]}" >&2
      exit 1
    fi
  fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

# Make sure the BLAS LibTorch loads is OpenBLAS (the alternative with the highest priority).
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$blas" in
  *openblas*) echo "setup: BLAS is OpenBLAS ($blas)" ;;
  *) echo "setup: warning: libblas.so.3 is $blas, not OpenBLAS; training will be slow." \
          "Fix: update-alternatives --auto libblas.so.3-x86_64-linux-gnu" >&2 ;;
esac
