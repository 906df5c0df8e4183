// richlazy/metrics/probe.h: the fixed probe trials on which laziness is measured.
// Each member of a pack draws its own probe once from its seed's "probe" stream, never
// trained on: 320 trials (ten of the reference's batches) for representation alignment and
// sign similarity, the first 32 of them for the tangent kernel (PAPER.md section 5). Sizes
// come from the config.
#pragma once

#include <richlazy/models/model.h>
#include <richlazy/tasks/task.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace richlazy::metrics {

/// Draws `trials` trials of `task` for each seed from the seed's stream `stream`, stacked in
/// the member layout [T, E, trials, ...] (tasks/task.h) on `device`. Members that share a
/// seed share their draw (drawn once).
tasks::TrialBatch draw_member_trials(const tasks::Task& task, const std::vector<uint64_t>& seeds,
                                     const std::string& stream, int64_t trials, torch::Device device);

class Probe {
 public:
  /// `trials` in the member layout on the run's device; the kernel uses the first
  /// `kernel_trials` trials of each member.
  Probe(tasks::TrialBatch trials, int64_t kernel_trials);

  const tasks::TrialBatch& trials() const { return trials_; }
  /// Trials per member, P.
  int64_t size() const { return trials_.inputs.size(2); }
  /// Inputs of the kernel trials, [T, E, K, n_in].
  torch::Tensor kernel_inputs() const;
  /// The steps whose logits are the tangent kernel's rows: the steps the loss scores (every
  /// step for the cognitive tasks, as in the reference).
  const std::vector<int64_t>& kernel_steps() const { return kernel_steps_; }

  /// Hidden states [T, E, P, N] of `model` on the probe trials, computed once per `step` and
  /// shared by the hooks that need them.
  const torch::Tensor& hidden(models::Model& model, int64_t step);

 private:
  tasks::TrialBatch trials_;
  int64_t kernel_trials_;
  std::vector<int64_t> kernel_steps_;
  int64_t cached_step_ = -1;
  torch::Tensor hidden_;
};

/// ||h[T-1]||_F / ||h[0]||_F of each member's hidden states on the probe trials at `step`
/// (hidden_norm_ratio): [E] float64.
torch::Tensor hidden_norm_ratio(models::Model& model, Probe& probe, int64_t step);

/// Each member's task loss on the probe trials and the Frobenius norm of its gradient with
/// respect to weight `param` (grad_norm): ([E], [E]) float64. Members are independent, so the
/// gradient of their summed losses is each member's own.
std::pair<torch::Tensor, torch::Tensor> probe_loss_and_grad_norm(models::Model& model, const tasks::Task& task,
                                                                 const Probe& probe, const std::string& param);

/// The initial state every run logs (summary.json's initial_state, `init describe`): each
/// member's probe loss, hidden_norm_ratio at step 0, and the Frobenius norm of the loss's
/// gradient with respect to the model's recurrent weight (NaN for a model without one), as
/// rows of a [3, E] float64 tensor on the CPU. Draws nothing and moves no weight.
torch::Tensor initial_state(models::Model& model, const tasks::Task& task, Probe& probe,
                            const std::vector<models::ParameterInfo>& parameters);

/// Held-out trials for test_loss and test_accuracy: the task's own held-out set (an image
/// test split, shared by every member) or `trials` fresh trials from each member's "test"
/// stream, drawn when first used. Scores are computed once per step.
class EvaluationSet {
 public:
  /// Fresh trials come from each member's stream `stream`.
  EvaluationSet(const tasks::Task& task, std::vector<uint64_t> seeds, int64_t trials,
                torch::Device device, std::string stream = "test");

  /// (loss, accuracy) of each member of `model` at `step`, [E] float64 each on the device;
  /// accuracy is NaN for regression tasks.
  const std::pair<torch::Tensor, torch::Tensor>& scores(models::Model& model, int64_t step);

 private:
  const tasks::Task& task_;
  std::vector<uint64_t> seeds_;
  int64_t trials_;
  torch::Device device_;
  std::string stream_;
  std::optional<tasks::TrialBatch> set_;
  int64_t cached_step_ = -1;
  std::pair<torch::Tensor, torch::Tensor> cached_;
};

}  // namespace richlazy::metrics
