// richlazy/core/npy.h: NumPy .npy files, written and read without Python.
// The writer produces format 1.0, little-endian, C order. The reader accepts format
// 1.0/2.0/3.0, float and integer dtypes of either byte order, C or Fortran order, and the
// Python-2 style shapes ("(279L, 279L)") that real files carry.
#pragma once

#include <torch/types.h>

#include <string>

namespace richlazy {

/// Writes a float32 or float64 tensor (any device, any shape) as a C-order .npy file,
/// atomically. Other dtypes are converted to float32.
void write_npy(const std::string& path, const torch::Tensor& tensor);

/// The bytes of that file (for tests and in-memory use).
std::string npy_bytes(const torch::Tensor& tensor);

/// Reads a .npy file into a CPU tensor of its dtype (bool becomes uint8). Throws
/// ConfigError naming the file for a missing file, a bad magic number, an unsupported
/// dtype, a malformed header or truncated data.
torch::Tensor read_npy(const std::string& path);

/// The same from bytes already in memory; `name` is used in messages.
torch::Tensor parse_npy(const std::string& bytes, const std::string& name);

}  // namespace richlazy
