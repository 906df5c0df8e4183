// fuzz/fuzz_idx.cpp: the IDX reader (tasks/idx.cpp read_idx) on arbitrary bytes, plain or
// gzip (zlib reads both). The first byte picks the expected number of dimensions (0 = any).
#include "fuzz_common.h"

#include <richlazy/tasks/idx.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int expected_dims = data[0] % 4;
  const richlazy_fuzz::TempFile file("idx", std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  try {
    const torch::Tensor t = richlazy::tasks::read_idx(file.path(), expected_dims);
    if (t.numel() > 0) (void)t.to(torch::kLong).sum().item<int64_t>();
  } catch (const richlazy::ConfigError&) {
  }
  return 0;
}
