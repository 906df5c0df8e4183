// main.cpp: richlazy's command line plus this project's initializer.
#include "sparse_gaussian.h"

#include <richlazy/apps/cli.h>

int main(int argc, char** argv) {
  richlazy::Registries registries = richlazy::builtin_registries();
  my_lab::register_sparse_gaussian(registries.initializers);
  return richlazy::run_cli(argc, argv, registries);
}
