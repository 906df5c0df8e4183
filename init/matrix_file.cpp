// init/matrix_file.cpp: .npy, dense CSV and edge-list matrices; neuron names.
#include <richlazy/init/matrix_file.h>

#include <richlazy/core/config_error.h>
#include <richlazy/core/limits.h>
#include <richlazy/core/npy.h>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <fstream>
#include <map>
#include <list>
#include <mutex>
#include <sstream>

namespace richlazy::init {

void require_data_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ConfigError(fmt::format("{}: is a folder, not a data file", path));
  }
  if (std::filesystem::exists(path, ec)) return;
  // The data richlazy ships, by the folder it lives in.
  static const std::vector<std::pair<std::string, std::string>> known{
      {"celegans", "the C. elegans connectome of Varshney et al. 2011, as packaged by Kim et al. 2019"},
      {"billeh_v1", "the mouse V1 cell classes of Billeh et al. 2020"},
  };
  const std::string folder = std::filesystem::path(path).parent_path().filename().string();
  for (const auto& [name, what] : known) {
    if (folder == name) {
      throw ConfigError(fmt::format("{}: no such file ({} ships with richlazy: data/{}/ in its source tree, "
                                    "share/richlazy/data/{}/ when installed; data/{}/SOURCE.md says where it "
                                    "comes from)",
                                    path, what, name, name, name));
    }
  }
  throw ConfigError(fmt::format("{}: no such file (paths in a config file are relative to it, on the command "
                                "line to the working directory; the data richlazy ships is in data/ of its "
                                "source tree, see data/README.md)",
                                path));
}

namespace {
std::vector<std::string> read_lines(const std::string& path) {
  require_data_file(path);
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("{}: cannot open the file", path));
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  for (char c : line) {
    if (c == ',' || c == ' ' || c == '\t' || c == ';') {
      if (!field.empty()) fields.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  if (!field.empty()) fields.push_back(field);
  return fields;
}

double parse_number(const std::string& text, const std::string& path, std::size_t line) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') {
    throw ConfigError(fmt::format("{}:{}: '{}' is not a number", path, line, text));
  }
  return v;
}

bool is_header(const std::vector<std::string>& fields) {
  return fields.size() >= 2 && (fields[0] == "pre" || fields[0] == "source") &&
         (fields[1] == "post" || fields[1] == "target");
}

torch::Tensor dense_csv(const std::string& path) {
  std::vector<std::vector<double>> rows;
  const auto lines = read_lines(path);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto fields = split_fields(lines[i]);
    if (fields.empty() || fields[0][0] == '#') continue;
    std::vector<double> row;
    for (const auto& f : fields) row.push_back(parse_number(f, path, i + 1));
    if (!rows.empty() && row.size() != rows[0].size()) {
      throw ConfigError(fmt::format("{}:{}: {} columns, but the first row has {}", path, i + 1,
                                    row.size(), rows[0].size()));
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw ConfigError(fmt::format("{}: no matrix rows", path));
  torch::Tensor m = torch::empty({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())},
                                 torch::kDouble);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t j = 0; j < rows[i].size(); ++j) m[i][j] = rows[i][j];
  }
  return m;
}

torch::Tensor edge_list(const std::string& path, const std::vector<std::string>& names) {
  std::map<std::string, int64_t> index;
  for (std::size_t i = 0; i < names.size(); ++i) index[names[i]] = static_cast<int64_t>(i);
  struct Edge {
    int64_t pre, post;
    double w;
  };
  std::vector<Edge> edges;
  int64_t n = static_cast<int64_t>(names.size());
  const auto lines = read_lines(path);
  auto neuron = [&](const std::string& s, std::size_t line) -> int64_t {
    if (!names.empty()) {
      const auto it = index.find(s);
      if (it == index.end()) {
        throw ConfigError(fmt::format("{}:{}: neuron '{}' is not in the names file", path, line, s));
      }
      return it->second;
    }
    // Digits only, parsed as an integer: a double-to-integer cast of 1e300 or inf was
    // undefined behaviour (it came out as neuron 0).
    const bool digits = !s.empty() && s.size() <= 18 &&
                        std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      throw ConfigError(fmt::format("{}:{}: '{}' is not a neuron index (0, 1, 2, ...)", path, line,
                                    s.size() > 40 ? s.substr(0, 40) + "..." : s));
    }
    const int64_t v = std::stoll(s);
    if (v >= kMaxUnits) {
      throw ConfigError(fmt::format("{}:{}: neuron index {} is out of range: a matrix file holds at "
                                    "most {} neurons",
                                    path, line, v, kMaxUnits));
    }
    return v;
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto fields = split_fields(lines[i]);
    if (fields.empty() || fields[0][0] == '#' || is_header(fields)) continue;
    if (fields.size() != 3) {
      throw ConfigError(fmt::format("{}:{}: expected 'pre, post, weight', got {} fields", path, i + 1,
                                    fields.size()));
    }
    const Edge e{neuron(fields[0], i + 1), neuron(fields[1], i + 1), parse_number(fields[2], path, i + 1)};
    n = std::max({n, e.pre + 1, e.post + 1});
    edges.push_back(e);
  }
  if (edges.empty()) throw ConfigError(fmt::format("{}: no edges", path));
  // The float64 matrix and a float32 copy of it, with room to spare.
  require_memory(16.0 * static_cast<double>(n) * static_cast<double>(n),
                 fmt::format("{}: the {} x {} matrix of its edges", path, n, n));
  torch::Tensor m = torch::zeros({n, n}, torch::kDouble);
  auto acc = m.accessor<double, 2>();
  for (const auto& e : edges) acc[e.post][e.pre] += e.w;
  return m;
}
}  // namespace

namespace {
/// The matrices read last, most recent first (at most kMatrixCacheEntries, kMatrixCacheBytes).
std::mutex cache_mu;
std::list<std::pair<std::string, torch::Tensor>> cache;
std::size_t cache_bytes = 0;

std::size_t tensor_bytes(const torch::Tensor& t) { return static_cast<std::size_t>(t.numel()) * t.element_size(); }
}  // namespace

std::size_t matrix_cache_size() {
  std::lock_guard<std::mutex> lock(cache_mu);
  return cache.size();
}

std::size_t matrix_cache_bytes() {
  std::lock_guard<std::mutex> lock(cache_mu);
  return cache_bytes;
}

torch::Tensor load_matrix(const std::string& path, const std::string& format,
                          const std::vector<std::string>& names) {
  require_data_file(path);
  // Keyed by the file's size and time too: a file rewritten since is read again.
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  const auto time = std::filesystem::last_write_time(path, ec).time_since_epoch().count();
  std::string key = fmt::format("{}|{}|{}|{}|{}", format, path, names.size(), size, time);
  for (const auto& n : names) key += "|" + n;
  {
    std::lock_guard<std::mutex> lock(cache_mu);
    for (auto it = cache.begin(); it != cache.end(); ++it) {
      if (it->first == key) {
        cache.splice(cache.begin(), cache, it);
        return it->second;
      }
    }
  }
  std::string kind = format;
  if (kind == "auto") {
    if (std::filesystem::path(path).extension() == ".npy") {
      kind = "npy";
    } else {
      const auto lines = read_lines(path);
      kind = !lines.empty() && is_header(split_fields(lines[0])) ? "edges" : "csv";
    }
  }
  torch::Tensor m;
  if (kind == "npy") {
    m = read_npy(path);
    if (m.dim() != 2) {
      throw ConfigError(fmt::format("{}: expected a 2-D matrix, the file holds {} dimensions", path, m.dim()));
    }
    m = m.to(torch::kDouble);
  } else if (kind == "csv") {
    m = dense_csv(path);
  } else {
    m = edge_list(path, names);
  }
  if (m.size(0) > kMaxUnits || m.size(1) > kMaxUnits) {
    throw ConfigError(fmt::format("{}: a {} x {} matrix; richlazy takes at most {} rows and columns",
                                  path, m.size(0), m.size(1), kMaxUnits));
  }
  // Finite and within float32's range (networks train in float32; an entry of 1e155 also
  // made the Frobenius norm overflow in float64, and `norm: auto` then zeroed the matrix).
  // Checked through the extremes first (NaN propagates into them): no temporary the size of
  // the matrix unless an entry is bad.
  constexpr double kFloatMax = static_cast<double>(std::numeric_limits<float>::max());
  const double top = m.numel() ? m.max().item<double>() : 0.0, bottom = m.numel() ? m.min().item<double>() : 0.0;
  if (!(std::abs(top) <= kFloatMax && std::abs(bottom) <= kFloatMax)) {
    const torch::Tensor bad_entries = torch::isfinite(m).logical_not().logical_or(m.abs().gt(kFloatMax));
    const torch::Tensor bad = torch::nonzero(bad_entries)[0];
    const double v = m[bad[0]][bad[1]].item<double>();
    throw ConfigError(fmt::format("{}: entry [{}, {}] is {}", path, bad[0].item<int64_t>(),
                                  bad[1].item<int64_t>(),
                                  std::isnan(v)   ? std::string("NaN")
                                  : std::isinf(v) ? std::string("infinite")
                                                  : fmt::format("{}, outside float32's range (|x| <= {})", v,
                                                                std::numeric_limits<float>::max())));
  }
  // Bounded in entries and in bytes: an unbounded cache, and then one of eight 512 MB
  // matrices, ran the fuzzer out of memory.
  const std::size_t bytes = tensor_bytes(m);
  if (bytes > kMatrixCacheBytes) return m;
  std::lock_guard<std::mutex> lock(cache_mu);
  cache.emplace_front(key, m);
  cache_bytes += bytes;
  while (cache.size() > kMatrixCacheEntries || cache_bytes > kMatrixCacheBytes) {
    cache_bytes -= tensor_bytes(cache.back().second);
    cache.pop_back();
  }
  return m;
}

namespace {
torch::Tensor require_finite_vector(const torch::Tensor& v, const std::string& path) {
  const torch::Tensor bad = torch::isfinite(v).logical_not();
  if (bad.any().item<bool>()) {
    const int64_t at = torch::nonzero(bad)[0][0].item<int64_t>();
    throw ConfigError(fmt::format("{}: entry {} is {}", path, at,
                                  std::isnan(v[at].item<double>()) ? "NaN" : "infinite"));
  }
  return v;
}
}  // namespace

torch::Tensor load_vector(const std::string& path) {
  require_data_file(path);
  if (std::filesystem::path(path).extension() == ".npy") {
    const torch::Tensor v = read_npy(path).to(torch::kDouble);
    if (v.squeeze().dim() > 1) {
      throw ConfigError(fmt::format("{}: expected a vector, the file holds shape [{}]", path,
                                    fmt::join(v.sizes(), ", ")));
    }
    return require_finite_vector(v.reshape({-1}), path);
  }
  std::vector<double> values;
  const auto lines = read_lines(path);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    for (const auto& f : split_fields(lines[i])) values.push_back(parse_number(f, path, i + 1));
  }
  return require_finite_vector(torch::tensor(values, torch::kDouble), path);
}

std::vector<std::string> load_names(const std::string& path) {
  std::vector<std::string> names;
  for (const auto& line : read_lines(path)) {
    // The first quoted name on the line ('...' or "..."), found by hand: std::regex recursed
    // per character and overflowed the stack on a long line after an unclosed quote.
    bool found = false;
    for (std::size_t i = 0; i < line.size() && !found; ++i) {
      if (line[i] != '\'' && line[i] != '"') continue;
      const std::size_t close = line.find(line[i], i + 1);
      if (close == std::string::npos) continue;
      names.push_back(line.substr(i + 1, close - i - 1));
      found = true;
    }
    if (found) continue;
    std::string name;
    for (char c : line) {
      if (c != '[' && c != ']' && c != ',' && c != ' ' && c != '\t') name += c;
    }
    if (!name.empty()) names.push_back(name);
  }
  if (names.empty()) throw ConfigError(fmt::format("{}: no names", path));
  return names;
}

}  // namespace richlazy::init
