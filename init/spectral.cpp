// init/spectral.cpp: prescribed spectra (spectral), orthogonal and identity matrices.
#include <richlazy/core/random_matrix.h>
#include <richlazy/init/initializer.h>
#include <richlazy/init/norm.h>
#include <richlazy/metrics/effective_rank.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>

namespace richlazy::init {

namespace {

/// Singular values s_k = k^-gamma (power_law) or exp(-decay (k - 1)) (exponential), k = 1..n.
std::vector<double> profile_values(const std::string& profile, double parameter, int64_t n) {
  std::vector<double> s(static_cast<std::size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    s[static_cast<std::size_t>(k)] = profile == "power_law" ? std::pow(static_cast<double>(k + 1), -parameter)
                                                            : std::exp(-parameter * static_cast<double>(k));
  }
  return s;
}

double roy_vetterli(const std::vector<double>& s) {
  return metrics::spectrum_measures_from_singular_values(s).roy_vetterli;
}

/// The profile parameter whose Roy-Vetterli effective rank is `target`: the effective rank
/// falls monotonically from n (parameter 0) towards 1, so bisection finds it.
double solve_profile(const std::string& profile, double target, int64_t n) {
  double lo = 0, hi = 64;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (roy_vetterli(profile_values(profile, mid, n)) > target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

/// W = U diag(s) V^T with Haar-random orthonormal U, V and the singular values s.
class Spectral final : public Initializer {
 public:
  Spectral(const InitTarget& t, std::vector<double> values) : rows_(t.rows), cols_(t.cols), values_(std::move(values)) {}

  torch::Tensor make(const InitInputs& in) const override {
    const int64_t k = static_cast<int64_t>(values_.size());
    const torch::Tensor u = random_orthogonal(rows_, in.gen).slice(1, 0, k);
    const torch::Tensor v = random_orthogonal(cols_, in.gen).slice(1, 0, k);
    const torch::Tensor s = torch::tensor(values_, torch::kDouble);
    return torch::matmul(u * s.unsqueeze(0), v.t());
  }

 private:
  int64_t rows_, cols_;
  std::vector<double> values_;
};

std::unique_ptr<Initializer> make_spectral(Params& p, const InitTarget& t) {
  const int64_t n = std::min(t.rows, t.cols);
  const std::string profile = p.get_choice("profile", {"power_law", "exponential", "list"});
  // Options of the other profiles are mistakes, not silently ignored.
  const std::vector<std::pair<std::string, std::string>> owner{
      {"gamma", "power_law"}, {"decay", "exponential"}, {"values", "list"}};
  for (const auto& [key, prof] : owner) {
    if (p.has(key) && profile != prof) p.fail_key(key, "applies only to profile: " + prof);
  }
  if (p.has("effective_rank") && (p.has("gamma") || p.has("decay"))) {
    p.fail_key("effective_rank", "replaces gamma and decay: give one or the other");
  }
  std::vector<double> values;
  const YAML::Node target = p.raw("effective_rank");
  if (profile == "list") {
    p.require(target.IsNull(), "effective_rank", "needs profile power_law or exponential");
    values = p.get_double_list("values");
    p.require(static_cast<int64_t>(values.size()) <= n, "values",
              fmt::format("must hold at most min(rows, cols) = {} singular values", n));
    for (double v : values) p.require(v >= 0, "values", "must be non-negative singular values");
  } else {
    double parameter = p.get_double(profile == "power_law" ? "gamma" : "decay", 0.0);
    if (!target.IsNull()) {
      const double r = p.get_double("effective_rank", 1.0, static_cast<double>(n));
      parameter = solve_profile(profile, r, n);
      const double got = roy_vetterli(profile_values(profile, parameter, n));
      p.require(std::abs(got - r) <= 0.01 * r, "effective_rank",
                fmt::format("cannot be reached with a {} profile (got {:.3f})", profile, got));
    }
    values = profile_values(profile, parameter, n);
  }
  return std::make_unique<Spectral>(t, std::move(values));
}

/// A (semi-)orthogonal matrix: the [rows, cols] block of a Haar-random orthogonal matrix.
class Orthogonal final : public Initializer {
 public:
  explicit Orthogonal(const InitTarget& t) : rows_(t.rows), cols_(t.cols) {}
  torch::Tensor make(const InitInputs& in) const override {
    return random_orthogonal(std::max(rows_, cols_), in.gen).slice(0, 0, rows_).slice(1, 0, cols_);
  }

 private:
  int64_t rows_, cols_;
};

class Identity final : public Initializer {
 public:
  explicit Identity(const InitTarget& t) : rows_(t.rows), cols_(t.cols) {}
  torch::Tensor make(const InitInputs&) const override {
    return torch::eye(rows_, cols_, torch::kDouble);
  }

 private:
  int64_t rows_, cols_;
};
}  // namespace

void register_spectral(InitializerRegistry& registry) {
  registry.add(
      {"spectral",
       "random orthogonal singular vectors with a prescribed singular-value profile; "
       "effective_rank makes rank a continuous knob",
       with_norm_options(
           {{"profile", "power_law", "power_law (s_k = k^-gamma) | exponential (s_k = exp(-decay (k-1))) | list"},
            {"gamma", "1.0", "power-law exponent, >= 0"},
            {"decay", "0.1", "exponential decay rate, >= 0"},
            {"values", "null", "the singular values, for profile: list (at most min(rows, cols))"},
            {"effective_rank", "null",
             "Roy-Vetterli effective rank to reach (solves for gamma or decay, within 1%)"}},
           "auto"),
       [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
         return make_spectral(p, t);
       }});
  registry.add({"orthogonal", "(semi-)orthogonal matrix: a block of a Haar-random orthogonal matrix",
                with_norm_options({}, "auto"),
                [](Params&, const InitTarget& t) -> std::unique_ptr<Initializer> {
                  return std::make_unique<Orthogonal>(t);
                }});
  registry.add({"identity", "the identity (rectangular: ones on the diagonal), scaled by norm",
                with_norm_options({}, "auto"),
                [](Params&, const InitTarget& t) -> std::unique_ptr<Initializer> {
                  return std::make_unique<Identity>(t);
                }});
}

}  // namespace richlazy::init
