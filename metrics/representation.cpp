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
  double on_step(const StepInfo& s, const HookContext& ctx) override {
    return frobenius_cosine(initial_, kernel(ctx, s.step));
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
  double on_step(const StepInfo& s, const HookContext& ctx) override {
    return sign_similarity(initial_, window(ctx, s.step));
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
  explicit KernelAlignment(std::string param) : param_(std::move(param)) {}
  void on_train_begin(const HookContext& ctx) override { initial_ = kernel(ctx); }
  double on_step(const StepInfo&, const HookContext& ctx) override {
    return frobenius_cosine(initial_, kernel(ctx));
  }

 private:
  torch::Tensor kernel(const HookContext& ctx) const {
    return tangent_kernel(ctx.model, param_, ctx.probe.kernel_inputs(), ctx.probe.kernel_steps());
  }
  std::string param_;
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
                {{"param", "W_rec", "the weight the kernel differentiates"}},
                [](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  const std::string param = p.get_string("param");
                  if (!t.has_parameter(param)) {
                    p.fail("param", "must name a parameter of the model");
                  }
                  return std::make_unique<KernelAlignment>(param);
                }});
}

}  // namespace richlazy::metrics
