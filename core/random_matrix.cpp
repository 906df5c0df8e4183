// core/random_matrix.cpp: random orthogonal matrices.
#include <richlazy/core/random_matrix.h>

#include <torch/torch.h>

namespace richlazy {

torch::Tensor random_orthogonal(int64_t n, at::Generator& gen) {
  const torch::Tensor g = torch::randn({n, n}, gen, torch::kDouble);
  const auto [q, r] = torch::linalg_qr(g);
  // Multiplying the columns by the signs of R's diagonal makes Q Haar-distributed.
  return q * torch::sign(torch::diagonal(r)).unsqueeze(0);
}

torch::Tensor complete_basis(const torch::Tensor& basis, int64_t k, at::Generator& gen) {
  const int64_t n = basis.size(0), m = basis.size(1);
  if (m >= k) return basis.slice(1, 0, k);
  // Random directions, projected off the basis, orthonormalized.
  torch::Tensor extra = torch::randn({n, k - m}, gen, torch::kDouble);
  if (m > 0) extra = extra - torch::matmul(basis, torch::matmul(basis.t(), extra));
  const auto [q, r] = torch::linalg_qr(extra);
  torch::Tensor fresh = q * torch::sign(torch::diagonal(r)).unsqueeze(0);
  if (m > 0) fresh = fresh - torch::matmul(basis, torch::matmul(basis.t(), fresh));  // re-orthogonalize
  const auto [q2, r2] = torch::linalg_qr(fresh);
  return torch::cat({basis, q2 * torch::sign(torch::diagonal(r2)).unsqueeze(0)}, 1);
}

}  // namespace richlazy
