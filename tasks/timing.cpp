// tasks/timing.cpp: periods to steps.
#include <richlazy/tasks/timing.h>

#include <cmath>
#include <stdexcept>

namespace richlazy::tasks {

int64_t duration_steps(double duration_ms, double dt_ms) {
  return static_cast<int64_t>(std::floor(duration_ms / dt_ms + 1e-9));
}

Timing::Timing(const std::vector<std::pair<std::string, double>>& periods_ms, double dt_ms) {
  int64_t t = 0;
  for (const auto& [name, ms] : periods_ms) {
    const int64_t n = duration_steps(ms, dt_ms);
    periods_.push_back({name, t, t + n});
    t += n;
  }
  steps_ = t;
}

const Period& Timing::period(const std::string& name) const {
  for (const auto& p : periods_) {
    if (p.name == name) return p;
  }
  throw std::out_of_range("no task period named " + name);
}

}  // namespace richlazy::tasks
