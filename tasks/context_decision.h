// richlazy/tasks/context_decision.h: CXT, NeuroGym 0.0.2 ContextDecisionMaking-v0.
// TASKS.md section 4. Two noisy modalities each favour a side; a context input says which
// one to report. Inputs (7): fixation, stim1/stim2 of modality 1, stim1/stim2 of modality 2,
// context 1, context 2; outputs: fixate, choice1, choice2. With the paper's timing
// (0 / 200 / 500 / 100 ms at dt = 100 ms): stimulus 0-1, delay 2-6, decision 7.
#pragma once

#include <richlazy/tasks/neurogym_task.h>

namespace richlazy::tasks {

class ContextDecision final : public NeurogymTask {
 public:
  /// `timing`: periods fixation, stimulus, delay (constant; NeuroGym's default draws it
  /// from a truncated exponential), decision; `cohs` in percent.
  ContextDecision(NeurogymTiming timing, std::vector<double> cohs);

  /// Per trial, uniform and independent: gt and other in {1, 2}, context in {0, 1}, coh_0
  /// and coh_1 from cohs. In context 0 modality 1 carries gt and modality 2 other; context 1
  /// swaps them; coh_0 always goes with modality 1. Built in NeuroGym's order: fixation 1
  /// everywhere; the stimuli 0.5 +- c/200 in the stimulus period; noise on all 7 channels
  /// there; every channel zeroed at the decision; then the active context channel +1 on
  /// every step, the decision included. Label gt at the decision.
  TrialBatch sample(int64_t batch, at::Generator& gen) const override;

 private:
  std::vector<double> cohs_;
};

/// Registers "CXT".
void register_context_decision(TaskRegistry& registry);

}  // namespace richlazy::tasks
