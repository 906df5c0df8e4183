// tests/core/member_matmul_test.cpp: per-member products against torch::bmm.
#include "../test_common.h"

#include <richlazy/core/member_matmul.h>

using namespace richlazy;

TEST_CASE("member_addmm_ equals baddbmm for every layout of its operands", "[core]") {
  torch::manual_seed(11);
  const int64_t E = 4, m = 7, k = 5, n = 6;
  // Each operand as a plain tensor, as a transposed view, and as a slice with a free batch stride.
  auto layouts = [&](int64_t rows, int64_t cols) {
    std::vector<torch::Tensor> out;
    out.push_back(torch::randn({E, rows, cols}));
    out.push_back(torch::randn({E, cols, rows}).transpose(1, 2));
    out.push_back(torch::randn({E, 2, rows, cols}).select(1, 1));
    return out;
  };
  for (const auto& a : layouts(m, k)) {
    for (const auto& b : layouts(k, n)) {
      for (const double beta : {0.0, 1.0, 0.5}) {
        const torch::Tensor c0 = torch::randn({E, m, n});
        torch::Tensor c = c0.clone();
        member_addmm_(c, a, b, beta, 1.7);
        const torch::Tensor expected = beta == 0 ? 1.7 * torch::bmm(a, b) : torch::baddbmm(c0, a, b, beta, 1.7);
        REQUIRE(torch::allclose(c, expected, 1e-5, 1e-5));
      }
    }
  }
  // A strided output (one step of member-major states) and operands shared by every member.
  torch::Tensor states = torch::zeros({E, 3, m, n});
  const torch::Tensor a = torch::randn({1, m, k}).expand({E, m, k});
  const torch::Tensor b = torch::randn({E, k, n});
  member_addmm_(states.select(1, 2), a, b, 0.0, 1.0);
  REQUIRE(torch::allclose(states.select(1, 2), torch::bmm(a, b), 1e-5, 1e-5));
  REQUIRE(states.select(1, 0).abs().max().item<double>() == 0.0);
  // On the CPU in float32 the products go to the BLAS directly (the point of this function).
  REQUIRE(member_matmul_uses_blas(states.select(1, 2), a, b));
  REQUIRE_FALSE(member_matmul_uses_blas(states.select(1, 2).to(torch::kDouble), a.to(torch::kDouble),
                                        b.to(torch::kDouble)));
  // float64 takes ATen's path and gives the same.
  const torch::Tensor a64 = torch::randn({E, m, k}, torch::kDouble), b64 = torch::randn({E, k, n}, torch::kDouble);
  REQUIRE(torch::allclose(member_mm(a64, b64), torch::bmm(a64, b64), 1e-12, 1e-12));
}
