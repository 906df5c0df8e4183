// richlazy/core/seeding.h: one experiment seed, many independent random streams.
// Every random quantity of a run draws from its own stream, derived from the run's seed and
// the stream's name ("init/W_rec", "train", "probe"). Runs of a sweep that share a seed
// therefore share every stream whose inputs they share: the same Gaussian draw for W_rec,
// the same W_in and W_out, the same training batches.
#pragma once

#include <ATen/core/Generator.h>

#include <cstdint>
#include <string>

namespace richlazy {

/// Seed of the stream `stream` of a run with seed `seed` (splitmix64 of seed and an
/// FNV-1a hash of the name). Deterministic across platforms and library versions.
uint64_t derive_seed(uint64_t seed, const std::string& stream);

/// A CPU generator (LibTorch's mt19937) seeded with `seed`. Random tensors are drawn on the
/// CPU and then moved, so CPU and CUDA runs see identical data and initial weights.
at::Generator make_generator(uint64_t seed);

/// make_generator(derive_seed(seed, stream)).
at::Generator stream_generator(uint64_t seed, const std::string& stream);

}  // namespace richlazy
