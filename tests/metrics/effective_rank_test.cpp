// tests/metrics/effective_rank_test.cpp: rank measures on hand-computable matrices.
#include "../test_common.h"

#include <richlazy/core/seeding.h>
#include <richlazy/metrics/effective_rank.h>

#include <cmath>

using namespace richlazy;

TEST_CASE("identity: every effective rank equals n", "[metrics]") {
  const auto m = metrics::spectrum_measures(torch::eye(7, torch::kDouble) * 3.0);
  REQUIRE(m.rank == 7);
  REQUIRE(m.roy_vetterli == Approx(7.0).epsilon(1e-12));
  REQUIRE(m.participation_ratio == Approx(7.0).epsilon(1e-12));
  REQUIRE(m.stable_rank == Approx(7.0).epsilon(1e-12));
  REQUIRE(m.nuclear_ratio == Approx(1.0).epsilon(1e-12));
  REQUIRE(m.frobenius_norm == Approx(3.0 * std::sqrt(7.0)).epsilon(1e-12));
}

TEST_CASE("rank-1 matrix: effective ranks are 1", "[metrics]") {
  const torch::Tensor u = torch::arange(1, 6, torch::kDouble);
  const torch::Tensor v = torch::arange(2, 8, torch::kDouble);
  const auto m = metrics::spectrum_measures(torch::outer(u, v));
  REQUIRE(m.rank == 1);
  REQUIRE(m.roy_vetterli == Approx(1.0).epsilon(1e-6));
  REQUIRE(m.participation_ratio == Approx(1.0).epsilon(1e-9));
  REQUIRE(m.stable_rank == Approx(1.0).epsilon(1e-9));
  REQUIRE(m.nuclear_ratio == Approx(1.0 / 5.0).epsilon(1e-6));
}

TEST_CASE("effective ranks of known singular values", "[metrics]") {
  // s = (2, 1): p = (2/3, 1/3), H = ln 3 - (2/3) ln 2.
  const auto m = metrics::spectrum_measures_from_singular_values({1.0, 2.0});
  REQUIRE(m.roy_vetterli == Approx(std::exp(std::log(3.0) - 2.0 / 3.0 * std::log(2.0))));
  REQUIRE(m.participation_ratio == Approx(25.0 / 17.0));
  REQUIRE(m.stable_rank == Approx(5.0 / 4.0));
  REQUIRE(m.nuclear_ratio == Approx(3.0 / 4.0));
  REQUIRE(metrics::spectrum_measures(torch::zeros({3, 3}, torch::kDouble)).rank == 0);
}

TEST_CASE("effective ranks are invariant to scaling and orthogonal transforms", "[metrics]") {
  torch::manual_seed(0);
  const torch::Tensor w = torch::randn({20, 20}, torch::kDouble);
  const auto [q, r] = torch::linalg_qr(torch::randn({20, 20}, torch::kDouble));
  const auto a = metrics::spectrum_measures(w);
  const auto b = metrics::spectrum_measures(5.0 * torch::matmul(q, w));
  REQUIRE(b.roy_vetterli == Approx(a.roy_vetterli).epsilon(1e-10));
  REQUIRE(b.participation_ratio == Approx(a.participation_ratio).epsilon(1e-10));
  REQUIRE(b.stable_rank == Approx(a.stable_rank).epsilon(1e-10));
  REQUIRE(b.nuclear_ratio == Approx(a.nuclear_ratio).epsilon(1e-10));
}

TEST_CASE("spectral radius and erank_eig of matrices with known eigenvalues", "[metrics]") {
  // diag(3, 1, 0, 0): radius 3, erank_eig = (3 + 1) / (3 * 4).
  auto m = metrics::eigenvalue_measures(torch::diag(torch::tensor({3.0, 1.0, 0.0, 0.0}, torch::kDouble)));
  REQUIRE(m.spectral_radius == Approx(3).epsilon(1e-14));
  REQUIRE(m.erank_eig == Approx(1.0 / 3).epsilon(1e-14));
  // A rotation by 90 degrees times 2: eigenvalues +-2i, so radius 2 and erank_eig 1.
  m = metrics::eigenvalue_measures(torch::tensor({{0.0, -2.0}, {2.0, 0.0}}, torch::kDouble));
  REQUIRE(m.spectral_radius == Approx(2).epsilon(1e-14));
  REQUIRE(m.erank_eig == Approx(1).epsilon(1e-14));
  // A similarity transform keeps the eigenvalues (unlike the singular values).
  at::Generator gen = make_generator(3);
  const torch::Tensor p = torch::randn({4, 4}, gen, torch::kDouble) + 4 * torch::eye(4, torch::kDouble);
  const torch::Tensor d = torch::diag(torch::tensor({-5.0, 2.0, 1.0, 0.5}, torch::kDouble));
  m = metrics::eigenvalue_measures(torch::matmul(torch::matmul(p, d), torch::inverse(p)));
  REQUIRE(m.spectral_radius == Approx(5).epsilon(1e-10));
  REQUIRE(m.erank_eig == Approx(8.5 / 20).epsilon(1e-10));
  // Nilpotent: 0 and 0. Not square or not finite: NaN.
  m = metrics::eigenvalue_measures(torch::tensor({{0.0, 1.0}, {0.0, 0.0}}, torch::kDouble));
  REQUIRE(m.spectral_radius == 0);
  REQUIRE(m.erank_eig == 0);
  REQUIRE(std::isnan(metrics::eigenvalue_measures(torch::ones({2, 3}, torch::kDouble)).erank_eig));
  REQUIRE(std::isnan(metrics::eigenvalue_measures(torch::full({2, 2}, INFINITY, torch::kDouble)).spectral_radius));
  // The batched measure of erank_rec agrees member by member, float32 input included.
  const torch::Tensor stack = torch::randn({3, 20, 20}, gen, torch::kFloat);
  const torch::Tensor batched = metrics::member_effective_rank(stack, "eig");
  for (int64_t e = 0; e < 3; ++e) {
    REQUIRE(batched[e].item<double>() ==
            Approx(metrics::eigenvalue_measures(stack[e].to(torch::kDouble)).erank_eig).epsilon(1e-12));
  }
}
