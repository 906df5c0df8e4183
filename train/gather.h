// richlazy/train/gather.h: an experiment folder's results, gathered from its runs' files.
// Many processes may share a sweep folder (--shard, --resume; Slurm job arrays), so nothing
// that lists runs comes from one process's memory: summary.csv, the final tables and the
// report are built from runs/*/summary.json, the file each run writes last. A run is complete
// when its summary.json exists (whatever its status: ok, diverged or failed).
#pragma once

#include <richlazy/train/experiment.h>

#include <string>
#include <vector>

namespace richlazy::train {

struct GatherResult {
  std::string dir;                      ///< the experiment folder
  std::string name;                     ///< its experiment
  std::vector<std::string> sweep_keys;  ///< from experiment.yaml, in file order
  std::size_t total = 0;                ///< runs in the sweep (the product of its lists' lengths)
  ExperimentResult complete;            ///< the complete runs, in sweep order
  /// "<run id> (process P on H)" for unfinished runs whose lock file names a holder: a process
  /// training it, or one killed while it did ("left by killed process" when it was on this
  /// host and is gone; a holder on another host cannot be checked from here)
  std::vector<std::string> in_progress;
  std::vector<std::string> resumable;   ///< incomplete runs with a checkpoint (run ids)
  std::size_t incomplete = 0;           ///< run folders without a summary.json (started, not finished)
  std::vector<std::string> unreadable;  ///< "<file>: <why>" for summary.json files that cannot be read
};

/// Reads experiment.yaml and every runs/*/summary.json of `experiment_dir`. Throws
/// ConfigError when it is not an experiment folder.
GatherResult gather(const std::string& experiment_dir);

/// gather, then writes summary.csv (atomically) from what it found.
GatherResult gather_and_write(const std::string& experiment_dir);

/// "12 of 12 runs complete" / "9 of 12 runs complete; 2 in progress (...); 1 not started"
std::string gather_status(const GatherResult& g);

/// A run's result read back from the text of its summary.json (NaN for null values).
/// Throws std::runtime_error when the text is not a run's summary.
RunResult run_result_from_json(const std::string& text);

/// The lock file of run `run_id`: DIR/locks/<run_id>.lock (train/experiment.cpp holds it
/// while it trains the run).
std::string run_lock_path(const std::string& experiment_dir, const std::string& run_id);

}  // namespace richlazy::train
