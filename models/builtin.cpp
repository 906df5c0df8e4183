// models/builtin.cpp: the models that ship with richlazy, and Model helpers.
#include <richlazy/models/ctrnn.h>
#include <richlazy/models/linear2.h>
#include <richlazy/models/model.h>

#include <stdexcept>

namespace richlazy::models {

torch::Tensor Model::weight(const std::string& name) const {
  for (const auto& item : named_parameters(/*recurse=*/true)) {
    if (item.key() == name) return item.value();
  }
  throw std::out_of_range("model has no parameter named " + name);
}

void register_builtin_models(ModelRegistry& registry) {
  register_ctrnn(registry);
  register_linear2(registry);
}

}  // namespace richlazy::models
