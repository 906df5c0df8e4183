// metrics/representation.cpp: rep_alignment, sign_similarity, kernel_alignment and the other
// measures on the probe trials (kernel_task_alignment, hidden_norm_ratio, grad_norm).
#include <richlazy/metrics/laziness.h>
#include <richlazy/metrics/metric_hook.h>
#include <richlazy/tasks/scoring.h>

#include <fmt/format.h>
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

/// Fraction of hidden activities (probe trials x steps x units) whose sign is the same as at
/// step 0: over the decision window (the paper's definition for the cognitive tasks), or over
/// every step of the trial (`window: all`, as the paper measured the sequential images).
class SignSimilarity final : public MetricHook {
 public:
  explicit SignSimilarity(bool all_steps) : all_steps_(all_steps) {}
  void on_train_begin(const HookContext& ctx) override { initial_ = window(ctx, 0).clone(); }
  torch::Tensor on_step(const StepInfo& s, const HookContext& ctx) override {
    return sign_similarity(initial_, window(ctx, s.step), /*member_dim=*/1);
  }

 private:
  torch::Tensor window(const HookContext& ctx, int64_t step) const {
    const torch::Tensor& h = ctx.probe.hidden(ctx.model, step);
    if (all_steps_) return h;
    const tasks::DecisionWindow d = ctx.task.decision();
    return h.index({Slice(d.begin, d.end)});
  }
  bool all_steps_;
  torch::Tensor initial_;
};

/// The tangent kernels of the kernel probe trials w.r.t. `params`, [E, R, R]: with several
/// parameters the sum of their kernels (J = [J_1, J_2]).
torch::Tensor probe_kernel(const HookContext& ctx, const std::vector<std::string>& params) {
  torch::Tensor k;
  for (const auto& param : params) {
    const torch::Tensor kp = tangent_kernel(ctx.model, param, ctx.probe.kernel_inputs(), ctx.probe.kernel_steps());
    k = k.defined() ? k + kp : kp;
  }
  return k;
}

/// The kernel a kernel metric measures: the sampled one of the kernel probe trials, or the
/// model's exact population kernel for whitened Gaussian inputs.
torch::Tensor metric_kernel(const HookContext& ctx, const std::vector<std::string>& params, bool population) {
  return population ? population_kernel(ctx.model, params) : probe_kernel(ctx, params);
}

/// Cosine similarity of the empirical tangent kernel w.r.t. `param` at step 0 and now: every
/// logit at every scored step of the kernel probe trials (8 x 32 x 3 = 768 rows for 2AF), or
/// the population kernels.
class KernelAlignment final : public MetricHook {
 public:
  KernelAlignment(std::vector<std::string> params, bool population)
      : params_(std::move(params)), population_(population) {}
  void on_train_begin(const HookContext& ctx) override { initial_ = metric_kernel(ctx, params_, population_); }
  torch::Tensor on_step(const StepInfo&, const HookContext& ctx) override {
    return member_cosine(initial_, metric_kernel(ctx, params_, population_));
  }

 private:
  std::vector<std::string> params_;
  bool population_;
  torch::Tensor initial_;
};

/// y^T K y / (||y||^2 tr K) of the current tangent kernel of the kernel probe trials (the
/// kernel_alignment kernel) and their targets: how much of the kernel lies along the task.
/// With `population`, the same for the population kernel M and the regression vector beta
/// of the task's linear teacher: beta^T M beta / (||beta||^2 tr M), the limit of the sampled
/// value as the trials grow (centring changes nothing there: the inputs have mean zero).
class KernelTaskAlignment final : public MetricHook {
 public:
  KernelTaskAlignment(std::vector<std::string> params, bool centred, bool population, bool frobenius)
      : params_(std::move(params)), centred_(centred), population_(population), frobenius_(frobenius) {}
  void on_train_begin(const HookContext& ctx) override {
    if (population_) {
      const torch::Tensor beta = ctx.task.linear_teacher()->beta.to(torch::kDouble);
      targets_ = beta.unsqueeze(0).expand({ctx.model.members(), beta.size(0)});
      return;
    }
    const Probe& probe = ctx.probe;
    const int64_t K = probe.kernel_inputs().size(2);
    targets_ = kernel_targets(probe.trials().targets.slice(2, 0, K), probe.kernel_steps(), ctx.task.output_size());
  }
  torch::Tensor on_step(const StepInfo&, const HookContext& ctx) override {
    return kernel_task_alignment(metric_kernel(ctx, params_, population_), targets_, centred_ && !population_,
                                 frobenius_);
  }

 private:
  std::vector<std::string> params_;
  bool centred_, population_, frobenius_;
  torch::Tensor targets_;  // [E, R] float64
};

/// ||h[T-1]||_F / ||h[0]||_F over the probe trials: how much the hidden state grows (> 1) or
/// decays (< 1) from the first step to the last, a sign of the dynamical regime.
class HiddenNormRatio final : public MetricHook {
 public:
  torch::Tensor on_step(const StepInfo& s, const HookContext& ctx) override {
    return hidden_norm_ratio(ctx.model, ctx.probe, s.step);
  }
};

/// ||dL/dW||_F of the task's loss on the probe trials: the size of the gradient the weight
/// sees (at step 0, the initial gradient of the recurrent weight).
class GradNorm final : public MetricHook {
 public:
  explicit GradNorm(std::string param) : param_(std::move(param)) {}
  torch::Tensor on_step(const StepInfo&, const HookContext& ctx) override {
    return probe_loss_and_grad_norm(ctx.model, ctx.task, ctx.probe, param_).second;
  }

 private:
  std::string param_;
};

/// The `param` option of the kernel metrics: one weight (default: the recurrent one) or a list.
std::vector<std::string> kernel_params(Params& p, const MetricTarget& t, const std::string& metric) {
  if (p.raw("param").IsNull()) return {t.parameter(p, metric, "param", models::roles::kRecurrent)};
  const std::vector<std::string> params = p.get_string_list("param");
  for (const auto& param : params) {
    if (!t.has_parameter(param)) {
      p.fail("param", "must name parameters of the model (" + models::describe_parameters(t.parameters) + ")");
    }
  }
  return params;
}

/// The `population` option of the kernel metrics: null means "when the model and task have
/// it" (linear2 on teacher_student).
bool population_option(Params& p, const MetricTarget& t, const std::string& metric) {
  if (p.raw("population").IsNull()) return t.population_kernel;
  const bool population = p.get_bool("population");
  if (population && !t.population_kernel) {
    p.fail("population", fmt::format("needs a model with a closed-form population kernel (linear2) on a task with "
                                     "fresh whitened Gaussian inputs (teacher_student without a fixed "
                                     "train_size); {} on {} has none (leave population unset, and {} uses the "
                                     "sampled kernel of the kernel probe trials)",
                                     t.model, t.task.name(), metric));
  }
  return population;
}

const char* kPopulationDoc =
    "true: the exact population kernel for whitened Gaussian inputs (for linear2, ||w_2||^2 I + W_1^T W_1 "
    "over both layers) instead of the sampled kernel of the kernel probe trials; null: true where the model "
    "and task have one (linear2 on teacher_student with fresh samples, train_size 0)";
}  // namespace

torch::Tensor hidden_norm_ratio(models::Model& model, Probe& probe, int64_t step) {
  const torch::Tensor h = probe.hidden(model, step).to(torch::kDouble);  // [T, E, P, N]
  const torch::Tensor first = h[0].flatten(1).norm(2, {1}), last = h[h.size(0) - 1].flatten(1).norm(2, {1});
  return last / first;
}

std::pair<torch::Tensor, torch::Tensor> probe_loss_and_grad_norm(models::Model& model, const tasks::Task& task,
                                                                 const Probe& probe, const std::string& param) {
  torch::AutoGradMode enable(true);
  const tasks::TrialBatch& trials = probe.trials();
  const torch::Tensor w = model.weight(param);
  const torch::Tensor loss = tasks::task_loss(task.loss(), model.forward(trials.inputs).logits, trials);  // [E]
  const torch::Tensor g = torch::autograd::grad({loss.sum()}, {w})[0].detach().to(torch::kDouble);
  return {loss.detach().to(torch::kDouble), g.flatten(1).norm(2, {1})};
}

torch::Tensor initial_state(models::Model& model, const tasks::Task& task, Probe& probe,
                            const std::vector<models::ParameterInfo>& parameters) {
  const models::ParameterInfo* rec = models::find_role(parameters, models::roles::kRecurrent);
  auto [loss, grad] = probe_loss_and_grad_norm(model, task, probe, rec ? rec->name : parameters.front().name);
  torch::Tensor ratio;
  {
    torch::NoGradGuard no_grad;
    ratio = hidden_norm_ratio(model, probe, 0);
  }
  torch::Tensor state = torch::stack({loss, ratio, grad}).to(torch::kCPU);
  if (!rec) state[2].fill_(std::nan(""));
  return state;
}

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
                {{"window", "decision", "the steps counted: decision (the task's decision window) or all "
                                        "(every step of the trial)"}},
                [](Params& p, const MetricTarget&) -> std::unique_ptr<MetricHook> {
                  return std::make_unique<SignSimilarity>(p.get_choice("window", {"decision", "all"}) == "all");
                }});
  registry.add({"kernel_alignment",
                "tangent-kernel alignment: cosine similarity of the empirical tangent kernel "
                "w.r.t. `param` (every logit at every scored step of the kernel probe trials) at "
                "step 0 and now",
                {{"param", "null", "the weight the kernel differentiates, or a list of weights "
                                   "(e.g. [W_1, w_2] for linear2: the kernel w.r.t. both layers; w_2 alone: "
                                   "its W_1^T W_1 part); default: the model's recurrent weight"},
                 {"population", "null", kPopulationDoc}},
                [](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  std::vector<std::string> params = kernel_params(p, t, "kernel_alignment");
                  const bool population = population_option(p, t, "kernel_alignment");
                  return std::make_unique<KernelAlignment>(std::move(params), population);
                }});
  registry.add({"hidden_norm_ratio",
                "||h[T-1]||_F / ||h[0]||_F: the hidden state's norm at the last step of the probe "
                "trials relative to the first (> 1 grows, < 1 decays)",
                {},
                [](Params&, const MetricTarget&) -> std::unique_ptr<MetricHook> {
                  return std::make_unique<HiddenNormRatio>();
                }});
  registry.add({"grad_norm",
                "||dL/dW||_F, the gradient of the task's loss on the probe trials w.r.t. `param` (at "
                "step 0: the initial gradient)",
                {{"param", "null", "the weight; default: the model's recurrent weight"}},
                [](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  return std::make_unique<GradNorm>(t.parameter(p, "grad_norm", "param", models::roles::kRecurrent));
                }});
  registry.add({"kernel_task_alignment",
                "kernel-task alignment y^T K y / (||y||^2 tr K): K the tangent kernel of "
                "kernel_alignment now, y the targets of its rows (one-hot classes, or values for "
                "regression); the fraction of the kernel along the task (PAPER.md Figure 4)",
                {{"param", "null", "the weight the kernel differentiates, or a list of weights; "
                                   "default: the model's recurrent weight"},
                 {"centred", "false", "centre K and y over the rows (H K H, H y) first, discounting "
                                      "the common mode (no change for the population kernel: its inputs have mean 0)"},
                 {"normalize", "trace", "trace: divide by ||y||^2 tr K; frobenius: by ||y||^2 ||K||_F, the cosine "
                                        "between K and y y^T (Cristianini et al.'s kernel-target alignment)"},
                 {"population", "null", std::string(kPopulationDoc) + "; y is then the teacher's beta"}},
                [](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  std::vector<std::string> params = kernel_params(p, t, "kernel_task_alignment");
                  const bool centred = p.get_bool("centred");
                  const bool frobenius = p.get_choice("normalize", {"trace", "frobenius"}) == "frobenius";
                  const bool population = population_option(p, t, "kernel_task_alignment");
                  if (population && !t.task.linear_teacher()) {
                    p.fail("population", "needs a task with a linear teacher y = beta^T x (teacher_student)");
                  }
                  return std::make_unique<KernelTaskAlignment>(std::move(params), centred, population, frobenius);
                }});
}

}  // namespace richlazy::metrics
