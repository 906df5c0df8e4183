// tasks/context_decision.cpp: the CXT task.
#include <richlazy/tasks/context_decision.h>

#include <torch/torch.h>

namespace richlazy::tasks {

using torch::indexing::Slice;

namespace {
const std::vector<PeriodSpec> kPeriods{
    {"fixation", "0", "fixation period, ms (NeuroGym default 300; paper 0)"},
    {"stimulus", "200", "stimulus period, ms (NeuroGym default 750; paper 200)"},
    {"delay", "500", "delay period, ms, constant (paper 500)"},
    {"decision", "100", "decision period, ms"}};
}  // namespace

ContextDecision::ContextDecision(NeurogymTiming timing, std::vector<double> cohs)
    : NeurogymTask("CXT",
                   {"fixation", "stim1_mod1", "stim2_mod1", "stim1_mod2", "stim2_mod2", "context1",
                    "context2"},
                   {"fixate", "choice1", "choice2"}, std::move(timing)),
      cohs_(std::move(cohs)) {}

TrialBatch ContextDecision::sample(int64_t batch, at::Generator& gen) const {
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  const auto i64 = torch::TensorOptions().dtype(torch::kLong);
  const Period& stim = period("stimulus");
  const DecisionWindow dec = decision();
  const int64_t n_coh = static_cast<int64_t>(cohs_.size());

  // NeuroGym's draw order: gt, other, context, coh_0, coh_1, then the noise.
  const torch::Tensor gt = torch::randint(1, 3, {batch}, gen, i64);
  const torch::Tensor other = torch::randint(1, 3, {batch}, gen, i64);
  const torch::Tensor context = torch::randint(0, 2, {batch}, gen, i64);
  const torch::Tensor cohs = torch::tensor(cohs_, f64);
  const torch::Tensor coh_0 = cohs.index_select(0, torch::randint(0, n_coh, {batch}, gen, i64));
  const torch::Tensor coh_1 = cohs.index_select(0, torch::randint(0, n_coh, {batch}, gen, i64));
  const torch::Tensor noise_draw = torch::randn({stim.end - stim.begin, batch, 7}, gen, f64) * noise();

  // Context 0: modality 1 carries gt, modality 2 other; context 1: the other way round.
  const torch::Tensor choice_1 = torch::where(context.eq(0), gt, other);
  const torch::Tensor choice_2 = torch::where(context.eq(0), other, gt);
  // Signed coherence: +c for choice 1, -c for choice 2; stim1 = (1 + s/100)/2, stim2 = (1 - s/100)/2.
  const torch::Tensor s1 = torch::where(choice_1.eq(1), coh_0, -coh_0) / 100.0;
  const torch::Tensor s2 = torch::where(choice_2.eq(1), coh_1, -coh_1) / 100.0;

  torch::Tensor obs = torch::zeros({steps(), batch, 7}, f64);
  obs.index_put_({Slice(), Slice(), 0}, 1.0);
  if (stim.end > stim.begin) {
    const torch::Tensor values = torch::stack({(1 + s1) / 2, (1 - s1) / 2, (1 + s2) / 2, (1 - s2) / 2}, 1);
    obs.index_put_({Slice(stim.begin, stim.end), Slice(), Slice(1, 5)}, values.unsqueeze(0));
    obs.index({Slice(stim.begin, stim.end)}).add_(noise_draw);
  }
  obs.index_put_({Slice(dec.begin, dec.end)}, 0.0);
  const torch::Tensor active = torch::one_hot(context, 2).to(torch::kDouble);  // [B, 2]
  obs.index({Slice(), Slice(), Slice(5, 7)}).add_(active.unsqueeze(0));

  return make_batch(obs, gt,
                    {{"ground_truth", gt}, {"other", other}, {"context", context}, {"coh_0", coh_0},
                     {"coh_1", coh_1}});
}

void register_context_decision(TaskRegistry& registry) {
  registry.add(
      {"CXT",
       "context-dependent decision making (NeuroGym 0.0.2 ContextDecisionMaking-v0, explicit "
       "context inputs): report the modality the context names",
       neurogym_params(kPeriods, {{"cohs", "[5, 15, 50]",
                                   "coherences to draw from, percent, each in [0, 100]"}}),
       [](Params& p) -> std::unique_ptr<Task> {
         NeurogymTiming timing = read_neurogym_timing(p, kPeriods);
         return std::make_unique<ContextDecision>(std::move(timing), read_cohs(p));
       }});
}

}  // namespace richlazy::tasks
