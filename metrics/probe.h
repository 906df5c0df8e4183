// richlazy/metrics/probe.h: the fixed probe trials on which laziness is measured.
// Drawn once per run from the run's own "probe" stream, never trained on: 320 trials (ten
// of the reference's batches) for representation alignment and sign similarity, the first
// 32 of them for the tangent kernel (PAPER.md section 5). Sizes come from the config.
#pragma once

#include <richlazy/models/model.h>
#include <richlazy/tasks/task.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace richlazy::metrics {

class Probe {
 public:
  /// `trials` on the run's device; the kernel uses its first `kernel_trials` trials.
  Probe(tasks::TrialBatch trials, int64_t kernel_trials);

  const tasks::TrialBatch& trials() const { return trials_; }
  int64_t size() const { return trials_.inputs.size(1); }
  /// Inputs of the kernel trials, [T, K, n_in].
  torch::Tensor kernel_inputs() const;
  /// The steps whose logits are the tangent kernel's rows: the steps the loss scores (every
  /// step for the cognitive tasks, as in the reference).
  const std::vector<int64_t>& kernel_steps() const { return kernel_steps_; }

  /// Hidden states [T, P, N] of `model` on all probe trials, computed once per `step` and
  /// shared by the hooks that need them.
  const torch::Tensor& hidden(models::Model& model, int64_t step);

 private:
  tasks::TrialBatch trials_;
  int64_t kernel_trials_;
  std::vector<int64_t> kernel_steps_;
  int64_t cached_step_ = -1;
  torch::Tensor hidden_;
};

/// Held-out trials for test_loss and test_accuracy: the task's own held-out set (an image
/// test split) or `trials` fresh trials from the run's "test" stream, drawn when first used.
/// Scores are computed once per step.
class EvaluationSet {
 public:
  EvaluationSet(const tasks::Task& task, uint64_t seed, int64_t trials, torch::Device device);

  /// (loss, accuracy) of `model` at `step`; accuracy is NaN for regression tasks.
  std::pair<double, double> scores(models::Model& model, int64_t step);

 private:
  const tasks::Task& task_;
  uint64_t seed_;
  int64_t trials_;
  torch::Device device_;
  std::optional<tasks::TrialBatch> set_;
  int64_t cached_step_ = -1;
  std::pair<double, double> cached_{0, 0};
};

}  // namespace richlazy::metrics
