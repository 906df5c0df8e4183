// tasks/perceptual_decision.cpp: the 2AF task.
#include <richlazy/tasks/perceptual_decision.h>

#include <ATen/Parallel.h>
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

PerceptualDecision::Draws PerceptualDecision::draw(int64_t batch,
                                                   const std::vector<at::Generator*>& gens) const {
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  const auto i64 = torch::TensorOptions().dtype(torch::kLong);
  const Period& stim = period("stimulus");
  const int64_t n_stim = stim.end - stim.begin, E = static_cast<int64_t>(gens.size());

  // Per trial, from each generator in NeuroGym's order: ground truth, coherence, then the
  // noise (each draw the size sample() asks for, so that the values are the same).
  torch::Tensor gt = torch::empty({E, batch}, i64), coh_index = torch::empty({E, batch}, i64);
  torch::Tensor noise_draw = torch::empty({E, n_stim, batch, 2}, f64);
  // Members draw from their own generators, so their draws may run on several threads (a
  // large pack on a GPU otherwise waits for them).
  at::parallel_for(0, E, 1, [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end; ++e) {
      const c10::optional<at::Generator> gen = *gens[e];
      torch::Tensor gt_e = gt[e], coh_e = coh_index[e], noise_e = noise_draw[e];
      at::randint_out(gt_e, 0, 2, {batch}, gen);
      at::randint_out(coh_e, 0, static_cast<int64_t>(cohs_.size()), {batch}, gen);
      if (n_stim > 0) at::randn_out(noise_e, {n_stim, batch, 2}, gen);
    }
  });
  noise_draw.mul_(noise());

  const torch::Tensor coh = torch::tensor(cohs_, f64).index_select(0, coh_index.flatten()).view({E, batch});
  // cos(theta_j - theta_gt) with theta = [0, pi]: +1 on the correct channel, -1 otherwise.
  const torch::Tensor side = 1.0 - 2.0 * gt.to(torch::kDouble);
  const torch::Tensor stim1 = 0.5 + coh / 200.0 * side;  // [E, B]
  const torch::Tensor stim2 = 0.5 - coh / 200.0 * side;

  torch::Tensor obs = torch::zeros({steps(), E, batch, 3}, f64);
  obs.index_put_({Slice(0, decision().begin), Slice(), Slice(), 0}, 1.0);  // fixation, delay included
  if (n_stim > 0) {
    const torch::Tensor noise_steps = noise_draw.permute({1, 0, 2, 3});  // [n_stim, E, B, 2]
    obs.index_put_({Slice(stim.begin, stim.end), Slice(), Slice(), 1},
                   stim1.unsqueeze(0) + noise_steps.select(3, 0));
    obs.index_put_({Slice(stim.begin, stim.end), Slice(), Slice(), 2},
                   stim2.unsqueeze(0) + noise_steps.select(3, 1));
  }
  return {obs, gt, coh};
}

TrialBatch PerceptualDecision::sample(int64_t batch, at::Generator& gen) const {
  const Draws d = draw(batch, {&gen});
  return make_batch(d.obs.select(1, 0), d.gt[0] + 1, {{"ground_truth", d.gt[0]}, {"coherence", d.coh[0]}});
}

TrialBatch PerceptualDecision::sample_members(int64_t batch, const std::vector<at::Generator*>& gens) const {
  const Draws d = draw(batch, gens);
  return make_member_batch(d.obs, d.gt + 1);
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
