// metrics/representation.cpp: rep_alignment, sign_similarity and kernel_alignment hooks.
#include <richlazy/metrics/laziness.h>
#include <richlazy/metrics/metric_hook.h>

#include <torch/torch.h>

namespace richlazy::metrics {

namespace {
using torch::indexing::Slice;

/// Cosine similarity of K_R = H H^T at step 0 and now, H the hidden states at the last
/// decision step of the probe trials (the reference: 320 trials, step 7).
class RepAlignment final : public MetricHook {
 public:
  void on_train_begin(const HookContext& ctx) override { initial_ = kernel(ctx, 0); }
  torch::Tensor on_step(const StepInfo& s, const HookContext& ctx) override {
    return member_cosine(initial_, kernel(ctx, s.step));
  }

 private:
  static torch::Tensor kernel(const HookContext& ctx, int64_t step) {
    const int64_t last = ctx.task.decision().end - 1;
    return representation_kernel(ctx.probe.hidden(ctx.model, step)[last]);
  }
  torch::Tensor initial_;
};

/// Fraction of hidden activities (probe trials x decision steps x units) whose sign is
/// the same as at step 0.
class SignSimilarity final : public MetricHook {
 public:
  void on_train_begin(const HookContext& ctx) override { initial_ = window(ctx, 0).clone(); }
  torch::Tensor on_step(const StepInfo& s, const HookContext& ctx) override {
    return sign_similarity(initial_, window(ctx, s.step), /*member_dim=*/1);
  }

 private:
  static torch::Tensor window(const HookContext& ctx, int64_t step) {
    const tasks::DecisionWindow d = ctx.task.decision();
    return ctx.probe.hidden(ctx.model, step).index({Slice(d.begin, d.end)});
  }
  torch::Tensor initial_;
};

/// Cosine similarity of the empirical tangent kernel w.r.t. `param` at step 0 and now: every
/// logit at every scored step of the kernel probe trials (8 x 32 x 3 = 768 rows for 2AF).
class KernelAlignment final : public MetricHook {
 public:
  explicit KernelAlignment(std::vector<std::string> params) : params_(std::move(params)) {}
  void on_train_begin(const HookContext& ctx) override { initial_ = kernel(ctx); }
  torch::Tensor on_step(const StepInfo&, const HookContext& ctx) override {
    return member_cosine(initial_, kernel(ctx));
  }

 private:
  // The kernel w.r.t. several parameters is the sum of their kernels (J = [J_1, J_2]).
  torch::Tensor kernel(const HookContext& ctx) const {
    torch::Tensor k;
    for (const auto& param : params_) {
      const torch::Tensor kp =
          tangent_kernel(ctx.model, param, ctx.probe.kernel_inputs(), ctx.probe.kernel_steps());
      k = k.defined() ? k + kp : kp;
    }
    return k;
  }
  std::vector<std::string> params_;
  torch::Tensor initial_;
};
}  // namespace

void register_representation_metrics(MetricRegistry& registry) {
  registry.add({"rep_alignment",
                "representation alignment: cosine similarity of H H^T at step 0 and now, H the "
                "hidden states at the last decision step of the probe trials",
                {},
                [](Params&, const MetricTarget&) -> std::unique_ptr<MetricHook> {
                  return std::make_unique<RepAlignment>();
                }});
  registry.add({"sign_similarity",
                "fraction of hidden activities (probe trials x decision steps x units) whose "
                "sign is unchanged since step 0",
                {},
                [](Params&, const MetricTarget&) -> std::unique_ptr<MetricHook> {
                  return std::make_unique<SignSimilarity>();
                }});
  registry.add({"kernel_alignment",
                "tangent-kernel alignment: cosine similarity of the empirical tangent kernel "
                "w.r.t. `param` (every logit at every scored step of the kernel probe trials) at "
                "step 0 and now",
                {{"param", "null", "the weight the kernel differentiates, or a list of weights "
                                   "(e.g. [W_1, w_2] for linear2: the kernel w.r.t. both layers); "
                                   "default: the model's recurrent weight"}},
                [](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  if (p.raw("param").IsNull()) {
                    return std::make_unique<KernelAlignment>(std::vector<std::string>{
                        t.parameter(p, "kernel_alignment", "param", models::roles::kRecurrent)});
                  }
                  const std::vector<std::string> params = p.get_string_list("param");
                  for (const auto& param : params) {
                    if (!t.has_parameter(param)) {
                      p.fail("param", "must name parameters of the model (" +
                                          models::describe_parameters(t.parameters) + ")");
                    }
                  }
                  return std::make_unique<KernelAlignment>(params);
                }});
}

}  // namespace richlazy::metrics
