// richlazy/tasks/task_stats.h: per-step statistics of a task's trials (`richlazy tasks stats`).
#pragma once

#include <richlazy/tasks/task.h>

#include <cstdint>
#include <string>
#include <vector>

namespace richlazy::tasks {

struct TaskStats {
  int64_t trials = 0;
  uint64_t seed = 0;
  std::vector<std::vector<double>> input_mean;      ///< [T][n_inputs]
  std::vector<std::vector<double>> input_std;       ///< [T][n_inputs], population std
  /// [T][n_outputs], classification tasks: fraction of trials scored at step t with label k
  std::vector<std::vector<double>> label_fraction;
  std::vector<std::vector<double>> target_mean;     ///< [T][n_outputs], regression tasks
  std::vector<std::vector<double>> target_std;      ///< [T][n_outputs], regression tasks
};

/// Draws `trials` trials (in batches of up to 4096) from a generator seeded with `seed`.
TaskStats compute_task_stats(const Task& task, int64_t trials, uint64_t seed);

/// The PRODUCT.md `tasks stats --json` document, as JSON text.
std::string task_stats_json(const Task& task, const TaskStats& stats);

/// A human-readable report: one table of means/stds per step, one of label fractions.
std::string format_task_stats(const Task& task, const TaskStats& stats);

}  // namespace richlazy::tasks
