// models/linear2.cpp: two-layer linear network.
#include <richlazy/models/linear2.h>

#include <richlazy/core/config_error.h>
#include <richlazy/core/limits.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <optional>

namespace richlazy::models {

Linear2::Linear2(int64_t inputs, int64_t hidden, int64_t outputs, int64_t members) : Model(members) {
  w_1_ = register_parameter("W_1", torch::zeros({members, hidden, inputs}));
  w_2_ = register_parameter("w_2", torch::zeros({members, outputs, hidden}));
}

ModelOutput Linear2::forward(const torch::Tensor& inputs) {
  torch::Tensor hidden = member_linear(inputs, w_1_);
  torch::Tensor logits = member_linear(hidden, w_2_);
  return {std::move(logits), std::move(hidden)};
}

std::optional<torch::Tensor> Linear2::population_kernel(const std::string& param) const {
  torch::NoGradGuard no_grad;
  const torch::Tensor w1 = w_1_.detach().to(torch::kDouble), w2 = w_2_.detach().to(torch::kDouble);
  const int64_t E = w1.size(0), d = w1.size(2), O = w2.size(1);
  if (param == "W_1") {
    // d f_k / d W_1[j, i] = w_2[k, j] x_i: K = (w_2 w_2^T)_{kk'} x^T x'.
    const torch::Tensor outer = torch::bmm(w2, w2.transpose(1, 2));  // [E, O, O]
    const torch::Tensor eye = torch::eye(d, w1.options());
    return torch::einsum("eab,ij->eaibj", {outer, eye}).reshape({E, O * d, O * d});
  }
  if (param == "w_2") {
    // d f_k / d w_2[k'', j] = delta_{k k''} (W_1 x)_j: K = delta_{kk'} x^T W_1^T W_1 x'.
    const torch::Tensor gram = torch::bmm(w1.transpose(1, 2), w1);  // [E, d, d]
    const torch::Tensor eye = torch::eye(O, w1.options());
    return torch::einsum("ab,eij->eaibj", {eye, gram}).reshape({E, O * d, O * d});
  }
  return std::nullopt;
}

namespace {
/// Initial layer scales (NaN: the initializer's own) and balance.
struct Linear2Scales {
  double w1_norm = std::nan("");
  double w2_norm = std::nan("");
  bool balanced = false;
};

/// `w` rescaled to Frobenius norm `norm`; a ConfigError naming model.<key> when it is zero
/// (no direction to keep) or the result is not a float32 matrix of that norm.
torch::Tensor to_norm(const torch::Tensor& w, double norm, const std::string& param, const std::string& key) {
  if (!(norm > 0)) {  // balanced: true with a zero W_1(0)
    throw ConfigError(fmt::format("model.{}: {} would be rescaled to norm {}, a network that cannot learn "
                                  "(W_1(0) is all zeros)", key, param, norm));
  }
  const double current = w.norm().item<double>();
  if (!(current > 0)) {
    throw ConfigError(fmt::format("model.{}: the initial {} is all zeros, so there is no direction to rescale to "
                                  "norm {} (choose another initializer for {})",
                                  key, param, norm, param));
  }
  const torch::Tensor out = w * (norm / current);
  const double got = out.to(torch::kFloat).norm().item<double>();
  if (!(std::abs(got - norm) <= 1e-3 * norm)) {
    throw ConfigError(fmt::format("model.{}: {} rescaled to norm {} is {} in float32 (too small or too large "
                                  "for float32)", key, param, norm, got));
  }
  return out;
}

class Linear2Builder final : public ModelBuilder {
 public:
  Linear2Builder(int64_t inputs, int64_t hidden, int64_t outputs, Linear2Scales scales)
      : inputs_(inputs), hidden_(hidden), outputs_(outputs), scales_(scales) {}
  std::vector<ParameterInfo> parameters() const override {
    // A small initial scale, as in the theory (gradient descent from near zero).
    return {{"W_1", {hidden_, inputs_}, "{name: gaussian, gain: 0.1}", "first layer", roles::kInput},
            {"w_2", {outputs_, hidden_}, "{name: gaussian, gain: 0.1}", "readout", roles::kReadout}};
  }
  std::shared_ptr<Model> build(int64_t members) const override {
    return std::make_shared<Linear2>(inputs_, hidden_, outputs_, members);
  }
  bool has_population_kernel() const override { return true; }
  std::optional<InitAdjustment> init_adjustment(const std::string& param) const override {
    if (param == "W_1" && !std::isnan(scales_.w1_norm)) {
      const double norm = scales_.w1_norm;
      return InitAdjustment{{}, fmt::format("model.W_1_norm: {}", norm),
                            [norm](const torch::Tensor& w, const std::map<std::string, torch::Tensor>&) {
                              return to_norm(w, norm, "W_1", "W_1_norm");
                            }};
    }
    if (param == "w_2" && scales_.balanced) {
      // ||w_2(0)||^2 = tr W_1(0) W_1(0)^T = ||W_1(0)||_F^2, w_2(0)'s direction kept.
      return InitAdjustment{{"W_1"}, "model.balanced: true (||w_2|| = ||W_1||_F)",
                            [](const torch::Tensor& w, const std::map<std::string, torch::Tensor>& done) {
                              return to_norm(w, done.at("W_1").norm().item<double>(), "w_2", "balanced");
                            }};
    }
    if (param == "w_2" && !std::isnan(scales_.w2_norm)) {
      const double norm = scales_.w2_norm;
      return InitAdjustment{{}, fmt::format("model.w_2_norm: {}", norm),
                            [norm](const torch::Tensor& w, const std::map<std::string, torch::Tensor>&) {
                              return to_norm(w, norm, "w_2", "w_2_norm");
                            }};
    }
    return std::nullopt;
  }

 private:
  int64_t inputs_, hidden_, outputs_;
  Linear2Scales scales_;
};

/// A Frobenius norm option: null (the initializer's scale) or a positive number.
double norm_option(Params& p, const std::string& key) {
  if (p.raw(key).IsNull()) return std::nan("");
  return p.get_double_above(key, 0.0);
}
}  // namespace

void register_linear2(ModelRegistry& registry) {
  registry.add({"linear2",
                "two-layer linear network f(x) = w_2^T W_1 x, no biases (PAPER.md section 7)",
                {{"hidden_size", "100", "hidden width h"},
                 {"W_1_norm", "null", "||W_1(0)||_F: W_1's initial matrix rescaled to this Frobenius norm after "
                                      "its initializer (null: the initializer's own scale)"},
                 {"w_2_norm", "null", "||w_2(0)||: the same for the readout"},
                 {"balanced", "false", "give w_2(0) the norm ||W_1(0)||_F, keeping its direction: the trace of the "
                                       "balanced condition W_1 W_1^T = w_2 w_2^T (excludes w_2_norm)"}},
                [](Params& p, const TaskShape& task) -> std::unique_ptr<ModelBuilder> {
                  const int64_t hidden = p.get_int("hidden_size", 1, kMaxUnits);
                  Linear2Scales scales;
                  scales.w1_norm = norm_option(p, "W_1_norm");
                  scales.w2_norm = norm_option(p, "w_2_norm");
                  scales.balanced = p.get_bool("balanced");
                  if (scales.balanced && !std::isnan(scales.w2_norm)) {
                    p.fail("w_2_norm", "cannot be set with balanced: true (which sets ||w_2(0)|| to ||W_1(0)||_F)");
                  }
                  return std::make_unique<Linear2Builder>(task.inputs, hidden, task.outputs, scales);
                }});
}

}  // namespace richlazy::models
