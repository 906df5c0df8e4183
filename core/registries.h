// richlazy/core/registries.h: every registry of the framework in one value.
// richlazy::builtin_registries() holds the shipped components. A program that adds its own
// (see examples/custom_initializer) copies it, adds entries and hands it to run_cli().
#pragma once

#include <richlazy/init/initializer.h>
#include <richlazy/metrics/metric_hook.h>
#include <richlazy/models/model.h>
#include <richlazy/tasks/task.h>
#include <richlazy/train/optimizer.h>

namespace richlazy {

struct Registries {
  init::InitializerRegistry initializers{"initializer"};
  tasks::TaskRegistry tasks{"task"};
  models::ModelRegistry models{"model"};
  metrics::MetricRegistry metrics{"metric"};
  train::OptimizerRegistry optimizers{"optimizer"};
};

/// All built-in components, registered explicitly.
Registries builtin_registries();

}  // namespace richlazy
