// sparse_gaussian.h: an initializer defined outside richlazy.
#pragma once

#include <richlazy/init/initializer.h>

namespace my_lab {

/// Adds "sparse_gaussian" to a registry.
void register_sparse_gaussian(richlazy::init::InitializerRegistry& registry);

}  // namespace my_lab
