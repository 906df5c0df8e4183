// richlazy/metrics/laziness.h: the measures of PAPER.md section 5, as plain functions.
// The metric hooks (rep_alignment, kernel_alignment, sign_similarity, ...) call these; tests
// and benchmarks call them directly.
#pragma once

#include <richlazy/models/model.h>

#include <string>
#include <vector>

namespace richlazy::metrics {

/// <A, B>_F / (||A||_F ||B||_F), computed in float64. NaN when either is zero.
double frobenius_cosine(const torch::Tensor& a, const torch::Tensor& b);

/// Representation kernel K_R = H H^T of hidden states H [P, N].
torch::Tensor representation_kernel(const torch::Tensor& hidden);

/// Fraction of entries whose sign (-1, 0, +1) is the same in `before` and `after`.
double sign_similarity(const torch::Tensor& before, const torch::Tensor& after);

/// The empirical tangent kernel K = J J^T from its factors, rows ordered (step, trial, class)
/// like the reference's loops. Built block by block from Gram matrices of the errors at
/// steps s, s' and of the activities at s, s', never forming the Jacobian.
torch::Tensor tangent_kernel(const models::KernelFactors& factors);

/// The same kernel by definition: one backward pass per logit y[t, b, k] (t in `steps`, all
/// trials of `inputs`, all classes) into a preallocated Jacobian [rows, numel(param)], then
/// J J^T. The reference's method; slow, for tests and benchmarks.
torch::Tensor tangent_kernel_bruteforce(models::Model& model, const std::string& param,
                                        const torch::Tensor& inputs,
                                        const std::vector<int64_t>& steps);

/// The fast kernel when the model provides factors, the brute-force one otherwise.
torch::Tensor tangent_kernel(models::Model& model, const std::string& param,
                             const torch::Tensor& inputs, const std::vector<int64_t>& steps);

}  // namespace richlazy::metrics
