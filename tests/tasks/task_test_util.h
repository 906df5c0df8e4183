// tests/tasks/task_test_util.h: helpers of the task tests.
#pragma once

#include "../test_common.h"

#include <richlazy/core/registries.h>

#include <cmath>

namespace richlazy::testing {

inline std::unique_ptr<tasks::Task> make_task(const std::string& yaml) {
  Params p = params_from(yaml, "task");
  return registries().tasks.create(p);
}

/// |estimate - expected| within five standard errors.
inline bool within_5se(double estimate, double expected, double standard_error) {
  return std::abs(estimate - expected) < 5 * standard_error;
}

/// Fraction of entries of a boolean tensor that are true.
inline double fraction(const torch::Tensor& b) { return b.to(torch::kDouble).mean().item<double>(); }

}  // namespace richlazy::testing
