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

/// On the CPU, `auto` packs at most this many weights in all (members x weights per
/// network; 64 members at most), so that a pack's weights and their gradients stay within a
/// few MiB of cache: measured with bench/ensemble_speed.sh, packs of 64 networks of 64 units
/// train 3.5x faster than solo runs, packs of 4-8 networks of 300 units 1.15x, and 64 of
/// them about as fast as solo runs. Networks of more than this many weights train alone.
inline constexpr int64_t kAutoPackWeightBudget = 700000;

/// What a run must share with another to be packed with it: its resolved config without
/// `seed`, `init` and the optimizer's hyperparameters (the optimizer's name stays), as text.
/// (`train.pack` stays too: runs that ask for different packing are packed apart.)
/// Reads the key parse_run_config stored in the config, else computes it.
std::string pack_key(const RunConfig& config);
/// Computes the key from the config's resolved tree.
std::string compute_pack_key(const RunConfig& config);

/// On the CPU, `auto` also keeps a pack's estimated memory (member_bytes per member) under
/// this: a pack holds the state of all its networks at once, the tangent kernels of
/// kernel_alignment included.
inline constexpr int64_t kAutoPackMemoryBudget = int64_t{1} << 30;

/// Roughly the bytes one member of a pack holds while training: its weights with their
/// gradients, optimizer state and copies (8 floats per weight), its probe trials' hidden
/// states (twice), and, when kernel_alignment is logged, three R x R kernels (R = steps x
/// kernel trials x outputs).
int64_t member_bytes(const RunConfig& config);

/// The most members `auto` packs for a run of this config on its device: on a GPU 256; on
/// the CPU as many as kAutoPackWeightBudget and kAutoPackMemoryBudget allow, from 1 (large
/// networks) to 64.
int64_t auto_pack_limit(const RunConfig& config);

/// Splits the runs into packs: runs with equal pack keys, in sweep order, in packs of at most
/// `limit` members (`train.pack`, or auto_pack_limit for auto), sized evenly. With auto on the
/// CPU a group is split into at least `jobs` packs so that every core trains one.
std::vector<Pack> plan_packs(const std::vector<const RunConfig*>& runs, int jobs);

/// The runs of each of `shards` shards (--shard K/N), by index into the sweep, in sweep order:
/// N contiguous blocks of the sweep whose sizes differ by at most one (run i is in shard
/// floor(i N / runs)). It depends on the number of runs and N only, never on --jobs, packing,
/// the device or the machine, so every shard of one command agrees on it wherever it runs;
/// each shard packs its own runs as a whole sweep would.
std::vector<std::vector<std::size_t>> shard_runs(std::size_t runs, int shards);

}  // namespace richlazy::train
