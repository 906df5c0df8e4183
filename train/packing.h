// richlazy/train/packing.h: which runs of a sweep train together as one pack.
// Runs whose configs differ only in values that change neither a tensor shape nor the task
// (the seed, every init.* spec, the optimizer's hyperparameters) can be the members of one
// model (models/model.h) and train in one step: far fewer, larger operations, which is what
// a GPU needs and what small networks on a CPU gain from. Every member is still exactly the
// network of its solo run (train/trainer.h).
#pragma once

#include <richlazy/train/run_config.h>

#include <cstddef>
#include <string>
#include <vector>

namespace richlazy::train {

/// Runs of a plan trained as the members of one model, by index into the plan's runs.
struct Pack {
  std::vector<std::size_t> runs;
};

/// The largest network (weights per network) that `auto` packs on the CPU.
inline constexpr int64_t kAutoPackMaxWeights = 20000;

/// What a run must share with another to be packed with it: its resolved config without
/// `seed`, `init` and the optimizer's hyperparameters (the optimizer's name stays), as text.
std::string pack_key(const RunConfig& config);

/// The most members `auto` packs for a run of this config on its device: on a GPU the whole
/// group (up to 256); on the CPU only networks small enough to gain from it (see the README's
/// benchmark), else 1.
int64_t auto_pack_limit(const RunConfig& config);

/// Splits the runs into packs: runs with equal pack keys, in sweep order, in packs of at most
/// `limit` members (`train.pack`, or auto_pack_limit for auto), sized evenly. With auto on the
/// CPU a group is split into at least `jobs` packs so that every core trains one.
std::vector<Pack> plan_packs(const std::vector<const RunConfig*>& runs, int jobs);

}  // namespace richlazy::train
