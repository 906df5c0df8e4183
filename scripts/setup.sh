#!/usr/bin/env bash
# Installs what richlazy needs on Debian 12, skipping what is already there. Run as root
# (or with sudo available). Safe to run again. With RICHLAZY_TORCH=pip it also installs
# PyPI's torch (LibTorch 2.x built with CUDA) into .venv-torch/ (see scripts/torch_env.sh);
# pip keeps the downloaded wheels in its cache, so a second setup does not download again.
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
  pybind11-dev python3-dev python3-numpy  # the Python module (python/): build/python/richlazy
  python3-pytest python3-pandas  # its tests, and summary_df / the example's tables
  chromium fonts-dejavu-core  # the test that renders the report page in a headless browser
)

source "$(dirname "$0")/torch_env.sh"
# The pip route makes a virtual environment: Debian's python3 needs python3-venv for that.
[ "$RICHLAZY_TORCH" = pip ] && packages+=(python3-venv)

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

if [ "$RICHLAZY_TORCH" = pip ]; then
  # PyPI's torch is built with CUDA, and its CMake package looks for the CUDA toolkit.
  if ! command -v nvcc > /dev/null && [ ! -x /usr/local/cuda/bin/nvcc ] && [ -z "${CUDAToolkit_ROOT:-}" ]; then
    echo "setup: the pip route needs the CUDA toolkit (nvcc; no GPU needed) to build against PyPI's" \
         "LibTorch: install it (https://developer.nvidia.com/cuda-downloads) or set CUDAToolkit_ROOT" >&2
    exit 1
  fi
  want="torch==$RICHLAZY_TORCH_VERSION"
  python=$(command -v python3 || true)
  if [ -z "$python" ]; then
    echo "setup: the pip route needs python3 (3.9 or newer) on the PATH" >&2
    exit 1
  fi
  if [ ! -x "$RICHLAZY_VENV/bin/python" ]; then
    echo "setup: creating a virtual environment at $RICHLAZY_VENV with $python"
    if ! "$python" -m venv "$RICHLAZY_VENV"; then
      echo "setup: cannot create a virtual environment with $python (on Debian: apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  # pip install is a no-op when the version is there, and repairs an interrupted install.
  echo "setup: $want (LibTorch with CUDA, about 5 GB the first time) in $RICHLAZY_VENV"
  "$RICHLAZY_VENV/bin/pip" install -q --disable-pip-version-check "$want"
  echo "setup: LibTorch $("$RICHLAZY_VENV/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null) at $(richlazy_torch_prefix 2>/dev/null)"
fi
