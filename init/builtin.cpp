// init/builtin.cpp: the initializers that ship with richlazy.
#include <richlazy/init/initializer.h>

namespace richlazy::init {

void register_builtin_initializers(InitializerRegistry& registry) {
  register_torch_default(registry);
  register_gaussian(registry);
  register_low_rank(registry);
}

}  // namespace richlazy::init
