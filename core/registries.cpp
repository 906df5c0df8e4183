// core/registries.cpp: the built-in components (the one place that lists them all).
#include <richlazy/core/registries.h>

namespace richlazy {

Registries builtin_registries() {
  Registries r;
  init::register_builtin_initializers(r.initializers);
  tasks::register_builtin_tasks(r.tasks);
  models::register_builtin_models(r.models);
  metrics::register_builtin_metrics(r.metrics);
  train::register_builtin_optimizers(r.optimizers);
  return r;
}

}  // namespace richlazy
