# scripts/torch_env.sh: which LibTorch to build against (sourced by the other scripts).
#   RICHLAZY_TORCH=debian (default)  Debian's libtorch-dev (LibTorch 1.13, CPU only), in build/
#   RICHLAZY_TORCH=pip               PyPI's torch (LibTorch 2.x built with CUDA) in a virtual
#                                    environment at .venv-torch/ (ignored by git), in build-pip/
#   RICHLAZY_TORCH_VERSION           the pip route's torch version (default below)
RICHLAZY_TORCH=${RICHLAZY_TORCH:-debian}
RICHLAZY_TORCH_VERSION=${RICHLAZY_TORCH_VERSION:-2.15.0}
richlazy_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RICHLAZY_VENV=${RICHLAZY_VENV:-$richlazy_root/.venv-torch}
case "$RICHLAZY_TORCH" in
  debian)
    RICHLAZY_BUILD_DIR=${RICHLAZY_BUILD_DIR:-$richlazy_root/build}
    RICHLAZY_CMAKE_TORCH=() ;;
  pip)
    RICHLAZY_BUILD_DIR=${RICHLAZY_BUILD_DIR:-$richlazy_root/build-pip}
    RICHLAZY_CMAKE_TORCH=() ;;  # filled by richlazy_torch_prefix once the venv exists
  *)
    echo "RICHLAZY_TORCH must be debian or pip, got '$RICHLAZY_TORCH'" >&2
    exit 2 ;;
esac

# richlazy_torch_prefix: for the pip route, the CMake prefix of the venv's LibTorch
# (site-packages/torch, where share/cmake/Torch and lib/ are).
richlazy_torch_prefix() {
  "$RICHLAZY_VENV/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))'
}
