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

/// The batches of E networks side by side, the layout models and scores take: inputs
/// [T, E, B, n_inputs], targets [T, E, B] (class labels) or [T, E, B, n_outputs] (values),
/// mask [T, E, B]. Trial variables are dropped.
TrialBatch stack_members(const std::vector<TrialBatch>& batches);

/// Trials [begin, end) of every member of a batch in the member layout.
TrialBatch member_trials(const TrialBatch& members, int64_t begin, int64_t end);

/// One batch shared by E networks, in the member layout without copying it (expanded views).
TrialBatch shared_by_members(const TrialBatch& batch, int64_t members);

/// What a task's loss compares: class labels (cross-entropy, accuracy) or values (mean
/// squared error).
enum class LossKind { cross_entropy, mean_squared_error };

/// Steps [begin, end) at which the network must answer; accuracy is measured there.
struct DecisionWindow {
  int64_t begin = 0;
  int64_t end = 0;
};

/// The linear structure of a regression task whose targets are y = beta^T x: what
/// task-aligned initializers need (PAPER.md section 7). float64 CPU tensors.
struct LinearTeacher {
  torch::Tensor features;  ///< F [d, d]: the features z = F x the teacher reads
  torch::Tensor teacher;   ///< w* [d]: y = w*^T z
  torch::Tensor beta;      ///< F^T w* [d]: the regression vector
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

  /// `batch` trials from each generator, in the member layout [T, E, B, ...]
  /// (stack_members): member e's trials are exactly those sample(batch, *gens[e]) gives, with
  /// the same draws from each generator. The default draws them one generator at a time;
  /// tasks override it to assemble the trials of all generators at once (packs of many small
  /// networks spend much of their time drawing batches otherwise).
  virtual TrialBatch sample_members(int64_t batch, const std::vector<at::Generator*>& gens) const;

  virtual LossKind loss() const { return LossKind::cross_entropy; }
  /// Trials per update when `train.batch_size` is not set (32 for the cognitive tasks).
  virtual int64_t default_batch_size() const { return 32; }
  /// A fixed held-out set (e.g. an image test set), or nullopt when test trials are simply
  /// fresh draws. CPU tensors.
  virtual std::optional<TrialBatch> held_out() const { return std::nullopt; }
  /// The teacher of a linear regression task (teacher_student), for initializers aligned
  /// with it; nullopt for every other task.
  virtual std::optional<LinearTeacher> linear_teacher() const { return std::nullopt; }
  /// True when every trial is one step of whitened Gaussian inputs x ~ N(0, I), drawn fresh
  /// (what a model's population tangent kernel assumes: Model::population_kernel).
  virtual bool whitened_gaussian_inputs() const { return false; }
};

using TaskRegistry = Registry<Task>;

/// Registers the tasks that ship with richlazy: 2AF, DMS, CXT, sfmnist, teacher_student.
void register_builtin_tasks(TaskRegistry& registry);

/// Per-step noise std of the NeuroGym tasks: sigma / sqrt(dt in ms) (TASKS.md section 1).
double noise_std(double sigma, double dt_ms);

}  // namespace richlazy::tasks
