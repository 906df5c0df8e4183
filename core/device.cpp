// core/device.cpp: device selection.
#include <richlazy/core/device.h>

#include <richlazy/core/config_error.h>

#include <torch/cuda.h>

namespace richlazy {

const std::vector<std::string>& device_choices() {
  static const std::vector<std::string> choices{"cpu", "cuda", "auto"};
  return choices;
}

bool cuda_available() { return torch::cuda::is_available(); }

torch::Device resolve_device(const std::string& choice, const std::string& where) {
  if (choice == "cpu") return torch::Device(torch::kCPU);
  if (choice == "cuda") {
    if (!cuda_available()) {
      throw ConfigError(where +
                        ": device cuda was requested, but this LibTorch build sees no CUDA "
                        "device (use device: cpu or auto)");
    }
    return torch::Device(torch::kCUDA, 0);
  }
  if (choice == "auto") {
    return cuda_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  }
  throw ConfigError(where + ": device must be one of cpu, cuda, auto, got " + choice);
}

}  // namespace richlazy
