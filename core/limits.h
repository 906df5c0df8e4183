// richlazy/core/limits.h: the sizes richlazy accepts, checked before anything is allocated.
// A size that would not fit is refused with a ConfigError naming it, instead of reaching
// LibTorch's allocator (a stack trace) or the kernel's OOM killer.
#pragma once

#include <cstdint>
#include <string>

namespace richlazy {

/// The most units (neurons) of a network, and the largest side of a matrix read from a
/// file: 50,000 (a dense float32 matrix of that side takes 10 GB; the largest published
/// whole-brain connectomes of single species are of this order).
constexpr int64_t kMaxUnits = 50000;

/// The most time steps of one trial.
constexpr int64_t kMaxTrialSteps = 100000;

/// Bytes of physical memory of this machine (0 when unknown).
double physical_memory_bytes();

/// "" when `bytes` fit in the machine's physical memory, else "needs X GiB of memory, more
/// than this machine's Y GiB" (RICHLAZY_MEMORY_LIMIT_GB, when set, replaces the machine's
/// figure).
std::string memory_shortfall(double bytes);

/// Throws ConfigError "<what> needs X GiB of memory, more than this machine's Y GiB" when
/// `bytes` exceeds the machine's physical memory (RICHLAZY_MEMORY_LIMIT_GB, when set,
/// replaces the machine's figure; it is what the tests use).
void require_memory(double bytes, const std::string& what);

}  // namespace richlazy
