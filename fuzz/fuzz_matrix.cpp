// fuzz/fuzz_matrix.cpp: the matrix, vector and name-list readers of init/matrix_file.cpp
// (load_matrix in every format, load_vector, load_names) on arbitrary text.
// The first byte picks the reader; the rest is the file. For an edge list with neuron names,
// a line "--- edges ---" separates the names file (before) from the edge list (after).
#include "fuzz_common.h"

#include <richlazy/init/matrix_file.h>

namespace {
void touch(const torch::Tensor& t) {
  if (t.numel() > 0) (void)t.sum().item<double>();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace richlazy::init;
  using richlazy_fuzz::TempFile;
  if (size == 0) return 0;
  const int mode = data[0] % 8;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (mode) {
      case 0: touch(load_matrix(TempFile("matrix", body, ".csv").path(), "auto")); break;
      case 1: touch(load_matrix(TempFile("matrix", body, ".npy").path(), "auto")); break;
      case 2: touch(load_matrix(TempFile("matrix", body, ".txt").path(), "csv")); break;
      case 3: touch(load_matrix(TempFile("matrix", body, ".csv").path(), "edges")); break;
      case 4: {
        const auto parts = richlazy_fuzz::split_at_lines(body, "--- edges ---");
        const TempFile names_file("matrix-names", parts[0], ".txt");
        const std::vector<std::string> names = load_names(names_file.path());
        const TempFile edges("matrix", parts.size() > 1 ? parts[1] : "", ".csv");
        touch(load_matrix(edges.path(), "edges", names));
        break;
      }
      case 5: touch(load_vector(TempFile("vector", body, ".txt").path())); break;
      case 6: touch(load_vector(TempFile("vector", body, ".npy").path())); break;
      case 7: (void)load_names(TempFile("names", body, ".txt").path()); break;
    }
  } catch (const richlazy::ConfigError&) {
  }
  return 0;
}
