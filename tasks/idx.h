// richlazy/tasks/idx.h: MNIST-format IDX files (gzip-compressed or plain).
// Format: two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions, the
// dimensions as big-endian 32-bit integers, then the data in row-major order.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>

namespace richlazy::tasks {

/// Reads an IDX file of unsigned bytes into a uint8 CPU tensor of its shape. Checks the
/// magic number, the expected number of dimensions (when `expected_dims` > 0), and that the
/// file holds exactly the bytes its header promises. Throws ConfigError naming the file.
torch::Tensor read_idx(const std::string& path, int expected_dims = 0);

/// An image classification set: images [n, rows, cols] uint8, labels [n] int64.
struct ImageSet {
  torch::Tensor images;
  torch::Tensor labels;
};

/// Loads `<dir>/<split>-images-idx3-ubyte[.gz]` and `<dir>/<split>-labels-idx1-ubyte[.gz]`
/// (split "train" or "t10k"), checking that they agree and that labels are below `classes`.
/// Results are cached per file, so the runs of a sweep share one copy. `hint` is appended to
/// the message when a file is missing (e.g. how to install the default dataset).
std::shared_ptr<const ImageSet> load_image_set(const std::string& dir, const std::string& split,
                                               int64_t classes, const std::string& hint);

}  // namespace richlazy::tasks
