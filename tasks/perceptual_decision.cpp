// tasks/perceptual_decision.cpp: the 2AF task.
#include <richlazy/tasks/perceptual_decision.h>

#include <torch/torch.h>

namespace richlazy::tasks {

using torch::indexing::Slice;

namespace {
const std::vector<PeriodSpec> kPeriods{
    {"fixation", "0", "fixation period, ms (NeuroGym default 100; paper 0)"},
    {"stimulus", "700", "stimulus period, ms (NeuroGym default 2000; paper 700)"},
    {"delay", "0", "delay period, ms"},
    {"decision", "100", "decision period, ms; must last at least one step"}};
}  // namespace

PerceptualDecision::PerceptualDecision(NeurogymTiming timing, std::vector<double> cohs)
    : NeurogymTask("2AF", {"fixation", "stim1", "stim2"}, {"fixate", "choice1", "choice2"},
                   std::move(timing)),
      cohs_(std::move(cohs)) {}

TrialBatch PerceptualDecision::sample(int64_t batch, at::Generator& gen) const {
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  const auto i64 = torch::TensorOptions().dtype(torch::kLong);
  const Period& stim = period("stimulus");
  const int64_t n_stim = stim.end - stim.begin;

  // Per-trial draws in NeuroGym's order: ground truth, coherence, then the noise.
  const torch::Tensor gt = torch::randint(0, 2, {batch}, gen, i64);
  const torch::Tensor coh_index =
      torch::randint(0, static_cast<int64_t>(cohs_.size()), {batch}, gen, i64);
  const torch::Tensor noise_draw = torch::randn({n_stim, batch, 2}, gen, f64) * noise();

  const torch::Tensor coh = torch::tensor(cohs_, f64).index_select(0, coh_index);
  // cos(theta_j - theta_gt) with theta = [0, pi]: +1 on the correct channel, -1 otherwise.
  const torch::Tensor side = 1.0 - 2.0 * gt.to(torch::kDouble);
  const torch::Tensor stim1 = 0.5 + coh / 200.0 * side;
  const torch::Tensor stim2 = 0.5 - coh / 200.0 * side;

  torch::Tensor obs = torch::zeros({steps(), batch, 3}, f64);
  obs.index_put_({Slice(0, decision().begin), Slice(), 0}, 1.0);  // fixation, delay included
  if (n_stim > 0) {
    obs.index_put_({Slice(stim.begin, stim.end), Slice(), 1},
                   stim1.unsqueeze(0) + noise_draw.index({Slice(), Slice(), 0}));
    obs.index_put_({Slice(stim.begin, stim.end), Slice(), 2},
                   stim2.unsqueeze(0) + noise_draw.index({Slice(), Slice(), 1}));
  }
  return make_batch(obs, gt + 1, {{"ground_truth", gt}, {"coherence", coh}});
}

void register_perceptual_decision(TaskRegistry& registry) {
  registry.add(
      {"2AF",
       "perceptual decision making (NeuroGym 0.0.2 PerceptualDecisionMaking-v0): report the "
       "stronger of two noisy stimuli",
       neurogym_params(kPeriods, {{"cohs", "[0, 6.4, 12.8, 25.6, 51.2]",
                                   "coherences to draw from, percent, each in [0, 100]"}}),
       [](Params& p) -> std::unique_ptr<Task> {
         NeurogymTiming timing = read_neurogym_timing(p, kPeriods);
         return std::make_unique<PerceptualDecision>(std::move(timing), read_cohs(p));
       }});
}

}  // namespace richlazy::tasks
