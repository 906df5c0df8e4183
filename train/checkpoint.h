// richlazy/train/checkpoint.h: a run's training state in a file (train.checkpoint_every).
// One file per run, runs/<id>/checkpoint.pt, replaced atomically at every checkpoint (the last
// one is kept) and removed once the run's summary.json is written. It holds the run's
// MemberState (train/trainer.h) and the run's resolved config, so that a checkpoint is never
// resumed into a run it was not made for.
#pragma once

#include <richlazy/train/trainer.h>

#include <optional>
#include <string>

namespace richlazy::train {

/// The checkpoint file of a run folder.
std::string checkpoint_path(const std::string& run_dir);

/// Writes `state` and `config_text` to `path` (a temporary file renamed into place).
void write_checkpoint(const std::string& path, const MemberState& state, const std::string& config_text);

/// The state in `path` when the file exists and was written for `config_text`; nullopt when
/// there is no file. A file that cannot be read or belongs to another config is also nullopt,
/// with the reason in `*why` (the run then starts over).
std::optional<MemberState> read_checkpoint(const std::string& path, const std::string& config_text, std::string* why);

/// The step a checkpoint file was written at, or -1 when there is none or it cannot be read.
int64_t checkpoint_step(const MemberState& state);

}  // namespace richlazy::train
