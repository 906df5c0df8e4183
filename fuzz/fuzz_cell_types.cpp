// fuzz/fuzz_cell_types.cpp: the cell-type table (init/cell_types.cpp load_cell_types) on
// arbitrary YAML, then a small sample from every table it accepts (a table that loads must
// also sample: both the drawn and the expected block matrix, 16 neurons).
#include "fuzz_common.h"

#include <richlazy/init/cell_types.h>

#include <ATen/CPUGeneratorImpl.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace richlazy::init;
  const richlazy_fuzz::TempFile file("cell-types", std::string(reinterpret_cast<const char*>(data), size), ".yaml");
  try {
    const CellTypeTable table = load_cell_types(file.path());
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
    for (bool expected : {false, true}) {
      const CellTypeSample s = sample_cell_types(table, 16, expected, gen);
      (void)s.matrix.sum().item<double>();
    }
  } catch (const richlazy::ConfigError&) {
  }
  return 0;
}
