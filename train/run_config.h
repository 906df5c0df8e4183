// richlazy/train/run_config.h: one run's config, parsed and validated into components.
// The schema of a config file (every top-level key, its default and meaning) lives here;
// `richlazy list config` and the README's config reference print it.
#pragma once

#include <richlazy/core/registries.h>
#include <richlazy/core/config_source.h>
#include <richlazy/init/apply.h>
#include <richlazy/train/trainer.h>

#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <vector>

namespace richlazy::train {

/// Everything one run needs, validated. Building it allocates no tensors.
struct RunConfig {
  RunConfig() = default;
  RunConfig(RunConfig&&) = default;
  RunConfig& operator=(RunConfig&&) = default;
  RunConfig(const RunConfig&) = delete;  // holds stateful metric hooks
  RunConfig& operator=(const RunConfig&) = delete;

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
  std::vector<NamedHook> metrics;  ///< fresh hooks, used by one run
  YAML::Node resolved;             ///< the config as run, every default filled in
};

/// The top-level keys of a config, with defaults and documentation.
const std::vector<ParamSpec>& config_schema();
/// The keys of the `train:` and `metrics:` sections.
const std::vector<ParamSpec>& train_schema();
const std::vector<ParamSpec>& metrics_schema();

/// Parses and validates a run's config tree (overrides and sweep values already applied;
/// a top-level `sweep:` is ignored here). Throws ConfigError on the first problem.
/// `default_experiment` names the experiment when the config does not.
RunConfig parse_run_config(const YAML::Node& root, std::shared_ptr<const ConfigSource> source,
                           const Registries& registries, const std::string& default_experiment);

}  // namespace richlazy::train
