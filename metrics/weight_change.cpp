// metrics/weight_change.cpp: how far the weights moved from their initial values.
#include <richlazy/metrics/effective_rank.h>
#include <richlazy/metrics/metric_hook.h>

#include <torch/torch.h>

namespace richlazy::metrics {

namespace {
/// ||W(t) - W(0)||_F, optionally divided by ||W(0)||_F (PAPER.md section 5).
class WeightChange final : public MetricHook {
 public:
  WeightChange(std::string param, bool relative) : param_(std::move(param)), relative_(relative) {}

  void on_train_begin(const HookContext& ctx) override {
    initial_ = ctx.model.weight(param_).detach().to(torch::kDouble).clone();
    initial_norm_ = initial_.norm().item<double>();
  }

  double on_step(const StepInfo&, const HookContext& ctx) override {
    const double d =
        (ctx.model.weight(param_).detach().to(torch::kDouble) - initial_).norm().item<double>();
    return relative_ ? d / initial_norm_ : d;
  }

 private:
  std::string param_;
  bool relative_;
  torch::Tensor initial_;
  double initial_norm_ = 0;
};

/// The effective rank of W(t) (or of W(t) - W(0)) by one of the four measures.
class EffectiveRank final : public MetricHook {
 public:
  EffectiveRank(std::string param, bool delta, std::string measure)
      : param_(std::move(param)), delta_(delta), measure_(std::move(measure)) {}

  void on_train_begin(const HookContext& ctx) override {
    if (delta_) initial_ = ctx.model.weight(param_).detach().to(torch::kDouble).clone();
  }

  double on_step(const StepInfo&, const HookContext& ctx) override {
    torch::Tensor w = ctx.model.weight(param_).detach().to(torch::kDouble);
    if (delta_) w = w - initial_;
    const SpectrumMeasures m = spectrum_measures(w);
    if (measure_ == "nuclear_ratio") return m.nuclear_ratio;
    if (measure_ == "participation_ratio") return m.participation_ratio;
    if (measure_ == "stable_rank") return m.stable_rank;
    return m.roy_vetterli;
  }

 private:
  std::string param_;
  bool delta_;
  std::string measure_;
  torch::Tensor initial_;
};

/// Sum of ||W(k+1) - W(k)||_F over intervals of `every` updates: the length of the path the
/// weights travel, a proxy for the plasticity cost. Accumulated on its own schedule, so it
/// does not depend on how often metrics are logged; a logged value adds the distance from
/// the last interval's end without committing it.
class PathLength final : public MetricHook {
 public:
  PathLength(std::string param, int64_t every) : param_(std::move(param)), every_(every) {}

  void on_train_begin(const HookContext& ctx) override {
    const torch::Tensor w = ctx.model.weight(param_).detach();
    last_ = w.clone();
    // Accumulated on the weights' device and read only when logged: no host sync per update.
    length_ = torch::zeros({}, w.options().dtype(torch::kDouble));
  }
  int64_t iteration_every() const override { return every_; }

  /// ||a - b||_F as a float64 0-dim tensor: the difference of two float32 numbers is exact to
  /// half an ulp, and its squares are summed in float64 (3x cheaper than converting first).
  static torch::Tensor distance(const torch::Tensor& a, const torch::Tensor& b) {
    const torch::Tensor d = a - b;
    return at::sum(d * d, torch::kDouble).sqrt();
  }

  void on_iteration(int64_t, const HookContext& ctx) override {
    const torch::Tensor w = ctx.model.weight(param_).detach();
    length_.add_(distance(w, last_));
    last_.copy_(w);
  }
  double on_step(const StepInfo&, const HookContext& ctx) override {
    const torch::Tensor w = ctx.model.weight(param_).detach();
    return (length_ + distance(w, last_)).item<double>();
  }

 private:
  std::string param_;
  int64_t every_;
  torch::Tensor length_;
  torch::Tensor last_;
};

void require_parameter(Params& p, const MetricTarget& t, const std::string& metric,
                       const std::string& param) {
  if (!t.has_parameter(param)) {
    p.fail_bare("name", metric + " measures " + param + ", which this model does not have");
  }
}

void add_weight_change(MetricRegistry& registry, const std::string& name,
                       const std::string& param, bool relative, const std::string& description) {
  registry.add({name, description, {},
                [name, param, relative](Params& p,
                                        const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  require_parameter(p, t, name, param);
                  return std::make_unique<WeightChange>(param, relative);
                }});
}

/// The weight a metric measures: option `param`, W_rec by default.
std::string measured_parameter(Params& p, const MetricTarget& t, const std::string& metric) {
  const std::string param = p.get_string("param");
  require_parameter(p, t, metric, param);
  return param;
}

const ParamSpec kParamOption{"param", "W_rec", "the weight measured"};

void add_effective_rank(MetricRegistry& registry, const std::string& name, bool delta,
                        const std::string& description) {
  registry.add({name, description,
                {{"measure", "roy_vetterli",
                  "roy_vetterli | nuclear_ratio | participation_ratio | stable_rank"},
                 kParamOption},
                [name, delta](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  const std::string measure = p.get_choice(
                      "measure", {"roy_vetterli", "nuclear_ratio", "participation_ratio", "stable_rank"});
                  return std::make_unique<EffectiveRank>(measured_parameter(p, t, name), delta, measure);
                }});
}
}  // namespace

void register_weight_change(MetricRegistry& registry) {
  add_weight_change(registry, "dw_rec", "W_rec", false, "||W_rec(t) - W_rec(0)||_F");
  add_weight_change(registry, "dw_rec_rel", "W_rec", true,
                    "||W_rec(t) - W_rec(0)||_F / ||W_rec(0)||_F");
  add_weight_change(registry, "dw_in", "W_in", false, "||W_in(t) - W_in(0)||_F");
  add_weight_change(registry, "dw_out", "W_out", false, "||W_out(t) - W_out(0)||_F");
  registry.add({"dw", "||W(t) - W(0)||_F of any weight (option param), or / ||W(0)||_F",
                {kParamOption, {"relative", "false", "divide by ||W(0)||_F"}},
                [](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  const std::string param = measured_parameter(p, t, "dw");
                  return std::make_unique<WeightChange>(param, p.get_bool("relative"));
                }});
  add_effective_rank(registry, "erank_rec", false,
                     "effective rank of W_rec(t) (Roy-Vetterli unless measure says otherwise)");
  add_effective_rank(registry, "erank_delta_rec", true,
                     "effective rank of W_rec(t) - W_rec(0) (0 at step 0)");
  registry.add({"path_length_rec",
                "sum of ||W_rec(k+1) - W_rec(k)||_F over intervals of `every` updates (plasticity "
                "cost proxy; independent of metrics.every)",
                {{"every", "1", "interval in updates; every >= iterations gives dw_rec"}, kParamOption},
                [](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  const int64_t every = p.get_int("every", 1);
                  return std::make_unique<PathLength>(measured_parameter(p, t, "path_length_rec"), every);
                }});
}

}  // namespace richlazy::metrics
