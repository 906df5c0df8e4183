// richlazy/train/experiment.h: a config file -> a validated sweep of runs -> results on disk.
// Output layout (PRODUCT.md):
//   DIR/<experiment>/experiment.yaml, summary.csv
//   DIR/<experiment>/runs/<run_id>/{config.yaml, metrics.csv, summary.json}
//   DIR/<experiment>/runs/<run_id>/weights/{W_in,W_rec,W_out}_{init,final}.npy
#pragma once

#include <cmath>
#include <richlazy/core/registries.h>
#include <richlazy/train/packing.h>
#include <richlazy/train/run_config.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace richlazy::train {

struct ExperimentOptions {
  std::string config_path;
  /// The config as a tree instead of a file (the Python module's `run(dict)`): config_path
  /// then only names it in messages, the experiment's default name is "experiment", and
  /// relative paths in it are relative to the working directory.
  std::optional<YAML::Node> config_tree;
  std::vector<std::string> sets;  ///< "dotted.key=YAML value" overrides, applied in order
  std::string out_dir = "results";
  std::string device;             ///< overrides the config's device when not empty
  bool quiet = false;             ///< no progress line and no per-run log lines
  bool overwrite = false;         ///< replace an existing DIR/<experiment>
  int jobs = 0;                   ///< packs trained at the same time; 0 = auto (cores / threads on CPU, 1 on GPU)
  int threads = 1;                ///< threads of each pack (LibTorch and OpenBLAS); results depend on it
  std::optional<std::string> pack;  ///< overrides train.pack when given: "auto" or N
  bool dry_run = false;           ///< validate and plan, print the plan, write nothing
  /// Share the output folder with other processes: an existing folder made with the same
  /// config is continued (complete runs skipped, runs locked by a live process left to it,
  /// killed runs resumed from their checkpoints); a different config is refused.
  bool resume = false;
  bool retry_failed = false;      ///< with resume: train runs whose status is failed again
  /// --shard K/N: train only shard K (0-based) of N, a deterministic split of the sweep's runs
  /// (whole packs, balanced); N = 0: every run. Shards share the folder as with `resume`.
  int shard_index = 0;
  int shard_count = 0;
  /// Internal: wait for runs another process is training instead of skipping them (the
  /// pilot stage, whose runs every shard needs).
  bool wait_for_locked = false;
  /// Internal: plan the config's pilot stage (pilot.set applied, the sweep reduced to
  /// pilot.keep) instead of the config itself.
  bool pilot_stage = false;
};

/// One run of the sweep, validated.
struct PlannedRun {
  std::string id;  ///< folder name under runs/, e.g. "rank-30_seed-1" ("run" without sweep)
  std::vector<std::pair<std::string, std::string>> swept;  ///< sweep key -> value text
  RunConfig config;
};

struct ExperimentPlan {
  std::string name;
  std::string dir;                      ///< DIR/<experiment>
  std::vector<std::string> sweep_keys;  ///< in file order; the first varies slowest
  YAML::Node resolved;                  ///< experiment.yaml: run 0 resolved + the sweep block
  std::vector<PlannedRun> runs;
  std::vector<Pack> packs;              ///< the runs trained together; every run is in one pack
  int jobs = 1;                         ///< packs trained at the same time
  /// The pilot stage (`pilot:` in the config), trained first into DIR/<experiment>/pilot: the
  /// config with pilot.set applied, one run per combination of the pilot.keep sweep values
  /// (default: per seed). Each run of this plan knows its pilot run (RunConfig::pilot_run).
  std::shared_ptr<ExperimentPlan> pilot;
};

/// The most runs one sweep may have (the product of its lists' lengths); more is a config error.
inline constexpr std::size_t kMaxSweepRuns = 100000;

/// Loads the config, applies the overrides, expands the sweep, validates every run and
/// groups the runs into packs. Throws ConfigError on the first problem; writes nothing.
/// `registries` must outlive the plan: its runs make their metric hooks from them when they
/// train (RunConfig::make_metrics).
ExperimentPlan plan_experiment(const ExperimentOptions& options, const Registries& registries);

/// Throws ConfigError when the plan's output folder exists and neither `options.overwrite`
/// nor shares_folder(options) is on, when --overwrite would delete a folder that is not an
/// experiment folder (no experiment.yaml), or when a shared folder holds another config (the
/// message lists what differs).
void check_output_folder(const ExperimentPlan& plan, const ExperimentOptions& options);

/// For a shared folder (shares_folder(options)): checks it (check_output_folder), creates it
/// and writes its experiment.yaml unless it has one. `richlazy submit` calls it so that a
/// changed config is refused before anything is queued.
void prepare_shared_folder(const ExperimentPlan& plan, const ExperimentOptions& options);

/// The differences between two resolved experiment configs (experiment.yaml), as
/// "key: was A, now B" lines, leaving out keys that do not change results (train.pack,
/// train.checkpoint_every). Empty when they describe the same sweep.
std::vector<std::string> config_differences(const YAML::Node& before, const YAML::Node& now);

/// A run's config as text without the keys that do not change its results: what its
/// checkpoint must have been written for.
std::string run_identity(const RunConfig& config);

/// The lock file that keeps two processes out of one experiment folder: OUT/.<name>.lock,
/// beside the folder (which --overwrite moves aside). `richlazy run` holds it (a FolderLock)
/// from before it checks the folder until the report is written.
std::string lock_file(const ExperimentPlan& plan);

/// What one run produced (the content of its summary.json).
struct RunResult {
  std::string id;
  std::vector<std::pair<std::string, std::string>> swept;
  std::string status;  ///< ok | diverged | failed: <reason>
  std::string reason;  ///< details for diverged runs
  std::vector<init::InitReport> init;  ///< the initial weights' rank, norm, effective rank
  std::vector<std::string> columns;
  std::vector<double> final_values;  ///< last logged row (NaN where none)
  std::vector<double> initial_values;  ///< the row at step 0, before any update (NaN where none)
  /// Measures of the initial networks on the probe trials, for every run whether or not its
  /// metrics name them (NaN when the run failed before training).
  double init_loss = std::nan("");               ///< the task's loss
  double init_hidden_norm_ratio = std::nan("");  ///< hidden_norm_ratio at step 0
  double init_grad_norm = std::nan("");          ///< ||dL/dW_rec||_F (grad_norm at step 0); NaN without a recurrent weight
  int64_t steps_done = 0;
  double wall_seconds = 0;
  double ms_per_iteration = 0;  ///< training time per update, metric hooks excluded (a pack's divided by its members)
  double metric_seconds = 0;    ///< time spent computing metrics (a pack's divided by its members)
  int64_t index = -1;           ///< its position in the sweep (plan order)
  int64_t resumed_from = 0;     ///< the checkpoint's step it continued from (0: trained from the start)
  std::string trained_by;       ///< "<host> <pid>" of the process that finished it
  int64_t pack = 0;             ///< index of the pack it trained in
  int64_t pack_size = 1;        ///< networks in that pack
  std::string cuda_graph;       ///< on a GPU: "replayed", or "not used: <why>"; "" elsewhere
};

struct ExperimentResult {
  std::vector<RunResult> runs;  ///< the runs this process finished, in sweep order
  double wall_seconds = 0;
  std::size_t skipped_complete = 0;  ///< runs of its share already complete (shared folders)
  std::size_t skipped_locked = 0;    ///< runs of its share another process was training
  std::size_t resumed = 0;           ///< runs continued from a checkpoint
};

/// Whether the options share the output folder with other processes (--resume, --shard).
inline bool shares_folder(const ExperimentOptions& o) { return o.resume || o.shard_count > 0; }


/// Trains every pack (`plan.jobs` at a time) and writes the output layout; ends by gathering
/// the folder's summary.csv (train/gather.h).
ExperimentResult run_experiment(ExperimentPlan& plan, const ExperimentOptions& options);

}  // namespace richlazy::train
