// richlazy/core/device.h: the `device: cpu | cuda | auto` choice.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

namespace richlazy {

/// The accepted values of the `device` key and the --device option.
const std::vector<std::string>& device_choices();

/// True when this LibTorch build can use a CUDA device right now.
bool cuda_available();

/// The device for a choice: "cpu", "cuda" (throws ConfigError naming `where` when CUDA is
/// not available) or "auto" (CUDA when available, else the CPU).
torch::Device resolve_device(const std::string& choice, const std::string& where);

/// Whether this build of richlazy was compiled against a LibTorch with CUDA.
bool built_with_cuda();

/// The CUDA devices this process sees, one line each: "0: NVIDIA H200, 139.8 GiB, 132
/// multiprocessors, compute capability 9.0" (empty without CUDA).
std::vector<std::string> cuda_device_descriptions();

}  // namespace richlazy
