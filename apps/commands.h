// richlazy/apps/commands.h: the commands of the richlazy binary, one function each.
// Each returns an exit status and throws ConfigError for bad input (run_cli prints it).
#pragma once

#include <richlazy/core/registries.h>
#include <richlazy/train/experiment.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace richlazy::apps {

/// Writes `t` as DIR/<name>.npy (float32 as it is, anything else as float64: .npy readers
/// need no integer types) and records it in `files` as {file, shape, dtype, content: what},
/// for an index.json (`tasks sample`, `eval`).
void write_indexed_npy(const std::string& dir, const std::string& name, torch::Tensor t, const std::string& what,
                       nlohmann::ordered_json& files);
/// A batch's inputs, targets, mask and per-trial variables, each with write_indexed_npy.
void write_trial_arrays(const std::string& dir, const tasks::Task& task, const tasks::TrialBatch& batch,
                        nlohmann::ordered_json& files);

/// `richlazy run`: plan (validate everything), train, print the tables, write the report
/// (unless `no_report`; a missing plotter is then a warning, not an error).
int command_run(const train::ExperimentOptions& options, const Registries& registries,
                bool no_report = false);

struct ReportArgs {
  std::string experiment_dir;
  std::string out_dir;
  std::string python;
  std::vector<std::string> formats{"png", "svg"};
  std::vector<std::string> metrics;
  std::string x;
};
/// `richlazy report`: figures and index.html for an experiment folder.
int command_report(const ReportArgs& args);

/// `richlazy gather`: summary.csv and the final tables of an experiment folder, gathered from
/// its runs' summary.json files, with how many runs are complete, in progress and to do.
int command_gather(const std::string& experiment_dir, bool quiet);

struct SubmitArgs {
  train::ExperimentOptions run;  ///< config, --set, --out, --device, --threads, --pack, --retry-failed
  std::string partition, time, mem, gpus, account;
  int cpus_per_task = 1;
  int array_limit = 0;  ///< the %K throttle; 0 = none
  int shards = 0;       ///< array tasks; 0 = one per run, at most 100
  std::vector<std::string> sbatch_options;  ///< more #SBATCH lines, e.g. --qos=short
  bool dry_run = false;
  bool report = true;   ///< the gather job also writes the report
};
/// `richlazy submit CONFIG --slurm`: the sweep as a Slurm job array of shards (each
/// `richlazy run --shard K/N --resume`), then a gather-and-report job that runs after it.
int command_submit(const SubmitArgs& args, const Registries& registries);

/// `richlazy info`: the versions, whether CUDA is built in and available, the devices, the
/// CPU BLAS.
int command_info();

/// `richlazy list [what]`: components with their parameters ("" = everything).
int command_list(const std::string& what, const Registries& registries);

/// A task with its options, and how many trials to draw from which seed.
struct TaskArgs {
  std::string task;
  std::vector<std::string> sets;  ///< task options, "key=value"
  int64_t trials = 0;
  uint64_t seed = 0;
};

struct TaskStatsArgs : TaskArgs {
  TaskStatsArgs() { trials = 20000; }
  std::string json_path;
};
/// `richlazy tasks stats`.
int command_task_stats(const TaskStatsArgs& args, const Registries& registries);

struct TaskSampleArgs : TaskArgs {
  TaskSampleArgs() { trials = 16; }
  std::string out_dir;
};
/// `richlazy tasks sample`: trials as .npy files plus index.json, for inspection in Python.
int command_task_sample(const TaskSampleArgs& args, const Registries& registries);

struct EvalArgs {
  std::string run_dir;
  std::string which = "final";    ///< init | final
  std::string task;               ///< --task NAME: another task ("" = the run's own)
  std::vector<std::string> sets;  ///< --set KEY=VALUE: task options
  int64_t trials = 1000;
  int64_t seed = 0;
  std::string out_dir;            ///< "" = RUN_DIR/eval/<which>-<task>-seed<S>
};
/// `richlazy eval RUN_DIR`: the run's saved network on fresh trials, as .npy files plus
/// index.json with its loss, accuracy, accuracy per condition and (2AF) psychometric curve.
int command_eval(const EvalArgs& args, const Registries& registries);

struct InitDescribeArgs {
  std::string config_path;  ///< --config: the initializer of `param` in that config
  std::vector<std::string> sets;
  std::string spec;         ///< --spec: a YAML flow map
  std::string param;        ///< --param; "" = the model's recurrent weight (W_rec with --spec)
  int64_t size = 0;         ///< --size N: an N x N matrix (with --spec); 0 = the shape of the
                            ///< matrix file a file-based initializer reads, else 300
  int64_t seed = -1;        ///< --seed; -1 = 0 with --spec, the config's seed with --config
  std::string npy_path;
  std::string json_path;
};
/// `richlazy init describe`.
int command_init_describe(const InitDescribeArgs& args, const Registries& registries);

}  // namespace richlazy::apps
