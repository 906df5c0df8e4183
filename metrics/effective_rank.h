// richlazy/metrics/effective_rank.h: rank and effective-rank measures of a matrix.
// PAPER.md section 5. With singular values s_1 >= ... >= s_n:
//   Roy & Vetterli (2007): exp(H(p)), p_i = s_i / sum_j s_j, H the Shannon entropy
//   nuclear/spectral ratio: sum_i s_i / (s_1 n)            (normalized, in (0, 1])
//   participation ratio:    (sum_i s_i^2)^2 / sum_i s_i^4
//   stable rank:            sum_i s_i^2 / s_1^2
// and, for a square matrix with eigenvalues |lambda_1| >= ... >= |lambda_n| (the paper's
// appendix measure for connectomes, where one outlier eigenvalue makes a matrix "low rank"):
//   spectral radius:        |lambda_1|
//   eigenvalue erank:       sum_i |lambda_i| / (|lambda_1| n)   (`erank_eig`, in [0, 1])
#pragma once

#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace richlazy::metrics {

struct SpectrumMeasures {
  int64_t rank = 0;  ///< numerical rank: s_i > 1e-6 * s_1
  double frobenius_norm = 0;
  double roy_vetterli = 0;
  double nuclear_ratio = 0;
  double participation_ratio = 0;
  double stable_rank = 0;
  std::vector<double> singular_values;  ///< all of them, descending
};

/// Relative tolerance of the numerical rank (PRODUCT.md: 1e-6 of the largest value).
constexpr double kRankTolerance = 1e-6;

/// Every measure of a 2-D matrix, computed in float64 on the CPU. A zero matrix has rank 0
/// and effective ranks 0; a matrix with a non-finite entry NaN measures.
SpectrumMeasures spectrum_measures(const torch::Tensor& matrix);

/// Spectral radius and eigenvalue effective rank of a square matrix, in float64 on the CPU;
/// NaN for a matrix that is not square or has a non-finite entry. A nilpotent matrix (every
/// eigenvalue 0) has radius 0 and erank_eig 0.
struct EigenvalueMeasures {
  double spectral_radius = std::nan("");
  double erank_eig = std::nan("");
};
EigenvalueMeasures eigenvalue_measures(const torch::Tensor& matrix);

/// One measure ("roy_vetterli", "nuclear_ratio", "participation_ratio", "stable_rank", or
/// "eig" for square matrices: erank_eig above) of each matrix of a stack [E, rows, cols],
/// computed in float64 on the matrices' own device (nothing is read back to the host): [E].
/// A zero matrix measures 0, a matrix with a non-finite entry NaN.
torch::Tensor member_effective_rank(const torch::Tensor& matrices, const std::string& measure);

/// The measures of given singular values (any order, non-negative).
SpectrumMeasures spectrum_measures_from_singular_values(std::vector<double> s);

}  // namespace richlazy::metrics
