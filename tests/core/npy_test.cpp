// tests/core/npy_test.cpp: the .npy writer and reader.
#include "../test_common.h"

#include <richlazy/core/config_error.h>
#include <richlazy/core/npy.h>

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

TEST_CASE("npy reader reads the real C. elegans connectome", "[core]") {
  const std::string path = testing::shared_data_dir() + "/celegans/Gs.npy";
  if (!std::filesystem::exists(path)) {
    WARN("shared data not found at " << path << "; skipping");
    return;
  }
  const torch::Tensor gs = read_npy(path);
  REQUIRE(gs.sizes() == torch::IntArrayRef({279, 279}));
  REQUIRE(gs.scalar_type() == torch::kDouble);
  REQUIRE(gs.ne(0).sum().item<int64_t>() == 2305);  // SOURCE.md: 2305 nonzero entries
  REQUIRE(gs.sum().item<double>() == 6932);         // and 6932 synapses
  const torch::Tensor mask = read_npy(testing::shared_data_dir() + "/celegans/emask.npy");
  REQUIRE(mask.sum().item<int64_t>() == 26);        // 26 inhibitory neurons
}
