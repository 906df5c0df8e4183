// fuzz/fuzz_config.cpp: what `richlazy run CONFIG --set k=v ...` does before training: load
// the YAML file, apply the --set overrides, expand the sweep, validate every run and group
// the runs into packs (train::plan_experiment). Never trains.
// Input: the config file's text, then up to four --set strings, each after a line
// "--- set ---" (a --set string is the rest of the input up to the next such line, without
// its final newline).
#include "fuzz_common.h"

#include <richlazy/core/registries.h>
#include <richlazy/train/experiment.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const richlazy::Registries registries = richlazy::builtin_registries();
  const std::vector<std::string> parts =
      richlazy_fuzz::split_at_lines(std::string(reinterpret_cast<const char*>(data), size), "--- set ---");
  const richlazy_fuzz::TempFile config("config", parts[0], ".yaml");
  richlazy::train::ExperimentOptions options;
  options.config_path = config.path();
  options.out_dir = richlazy_fuzz::temp_dir() + "/richlazy-fuzz-config-out";  // planning writes nothing
  options.quiet = true;
  for (std::size_t i = 1; i < parts.size() && i <= 4; ++i) {
    std::string s = parts[i];
    if (!s.empty() && s.back() == '\n') s.pop_back();
    options.sets.push_back(s);
  }
  try {
    const richlazy::train::ExperimentPlan plan = richlazy::train::plan_experiment(options, registries);
    if (plan.runs.empty()) std::abort();  // a plan always has a run
  } catch (const richlazy::ConfigError&) {
  }
  return 0;
}
