// tests/tasks/sequential_images_test.cpp: the IDX reader and the sfmnist task.
#include "task_test_util.h"

#include <richlazy/core/config_error.h>
#include <richlazy/core/seeding.h>
#include <richlazy/tasks/idx.h>
#include <richlazy/tasks/sequential_images.h>

#include <zlib.h>

#include <filesystem>

using namespace richlazy;
using namespace richlazy::testing;
using Catch::Matchers::Contains;

namespace {
std::string idx_bytes(const std::vector<int32_t>& dims, const std::vector<uint8_t>& data,
                      uint8_t type = 0x08) {
  std::string out{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (int32_t d : dims) {
    for (int shift : {24, 16, 8, 0}) out += static_cast<char>((d >> shift) & 0xff);
  }
  out.append(data.begin(), data.end());
  return out;
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

/// A tiny MNIST-format folder: n images of rows x cols with pixel value (i + r + c) % 256.
void write_image_set(const std::string& dir, const std::string& split, int n, int rows, int cols,
                     bool gz) {
  std::vector<uint8_t> pixels, labels;
  for (int i = 0; i < n; ++i) {
    labels.push_back(static_cast<uint8_t>(i % 10));
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) pixels.push_back(static_cast<uint8_t>((i * 7 + r + c) % 256));
    }
  }
  const std::string img = idx_bytes({n, rows, cols}, pixels), lab = idx_bytes({n}, labels);
  const std::string base = dir + "/" + split;
  if (gz) {
    write_gz(base + "-images-idx3-ubyte.gz", img);
    write_gz(base + "-labels-idx1-ubyte.gz", lab);
  } else {
    write_text(base + "-images-idx3-ubyte", img);
    write_text(base + "-labels-idx1-ubyte", lab);
  }
}
}  // namespace

TEST_CASE("IDX files are read plain or gzipped, with their shape and bytes", "[tasks]") {
  TempDir tmp;
  const std::string bytes = idx_bytes({2, 3}, {1, 2, 3, 4, 5, 250});
  write_text(tmp.file("a.idx"), bytes);
  write_gz(tmp.file("a.idx.gz"), bytes);
  for (const char* name : {"a.idx", "a.idx.gz"}) {
    const torch::Tensor t = tasks::read_idx(tmp.file(name), 2);
    REQUIRE(t.sizes() == torch::IntArrayRef({2, 3}));
    REQUIRE(t.scalar_type() == torch::kByte);
    REQUIRE(t[1][2].item<int64_t>() == 250);
    REQUIRE(t.sum().item<int64_t>() == 265);
  }
}

TEST_CASE("IDX reader rejects wrong magic, wrong type, wrong dimensions and truncation", "[tasks]") {
  TempDir tmp;
  write_text(tmp.file("magic"), "PK\x03\x04 something else");
  REQUIRE_THROWS_WITH(tasks::read_idx(tmp.file("magic")), Contains("magic: not an IDX file (bad magic number)"));
  write_text(tmp.file("float"), idx_bytes({1}, {0, 0, 0, 0}, 0x0D));
  REQUIRE_THROWS_WITH(tasks::read_idx(tmp.file("float")), Contains("unsupported IDX data type 0x0d"));
  write_text(tmp.file("dims"), idx_bytes({4}, {1, 2, 3, 4}));
  REQUIRE_THROWS_WITH(tasks::read_idx(tmp.file("dims"), 3), Contains("dims: IDX file has 1 dimensions, expected 3"));
  write_text(tmp.file("short"), idx_bytes({2, 3}, {1, 2, 3, 4}));
  REQUIRE_THROWS_WITH(tasks::read_idx(tmp.file("short")),
                      Contains("short: truncated IDX file: the header promises 6 bytes of data, the file holds 4"));
  const std::string full = idx_bytes({2, 3}, {1, 2, 3, 4, 5, 6});
  write_gz(tmp.file("cut.gz"), full);
  const std::string gz = read_text(tmp.file("cut.gz"));
  write_text(tmp.file("cut.gz"), gz.substr(0, gz.size() - 12));  // chop the gzip stream
  REQUIRE_THROWS_AS(tasks::read_idx(tmp.file("cut.gz")), ConfigError);
  REQUIRE_THROWS_WITH(tasks::read_idx(tmp.file("missing")), Contains("missing: cannot open the file"));
  // Empty files and empty shapes: one message, not a LibTorch error later.
  write_text(tmp.file("empty"), "");
  REQUIRE_THROWS_WITH(tasks::read_idx(tmp.file("empty")), Contains("empty: not an IDX file (bad magic number)"));
  write_text(tmp.file("zero"), idx_bytes({0, 28, 28}, {}));
  REQUIRE_THROWS_WITH(tasks::read_idx(tmp.file("zero")), Contains("zero: the IDX file holds no data (a dimension is 0)"));
}

TEST_CASE("IDX reader: a gzip bomb is refused from its header, before it is inflated", "[tasks]") {
  TempDir tmp;
  // A header promising 2^16 x 2^16 x 2 bytes (8 GiB): refused from the header alone.
  write_gz(tmp.file("huge.gz"), idx_bytes({65536, 65536, 2}, {1, 2, 3}));
  REQUIRE_THROWS_WITH(tasks::read_idx(tmp.file("huge.gz")),
                      Contains("huge.gz: the IDX header promises more than 4294967296 bytes of data"));
  // Four dimensions of 2^32 - 1 overflowed the byte count of the old reader.
  std::string overflow("\x00\x00\x08\x04", 4);
  for (int d = 0; d < 4; ++d) overflow += std::string("\xff\xff\xff\xff", 4);
  write_gz(tmp.file("overflow.gz"), overflow);
  REQUIRE_THROWS_WITH(tasks::read_idx(tmp.file("overflow.gz")), Contains("promises more than"));
  // A small header followed by 64 MiB of zeros (about 64 KB compressed): the reader stops
  // one byte after the promised data instead of inflating the rest.
  write_gz(tmp.file("bomb.gz"), idx_bytes({2, 3}, {1, 2, 3, 4, 5, 6}) + std::string(64 << 20, '\0'));
  REQUIRE(std::filesystem::file_size(tmp.file("bomb.gz")) < (1 << 20));
  REQUIRE_THROWS_WITH(tasks::read_idx(tmp.file("bomb.gz")),
                      Contains("bomb.gz: malformed IDX file: the header promises 6 bytes of data, the file holds more"));
}

TEST_CASE("sfmnist reads images row by row, scores the last step only", "[tasks]") {
  TempDir tmp;
  write_image_set(tmp.path(), "train", 20, 5, 4, true);
  write_image_set(tmp.path(), "t10k", 6, 5, 4, false);
  const auto task = make_task("{name: sfmnist, data_dir: " + tmp.path() + "}");
  REQUIRE(task->steps() == 5);
  REQUIRE(task->input_size() == 4);
  REQUIRE(task->output_size() == 10);
  REQUIRE(task->decision().begin == 4);
  REQUIRE(task->default_batch_size() == 200);
  at::Generator gen = make_generator(41);
  const tasks::TrialBatch b = task->sample(64, gen);
  REQUIRE(b.inputs.sizes() == torch::IntArrayRef({5, 64, 4}));
  const torch::Tensor index = b.trial_vars.at("index");
  for (int64_t j = 0; j < 64; ++j) {
    const int64_t i = index[j].item<int64_t>();
    // Pixel (i*7 + r + c) % 256 scaled to [0, 1], row r at step r.
    REQUIRE(b.inputs[2][j][3].item<float>() == Approx(((i * 7 + 2 + 3) % 256) / 255.0));
    REQUIRE(b.targets[4][j].item<int64_t>() == i % 10);
  }
  REQUIRE(b.mask.index({torch::indexing::Slice(0, 4)}).eq(0).all().item<bool>());
  REQUIRE(b.mask[4].eq(1).all().item<bool>());
  const auto held_out = task->held_out();
  REQUIRE(held_out.has_value());
  REQUIRE(held_out->size() == 6);
}

TEST_CASE("sfmnist: a missing or inconsistent data folder is a config error naming the file", "[tasks]") {
  TempDir tmp;
  REQUIRE_THROWS_WITH(make_task("{name: sfmnist, data_dir: " + tmp.path() + "}"),
                      Contains("task.data_dir cannot be used: " + tmp.path() +
                               "/train-images-idx3-ubyte(.gz) not found; task.data_dir must hold "
                               "MNIST-format IDX files"));
  write_image_set(tmp.path(), "train", 20, 5, 4, false);
  write_image_set(tmp.path(), "t10k", 6, 5, 4, false);
  write_text(tmp.file("t10k-labels-idx1-ubyte"), idx_bytes({5}, {1, 2, 3, 4, 5}));
  REQUIRE_THROWS_WITH(make_task("{name: sfmnist, data_dir: " + tmp.path() + "}"),
                      Contains("t10k-labels-idx1-ubyte: 5 labels for the 6 images"));
  write_text(tmp.file("t10k-labels-idx1-ubyte"), idx_bytes({6}, {1, 2, 3, 4, 5, 12}));
  REQUIRE_THROWS_WITH(make_task("{name: sfmnist, data_dir: " + tmp.path() + "}"),
                      Contains("label 12 is out of range for 10 classes"));
}

TEST_CASE("sfmnist on the real Fashion-MNIST", "[tasks]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz")) {
    WARN("Debian's dataset-fashion-mnist is not installed; skipping");
    return;
  }
  const auto task = make_task("{name: sfmnist}");
  const auto& images = dynamic_cast<const tasks::SequentialImages&>(*task);
  REQUIRE(images.train_size() == 60000);
  REQUIRE(task->steps() == 28);
  REQUIRE(task->input_size() == 28);
  const auto test = task->held_out();
  REQUIRE(test->size() == 10000);
  // Fashion-MNIST is balanced: 1,000 test images per class.
  const torch::Tensor labels = test->targets[27];
  for (int64_t k = 0; k < 10; ++k) REQUIRE(labels.eq(k).sum().item<int64_t>() == 1000);
  REQUIRE(test->inputs.min().item<float>() == 0.0f);
  REQUIRE(test->inputs.max().item<float>() == 1.0f);
}
