// tests/run_compare.h: running an experiment from YAML text, and comparing two experiments'
// run folders file by file (packed against solo, CUDA against the CPU).
#pragma once

#include "test_common.h"

#include <richlazy/train/experiment.h>

#include <optional>
#include <string>
#include <vector>

namespace richlazy::testing {

/// A 2AF sweep of two ranks x two seeds (N = 24, 60 iterations) logging every laziness
/// measure and the test metrics every 20 iterations: the runs the comparisons compare.
extern const char* const kEveryMeasureSweep;

struct Ran {
  train::ExperimentPlan plan;
  train::ExperimentResult result;
};

/// Writes `yaml` to tmp/exp.yaml and runs it quietly into tmp/out-<pack>[-<device>], with
/// `--pack pack`, the `sets` overrides and, when given, `--device device`.
Ran run_config(const TempDir& tmp, const std::string& yaml, const std::string& pack,
               const std::vector<std::string>& sets = {}, const Registries& reg = registries(),
               const std::string& device = "");

/// max |a - b| / max |b| over the finite entries; the non-finite entries must match exactly.
double relative_difference(const torch::Tensor& a, const torch::Tensor& b);

/// Every run folder of `a` against the same run of `b`: the same files, the weights to
/// `weight_tolerance` and every metrics.csv value to `metric_tolerance` of their scale, the
/// same logged steps, statuses and steps done.
void require_same_runs(const Ran& a, const Ran& b, double weight_tolerance = 1e-5,
                       double metric_tolerance = 1e-4);

}  // namespace richlazy::testing
