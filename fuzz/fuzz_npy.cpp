// fuzz/fuzz_npy.cpp: the .npy reader (core/npy.cpp read_npy) on arbitrary bytes.
#include "fuzz_common.h"

#include <richlazy/core/npy.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const richlazy_fuzz::TempFile file("npy", std::string(reinterpret_cast<const char*>(data), size), ".npy");
  try {
    const torch::Tensor t = richlazy::read_npy(file.path());
    // Touch every element: a tensor whose shape promises more than the file held shows here.
    if (t.numel() > 0) (void)t.to(torch::kDouble).sum().item<double>();
  } catch (const richlazy::ConfigError&) {
  }
  return 0;
}
