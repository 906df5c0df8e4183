// richlazy/tasks/perceptual_decision.h: 2AF, NeuroGym 0.0.2 PerceptualDecisionMaking-v0.
// TASKS.md section 2. Report which of two noisy stimuli is stronger. Inputs: fixation,
// stim1, stim2; outputs: fixate, choice1, choice2. With the paper's timing (0 / 700 / 0 /
// 100 ms at dt = 100 ms) a trial has 8 steps and the decision is step 7.
#pragma once

#include <richlazy/tasks/neurogym_task.h>

namespace richlazy::tasks {

class PerceptualDecision final : public NeurogymTask {
 public:
  /// `timing`: periods fixation, stimulus, delay, decision; `cohs` in percent.
  PerceptualDecision(NeurogymTiming timing, std::vector<double> cohs);

  /// Per trial: gt in {0, 1} and a coherence c, uniform. The correct stimulus channel gets
  /// 0.5 + c/200 and the other 0.5 - c/200, plus N(0, (sigma/sqrt(dt))^2) noise on both,
  /// during the stimulus only. Fixation = 1 before the decision, no noise. Label gt + 1 at
  /// the decision steps, 0 elsewhere; every step is scored.
  TrialBatch sample(int64_t batch, at::Generator& gen) const override;
  /// The trials of many generators, assembled at once (the same trials as sample's).
  TrialBatch sample_members(int64_t batch, const std::vector<at::Generator*>& gens) const override;

 private:
  /// What each generator draws, in NeuroGym's order, and the observations built from it:
  /// obs [T, E, B, 3] float64, ground truth and coherence [E, B].
  struct Draws {
    torch::Tensor obs, gt, coh;
  };
  Draws draw(int64_t batch, const std::vector<at::Generator*>& gens) const;

  std::vector<double> cohs_;
};

/// Registers "2AF".
void register_perceptual_decision(TaskRegistry& registry);

}  // namespace richlazy::tasks
