// richlazy/tasks/delay_match_sample.h: DMS, NeuroGym 0.0.2 DelayMatchSample-v0.
// TASKS.md section 3. Report whether a test stimulus matches the sample shown before a
// silent delay. Inputs: fixation, ring unit at 0, ring unit at pi; outputs: fixate, match,
// non-match. With the paper's timing (0 / 100 / 500 / 100 / 100 ms at dt = 100 ms): sample
// at step 0, delay 1-5, test at step 6, decision at step 7.
#pragma once

#include <richlazy/tasks/neurogym_task.h>

namespace richlazy::tasks {

class DelayMatchSample final : public NeurogymTask {
 public:
  /// `timing`: periods fixation, sample, delay, test, decision.
  explicit DelayMatchSample(NeurogymTiming timing);

  /// Per trial: gt in {1 match, 2 non-match} and a sample angle in {0, pi}, uniform; the
  /// test angle is the sample's on a match, the opposite one otherwise. Stimulus channels
  /// hold the one-hot angle plus noise during the sample and the test periods only (the
  /// delay is exactly silent); fixation is 1 until the decision. Label gt at the decision.
  TrialBatch sample(int64_t batch, at::Generator& gen) const override;
};

/// Registers "DMS".
void register_delay_match_sample(TaskRegistry& registry);

}  // namespace richlazy::tasks
