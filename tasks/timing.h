// richlazy/tasks/timing.h: task periods in ms turned into step indices (TASKS.md section 1).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace richlazy::tasks {

/// One period of a trial: steps [begin, end). Zero-length periods have begin == end.
struct Period {
  std::string name;
  int64_t begin = 0;
  int64_t end = 0;
};

/// Periods laid end to end from t = 0. Each duration is floored to a multiple of dt
/// (d -> floor(d / dt) * dt), as NeuroGym 0.0.2 does, so it takes floor(d / dt) steps.
class Timing {
 public:
  /// `periods_ms`: (name, duration in ms) in trial order; durations >= 0; dt_ms > 0.
  Timing(const std::vector<std::pair<std::string, double>>& periods_ms, double dt_ms);

  int64_t steps() const { return steps_; }
  /// The period called `name` (throws std::out_of_range for an unknown name).
  const Period& period(const std::string& name) const;
  const std::vector<Period>& periods() const { return periods_; }

 private:
  std::vector<Period> periods_;
  int64_t steps_ = 0;
};

/// floor(duration_ms / dt_ms), robust to rounding (700 / 100 is 7, not 6.999...).
int64_t duration_steps(double duration_ms, double dt_ms);

}  // namespace richlazy::tasks
