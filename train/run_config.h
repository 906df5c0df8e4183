// richlazy/train/run_config.h: one run's config, parsed and validated into components.
// The schema of a config file (every top-level key, its default and meaning) lives here;
// `richlazy list config` and the README's config reference print it.
#pragma once

#include <richlazy/core/registries.h>
#include <richlazy/core/config_source.h>
#include <richlazy/init/apply.h>
#include <richlazy/train/trainer.h>

#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace richlazy::train {

/// Everything one run needs, validated. Building it allocates no tensors. A copy shares the
/// validated components (they are immutable) and the resolved tree, so runs of a sweep that
/// differ only in their seed are planned by copying one (see with_seed).
struct RunConfig {
  std::string experiment;
  uint64_t seed = 0;
  std::string device_choice;  ///< cpu | cuda | auto, as configured
  torch::Device device{torch::kCPU};
  std::shared_ptr<const tasks::Task> task;
  std::shared_ptr<const models::ModelBuilder> model;
  std::vector<init::InitStep> init;
  TrainSettings train;
  std::shared_ptr<const OptimizerBuilder> optimizer;
  int64_t pack = 0;                ///< train.pack: most networks per pack; 0 = auto
  bool tf32 = false;               ///< train.tf32: TF32 matrix products on a GPU
  /// The folder of this run's pilot run when the experiment has a `pilot:` stage (set by
  /// plan_experiment); initializers read it as InitInputs::pilot_run.
  std::string pilot_run;
  /// Fresh metric hooks for one pack, in column order (hooks are stateful, so each pack makes
  /// its own when it starts). Validated when the config was parsed; safe to call from any thread.
  std::function<std::vector<NamedHook>()> make_metrics;
  /// The config as run, every default filled in. Shared by the copies of with_seed, whose
  /// own seed it does not show: read it through resolved_tree().
  YAML::Node resolved;

  /// What runs must share to train as one pack (see pack_key in packing.h), computed once by
  /// parse_run_config and shared by the copies of with_seed.
  std::shared_ptr<const std::string> pack_key;

  /// This run's resolved config as a tree of its own (with its seed). Thread-safe.
  YAML::Node resolved_tree() const;
  /// A copy of this run with another seed, which validation allows for any seed >= 0: the seed
  /// reaches only the run's random streams, never its components.
  RunConfig with_seed(uint64_t seed) const;
};

/// The top-level keys of a config, with defaults and documentation.
const std::vector<ParamSpec>& config_schema();
/// The keys of the `train:` and `metrics:` sections.
const std::vector<ParamSpec>& train_schema();
const std::vector<ParamSpec>& metrics_schema();

/// Parses and validates a run's config tree (overrides and sweep values already applied;
/// a top-level `sweep:` is ignored here). Throws ConfigError on the first problem.
/// `registries` must outlive the config (make_metrics uses them).
/// `default_experiment` names the experiment when the config does not.
RunConfig parse_run_config(const YAML::Node& root, std::shared_ptr<const ConfigSource> source,
                           const Registries& registries, const std::string& default_experiment);

}  // namespace richlazy::train
