// metrics/builtin.cpp: the metrics that ship with richlazy, and how a metric finds its weight.
#include <richlazy/metrics/metric_hook.h>

#include <fmt/format.h>

namespace richlazy::metrics {

bool MetricTarget::has_parameter(const std::string& name) const {
  return models::find_parameter(parameters, name) != nullptr;
}

std::string MetricTarget::parameter_with_role(Params& p, const std::string& metric,
                                              const std::string& role) const {
  const models::ParameterInfo* info = models::find_role(parameters, role);
  if (!info) {
    p.fail_bare("name", fmt::format("{} measures the {} weight, which {} does not have; its parameters: {}",
                                    metric, role, model, models::describe_parameters(parameters)));
  }
  return info->name;
}

std::string MetricTarget::parameter(Params& p, const std::string& metric, const std::string& key,
                                    const std::string& role) const {
  if (p.raw(key).IsNull()) {
    const std::string name = parameter_with_role(p, metric, role);
    p.set_resolved(key, YAML::Node(name));
    return name;
  }
  const std::string name = p.get_string(key);
  if (!has_parameter(name)) {
    p.fail_bare(key, fmt::format("names {}, which {} does not have; its parameters: {}", name, model,
                                 models::describe_parameters(parameters)));
  }
  return name;
}

void register_builtin_metrics(MetricRegistry& registry) {
  register_training_stats(registry);
  register_weight_change(registry);
  register_representation_metrics(registry);
}

}  // namespace richlazy::metrics
