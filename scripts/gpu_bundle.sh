#!/usr/bin/env bash
# Packs what scripts/gpu_check.sh needs on a lent GPU machine besides its PyTorch, CUDA and
# CMake (that machine reaches no package registry): Debian's packages of yaml-cpp, fmt,
# CLI11, nlohmann-json, Catch2 and zlib's headers, extracted into .gpu-bundle/ (ignored by
# git; about 10 MB, under the device tool's 64 MiB). Run here, then name .gpu-bundle in the
# device run's `carry`.
#   scripts/gpu_bundle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=.gpu-bundle
packages=(libyaml-cpp-dev libyaml-cpp0.7 libfmt-dev libfmt9 libcli11-dev nlohmann-json3-dev catch2 zlib1g-dev zlib1g)
rm -rf "$bundle"
mkdir -p "$bundle/debs" "$bundle/root"
(cd "$bundle/debs" && apt-get download "${packages[@]}" 2> >(grep -v "unsandboxed" >&2))
for deb in "$bundle"/debs/*.deb; do dpkg -x "$deb" "$bundle/root"; done
rm -rf "$bundle/debs" "$bundle/root/usr/share/doc" "$bundle/root/usr/share/man"
# Links to absolute paths (libz.so -> /lib/...) would point at that machine's files (or at
# nothing, and CMake would take the static archive instead): make them relative.
find "$bundle/root" -type l | while read -r link; do
  target=$(readlink "$link")
  case "$target" in
    /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$bundle/root$target")" "$link" ;;
  esac
done
echo "gpu_bundle: $(du -sh "$bundle" | cut -f1) in $bundle ($(printf '%s ' "${packages[@]}"))"
