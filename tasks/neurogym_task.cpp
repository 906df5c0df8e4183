// tasks/neurogym_task.cpp: the shared machinery of the NeuroGym tasks.
#include <richlazy/tasks/neurogym_task.h>

#include <richlazy/core/limits.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>

namespace richlazy::tasks {

using torch::indexing::Slice;

std::vector<ParamSpec> neurogym_params(const std::vector<PeriodSpec>& periods,
                                       std::vector<ParamSpec> extra) {
  std::vector<ParamSpec> specs{
      {"dt_ms", "100", "time step, ms"},
      {"sigma", "1.0", "noise scale; per-step noise std is sigma / sqrt(dt_ms)"}};
  for (const auto& p : periods) specs.push_back({p.name + "_ms", p.default_ms, p.doc});
  for (auto& e : extra) specs.push_back(std::move(e));
  return specs;
}

NeurogymTiming read_neurogym_timing(Params& p, const std::vector<PeriodSpec>& periods) {
  NeurogymTiming t;
  t.dt_ms = p.get_double_above("dt_ms", 0.0);
  t.sigma = p.get_double("sigma", 0.0);
  // Step counts are checked in floating point before any integer conversion: a period of
  // 1e30 ms, or a dt_ms of 0.001, would otherwise ask for more steps than fit in memory.
  double total_steps = 0;
  for (const auto& period : periods) {
    const std::string key = period.name + "_ms";
    const double ms = p.get_double(key, 0.0);
    total_steps += std::floor(ms / t.dt_ms + 1e-9);
    if (!(total_steps <= static_cast<double>(kMaxTrialSteps))) {
      // Name where dt_ms came from too: it is as much the cause as the period.
      const std::string dt_origin = p.source().origin_of(p.key_path("dt_ms"));
      p.fail(key, fmt::format("makes the trial longer than {} time steps of dt_ms = {}{} (trials of "
                              "more steps are not supported)",
                              kMaxTrialSteps, format_number(t.dt_ms),
                              dt_origin.empty() ? "" : " (from " + dt_origin + ")"));
    }
    t.periods_ms.emplace_back(period.name, ms);
  }
  const std::string last = periods.back().name + "_ms";
  p.require(duration_steps(t.periods_ms.back().second, t.dt_ms) >= 1, last,
            "must last at least one time step (>= dt_ms)");
  return t;
}

std::vector<double> read_cohs(Params& p) {
  const std::vector<double> cohs = p.get_double_list("cohs");
  for (double c : cohs) p.require(c >= 0 && c <= 100, "cohs", "must hold coherences in [0, 100]");
  return cohs;
}

NeurogymTask::NeurogymTask(std::string name, std::vector<std::string> inputs,
                           std::vector<std::string> outputs, NeurogymTiming timing)
    : name_(std::move(name)),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)),
      settings_(std::move(timing)),
      timing_(settings_.periods_ms, settings_.dt_ms) {}

DecisionWindow NeurogymTask::decision() const {
  const Period& d = timing_.period("decision");
  return {d.begin, d.end};
}

TrialBatch NeurogymTask::make_batch(const torch::Tensor& obs, const torch::Tensor& labels,
                                    std::map<std::string, torch::Tensor> trial_vars) const {
  // One trial set is the member layout with one member.
  const TrialBatch m = make_member_batch(obs.unsqueeze(1), labels.unsqueeze(0));
  return {m.inputs.select(1, 0), m.targets.select(1, 0), m.mask.select(1, 0), std::move(trial_vars)};
}

TrialBatch NeurogymTask::make_member_batch(const torch::Tensor& obs, const torch::Tensor& labels) const {
  const int64_t T = timing_.steps(), E = obs.size(1), B = obs.size(2);
  const DecisionWindow d = decision();
  TrialBatch out;
  out.inputs = obs.to(torch::kFloat);
  out.targets = torch::zeros({T, E, B}, torch::kLong);
  out.targets.index_put_({Slice(d.begin, d.end)}, labels.unsqueeze(0).expand({d.end - d.begin, E, B}));
  out.mask = torch::ones({T, E, B});
  return out;
}

}  // namespace richlazy::tasks
