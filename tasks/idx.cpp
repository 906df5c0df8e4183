// tasks/idx.cpp: IDX reader (zlib reads gzip and plain files alike).
#include <richlazy/tasks/idx.h>

#include <richlazy/core/config_error.h>

#include <fmt/format.h>
#include <torch/torch.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

namespace richlazy::tasks {

namespace {
std::string read_all(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw ConfigError(fmt::format("{}: cannot open the file", path));
  std::string out;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, static_cast<std::size_t>(n));
  int err = Z_OK;
  const char* msg = gzerror(f, &err);
  const bool failed = n < 0 || (err != Z_OK && err != Z_STREAM_END);
  const std::string reason = msg ? msg : "";
  gzclose(f);
  if (failed) {
    throw ConfigError(fmt::format("{}: corrupt or truncated gzip data ({})", path, reason));
  }
  return out;
}
}  // namespace

torch::Tensor read_idx(const std::string& path, int expected_dims) {
  const std::string bytes = read_all(path);
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  if (bytes.size() < 4 || byte(0) != 0 || byte(1) != 0) {
    throw ConfigError(fmt::format("{}: not an IDX file (bad magic number)", path));
  }
  if (byte(2) != 0x08) {
    throw ConfigError(fmt::format("{}: unsupported IDX data type 0x{:02x} (only unsigned bytes, "
                                  "0x08, are supported)",
                                  path, byte(2)));
  }
  const int dims = byte(3);
  if (dims < 1 || (expected_dims > 0 && dims != expected_dims)) {
    throw ConfigError(fmt::format("{}: IDX file has {} dimensions, expected {}", path, dims,
                                  expected_dims));
  }
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(dims);
  if (bytes.size() < header) throw ConfigError(fmt::format("{}: truncated IDX header", path));
  std::vector<int64_t> shape;
  std::size_t count = 1;
  for (int d = 0; d < dims; ++d) {
    const std::size_t o = 4 + 4 * static_cast<std::size_t>(d);
    const int64_t n = (int64_t{byte(o)} << 24) | (int64_t{byte(o + 1)} << 16) |
                      (int64_t{byte(o + 2)} << 8) | int64_t{byte(o + 3)};
    shape.push_back(n);
    count *= static_cast<std::size_t>(n);
  }
  const std::size_t data = bytes.size() - header;
  if (data != count) {
    throw ConfigError(fmt::format("{}: {} IDX file: the header promises {} bytes of data, the "
                                  "file holds {}",
                                  path, data < count ? "truncated" : "malformed", count, data));
  }
  torch::Tensor t = torch::empty(shape, torch::kByte);
  std::memcpy(t.data_ptr(), bytes.data() + header, count);
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
