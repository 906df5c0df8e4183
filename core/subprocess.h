// richlazy/core/subprocess.h: run another program and capture what it prints.
// Used to drive the plotting script; arguments go straight to execvp, never through a shell.
#pragma once

#include <string>
#include <vector>

namespace richlazy {

struct ProcessResult {
  int status = -1;     ///< exit status; 127 when the program could not be started, 128+n when killed by signal n
  std::string output;  ///< stdout and stderr together, in the order written
};

/// Runs argv[0] (looked up on PATH) with the given arguments and waits for it.
ProcessResult run_process(const std::vector<std::string>& argv);

}  // namespace richlazy
