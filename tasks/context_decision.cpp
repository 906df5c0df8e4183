// tasks/context_decision.cpp: the CXT task.
#include <richlazy/tasks/context_decision.h>

#include <torch/torch.h>

namespace richlazy::tasks {

using torch::indexing::Slice;

ContextDecision::ContextDecision(ContextDecisionOptions options)
    : options_(std::move(options)),
      timing_({{"fixation", options_.fixation_ms},
               {"stimulus", options_.stimulus_ms},
               {"delay", options_.delay_ms},
               {"decision", options_.decision_ms}},
              options_.dt_ms) {}

DecisionWindow ContextDecision::decision() const {
  const Period& d = timing_.period("decision");
  return {d.begin, d.end};
}

std::vector<std::string> ContextDecision::input_names() const {
  return {"fixation", "stim1_mod1", "stim2_mod1", "stim1_mod2", "stim2_mod2", "context1", "context2"};
}

std::vector<std::string> ContextDecision::output_names() const {
  return {"fixate", "choice1", "choice2"};
}

TrialBatch ContextDecision::sample(int64_t batch, at::Generator& gen) const {
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  const auto i64 = torch::TensorOptions().dtype(torch::kLong);
  const Period& stim = timing_.period("stimulus");
  const Period& dec = timing_.period("decision");
  const int64_t T = timing_.steps();
  const int64_t n_coh = static_cast<int64_t>(options_.cohs.size());

  // NeuroGym's draw order: gt, other, context, coh_0, coh_1, then the noise.
  const torch::Tensor gt = torch::randint(1, 3, {batch}, gen, i64);
  const torch::Tensor other = torch::randint(1, 3, {batch}, gen, i64);
  const torch::Tensor context = torch::randint(0, 2, {batch}, gen, i64);
  const torch::Tensor cohs = torch::tensor(options_.cohs, f64);
  const torch::Tensor coh_0 = cohs.index_select(0, torch::randint(0, n_coh, {batch}, gen, i64));
  const torch::Tensor coh_1 = cohs.index_select(0, torch::randint(0, n_coh, {batch}, gen, i64));
  const torch::Tensor noise = torch::randn({stim.end - stim.begin, batch, 7}, gen, f64) *
                              noise_std(options_.sigma, options_.dt_ms);

  // Context 0: modality 1 carries gt, modality 2 other; context 1: the other way round.
  const torch::Tensor choice_1 = torch::where(context.eq(0), gt, other);
  const torch::Tensor choice_2 = torch::where(context.eq(0), other, gt);
  // Signed coherence: +c for choice 1, -c for choice 2; stim1 = (1 + s/100)/2, stim2 = (1 - s/100)/2.
  const torch::Tensor s1 = torch::where(choice_1.eq(1), coh_0, -coh_0) / 100.0;
  const torch::Tensor s2 = torch::where(choice_2.eq(1), coh_1, -coh_1) / 100.0;

  torch::Tensor obs = torch::zeros({T, batch, 7}, f64);
  obs.index_put_({Slice(), Slice(), 0}, 1.0);
  if (stim.end > stim.begin) {
    const torch::Tensor values = torch::stack({(1 + s1) / 2, (1 - s1) / 2, (1 + s2) / 2, (1 - s2) / 2}, 1);
    obs.index_put_({Slice(stim.begin, stim.end), Slice(), Slice(1, 5)}, values.unsqueeze(0));
    obs.index({Slice(stim.begin, stim.end)}).add_(noise);
  }
  obs.index_put_({Slice(dec.begin, dec.end)}, 0.0);
  const torch::Tensor active = torch::one_hot(context, 2).to(torch::kDouble);  // [B, 2]
  obs.index({Slice(), Slice(), Slice(5, 7)}).add_(active.unsqueeze(0));

  torch::Tensor targets = torch::zeros({T, batch}, i64);
  targets.index_put_({Slice(dec.begin, dec.end)}, gt.unsqueeze(0).expand({dec.end - dec.begin, batch}));

  TrialBatch out;
  out.inputs = obs.to(torch::kFloat);
  out.targets = targets;
  out.mask = torch::ones({T, batch});
  out.trial_vars = {{"ground_truth", gt}, {"other", other}, {"context", context},
                    {"coh_0", coh_0},     {"coh_1", coh_1}};
  return out;
}

void register_context_decision(TaskRegistry& registry) {
  registry.add(
      {"CXT",
       "context-dependent decision making (NeuroGym 0.0.2 ContextDecisionMaking-v0, explicit "
       "context inputs): report the modality the context names",
       {{"dt_ms", "100", "time step, ms"},
        {"sigma", "1.0", "noise scale; per-step noise std is sigma / sqrt(dt_ms), on all 7 channels"},
        {"cohs", "[5, 15, 50]", "coherences to draw from, percent, each in [0, 100]"},
        {"fixation_ms", "0", "fixation period, ms (NeuroGym default 300; paper 0)"},
        {"stimulus_ms", "200", "stimulus period, ms (NeuroGym default 750; paper 200)"},
        {"delay_ms", "500", "delay period, ms, constant (paper 500)"},
        {"decision_ms", "100", "decision period, ms"}},
       [](Params& p) -> std::unique_ptr<Task> {
         ContextDecisionOptions o;
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
         return std::make_unique<ContextDecision>(std::move(o));
       }});
}

}  // namespace richlazy::tasks
