// core/npy.cpp: .npy writer and reader.
#include <richlazy/core/npy.h>

#include <richlazy/core/atomic_file.h>
#include <richlazy/core/config_error.h>

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace richlazy {

namespace {
const char kMagic[] = "\x93NUMPY";

std::string shape_text(const torch::Tensor& t) {
  std::vector<std::string> dims;
  for (int64_t i = 0; i < t.dim(); ++i) dims.push_back(std::to_string(t.size(i)));
  return "(" + join_names(dims) + (dims.size() == 1 ? ",)" : ")");
}
}  // namespace

std::string npy_bytes(const torch::Tensor& tensor) {
  torch::Tensor t = tensor.detach().to(torch::kCPU);
  if (t.scalar_type() != torch::kFloat && t.scalar_type() != torch::kDouble) {
    t = t.to(torch::kFloat);
  }
  t = t.contiguous();
  const char* descr = t.scalar_type() == torch::kFloat ? "<f4" : "<f8";
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                   descr, shape_text(t));
  // Magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  return out;
}

void write_npy(const std::string& path, const torch::Tensor& tensor) {
  write_file_atomic(path, npy_bytes(tensor));
}

torch::Tensor read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

namespace {
/// How the bytes of one element are stored and what LibTorch type holds them. Unsigned
/// types wider than a byte have no LibTorch equivalent: they are read as the signed type of
/// the same width (`stored`) and widened to `type`.
struct Dtype {
  torch::ScalarType stored;
  torch::ScalarType type;
  std::size_t size;
};

Dtype parse_descr(const std::string& d, const std::string& name, bool& swap) {
  const auto unsupported = [&] {
    return ConfigError(fmt::format(
        "{}: unsupported .npy dtype '{}' (supported: float16/32/64, int8/16/32/64, "
        "uint8/16/32/64, bool)",
        name, d.size() <= 40 ? d : d.substr(0, 40) + "..."));
  };
  if (d.size() < 3) throw unsupported();
  const char order = d[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') throw unsupported();
  swap = order == '>';
  static const std::vector<std::pair<std::string, Dtype>> table{
      {"f2", {torch::kHalf, torch::kHalf, 2}},    {"f4", {torch::kFloat, torch::kFloat, 4}},
      {"f8", {torch::kDouble, torch::kDouble, 8}}, {"i1", {torch::kChar, torch::kChar, 1}},
      {"i2", {torch::kShort, torch::kShort, 2}},   {"i4", {torch::kInt, torch::kInt, 4}},
      {"i8", {torch::kLong, torch::kLong, 8}},     {"u1", {torch::kByte, torch::kByte, 1}},
      {"b1", {torch::kByte, torch::kByte, 1}},     {"u2", {torch::kShort, torch::kInt, 2}},
      {"u4", {torch::kInt, torch::kLong, 4}},      {"u8", {torch::kLong, torch::kDouble, 8}}};
  for (const auto& [kind, dtype] : table) {
    if (kind == d.substr(1)) return dtype;
  }
  throw unsupported();
}

/// The header shown in messages: at most 120 characters of it.
std::string header_excerpt(const std::string& header) {
  return header.size() <= 120 ? header : header.substr(0, 120) + "...";
}

/// Where the value of the dictionary key 'key' starts in an .npy header (after "'key':" and
/// spaces), or npos. Scanned by hand: std::regex recurses per character and overflowed the
/// stack on a header with a 40,000-character field.
std::size_t value_of(const std::string& header, const std::string& key) {
  const std::string quoted = "'" + key + "'";
  std::size_t at = header.find(quoted);
  if (at == std::string::npos) return std::string::npos;
  at += quoted.size();
  while (at < header.size() && (header[at] == ' ' || header[at] == '\t')) ++at;
  if (at >= header.size() || header[at] != ':') return std::string::npos;
  ++at;
  while (at < header.size() && (header[at] == ' ' || header[at] == '\t')) ++at;
  return at;
}

/// The dimensions in the shape tuple "(3, 4)", "(5,)", "()" (numbers may end in L), each
/// and their product checked against int64 and the bytes a tensor may hold.
std::vector<int64_t> parse_shape(const std::string& tuple, std::size_t item_size, const std::string& name) {
  std::vector<int64_t> shape;
  const auto bad = [&] { return ConfigError(fmt::format("{}: malformed .npy shape '({})'", name, header_excerpt(tuple))); };
  std::size_t i = 0;
  const std::size_t n = tuple.size();
  const auto skip = [&] {
    while (i < n && (tuple[i] == ' ' || tuple[i] == '\t')) ++i;
  };
  skip();
  while (i < n) {
    if (tuple[i] < '0' || tuple[i] > '9') throw bad();
    int64_t d = 0;
    for (; i < n && tuple[i] >= '0' && tuple[i] <= '9'; ++i) {
      const int digit = tuple[i] - '0';
      if (d > (std::numeric_limits<int64_t>::max() - digit) / 10) {
        throw ConfigError(fmt::format("{}: .npy shape '({})' has a dimension too large", name, header_excerpt(tuple)));
      }
      d = d * 10 + digit;
    }
    if (i < n && tuple[i] == 'L') ++i;
    shape.push_back(d);
    skip();
    if (i < n) {
      if (tuple[i] != ',') throw bad();
      ++i;
      skip();
    }
  }
  // The element count and the bytes must fit: at most 2^40 bytes (1 TiB), far above any
  // matrix this project reads, and far below where the products overflow.
  constexpr int64_t kMaxBytes = int64_t{1} << 40;
  // The product skips zeros: a shape (0, 2^40, 2^40) holds nothing, but LibTorch computes its
  // strides from the other dimensions, and they overflow (a fuzzer found it).
  int64_t nonzero = 1;
  for (const int64_t d : shape) {
    if (d == 0) continue;
    if (nonzero > kMaxBytes / static_cast<int64_t>(item_size) / d) {
      throw ConfigError(fmt::format("{}: .npy shape '({})' holds more than {} bytes", name,
                                    header_excerpt(tuple), kMaxBytes));
    }
    nonzero *= d;
  }
  return shape;
}

torch::Tensor widen_unsigned(const torch::Tensor& raw, const Dtype& dtype) {
  if (dtype.stored == dtype.type) return raw;
  if (dtype.size == 2) return raw.to(torch::kInt).bitwise_and(0xFFFF);
  if (dtype.size == 4) return raw.to(torch::kLong).bitwise_and(static_cast<int64_t>(0xFFFFFFFF));
  return raw.to(torch::kDouble) + (raw < 0).to(torch::kDouble) * 18446744073709551616.0;
}
}  // namespace

torch::Tensor parse_npy(const std::string& bytes, const std::string& name) {
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) {
    throw ConfigError(fmt::format("{}: not a NumPy .npy file (bad magic number)", name));
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) |
                 (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw ConfigError(fmt::format("{}: truncated .npy header", name));
    for (int i = 0; i < 4; ++i) {
      header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    }
    offset = 12;
  } else {
    throw ConfigError(fmt::format("{}: unsupported .npy format version {}", name, major));
  }
  if (bytes.size() < offset + header_len) {
    throw ConfigError(fmt::format("{}: truncated .npy header", name));
  }
  const std::string header = bytes.substr(offset, header_len);
  offset += header_len;

  // descr: a quoted string.
  std::size_t at = value_of(header, "descr");
  if (at == std::string::npos || at >= header.size() || header[at] != '\'' ||
      header.find('\'', at + 1) == std::string::npos) {
    throw ConfigError(fmt::format("{}: malformed .npy header (no 'descr'): {}", name, header_excerpt(header)));
  }
  bool swap = false;
  const Dtype dtype = parse_descr(header.substr(at + 1, header.find('\'', at + 1) - at - 1), name, swap);
  // fortran_order: True or False.
  at = value_of(header, "fortran_order");
  const bool is_true = at != std::string::npos && header.compare(at, 4, "True") == 0;
  const bool is_false = at != std::string::npos && header.compare(at, 5, "False") == 0;
  if (!is_true && !is_false) {
    throw ConfigError(fmt::format("{}: malformed .npy header (no 'fortran_order')", name));
  }
  const bool fortran = is_true;
  // shape: a tuple of integers.
  at = value_of(header, "shape");
  if (at == std::string::npos || at >= header.size() || header[at] != '(' ||
      header.find(')', at) == std::string::npos) {
    throw ConfigError(fmt::format("{}: malformed .npy header (no 'shape')", name));
  }
  const std::vector<int64_t> shape = parse_shape(header.substr(at + 1, header.find(')', at) - at - 1), dtype.size, name);
  int64_t count = 1;
  for (auto d : shape) count *= d;
  const std::size_t need = static_cast<std::size_t>(count) * dtype.size;
  if (bytes.size() - offset < need) {
    throw ConfigError(fmt::format("{}: truncated .npy data: the header promises {} bytes, the "
                                  "file holds {}",
                                  name, need, bytes.size() - offset));
  }
  std::string data = bytes.substr(offset, need);
  if (swap && dtype.size > 1) {
    for (std::size_t i = 0; i < data.size(); i += dtype.size) {
      std::reverse(data.begin() + i, data.begin() + i + dtype.size);
    }
  }
  torch::Tensor flat = widen_unsigned(
      torch::from_blob(data.data(), {count}, torch::TensorOptions().dtype(dtype.stored)).clone(),
      dtype);
  if (!fortran) return flat.reshape(shape);
  std::vector<int64_t> reversed(shape.rbegin(), shape.rend());
  std::vector<int64_t> perm;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) perm.push_back(i);
  return flat.reshape(reversed).permute(perm).contiguous();
}

}  // namespace richlazy
