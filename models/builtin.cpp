// models/builtin.cpp: the models that ship with richlazy.
#include <richlazy/models/ctrnn.h>
#include <richlazy/models/linear2.h>
#include <richlazy/models/model.h>

namespace richlazy::models {

void register_builtin_models(ModelRegistry& registry) {
  register_ctrnn(registry);
  register_linear2(registry);
}

}  // namespace richlazy::models
