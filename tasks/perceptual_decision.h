// richlazy/tasks/perceptual_decision.h: 2AF, NeuroGym 0.0.2 PerceptualDecisionMaking-v0.
// TASKS.md section 2. Report which of two noisy stimuli is stronger. Inputs: fixation,
// stim1, stim2; outputs: fixate, choice1, choice2. With the paper's timing (0 / 700 / 0 /
// 100 ms at dt = 100 ms) a trial has 8 steps and the decision is step 7.
#pragma once

#include <richlazy/tasks/task.h>
#include <richlazy/tasks/timing.h>

namespace richlazy::tasks {

struct PerceptualDecisionOptions {
  double dt_ms = 100;
  double sigma = 1.0;  ///< noise scale; the per-step std is sigma / sqrt(dt_ms)
  std::vector<double> cohs{0, 6.4, 12.8, 25.6, 51.2};  ///< coherences, percent
  double fixation_ms = 0;
  double stimulus_ms = 700;
  double delay_ms = 0;
  double decision_ms = 100;
};

class PerceptualDecision final : public Task {
 public:
  explicit PerceptualDecision(PerceptualDecisionOptions options);

  std::string name() const override { return "2AF"; }
  int64_t input_size() const override { return 3; }
  int64_t output_size() const override { return 3; }
  int64_t steps() const override { return timing_.steps(); }
  double dt_ms() const override { return options_.dt_ms; }
  DecisionWindow decision() const override;
  std::vector<std::string> input_names() const override;
  std::vector<std::string> output_names() const override;
  /// Per trial: gt in {0, 1} and a coherence c, uniform. The correct stimulus channel gets
  /// 0.5 + c/200 and the other 0.5 - c/200, plus N(0, (sigma/sqrt(dt))^2) noise on both,
  /// during the stimulus only. Fixation = 1 before the decision, no noise. Label gt + 1 at
  /// the decision steps, 0 elsewhere; every step is scored.
  TrialBatch sample(int64_t batch, at::Generator& gen) const override;

  const PerceptualDecisionOptions& options() const { return options_; }

 private:
  PerceptualDecisionOptions options_;
  Timing timing_;
};

/// Registers "2AF".
void register_perceptual_decision(TaskRegistry& registry);

}  // namespace richlazy::tasks
