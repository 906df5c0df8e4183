// init/builtin.cpp: the initializers that ship with richlazy.
#include <richlazy/init/initializer.h>

namespace richlazy::init {

void register_builtin_initializers(InitializerRegistry& registry) {
  register_torch_default(registry);
  register_constant(registry);
  register_gaussian(registry);
  register_low_rank(registry);
  register_spectral(registry);
  register_structure_controls(registry);
  register_connectome(registry);
  register_cell_types(registry);
  register_aligned(registry);
}

}  // namespace richlazy::init
