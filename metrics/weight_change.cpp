// metrics/weight_change.cpp: how far the weights moved from their initial values.
// Every hook here measures each member of a pack on its own: values are [E].
#include <richlazy/metrics/effective_rank.h>
#include <richlazy/metrics/metric_hook.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <cmath>

namespace richlazy::metrics {

namespace {
/// ||a[e] - b[e]||_F for every member e, float64 [E], computed in float64.
torch::Tensor member_distance(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).flatten(1).norm(2, 1);
}

/// The same, cheaper, for every update: the difference of two float32 numbers is exact to
/// half an ulp, and its squares are summed in float64 (3x cheaper than converting first).
torch::Tensor member_distance_fast(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor d = (a - b).flatten(1);
  return at::sum(d * d, {1}, false, torch::kDouble).sqrt();
}

/// ||W(t) - W(0)||_F, optionally divided by ||W(0)||_F (PAPER.md section 5).
class WeightChange final : public MetricHook {
 public:
  WeightChange(std::string param, bool relative) : param_(std::move(param)), relative_(relative) {}

  void on_train_begin(const HookContext& ctx) override {
    initial_ = ctx.model.weight(param_).detach().to(torch::kDouble).clone();
    initial_norm_ = initial_.flatten(1).norm(2, 1);
  }

  torch::Tensor on_step(const StepInfo&, const HookContext& ctx) override {
    const torch::Tensor d = member_distance(ctx.model.weight(param_).detach(), initial_);
    return relative_ ? d / initial_norm_ : d;
  }

 private:
  std::string param_;
  bool relative_;
  torch::Tensor initial_;
  torch::Tensor initial_norm_;
};

/// The effective rank of W(t) (or of W(t) - W(0)) by one of the four measures.
class EffectiveRank final : public MetricHook {
 public:
  EffectiveRank(std::string param, bool delta, std::string measure)
      : param_(std::move(param)), delta_(delta), measure_(std::move(measure)) {}

  void on_train_begin(const HookContext& ctx) override {
    if (delta_) initial_ = weights(ctx).clone();
  }

  torch::Tensor on_step(const StepInfo&, const HookContext& ctx) override {
    torch::Tensor w = weights(ctx);
    if (delta_) w = w - initial_;
    return member_effective_rank(w, measure_);
  }

 private:
  /// [E, rows, cols] float64 on the weights' device (a vector parameter as one column).
  torch::Tensor weights(const HookContext& ctx) const {
    const torch::Tensor w = ctx.model.weight(param_).detach().to(torch::kDouble);
    return w.dim() == 2 ? w.unsqueeze(2) : w;
  }
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
    length_ = torch::zeros({w.size(0)}, w.options().dtype(torch::kDouble));
  }
  int64_t iteration_every() const override { return every_; }

  void on_iteration(int64_t, const HookContext& ctx) override {
    const torch::Tensor w = ctx.model.weight(param_).detach();
    length_.add_(member_distance_fast(w, last_));
    last_.copy_(w);
  }
  torch::Tensor on_step(const StepInfo&, const HookContext& ctx) override {
    return length_ + member_distance_fast(ctx.model.weight(param_).detach(), last_);
  }
  std::map<std::string, torch::Tensor> save_state() const override { return {{"length", length_}, {"last", last_}}; }
  void load_state(const std::map<std::string, torch::Tensor>& state) override {
    length_.copy_(state.at("length"));
    last_.copy_(state.at("last"));
  }

 private:
  std::string param_;
  int64_t every_;
  torch::Tensor length_;
  torch::Tensor last_;
};

void add_weight_change(MetricRegistry& registry, const std::string& name, const std::string& role,
                       bool relative, const std::string& description) {
  registry.add({name, description, {},
                [name, role, relative](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  return std::make_unique<WeightChange>(t.parameter_with_role(p, name, role), relative);
                }});
}

const ParamSpec kParamOption{"param", "null", "the weight measured; default: the model's recurrent weight"};

void add_effective_rank(MetricRegistry& registry, const std::string& name, bool delta,
                        const std::string& description) {
  registry.add({name, description,
                {{"measure", "roy_vetterli",
                  "roy_vetterli | nuclear_ratio | participation_ratio | stable_rank | eig (sum |lambda_i| / "
                  "(|lambda_1| n), square weights only)"},
                 kParamOption},
                [name, delta](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  const std::string measure = p.get_choice(
                      "measure", {"roy_vetterli", "nuclear_ratio", "participation_ratio", "stable_rank", "eig"});
                  const std::string param = t.parameter(p, name, "param", models::roles::kRecurrent);
                  if (measure == "eig") {
                    for (const auto& info : t.parameters) {
                      if (info.name == param && (info.shape.size() != 2 || info.shape[0] != info.shape[1])) {
                        p.fail("measure", fmt::format("eig needs a square weight, and {} is {}", param,
                                                      fmt::join(info.shape, " x ")));
                      }
                    }
                  }
                  return std::make_unique<EffectiveRank>(param, delta, measure);
                }});
}
}  // namespace

void register_weight_change(MetricRegistry& registry) {
  using namespace models::roles;
  add_weight_change(registry, "dw_rec", kRecurrent, false,
                    "||W_rec(t) - W_rec(0)||_F, W_rec the model's recurrent weight");
  add_weight_change(registry, "dw_rec_rel", kRecurrent, true,
                    "||W_rec(t) - W_rec(0)||_F / ||W_rec(0)||_F");
  add_weight_change(registry, "dw_in", kInput, false, "||W_in(t) - W_in(0)||_F, W_in the model's input weight");
  add_weight_change(registry, "dw_out", kReadout, false,
                    "||W_out(t) - W_out(0)||_F, W_out the model's readout weight");
  registry.add({"dw", "||W(t) - W(0)||_F of any weight (option param), or / ||W(0)||_F",
                {kParamOption, {"relative", "false", "divide by ||W(0)||_F"}},
                [](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  const std::string param = t.parameter(p, "dw", "param", kRecurrent);
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
                  return std::make_unique<PathLength>(t.parameter(p, "path_length_rec", "param", kRecurrent),
                                                      every);
                }});
}

}  // namespace richlazy::metrics
