// richlazy/metrics/metric_hook.h: the interface of a logged measure.
// A hook observes training and never changes it: it runs under NoGradGuard, draws no
// numbers from the training streams and writes no parameter. The trainer calls it at step 0
// (before the first update), every `metrics.every` updates, and at the end.
#pragma once

#include <richlazy/core/registry.h>
#include <richlazy/models/model.h>
#include <richlazy/tasks/task.h>

#include <cstdint>
#include <string>
#include <vector>

namespace richlazy::metrics {

/// Where training stands when a hook is called.
struct StepInfo {
  int64_t step = 0;        ///< optimizer updates done so far
  int64_t iterations = 0;  ///< total updates planned
  /// Mean training loss / decision accuracy over the batches since the previous logged
  /// step (at step 0: the first batch, scored before any update).
  double train_loss = 0;
  double train_accuracy = 0;
};

/// What a hook may look at.
struct HookContext {
  models::Model& model;
  const tasks::Task& task;
  torch::Device device;
  uint64_t seed;  ///< the run's seed, for hooks that draw their own probe trials
};

class MetricHook {
 public:
  virtual ~MetricHook() = default;
  /// Called once before training; snapshot what step 0 looks like (detached clones).
  virtual void on_train_begin(const HookContext&) {}
  /// The metric's value at this step.
  virtual double on_step(const StepInfo& info, const HookContext& ctx) = 0;
};

/// What a metric is asked to measure, known when the config is validated.
struct MetricTarget {
  const std::vector<models::ParameterInfo>& parameters;
  const tasks::Task& task;

  /// True when the model has a parameter called `name`.
  bool has_parameter(const std::string& name) const;
};

using MetricRegistry = Registry<MetricHook, const MetricTarget&>;

/// Registers loss, accuracy, dw_rec, dw_rec_rel, dw_in, dw_out.
void register_builtin_metrics(MetricRegistry& registry);

void register_training_stats(MetricRegistry& registry);
void register_weight_change(MetricRegistry& registry);

}  // namespace richlazy::metrics
