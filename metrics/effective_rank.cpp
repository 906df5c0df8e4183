// metrics/effective_rank.cpp: spectrum measures.
#include <richlazy/metrics/effective_rank.h>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace richlazy::metrics {

SpectrumMeasures spectrum_measures_from_singular_values(std::vector<double> s) {
  std::sort(s.begin(), s.end(), std::greater<double>());
  SpectrumMeasures m;
  m.singular_values = s;
  if (s.empty() || s.front() <= 0) return m;
  const double s1 = s.front();
  double sum = 0, sum2 = 0, sum4 = 0;
  for (double v : s) {
    sum += v;
    sum2 += v * v;
    sum4 += v * v * v * v;
    if (v > kRankTolerance * s1) ++m.rank;
  }
  double entropy = 0;
  for (double v : s) {
    const double p = v / sum;
    if (p > 0) entropy -= p * std::log(p);
  }
  m.frobenius_norm = std::sqrt(sum2);
  m.roy_vetterli = std::exp(entropy);
  m.nuclear_ratio = sum / (s1 * static_cast<double>(s.size()));
  m.participation_ratio = sum2 * sum2 / sum4;
  m.stable_rank = sum2 / (s1 * s1);
  return m;
}

SpectrumMeasures spectrum_measures(const torch::Tensor& matrix) {
  const torch::Tensor w = matrix.detach().to(torch::kCPU, torch::kDouble);
  if (!torch::isfinite(w).all().item<bool>()) {  // LAPACK fails on it: NaN measures, rank 0
    const double nan = std::nan("");
    SpectrumMeasures m;
    m.frobenius_norm = m.roy_vetterli = m.nuclear_ratio = m.participation_ratio = m.stable_rank = nan;
    m.singular_values.assign(std::min(w.size(0), w.size(1)), nan);
    return m;
  }
  const torch::Tensor s = torch::linalg_svdvals(w).contiguous();
  const double* p = s.data_ptr<double>();
  return spectrum_measures_from_singular_values(std::vector<double>(p, p + s.numel()));
}

namespace {
/// |eigenvalues| of each square matrix of a stack [E, n, n] in float64 on their device: [E, n].
/// A matrix with a non-finite entry gets a row of NaN.
torch::Tensor eigenvalue_moduli(const torch::Tensor& matrices) {
  const torch::Tensor w = matrices.detach().to(torch::kDouble);
  const torch::Tensor finite = torch::isfinite(w).flatten(1).all(1);  // [E]
  // The decomposition of a non-finite matrix fails for the whole batch: decompose zeros there.
  const torch::Tensor a = torch::linalg_eigvals(torch::where(finite.view({-1, 1, 1}), w, torch::zeros_like(w))).abs();
  return torch::where(finite.view({-1, 1}), a, torch::full_like(a, std::nan("")));
}

/// sum_i |lambda_i| / (|lambda_1| n) of each row of moduli [E, n]: 0 for a nilpotent matrix.
torch::Tensor erank_eig_of(const torch::Tensor& moduli) {
  const torch::Tensor radius = std::get<0>(moduli.max(1));
  const torch::Tensor value = moduli.sum(1) / (radius * static_cast<double>(moduli.size(1)));
  return torch::where(radius > 0, value, torch::where(torch::isnan(radius), radius, torch::zeros_like(radius)));
}
}  // namespace

EigenvalueMeasures eigenvalue_measures(const torch::Tensor& matrix) {
  EigenvalueMeasures m;
  if (matrix.dim() != 2 || matrix.size(0) != matrix.size(1) || matrix.size(0) == 0) return m;
  const torch::Tensor moduli = eigenvalue_moduli(matrix.detach().to(torch::kCPU).unsqueeze(0));
  m.spectral_radius = moduli.max().item<double>();
  m.erank_eig = erank_eig_of(moduli).item<double>();
  return m;
}

torch::Tensor member_effective_rank(const torch::Tensor& matrices, const std::string& measure) {
  if (measure == "eig") return erank_eig_of(eigenvalue_moduli(matrices));
  const torch::Tensor w = matrices.detach().to(torch::kDouble);
  const torch::Tensor finite = torch::isfinite(w).flatten(1).all(1);  // [E]
  // The decomposition of a non-finite matrix fails for the whole batch: decompose zeros there.
  const torch::Tensor s = torch::linalg_svdvals(torch::where(finite.view({-1, 1, 1}), w, torch::zeros_like(w)));
  const torch::Tensor s1 = s.select(1, 0), sum = s.sum(1), sum2 = (s * s).sum(1);
  torch::Tensor value;
  if (measure == "nuclear_ratio") {
    value = sum / (s1 * static_cast<double>(s.size(1)));
  } else if (measure == "participation_ratio") {
    value = sum2 * sum2 / s.pow(4).sum(1);
  } else if (measure == "stable_rank") {
    value = sum2 / (s1 * s1);
  } else {  // roy_vetterli: exp of the entropy of s / sum(s)
    const torch::Tensor p = s / sum.unsqueeze(1);
    value = torch::exp(-torch::where(p > 0, p * torch::log(p), torch::zeros_like(p)).sum(1));
  }
  value = torch::where(s1 > 0, value, torch::zeros_like(value));
  return torch::where(finite, value, torch::full_like(value, std::nan("")));
}

}  // namespace richlazy::metrics
