// metrics/weight_change.cpp: how far the weights moved from their initial values.
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

void add_weight_change(MetricRegistry& registry, const std::string& name,
                       const std::string& param, bool relative, const std::string& description) {
  registry.add({name, description, {},
                [name, param, relative](Params& p,
                                        const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  if (!t.has_parameter(param)) {
                    p.fail_bare("name", name + " measures " + param +
                                            ", which this model does not have");
                  }
                  return std::make_unique<WeightChange>(param, relative);
                }});
}
}  // namespace

void register_weight_change(MetricRegistry& registry) {
  add_weight_change(registry, "dw_rec", "W_rec", false, "||W_rec(t) - W_rec(0)||_F");
  add_weight_change(registry, "dw_rec_rel", "W_rec", true,
                    "||W_rec(t) - W_rec(0)||_F / ||W_rec(0)||_F");
  add_weight_change(registry, "dw_in", "W_in", false, "||W_in(t) - W_in(0)||_F");
  add_weight_change(registry, "dw_out", "W_out", false, "||W_out(t) - W_out(0)||_F");
}

}  // namespace richlazy::metrics
