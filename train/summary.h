// richlazy/train/summary.h: a run's summary.json.
#pragma once

#include <richlazy/init/apply.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace richlazy::train {

struct RunSummary {
  std::string run_id;
  std::vector<std::pair<std::string, std::string>> swept;
  uint64_t seed = 0;
  std::string device;
  std::string status;  ///< ok | diverged | failed: <reason>
  std::string reason;  ///< details for diverged runs
  std::vector<std::string> columns;
  std::vector<double> final_values;
  int64_t iterations = 0;
  int64_t steps_done = 0;
  double wall_seconds = 0;
  double ms_per_iteration = 0;
  std::vector<init::InitReport> init;
};

/// The JSON text of summary.json: final metrics (null for NaN), status, timings, the
/// initial weights' rank/norm/effective rank, and the versions of richlazy, LibTorch and
/// the BLAS in use.
std::string run_summary_json(const RunSummary& summary);

/// "richlazy 0.1.0 (git abc123), LibTorch 1.13.1"
std::string version_string();

}  // namespace richlazy::train
