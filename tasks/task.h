// richlazy/tasks/task.h: the interface of a task, a seeded generator of trial batches.
#pragma once

#include <richlazy/core/registry.h>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace richlazy::tasks {

/// One batch of trials, time-major like the reference (NeuroGym Dataset, batch_first=False).
struct TrialBatch {
  torch::Tensor inputs;   ///< [T, B, n_inputs] float32
  torch::Tensor targets;  ///< [T, B] int64 class labels (0 = fixate outside the decision)
  torch::Tensor mask;     ///< [T, B] float32, 1 where the loss scores the step

  /// The same batch on another device.
  TrialBatch to(const torch::Device& device) const;
};

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
};

using TaskRegistry = Registry<Task>;

/// Registers the tasks that ship with richlazy (2AF, ...).
void register_builtin_tasks(TaskRegistry& registry);

}  // namespace richlazy::tasks
