// core/device.cpp: device selection.
#include <richlazy/core/device.h>

#include <richlazy/core/config_error.h>

#include <fmt/format.h>
#include <torch/cuda.h>

#ifdef RICHLAZY_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

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

bool built_with_cuda() {
#ifdef RICHLAZY_WITH_CUDA
  return true;
#else
  return false;
#endif
}

std::vector<std::string> cuda_device_descriptions() {
  std::vector<std::string> out;
#ifdef RICHLAZY_WITH_CUDA
  if (!cuda_available()) return out;
  for (int64_t i = 0; i < static_cast<int64_t>(torch::cuda::device_count()); ++i) {
    const cudaDeviceProp* p = at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(i));
    out.push_back(fmt::format("{}: {}, {:.1f} GiB, {} multiprocessors, compute capability {}.{}", i, p->name,
                              static_cast<double>(p->totalGlobalMem) / (1 << 30), p->multiProcessorCount,
                              p->major, p->minor));
  }
#endif
  return out;
}

}  // namespace richlazy
