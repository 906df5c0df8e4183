// richlazy/metrics/metric_hook.h: the interface of a logged measure.
// A hook observes training and never changes it: it runs under NoGradGuard, draws no
// numbers from the training streams and writes no parameter. The trainer calls it at step 0
// (before the first update), every `metrics.every` updates, and at the end. One hook serves
// every member of a pack (models/model.h) and gives one value per member.
#pragma once

#include <richlazy/core/registry.h>
#include <richlazy/metrics/probe.h>
#include <richlazy/models/model.h>
#include <richlazy/tasks/task.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace richlazy::metrics {

/// Where training stands when a hook is called.
struct StepInfo {
  int64_t step = 0;        ///< optimizer updates done so far
  int64_t iterations = 0;  ///< total updates planned
  /// Mean training loss / decision accuracy of each member over the batches since the
  /// previous logged step (at step 0: the first batch, scored before any update): [E]
  /// float64 on the training device.
  torch::Tensor train_loss;
  torch::Tensor train_accuracy;
};

/// What a hook may look at.
struct HookContext {
  models::Model& model;  ///< all E members
  const tasks::Task& task;
  torch::Device device;
  Probe& probe;         ///< each member's fixed probe trials (and their hidden states at this step)
  EvaluationSet& test;  ///< held-out trials for test_loss / test_accuracy
};

class MetricHook {
 public:
  virtual ~MetricHook() = default;
  /// Called once before training; snapshot what step 0 looks like (detached clones).
  virtual void on_train_begin(const HookContext&) {}
  /// The metric's value for every member at this step: [E], any floating dtype, on any
  /// device. The trainer reads all hooks' values back in one transfer per logged step.
  virtual torch::Tensor on_step(const StepInfo& info, const HookContext& ctx) = 0;

  /// Hooks that follow training on their own schedule (e.g. the path length, after every
  /// update) return their interval in updates here; 0 = only at logged steps.
  virtual int64_t iteration_every() const { return 0; }
  /// Called after update number `step` when step is a multiple of iteration_every().
  virtual void on_iteration(int64_t step, const HookContext& ctx) { (void)step, (void)ctx; }

  /// Checkpoints (train.checkpoint_every): a resumed run calls on_train_begin with the
  /// initial weights, as training did, and then load_state with what save_state returned at
  /// the checkpoint. A hook whose state changes during training (an accumulated sum, the
  /// previous weights) returns it here: tensors with a leading member dimension [E, ...] (the
  /// trainer splits them by member and stacks them again), or 0-dimensional ones. Hooks that
  /// only snapshot step 0 in on_train_begin need neither.
  virtual std::map<std::string, torch::Tensor> save_state() const { return {}; }
  virtual void load_state(const std::map<std::string, torch::Tensor>& state) { (void)state; }
};

/// What a metric is asked to measure, known when the config is validated.
struct MetricTarget {
  const std::vector<models::ParameterInfo>& parameters;
  const tasks::Task& task;
  std::string model = "the model";  ///< the model's name, for messages
  /// The model has Model::population_kernel and the task whitened Gaussian inputs: the
  /// kernel metrics can use the exact population kernel.
  bool population_kernel = false;

  /// True when the model has a parameter called `name`.
  bool has_parameter(const std::string& name) const;

  /// The parameter metric `metric` measures, validated: the one option `key` of `p` names,
  /// or by default (option absent or null) the model's parameter with `role`. A ConfigError
  /// names the parameter, the role and the model's parameters when there is no such one.
  std::string parameter(Params& p, const std::string& metric, const std::string& key,
                        const std::string& role) const;
  /// The same for a metric without options: always the parameter with `role`.
  std::string parameter_with_role(Params& p, const std::string& metric, const std::string& role) const;
};

using MetricRegistry = Registry<MetricHook, const MetricTarget&>;

/// Registers every built-in metric: loss, accuracy, dw_*, rep_alignment, kernel_alignment,
/// sign_similarity, erank_rec, erank_delta_rec, path_length_rec.
void register_builtin_metrics(MetricRegistry& registry);

void register_training_stats(MetricRegistry& registry);
void register_weight_change(MetricRegistry& registry);
void register_representation_metrics(MetricRegistry& registry);

}  // namespace richlazy::metrics
