// richlazy/apps/cli.h: the `richlazy` command line, reusable with extra components.
#pragma once

#include <richlazy/core/registries.h>

namespace richlazy {

/// Parses the arguments and runs one command (run, list, tasks stats, init describe) with
/// the components in `registries`. Prints errors as "richlazy: error: ..." on stderr.
/// Returns the process exit status: 0 on success, 1 when a run failed, 2 on bad input.
int run_cli(int argc, char** argv, const Registries& registries);

}  // namespace richlazy
