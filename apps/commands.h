// richlazy/apps/commands.h: the commands of the richlazy binary, one function each.
// Each returns an exit status and throws ConfigError for bad input (run_cli prints it).
#pragma once

#include <richlazy/core/registries.h>
#include <richlazy/train/experiment.h>

#include <nlohmann/json.hpp>

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
/// `experiment_dir`, when given, receives the experiment folder; `tables` false prints no
/// tables and no closing lines (the Python module's run with quiet=True).
int command_run(const train::ExperimentOptions& options, const Registries& registries,
                bool no_report = false, std::string* experiment_dir = nullptr, bool tables = true);

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

/// One task option given outside a config file: its key, its value and where it comes from
/// ("--set cohs=[0, 6.4]", "richlazy.sample(cohs=...)"), which messages name.
struct TaskOption {
  std::string key;
  YAML::Node value;
  std::string origin;
};
/// `--set KEY=VALUE` arguments as task options (the value is YAML); ConfigError when one has
/// no '=' or its value does not parse.
std::vector<TaskOption> parse_task_sets(const std::vector<std::string>& sets);

/// The task called `name` with its defaults, changed by `options`, validated like a config's.
std::unique_ptr<tasks::Task> make_task(const std::string& name, const std::vector<TaskOption>& options,
                                       const Registries& reg);

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

/// A run folder's saved network on the CPU: the run's config (its task replaced or changed
/// as asked) and a one-member model holding the weights `which` (init | final).
struct SavedNetwork {
  train::RunConfig config;
  std::shared_ptr<models::Model> model;
};
/// Throws ConfigError naming the folder or file when `run_dir` is not a run folder, `which`
/// is neither init nor final, a weight file is missing, or the weights do not fit the task.
SavedNetwork load_saved_network(const std::string& run_dir, const std::string& which, const std::string& task,
                                const std::vector<TaskOption>& options, const Registries& registries);

struct EvalArgs {
  std::string run_dir;
  std::string which = "final";        ///< init | final
  std::string task;                   ///< --task NAME: another task ("" = the run's own)
  std::vector<TaskOption> options;    ///< --set KEY=VALUE: task options
  int64_t trials = 1000;
  int64_t seed = 0;
  std::string out_dir;                ///< "" = RUN_DIR/eval/<which>-<task>-seed<S>
};

/// A saved network on fresh trials: the trials, its response, and index.json's fields
/// (scores, accuracy per condition, psychometric curve) without its file list.
struct Evaluation {
  SavedNetwork network;
  tasks::TrialBatch batch;   ///< [T, trials, ...] as the task draws them
  torch::Tensor logits;      ///< [T, trials, n_out]
  torch::Tensor hidden;      ///< [T, trials, N]
  nlohmann::ordered_json index;
  std::string text;          ///< what `richlazy eval` prints about it
};
Evaluation evaluate_network(const EvalArgs& args, const Registries& registries);
/// The default folder of an evaluation: RUN_DIR/eval/<which>-<task>-seed<S>.
std::string default_eval_dir(const EvalArgs& args, const Evaluation& evaluation);
/// Writes the evaluation's arrays and index.json into `out_dir`, which must not exist: all of
/// it or nothing (a staging folder renamed into place). Returns the number of .npy files.
std::size_t write_evaluation(const Evaluation& evaluation, const std::string& out_dir);
/// `richlazy eval RUN_DIR`: the run's saved network on fresh trials, as .npy files plus
/// index.json with its loss, accuracy, accuracy per condition and (2AF) psychometric curve.
int command_eval(const EvalArgs& args, const Registries& registries);

struct InitDescribeArgs {
  std::string config_path;  ///< --config: the initializer of `param` in that config
  std::vector<std::string> sets;
  std::string spec;         ///< --spec: a YAML flow map
  std::optional<YAML::Node> spec_tree;  ///< the spec as a tree instead (Python's describe)
  std::string spec_origin = "--spec";   ///< names the spec in messages
  std::string param;        ///< --param; "" = the model's recurrent weight (W_rec with --spec)
  int64_t size = 0;         ///< --size N: an N x N matrix (with --spec); 0 = the shape of the
                            ///< matrix file a file-based initializer reads, else 300
  int64_t seed = -1;        ///< --seed; -1 = 0 with --spec, the config's seed with --config
  std::string npy_path;
  std::string json_path;
};
/// A matrix an initializer built and its measures, as `init describe` prints and writes them.
struct InitDescription {
  std::string param;
  torch::Tensor matrix;          ///< float32 [rows, cols]
  nlohmann::ordered_json json;   ///< what --json writes
  std::string text;              ///< what it prints
};
InitDescription describe_initializer(const InitDescribeArgs& args, const Registries& registries);
/// `richlazy init describe`.
int command_init_describe(const InitDescribeArgs& args, const Registries& registries);

}  // namespace richlazy::apps
