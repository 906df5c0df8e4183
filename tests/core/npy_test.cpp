// tests/core/npy_test.cpp: the .npy writer and reader.
#include "../test_common.h"

#include <richlazy/core/config_error.h>
#include <richlazy/core/npy.h>

#include <algorithm>
#include <filesystem>

using namespace richlazy;
using Catch::Matchers::Contains;

namespace {
/// A .npy file as NumPy would write it, with a header we control.
std::string npy_with_header(const std::string& dict, const std::string& data, int major = 1) {
  std::string header = dict;
  const std::size_t prefix = major == 1 ? 10 : 12;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  const std::size_t n = header.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) out += std::string(2, '\0');
  return out + header + data;
}

template <class T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}
}  // namespace

TEST_CASE("npy round trip keeps shape, dtype and values", "[core]") {
  testing::TempDir tmp;
  const torch::Tensor a = torch::arange(12, torch::kFloat).reshape({3, 4}) / 7.0;
  write_npy(tmp.file("a.npy"), a);
  const torch::Tensor b = read_npy(tmp.file("a.npy"));
  REQUIRE(b.scalar_type() == torch::kFloat);
  REQUIRE(b.sizes() == a.sizes());
  REQUIRE(torch::equal(a, b));
  const std::string bytes = npy_bytes(a);
  REQUIRE(bytes.find("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }") == 10);
  REQUIRE((10 + static_cast<unsigned char>(bytes[8])) % 64 == 0);
  const torch::Tensor v = torch::rand({5}, torch::kDouble);
  REQUIRE(torch::equal(parse_npy(npy_bytes(v), "v"), v));
  REQUIRE(npy_bytes(v).find("'shape': (5,)") != std::string::npos);
  REQUIRE(std::filesystem::directory_iterator(tmp.path())->path().filename() == "a.npy");
}

TEST_CASE("npy reader accepts Python 2 shapes, Fortran order, integers and big-endian", "[core]") {
  const std::vector<double> d{1, 2, 3, 4, 5, 6};
  const torch::Tensor c = parse_npy(
      npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }", raw(d)), "x");
  REQUIRE(c.sizes() == torch::IntArrayRef({2, 3}));
  REQUIRE(c[1][0].item<double>() == 4);
  const torch::Tensor f = parse_npy(
      npy_with_header("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", raw(d)), "x");
  REQUIRE(f[1][0].item<double>() == 2);  // column-major: element (1, 0) is the 2nd stored
  REQUIRE(f[0][1].item<double>() == 3);
  const std::vector<uint8_t> mask{0, 1, 1};
  const torch::Tensor u = parse_npy(
      npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 1), }", raw(mask)), "m");
  REQUIRE(u.scalar_type() == torch::kByte);
  REQUIRE(u.sum().item<int64_t>() == 2);
  const std::vector<uint16_t> big{0x0100, 0xFFFF};  // big-endian 1 and 65535
  const torch::Tensor be = parse_npy(
      npy_with_header("{'descr': '>u2', 'fortran_order': False, 'shape': (2,), }", raw(big), 2), "b");
  REQUIRE(be[0].item<int64_t>() == 1);
  REQUIRE(be[1].item<int64_t>() == 65535);
}

TEST_CASE("npy reader rejects bad magic, bad dtypes and truncated data", "[core]") {
  REQUIRE_THROWS_WITH(parse_npy("PK\x03\x04 not numpy at all", "z.npy"),
                      Contains("z.npy: not a NumPy .npy file (bad magic number)"));
  const std::vector<double> d{1, 2, 3};
  REQUIRE_THROWS_WITH(
      parse_npy(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", raw(d)),
                "t.npy"),
      Contains("t.npy: truncated .npy data: the header promises 48 bytes, the file holds 24"));
  REQUIRE_THROWS_WITH(
      parse_npy(npy_with_header("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", raw(d)),
                "c.npy"),
      Contains("c.npy: unsupported .npy dtype '<c16'"));
  REQUIRE_THROWS_WITH(read_npy("/nonexistent/w.npy"), Contains("/nonexistent/w.npy: cannot open"));
}

TEST_CASE("npy reader survives huge header fields and shapes that overflow", "[core]") {
  const std::vector<double> d{1, 2, 3};
  // A 40,000-character field: std::regex overflowed the stack on it (a segfault).
  const std::string long_descr(40000, 'f');
  REQUIRE_THROWS_WITH(
      parse_npy(npy_with_header("{'descr': '" + long_descr + "', 'fortran_order': False, 'shape': (3,), }", raw(d), 2),
                "long.npy"),
      Contains("long.npy: unsupported .npy dtype"));
  try {
    parse_npy(npy_with_header("{'descr': '" + long_descr + "', 'fortran_order': False, 'shape': (3,), }", raw(d), 2),
              "long.npy");
    FAIL("no error");
  } catch (const ConfigError& e) {
    REQUIRE(std::string(e.what()).size() < 300);  // one readable line, not the 40,000 characters
  }
  const std::string long_key = "{'comment': '" + std::string(40000, 'x') +
                               "', 'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
  REQUIRE(torch::equal(parse_npy(npy_with_header(long_key, raw(d), 2), "ok.npy"), torch::tensor(d, torch::kDouble)));
  REQUIRE_THROWS_WITH(
      parse_npy(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (" + std::string(40000, '7') +
                                    ",), }",
                                raw(d), 2),
                "big.npy"),
      Contains("has a dimension too large"));
  // Dimensions whose product overflows int64 (it wrapped to a small count before).
  REQUIRE_THROWS_WITH(
      parse_npy(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
                                raw(d)),
                "wrap.npy"),
      Contains("wrap.npy: .npy shape '(4294967296, 4294967296)' holds more than 1099511627776 bytes"));
  REQUIRE_THROWS_WITH(
      parse_npy(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (3, x), }", raw(d)), "x.npy"),
      Contains("x.npy: malformed .npy shape '(3, x)'"));
  // Zero-sized and scalar shapes still read.
  REQUIRE(parse_npy(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 5), }", ""), "z.npy")
              .sizes() == torch::IntArrayRef({0, 5}));
  REQUIRE(parse_npy(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", raw(d)), "s.npy")
              .item<double>() == 1.0);
}

TEST_CASE("npy reader reads the real C. elegans connectome", "[core]") {
  const std::string path = testing::data_dir() + "/celegans/Gs.npy";
  if (!std::filesystem::exists(path)) {
    WARN("shared data not found at " << path << "; skipping");
    return;
  }
  const torch::Tensor gs = read_npy(path);
  REQUIRE(gs.sizes() == torch::IntArrayRef({279, 279}));
  REQUIRE(gs.scalar_type() == torch::kDouble);
  REQUIRE(gs.ne(0).sum().item<int64_t>() == 2305);  // SOURCE.md: 2305 nonzero entries
  REQUIRE(gs.sum().item<double>() == 6932);         // and 6932 synapses
  const torch::Tensor mask = read_npy(testing::data_dir() + "/celegans/emask.npy");
  REQUIRE(mask.sum().item<int64_t>() == 26);        // 26 inhibitory neurons
}

TEST_CASE("npy reader reads every float, integer and bool dtype, either byte order", "[core]") {
  // Values 0..5 (and 1/0 for bool) stored as each dtype; C order [2, 3] and Fortran order.
  auto encode = [](const std::string& kind, bool big) {
    std::string out;
    for (int v = 0; v < 6; ++v) {
      std::string bytes;
      if (kind == "f4") {
        const float f = static_cast<float>(v) / 2;
        bytes.assign(reinterpret_cast<const char*>(&f), 4);
      } else if (kind == "f8") {
        const double d = static_cast<double>(v) / 2;
        bytes.assign(reinterpret_cast<const char*>(&d), 8);
      } else if (kind == "f2") {
        const uint16_t halves[] = {0x0000, 0x3800, 0x3C00, 0x3E00, 0x4000, 0x4100};  // v / 2
        bytes.assign(reinterpret_cast<const char*>(&halves[v]), 2);
      } else if (kind == "b1") {
        bytes.assign(1, static_cast<char>(v % 2));
      } else {
        const int size = kind[1] - '0';
        const uint64_t value = kind[0] == 'i' && v == 5 ? static_cast<uint64_t>(-1) : static_cast<uint64_t>(v);
        bytes.assign(reinterpret_cast<const char*>(&value), size);  // little-endian host
      }
      if (big) std::reverse(bytes.begin(), bytes.end());
      out += bytes;
    }
    return out;
  };
  for (const std::string kind : {"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"}) {
    for (const bool big : {false, true}) {
      if (big && (kind == "i1" || kind == "u1" || kind == "b1")) continue;
      INFO(kind << (big ? " big-endian" : ""));
      const std::string descr = std::string(big ? ">" : "<") + kind;
      const torch::Tensor t = parse_npy(
          npy_with_header("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (2, 3), }", encode(kind, big)), "x");
      REQUIRE(t.sizes() == torch::IntArrayRef({2, 3}));
      const torch::Tensor d = t.to(torch::kDouble).reshape({-1});
      const bool is_float = kind[0] == 'f';
      for (int v = 0; v < 6; ++v) {
        double expected = is_float ? v / 2.0 : kind == "b1" ? v % 2 : v;
        if (kind[0] == 'i' && v == 5) expected = -1;
        if (kind[0] == 'u' && v == 5 && kind != "u1") expected = 5;
        REQUIRE(d[v].item<double>() == expected);
      }
    }
  }
  // Unsigned values above the signed range survive.
  const uint32_t big_u4 = 4000000000u;
  const torch::Tensor u = parse_npy(
      npy_with_header("{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }",
                      std::string(reinterpret_cast<const char*>(&big_u4), 4)), "u");
  REQUIRE(u[0].item<int64_t>() == 4000000000LL);
  // Fortran order of a 3-D array.
  std::vector<double> f(24);
  for (int i = 0; i < 24; ++i) f[i] = i;
  const torch::Tensor c3 = parse_npy(
      npy_with_header("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3, 4), }", raw(f), 2), "f");
  // Element (i, j, k) of a Fortran array is stored at i + 2 j + 6 k.
  REQUIRE(c3[1][2][3].item<double>() == 1 + 2 * 2 + 6 * 3);
}
