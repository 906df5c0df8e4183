// richlazy/core/atomic_file.h: files that are either complete or absent, and reading one whole.
// Output files are written to a temporary name in the same folder and renamed into place,
// so an interrupted run never leaves a half-written file that looks complete.
#pragma once

#include <string>

namespace richlazy {

/// Writes `bytes` to `path` atomically (temporary file + rename). Throws std::runtime_error
/// with the path and the system's reason on failure.
void write_file_atomic(const std::string& path, const std::string& bytes);

/// The whole content of `path`. Throws ConfigError "<path>: cannot open the file: <reason>"
/// (or "cannot read the file") when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace richlazy
