// richlazy/tasks/neurogym_task.h: what the NeuroGym 0.0.2 tasks share (TASKS.md section 1).
// Periods in ms laid end to end at dt, per-step noise sigma / sqrt(dt), label 0 ("fixate")
// outside the decision period and every step scored; and the options that configure them.
#pragma once

#include <richlazy/core/params.h>
#include <richlazy/tasks/task.h>
#include <richlazy/tasks/timing.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace richlazy::tasks {

/// One period of a task, with its paper default and documentation.
struct PeriodSpec {
  std::string name;    ///< e.g. "stimulus"; the option is "<name>_ms"
  std::string default_ms;
  std::string doc;
};

/// Validated time step, noise scale and period durations of one task.
struct NeurogymTiming {
  double dt_ms = 100;
  double sigma = 1.0;
  std::vector<std::pair<std::string, double>> periods_ms;  ///< in trial order
};

/// The declared options: dt_ms, sigma, one `<period>_ms` per period, then `extra`.
std::vector<ParamSpec> neurogym_params(const std::vector<PeriodSpec>& periods,
                                       std::vector<ParamSpec> extra = {});
/// Reads those options; the last period (the decision) must last at least one step.
NeurogymTiming read_neurogym_timing(Params& p, const std::vector<PeriodSpec>& periods);
/// The option `cohs`: coherences in percent, each in [0, 100].
std::vector<double> read_cohs(Params& p);

class NeurogymTask : public Task {
 public:
  NeurogymTask(std::string name, std::vector<std::string> inputs, std::vector<std::string> outputs,
               NeurogymTiming timing);

  std::string name() const override { return name_; }
  int64_t input_size() const override { return static_cast<int64_t>(inputs_.size()); }
  int64_t output_size() const override { return static_cast<int64_t>(outputs_.size()); }
  int64_t steps() const override { return timing_.steps(); }
  double dt_ms() const override { return settings_.dt_ms; }
  DecisionWindow decision() const override;
  std::vector<std::string> input_names() const override { return inputs_; }
  std::vector<std::string> output_names() const override { return outputs_; }

 protected:
  const Period& period(const std::string& name) const { return timing_.period(name); }
  /// Per-step noise std, sigma / sqrt(dt_ms).
  double noise() const { return noise_std(settings_.sigma, settings_.dt_ms); }
  /// The batch of observations `obs` [T, B, n_in] (float64, stored as float32): label 0
  /// everywhere but `labels` [B] at the decision steps, every step scored.
  TrialBatch make_batch(const torch::Tensor& obs, const torch::Tensor& labels,
                        std::map<std::string, torch::Tensor> trial_vars) const;
  /// The same for E members at once: obs [T, E, B, n_in], labels [E, B] -> the member layout.
  TrialBatch make_member_batch(const torch::Tensor& obs, const torch::Tensor& labels) const;

 private:
  std::string name_;
  std::vector<std::string> inputs_, outputs_;
  NeurogymTiming settings_;
  Timing timing_;
};

}  // namespace richlazy::tasks
