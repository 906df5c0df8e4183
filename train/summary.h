// richlazy/train/summary.h: what an experiment reports: summary.json per run,
// summary.csv and the final tables.
#pragma once

#include <richlazy/train/experiment.h>

#include <string>

namespace richlazy::train {

/// The JSON text of a run's summary.json: final metrics (null for NaN), status, timings,
/// the initial weights' rank/norm/effective rank, and the versions of richlazy and LibTorch.
std::string run_summary_json(const RunResult& result, const RunConfig& config);

/// summary.csv text: run_id, swept keys, status, final metrics, steps, timings.
std::string summary_csv(const std::vector<std::string>& sweep_keys, const ExperimentResult& result);

/// The final tables: one row per run, then means and standard deviations over seeds
/// grouped by the other swept keys (when `seed` is swept with other keys).
std::string format_results(const std::vector<std::string>& sweep_keys, const ExperimentResult& result);

/// "richlazy 0.1.0 (git abc123), LibTorch 1.13.1"
std::string version_string();

}  // namespace richlazy::train
