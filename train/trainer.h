// richlazy/train/trainer.h: the training loop of a pack of networks.
// A pack holds E members (models/model.h), each the same network its solo run would train:
// its own random streams (derived from its own seed), batches, probe and test trials,
// optimizer state and hyperparameters. Each iteration draws every member's batch in one go,
// takes one optimizer step on the sum over members of each member's mean loss (so no
// member's gradient is scaled by E), and feeds the metric hooks on schedule. A member whose
// loss stops being finite is frozen and marked diverged; the others go on. Nothing in an
// iteration waits for the device: losses and accuracies are accumulated there and read back
// only at logged steps. The loss is the task's (cross-entropy or mean squared error,
// tasks/scoring.h).
#pragma once

#include <richlazy/metrics/metric_hook.h>
#include <richlazy/models/model.h>
#include <richlazy/tasks/member_streams.h>
#include <richlazy/tasks/task.h>
#include <richlazy/train/optimizer.h>
#include <richlazy/train/step_graph.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace richlazy::train {

struct MetricLog;

/// One task of a sequence (train.phases): its trials in the network's shared input space
/// (tasks/embedded_task.h) and its readout head, outputs [head_offset, head_offset + head_size).
struct SequenceTask {
  std::string label;                        ///< e.g. "2AF": the suffix of its columns (test_accuracy@2AF)
  std::shared_ptr<const tasks::Task> task;  ///< an EmbeddedTask
  int64_t head_offset = 0;
  int64_t head_size = 0;
};

/// A training phase: `iterations` updates on task `task` (an index into Curriculum::tasks).
struct Phase {
  int64_t task = 0;
  int64_t iterations = 0;
};

/// A sequence of tasks trained one after the other (continual learning). Every task is scored
/// on its own held-out trials at every logged step, and at each phase boundary the overlap
/// of the tangent kernels of the two tasks on either side is measured.
struct Curriculum {
  std::vector<SequenceTask> tasks;
  std::vector<Phase> phases;
  bool reset_optimizer = true;  ///< a fresh optimizer state at each phase boundary (else kept)

  /// The phase that update `it` (0-based) belongs to.
  int64_t phase_at(int64_t it) const;
  /// The step (updates done) at which phase `p` ends.
  int64_t end_of(int64_t p) const;
  /// Whether `step` ends a phase other than the last.
  bool is_boundary(int64_t step) const;
  /// The first phase that trains task `task`.
  int64_t first_phase_of(int64_t task) const;
  /// The columns the trainer adds to metrics.csv: phase, test_loss@L and test_accuracy@L for
  /// every task, kernel_overlap.
  std::vector<std::string> row_columns() const;
  /// The columns a finished run adds to its summary: forgetting@L and max_forgetting@L for
  /// every task trained before the last phase, backward_transfer, kernel_overlap@P for every
  /// boundary P (after phase P, counted from 1). From test accuracies, or for a regression
  /// task from minus its test loss (forgetting is then the rise of its loss).
  std::vector<std::string> summary_columns() const;
  /// Those values from a run's metrics (NaN where its rows do not reach a boundary).
  std::vector<double> summary(const MetricLog& log) const;
};

struct TrainSettings {
  int64_t iterations = 10000;  ///< optimizer updates
  int64_t batch_size = 32;     ///< trials per update
  int64_t log_every = 500;     ///< metric hooks run every this many updates (and at 0, end)
  int64_t probe_trials = 320;  ///< probe trials for the representation measures
  int64_t kernel_trials = 32;  ///< the first this many probe trials form the tangent kernel
  int64_t test_trials = 2000;  ///< fresh held-out trials for test_* metrics (tasks without a test split)
  bool cuda_graph = true;      ///< on a GPU, record an iteration as a CUDA graph and replay it
  bool log_schedule = false;   ///< also log at 1, 2, 5, 10, 20, 50, ... updates (metrics.schedule: log)
  int64_t checkpoint_every = 0;  ///< call the checkpoint callback every this many updates (0 = never)
  /// A task sequence (train.phases), or null: then every update trains on the trainer's task.
  std::shared_ptr<const Curriculum> curriculum;
};

/// One member's training state at a step, as tensors on the CPU (train/checkpoint.h writes
/// it to a file): its weights, optimizer and metric-hook state, the position of its training
/// stream, its metrics so far and the loss sums since its last logged row.
using MemberState = std::map<std::string, torch::Tensor>;

/// Whether metrics are logged after update `step` (>= 1): every `log_every` updates, at the
/// last, at the end of every phase of a task sequence, and with the log schedule also at
/// m * 10^k updates for m in {1, 2, 5}.
bool is_logged_step(const TrainSettings& settings, int64_t step);

/// A metric hook with the column name it logs under.
struct NamedHook {
  std::string name;
  std::unique_ptr<metrics::MetricHook> hook;
};

/// The metrics of one member: one row per logged step.
struct MetricLog {
  std::vector<std::string> columns;        ///< metric names (without "step")
  std::vector<int64_t> steps;              ///< logged steps
  std::vector<std::vector<double>> rows;   ///< rows[i][j]: metric j at steps[i]

  /// metrics.csv text: "step,<metric>,..." then one line per logged step.
  std::string csv() const;
};

/// How training ended for one member.
struct MemberOutcome {
  std::string status = "ok";  ///< ok | diverged
  std::string reason;         ///< why it diverged
  int64_t steps_done = 0;     ///< updates applied to this member
};

struct TrainOutcome {
  std::vector<MemberOutcome> members;
  int64_t iterations_run = 0;  ///< iterations of the whole pack
  double train_seconds = 0;    ///< time in the loop, hooks included
  double hook_seconds = 0;     ///< part of it spent in metric hooks
};

/// Called after each iteration (for progress lines) with the steps done and the mean over
/// members of the latest logged training loss (read at logged steps only).
using ProgressFn = std::function<void(int64_t step, double loss)>;
/// Called when member `member` gets a new logged row (to write its metrics.csv as it goes).
using RowFn = std::function<void(int64_t member, const MetricLog&)>;
/// Called after every `checkpoint_every` updates (before the last) with the updates done;
/// Trainer::checkpoint gives each member's state then.
using CheckpointFn = std::function<void(int64_t step)>;

/// The losses of one update, per member, on the device.
struct StepResult {
  torch::Tensor loss;        ///< [E] each member's mean loss before the update
  torch::Tensor accuracy;    ///< [E] float64 decision accuracy before the update (NaN for regression)
  torch::Tensor was_active;  ///< [E] bool: the members this update could move
};

class Trainer {
 public:
  /// A pack of model.members() networks: member e draws its batches, probe and test trials
  /// from the streams of seeds[e] and is optimized with optimizers[e]'s hyperparameters (all
  /// of one kind). The hooks serve every member.
  Trainer(models::Model& model, const tasks::Task& task, const std::vector<uint64_t>& seeds,
          const std::vector<const OptimizerBuilder*>& optimizers, std::vector<NamedHook> hooks,
          TrainSettings settings, torch::Device device);
  /// One network (a pack of one) with seed `seed`.
  Trainer(models::Model& model, const tasks::Task& task, const OptimizerBuilder& optimizer,
          std::vector<NamedHook> hooks, TrainSettings settings, torch::Device device, uint64_t seed);

  /// One update of the active members on `batch` (member layout, on the device), with
  /// recurrent noise `noise` [T, E, B, N] when the model has some. A member whose loss is not
  /// finite is frozen from here on.
  StepResult train_step(const tasks::TrialBatch& batch, const torch::Tensor& noise = {});

  /// The members' probe trials (drawn from their "probe" streams when the trainer is made).
  metrics::Probe& probe() { return *probe_; }

  /// The whole loop (from the resumed step, after resume()). Ends early when every member
  /// has diverged.
  TrainOutcome run(const ProgressFn& on_progress = {}, const RowFn& on_row = {},
                   const CheckpointFn& on_checkpoint = {});

  /// Member `member`'s state now (between iterations), on the CPU.
  MemberState checkpoint(int64_t member) const;
  /// Continues from the members' states (one per member, all at the same step), instead of
  /// from step 0: call it before run(), with the model holding the initial weights (the
  /// metric hooks snapshot them first, as they did when training began). Throws
  /// std::runtime_error when the states do not fit this pack.
  void resume(const std::vector<MemberState>& states);
  /// Updates done before run() (the resumed step; 0 without resume()).
  int64_t start_step() const { return start_step_; }

  const MetricLog& log(int64_t member = 0) const { return logs_.at(member); }
  int64_t members() const { return static_cast<int64_t>(seeds_.size()); }
  /// Whether iterations replay a recorded CUDA graph, and why not when they do not.
  bool graph_replayed() const { return graph_.captured(); }
  const std::string& graph_error() const { return graph_error_; }

 private:
  tasks::TrialBatch next_batch();
  /// Standard normals for the recurrent noise of a batch, or undefined without noise.
  torch::Tensor next_noise(const tasks::TrialBatch& batch);
  /// Iteration `it` on `batch`: train_step, or on a GPU the replay of a recorded one.
  StepResult step(int64_t it, const tasks::TrialBatch& batch, const torch::Tensor& noise);
  /// The task being trained now (the current phase's, or the trainer's).
  const tasks::Task& current_task() const;
  /// Enters phase `p` of the sequence: its head, and a fresh optimizer state if configured.
  void enter_phase(int64_t p, bool reset_optimizer);
  /// The sequence's values of a row at `step` ([columns, E] on the device), with the head of
  /// the current phase selected again afterwards.
  torch::Tensor sequence_values(int64_t step);
  void log_row(int64_t step, const torch::Tensor& loss, const torch::Tensor& accuracy,
               TrainOutcome& outcome, const RowFn& on_row);
  metrics::HookContext context();
  torch::Tensor accuracy_of(const torch::Tensor& logits, const tasks::TrialBatch& batch) const;

  models::Model& model_;
  const tasks::Task& task_;
  std::vector<uint64_t> seeds_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<const OptimizerBuilder*> optimizer_builders_;
  std::vector<NamedHook> hooks_;
  TrainSettings settings_;
  torch::Device device_;
  std::unique_ptr<metrics::Probe> probe_;
  std::unique_ptr<metrics::EvaluationSet> test_;
  tasks::MemberStreams train_streams_;  ///< each member's "train" stream
  tasks::MemberStreams noise_streams_;  ///< each member's "noise" stream (recurrent noise)
  // A task sequence: the phase being trained, each task's held-out set and kernel probe.
  const Curriculum* curriculum_ = nullptr;
  int64_t phase_ = 0;
  std::vector<std::unique_ptr<metrics::EvaluationSet>> task_tests_;
  std::vector<std::unique_ptr<metrics::Probe>> task_probes_;  ///< null for the first phase's task (probe_)
  torch::Tensor graph_noise_;   ///< the noise the graph reads
  std::vector<MetricLog> logs_;
  std::vector<bool> finished_;  ///< members with their last row written
  // The state an iteration updates lives on the device and is updated in place, so that a
  // recorded CUDA graph replays it.
  torch::Tensor iteration_;     ///< updates attempted so far (float64 scalar)
  torch::Tensor active_;        ///< [E] bool, on the device
  torch::Tensor diverged_at_;   ///< [E] float64: the iteration whose loss was not finite, or -1
  torch::Tensor diverged_loss_; ///< [E] float64: that loss
  StepGraph graph_;             ///< the recorded iteration, on a GPU
  tasks::TrialBatch graph_batch_;  ///< the batch the graph reads (copied in before each replay)
  StepResult graph_result_;     ///< what the graph writes
  std::string graph_error_;     ///< why no graph is replayed ("" when one is, or none was tried)
  double hook_seconds_ = 0;
  double last_loss_ = std::nan("");
  // Each member's loss and accuracy sums and update counts since its last logged row.
  torch::Tensor loss_sum_, acc_sum_, count_;
  int64_t start_step_ = 0;       ///< updates done before run() (resume())
  int64_t current_step_ = 0;     ///< updates done (kept at checkpoints)
  bool hooks_begun_ = false;     ///< on_train_begin has been called (by resume())
  std::vector<MemberOutcome> resumed_outcomes_;  ///< the members' outcomes at the resumed step
};

}  // namespace richlazy::train
