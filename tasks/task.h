// richlazy/tasks/task.h: the interface of a task, a seeded generator of trial batches.
#pragma once

#include <richlazy/core/registry.h>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace richlazy::tasks {

/// One batch of trials, time-major like the reference (NeuroGym Dataset, batch_first=False).
struct TrialBatch {
  torch::Tensor inputs;   ///< [T, B, n_inputs] float32
  /// Classification: [T, B] int64 class labels (0 = fixate outside the decision).
  /// Regression: [T, B, n_outputs] float32 target values.
  torch::Tensor targets;
  torch::Tensor mask;     ///< [T, B] float32, 1 where the loss scores the step
  /// What was drawn for each trial (ground truth, coherence, context, ...), each [B], on
  /// the CPU; for inspection (`richlazy tasks sample`), never used in training.
  std::map<std::string, torch::Tensor> trial_vars;

  int64_t size() const { return inputs.size(1); }
  /// The same batch on another device (trial variables stay on the CPU).
  TrialBatch to(const torch::Device& device) const;
  /// Trials [begin, end) of the batch.
  TrialBatch slice(int64_t begin, int64_t end) const;
};

/// What a task's loss compares: class labels (cross-entropy, accuracy) or values (mean
/// squared error).
enum class LossKind { cross_entropy, mean_squared_error };

/// Steps [begin, end) at which the network must answer; accuracy is measured there.
struct DecisionWindow {
  int64_t begin = 0;
  int64_t end = 0;
};

/// A task draws independent trials. Implementations are immutable after construction, so
/// one task object can serve several runs and threads.
class Task {
 public:
  virtual ~Task() = default;

  virtual std::string name() const = 0;
  virtual int64_t input_size() const = 0;
  virtual int64_t output_size() const = 0;
  /// Steps per trial, T.
  virtual int64_t steps() const = 0;
  /// Time step in ms (sets the network's alpha = dt / tau).
  virtual double dt_ms() const = 0;
  virtual DecisionWindow decision() const = 0;
  /// Names of the input channels and output classes, for tables and plots.
  virtual std::vector<std::string> input_names() const = 0;
  virtual std::vector<std::string> output_names() const = 0;

  /// `batch` independent trials on the CPU. The same generator state gives the same trials.
  virtual TrialBatch sample(int64_t batch, at::Generator& gen) const = 0;

  virtual LossKind loss() const { return LossKind::cross_entropy; }
  /// Trials per update when `train.batch_size` is not set (32 for the cognitive tasks).
  virtual int64_t default_batch_size() const { return 32; }
  /// A fixed held-out set (e.g. an image test set), or nullopt when test trials are simply
  /// fresh draws. CPU tensors.
  virtual std::optional<TrialBatch> held_out() const { return std::nullopt; }
};

using TaskRegistry = Registry<Task>;

/// Registers the tasks that ship with richlazy: 2AF, DMS, CXT, sfmnist, teacher_student.
void register_builtin_tasks(TaskRegistry& registry);

/// Per-step noise std of the NeuroGym tasks: sigma / sqrt(dt in ms) (TASKS.md section 1).
double noise_std(double sigma, double dt_ms);

}  // namespace richlazy::tasks
