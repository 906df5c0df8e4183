// richlazy/core/random_matrix.h: random orthogonal matrices and bases.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

namespace richlazy {

/// A Haar-random orthogonal matrix [n, n], float64 (QR of a Gaussian matrix, signs fixed).
torch::Tensor random_orthogonal(int64_t n, at::Generator& gen);

/// [n, k] with orthonormal columns: the columns of `basis` [n, m] (orthonormal, m <= k)
/// followed by k - m Haar-random directions orthogonal to them. float64.
torch::Tensor complete_basis(const torch::Tensor& basis, int64_t k, at::Generator& gen);

}  // namespace richlazy
