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
  return member_spectrum_measures(matrix.unsqueeze(0)).front();
}

std::vector<SpectrumMeasures> member_spectrum_measures(const torch::Tensor& matrices) {
  const torch::Tensor w = matrices.detach().to(torch::kCPU, torch::kDouble);
  const int64_t E = w.size(0), n = std::min(w.size(1), w.size(2));
  // LAPACK fails the whole batch on one non-finite matrix: decompose the finite ones only.
  const torch::Tensor finite = torch::isfinite(w).flatten(1).all(1);
  const torch::Tensor index = finite.nonzero().flatten();
  torch::Tensor s = torch::full({E, n}, std::nan(""), w.options());
  if (index.numel() > 0) s.index_copy_(0, index, torch::linalg::svdvals(w.index_select(0, index), c10::nullopt));
  s = s.contiguous();
  std::vector<SpectrumMeasures> out;
  for (int64_t e = 0; e < E; ++e) {
    const double* p = s[e].data_ptr<double>();
    if (!finite[e].item<bool>()) {
      const double nan = std::nan("");
      SpectrumMeasures m;
      m.frobenius_norm = m.roy_vetterli = m.nuclear_ratio = m.participation_ratio = m.stable_rank = nan;
      m.singular_values.assign(n, nan);
      out.push_back(m);
    } else {
      out.push_back(spectrum_measures_from_singular_values(std::vector<double>(p, p + n)));
    }
  }
  return out;
}

}  // namespace richlazy::metrics
