// tasks/perceptual_decision.cpp: the 2AF task.
#include <richlazy/tasks/perceptual_decision.h>

#include <torch/torch.h>

#include <cmath>

namespace richlazy::tasks {

using torch::indexing::Slice;

PerceptualDecision::PerceptualDecision(PerceptualDecisionOptions options)
    : options_(std::move(options)),
      timing_({{"fixation", options_.fixation_ms},
               {"stimulus", options_.stimulus_ms},
               {"delay", options_.delay_ms},
               {"decision", options_.decision_ms}},
              options_.dt_ms) {}

DecisionWindow PerceptualDecision::decision() const {
  const Period& d = timing_.period("decision");
  return {d.begin, d.end};
}

std::vector<std::string> PerceptualDecision::input_names() const {
  return {"fixation", "stim1", "stim2"};
}

std::vector<std::string> PerceptualDecision::output_names() const {
  return {"fixate", "choice1", "choice2"};
}

TrialBatch PerceptualDecision::sample(int64_t batch, at::Generator& gen) const {
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  const auto i64 = torch::TensorOptions().dtype(torch::kLong);
  const Period& stim = timing_.period("stimulus");
  const Period& dec = timing_.period("decision");
  const int64_t T = timing_.steps();
  const int64_t n_stim = stim.end - stim.begin;

  // Per-trial draws in NeuroGym's order: ground truth, coherence, then the noise.
  const torch::Tensor gt = torch::randint(0, 2, {batch}, gen, i64);
  const torch::Tensor coh_index =
      torch::randint(0, static_cast<int64_t>(options_.cohs.size()), {batch}, gen, i64);
  const torch::Tensor noise =
      torch::randn({n_stim, batch, 2}, gen, f64) * noise_std(options_.sigma, options_.dt_ms);

  const torch::Tensor cohs = torch::tensor(options_.cohs, f64);
  const torch::Tensor coh = cohs.index_select(0, coh_index);
  // cos(theta_j - theta_gt) with theta = [0, pi]: +1 on the correct channel, -1 otherwise.
  const torch::Tensor side = 1.0 - 2.0 * gt.to(torch::kDouble);
  const torch::Tensor stim1 = 0.5 + coh / 200.0 * side;
  const torch::Tensor stim2 = 0.5 - coh / 200.0 * side;

  torch::Tensor obs = torch::zeros({T, batch, 3}, f64);
  obs.index_put_({Slice(0, dec.begin), Slice(), 0}, 1.0);  // fixation, delay included
  if (n_stim > 0) {
    obs.index_put_({Slice(stim.begin, stim.end), Slice(), 1},
                   stim1.unsqueeze(0) + noise.index({Slice(), Slice(), 0}));
    obs.index_put_({Slice(stim.begin, stim.end), Slice(), 2},
                   stim2.unsqueeze(0) + noise.index({Slice(), Slice(), 1}));
  }
  torch::Tensor targets = torch::zeros({T, batch}, i64);
  targets.index_put_({Slice(dec.begin, dec.end)}, (gt + 1).unsqueeze(0).expand({dec.end - dec.begin, batch}));

  TrialBatch out;
  out.inputs = obs.to(torch::kFloat);
  out.targets = targets;
  out.mask = torch::ones({T, batch}, torch::TensorOptions().dtype(torch::kFloat));
  out.trial_vars = {{"ground_truth", gt}, {"coherence", coh}};
  return out;
}

namespace {
std::vector<ParamSpec> perceptual_decision_params() {
  return {
      {"dt_ms", "100", "time step, ms"},
      {"sigma", "1.0", "noise scale; per-step noise std is sigma / sqrt(dt_ms)"},
      {"cohs", "[0, 6.4, 12.8, 25.6, 51.2]", "coherences to draw from, percent, each in [0, 100]"},
      {"fixation_ms", "0", "fixation period, ms (NeuroGym default 100; paper 0)"},
      {"stimulus_ms", "700", "stimulus period, ms (NeuroGym default 2000; paper 700)"},
      {"delay_ms", "0", "delay period, ms"},
      {"decision_ms", "100", "decision period, ms; must last at least one step"},
  };
}
}  // namespace

void register_perceptual_decision(TaskRegistry& registry) {
  registry.add(
      {"2AF",
       "perceptual decision making (NeuroGym 0.0.2 PerceptualDecisionMaking-v0): report the "
       "stronger of two noisy stimuli",
       perceptual_decision_params(), [](Params& p) -> std::unique_ptr<Task> {
         PerceptualDecisionOptions o;
         o.dt_ms = p.get_double_above("dt_ms", 0.0);
         o.sigma = p.get_double("sigma", 0.0);
         o.cohs = p.get_double_list("cohs");
         for (double c : o.cohs) {
           p.require(c >= 0 && c <= 100, "cohs", "must hold coherences in [0, 100]");
         }
         o.fixation_ms = p.get_double("fixation_ms", 0.0);
         o.stimulus_ms = p.get_double("stimulus_ms", 0.0);
         o.delay_ms = p.get_double("delay_ms", 0.0);
         o.decision_ms = p.get_double("decision_ms", 0.0);
         p.require(duration_steps(o.decision_ms, o.dt_ms) >= 1, "decision_ms",
                   "must last at least one time step (>= dt_ms)");
         return std::make_unique<PerceptualDecision>(std::move(o));
       }});
}

}  // namespace richlazy::tasks
