// richlazy/core/atomic_file.h: files that are either complete or absent.
// Output files are written to a temporary name in the same folder and renamed into place,
// so an interrupted run never leaves a half-written file that looks complete.
#pragma once

#include <string>

namespace richlazy {

/// Writes `bytes` to `path` atomically (temporary file + rename). Throws std::runtime_error
/// with the path and the system's reason on failure.
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace richlazy
