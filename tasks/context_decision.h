// richlazy/tasks/context_decision.h: CXT, NeuroGym 0.0.2 ContextDecisionMaking-v0.
// TASKS.md section 4. Two noisy modalities each favour a side; a context input says which
// one to report. Inputs (7): fixation, stim1/stim2 of modality 1, stim1/stim2 of modality 2,
// context 1, context 2; outputs: fixate, choice1, choice2. With the paper's timing
// (0 / 200 / 500 / 100 ms at dt = 100 ms): stimulus 0-1, delay 2-6, decision 7.
#pragma once

#include <richlazy/tasks/task.h>
#include <richlazy/tasks/timing.h>

namespace richlazy::tasks {

struct ContextDecisionOptions {
  double dt_ms = 100;
  double sigma = 1.0;  ///< per-step noise std sigma / sqrt(dt_ms), all 7 channels
  std::vector<double> cohs{5, 15, 50};  ///< coherences, percent
  double fixation_ms = 0;
  double stimulus_ms = 200;
  double delay_ms = 500;  ///< constant (NeuroGym's default draws it from a truncated exponential)
  double decision_ms = 100;
};

class ContextDecision final : public Task {
 public:
  explicit ContextDecision(ContextDecisionOptions options);

  std::string name() const override { return "CXT"; }
  int64_t input_size() const override { return 7; }
  int64_t output_size() const override { return 3; }
  int64_t steps() const override { return timing_.steps(); }
  double dt_ms() const override { return options_.dt_ms; }
  DecisionWindow decision() const override;
  std::vector<std::string> input_names() const override;
  std::vector<std::string> output_names() const override;
  /// Per trial, uniform and independent: gt and other in {1, 2}, context in {0, 1}, coh_0
  /// and coh_1 from cohs. In context 0 modality 1 carries gt and modality 2 other; context 1
  /// swaps them; coh_0 always goes with modality 1. Built in NeuroGym's order: fixation 1
  /// everywhere; the stimuli 0.5 +- c/200 in the stimulus period; noise on all 7 channels
  /// there; every channel zeroed at the decision; then the active context channel +1 on
  /// every step, the decision included. Label gt at the decision.
  TrialBatch sample(int64_t batch, at::Generator& gen) const override;

 private:
  ContextDecisionOptions options_;
  Timing timing_;
};

/// Registers "CXT".
void register_context_decision(TaskRegistry& registry);

}  // namespace richlazy::tasks
