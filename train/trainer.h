// richlazy/train/trainer.h: the training loop of one run.
// Each iteration draws a batch from the run's "train" stream, takes one optimizer step on
// the mean cross-entropy over the scored steps, and feeds the metric hooks on schedule.
// The loss is the task's (cross-entropy or mean squared error, tasks/scoring.h).
// The loop only talks to the Model interface, so ensembles (many networks in one tensor)
// can reuse it by providing a model whose forward carries a network dimension.
#pragma once

#include <richlazy/metrics/metric_hook.h>
#include <richlazy/models/model.h>
#include <richlazy/tasks/task.h>
#include <richlazy/train/optimizer.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace richlazy::train {

struct TrainSettings {
  int64_t iterations = 10000;  ///< optimizer updates
  int64_t batch_size = 32;     ///< trials per update
  int64_t log_every = 500;     ///< metric hooks run every this many updates (and at 0, end)
  int64_t probe_trials = 320;  ///< probe trials for the representation measures
  int64_t kernel_trials = 32;  ///< the first this many probe trials form the tangent kernel
  int64_t test_trials = 2000;  ///< fresh held-out trials for test_* metrics (tasks without a test split)
};

/// A metric hook with the column name it logs under.
struct NamedHook {
  std::string name;
  std::unique_ptr<metrics::MetricHook> hook;
};

/// The metrics of a run: one row per logged step.
struct MetricLog {
  std::vector<std::string> columns;        ///< metric names (without "step")
  std::vector<int64_t> steps;              ///< logged steps
  std::vector<std::vector<double>> rows;   ///< rows[i][j]: metric j at steps[i]

  /// metrics.csv text: "step,<metric>,..." then one line per logged step.
  std::string csv() const;
};

struct TrainOutcome {
  std::string status = "ok";  ///< ok | diverged
  std::string reason;         ///< why it diverged
  int64_t steps_done = 0;
  double train_seconds = 0;   ///< time in the loop, hooks included
  double hook_seconds = 0;    ///< part of it spent in metric hooks
};

/// Called after each iteration (for progress lines) with steps done and the latest loss.
using ProgressFn = std::function<void(int64_t step, double loss)>;
/// Called after each logged row (to write metrics.csv as training goes).
using RowFn = std::function<void(const MetricLog&)>;

class Trainer {
 public:
  Trainer(models::Model& model, const tasks::Task& task, const OptimizerBuilder& optimizer,
          std::vector<NamedHook> hooks, TrainSettings settings, torch::Device device,
          uint64_t seed);

  /// One update on `batch` (already on the device). Returns the loss and decision accuracy
  /// (NaN for regression tasks) of the network before the update.
  std::pair<double, double> train_step(const tasks::TrialBatch& batch);

  /// The run's probe trials (drawn from its "probe" stream when the trainer is made).
  metrics::Probe& probe() { return *probe_; }

  /// The whole loop. Stops early, with status "diverged", when the loss is not finite.
  TrainOutcome run(const ProgressFn& on_progress = {}, const RowFn& on_row = {});

  const MetricLog& log() const { return log_; }

 private:
  void log_row(int64_t step, double loss, double accuracy);
  metrics::HookContext context();
  double accuracy_of(const torch::Tensor& logits, const tasks::TrialBatch& batch) const;

  models::Model& model_;
  const tasks::Task& task_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<NamedHook> hooks_;
  TrainSettings settings_;
  torch::Device device_;
  uint64_t seed_;
  std::unique_ptr<metrics::Probe> probe_;
  std::unique_ptr<metrics::EvaluationSet> test_;
  MetricLog log_;
  double hook_seconds_ = 0;
};

}  // namespace richlazy::train
