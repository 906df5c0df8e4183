// tasks/idx.cpp: IDX reader (zlib reads gzip and plain files alike).
#include <richlazy/tasks/idx.h>

#include <richlazy/core/config_error.h>
#include <richlazy/core/limits.h>

#include <fmt/format.h>
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

namespace richlazy::tasks {

namespace {
/// The most bytes of image or label data read from one IDX file: 4 GiB (MNIST's training
/// images take 47 MB).
constexpr std::size_t kMaxIdxBytes = std::size_t{1} << 32;

/// A gzip or plain file, read through zlib a piece at a time, so that a small compressed file
/// that claims gigabytes is refused from its header before anything is inflated.
class IdxStream {
 public:
  explicit IdxStream(const std::string& path) : path_(path), f_(gzopen(path.c_str(), "rb")) {
    if (!f_) throw ConfigError(fmt::format("{}: cannot open the file", path));
  }
  ~IdxStream() { gzclose(f_); }
  IdxStream(const IdxStream&) = delete;
  IdxStream& operator=(const IdxStream&) = delete;

  /// Reads up to n bytes into out; returns how many (fewer only at the end of the data).
  std::size_t read(char* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 20));
      const int r = gzread(f_, out + got, chunk);
      if (r < 0) fail();
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    int err = Z_OK;
    gzerror(f_, &err);
    if (err != Z_OK && err != Z_STREAM_END) fail();
    return got;
  }

 private:
  [[noreturn]] void fail() {
    int err = Z_OK;
    const char* msg = gzerror(f_, &err);
    throw ConfigError(fmt::format("{}: corrupt or truncated gzip data ({})", path_, msg ? msg : ""));
  }
  std::string path_;
  gzFile f_;
};
}  // namespace

torch::Tensor read_idx(const std::string& path, int expected_dims) {
  IdxStream in(path);
  unsigned char magic[4] = {0, 0, 0, 0};
  if (in.read(reinterpret_cast<char*>(magic), 4) < 4 || magic[0] != 0 || magic[1] != 0) {
    throw ConfigError(fmt::format("{}: not an IDX file (bad magic number)", path));
  }
  if (magic[2] != 0x08) {
    throw ConfigError(fmt::format("{}: unsupported IDX data type 0x{:02x} (only unsigned bytes, "
                                  "0x08, are supported)",
                                  path, magic[2]));
  }
  const int dims = magic[3];
  if (dims < 1 || (expected_dims > 0 && dims != expected_dims)) {
    throw ConfigError(fmt::format("{}: IDX file has {} dimensions, expected {}", path, dims,
                                  expected_dims));
  }
  std::vector<unsigned char> sizes(4 * static_cast<std::size_t>(dims));
  if (in.read(reinterpret_cast<char*>(sizes.data()), sizes.size()) < sizes.size()) {
    throw ConfigError(fmt::format("{}: truncated IDX header", path));
  }
  std::vector<int64_t> shape;
  std::size_t count = 1;
  for (int d = 0; d < dims; ++d) {
    const std::size_t o = 4 * static_cast<std::size_t>(d);
    const int64_t n = (int64_t{sizes[o]} << 24) | (int64_t{sizes[o + 1]} << 16) |
                      (int64_t{sizes[o + 2]} << 8) | int64_t{sizes[o + 3]};
    shape.push_back(n);
    // Checked as it grows: four dimensions of 2^32 - 1 overflow 64 bits.
    if (n != 0 && count > kMaxIdxBytes / static_cast<std::size_t>(n)) {
      throw ConfigError(fmt::format("{}: the IDX header promises more than {} bytes of data", path, kMaxIdxBytes));
    }
    count *= static_cast<std::size_t>(n);
  }
  if (count == 0) throw ConfigError(fmt::format("{}: the IDX file holds no data (a dimension is 0)", path));
  require_memory(static_cast<double>(count) * 2, fmt::format("{}: its {} bytes of IDX data", path, count));
  torch::Tensor t = torch::empty(shape, torch::kByte);
  const std::size_t got = in.read(static_cast<char*>(t.data_ptr()), count);
  char extra = 0;
  if (got < count || in.read(&extra, 1) > 0) {
    throw ConfigError(fmt::format("{}: {} IDX file: the header promises {} bytes of data, the "
                                  "file holds {}",
                                  path, got < count ? "truncated" : "malformed", count,
                                  got < count ? fmt::format("{}", got) : std::string("more")));
  }
  return t;
}

namespace {
std::string find_file(const std::string& dir, const std::string& name, const std::string& hint) {
  for (const std::string& candidate : {name + ".gz", name}) {
    const std::string path = (std::filesystem::path(dir) / candidate).string();
    if (std::filesystem::exists(path)) return path;
  }
  throw ConfigError(fmt::format("{}/{}(.gz) not found{}", dir, name, hint.empty() ? "" : "; " + hint));
}
}  // namespace

std::shared_ptr<const ImageSet> load_image_set(const std::string& dir, const std::string& split,
                                               int64_t classes, const std::string& hint) {
  const std::string images_path = find_file(dir, split + "-images-idx3-ubyte", hint);
  const std::string labels_path = find_file(dir, split + "-labels-idx1-ubyte", hint);
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<const ImageSet>> cache;
  const std::string key = images_path + "|" + labels_path;
  std::lock_guard<std::mutex> lock(mu);
  if (auto hit = cache[key].lock()) return hit;
  auto set = std::make_shared<ImageSet>();
  set->images = read_idx(images_path, 3);
  set->labels = read_idx(labels_path, 1).to(torch::kLong);
  if (set->labels.size(0) != set->images.size(0)) {
    throw ConfigError(fmt::format("{}: {} labels for the {} images of {}", labels_path,
                                  set->labels.size(0), set->images.size(0), images_path));
  }
  if (set->labels.numel() > 0 && set->labels.max().item<int64_t>() >= classes) {
    throw ConfigError(fmt::format("{}: label {} is out of range for {} classes", labels_path,
                                  set->labels.max().item<int64_t>(), classes));
  }
  cache[key] = set;
  return set;
}

}  // namespace richlazy::tasks
