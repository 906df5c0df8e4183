// apps/main.cpp: the richlazy binary: the built-in components and the command line.
#include <richlazy/apps/cli.h>

int main(int argc, char** argv) {
  return richlazy::run_cli(argc, argv, richlazy::builtin_registries());
}
