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
  const torch::Tensor s = torch::linalg::svdvals(w, c10::nullopt).contiguous();
  const double* p = s.data_ptr<double>();
  return spectrum_measures_from_singular_values(std::vector<double>(p, p + s.numel()));
}

}  // namespace richlazy::metrics
