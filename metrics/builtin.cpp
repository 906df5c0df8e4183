// metrics/builtin.cpp: the metrics that ship with richlazy.
#include <richlazy/metrics/metric_hook.h>

namespace richlazy::metrics {

bool MetricTarget::has_parameter(const std::string& name) const {
  for (const auto& p : parameters) {
    if (p.name == name) return true;
  }
  return false;
}

void register_builtin_metrics(MetricRegistry& registry) {
  register_training_stats(registry);
  register_weight_change(registry);
  register_representation_metrics(registry);
}

}  // namespace richlazy::metrics
