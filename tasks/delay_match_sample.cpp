// tasks/delay_match_sample.cpp: the DMS task.
#include <richlazy/tasks/delay_match_sample.h>

#include <torch/torch.h>

#include <cmath>

namespace richlazy::tasks {

using torch::indexing::Slice;

namespace {
const std::vector<PeriodSpec> kPeriods{
    {"fixation", "0", "fixation period, ms (NeuroGym default 300; paper 0)"},
    {"sample", "100", "sample period, ms (NeuroGym default 500; paper 100)"},
    {"delay", "500", "delay period, ms, exactly silent (NeuroGym default 1000; paper 500)"},
    {"test", "100", "test period, ms (NeuroGym default 500; paper 100)"},
    {"decision", "100", "decision period, ms (NeuroGym default 900; paper 100)"}};
}  // namespace

DelayMatchSample::DelayMatchSample(NeurogymTiming timing)
    : NeurogymTask("DMS", {"fixation", "ring_0", "ring_pi"}, {"fixate", "match", "non-match"},
                   std::move(timing)) {}

TrialBatch DelayMatchSample::sample(int64_t batch, at::Generator& gen) const {
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  const auto i64 = torch::TensorOptions().dtype(torch::kLong);
  const Period& smp = period("sample");
  const Period& tst = period("test");

  // NeuroGym's draw order: gt, sample angle, then the noise of the sample and of the test.
  const torch::Tensor gt = torch::randint(1, 3, {batch}, gen, i64);
  const torch::Tensor sample_side = torch::randint(0, 2, {batch}, gen, i64);  // 0: angle 0, 1: pi
  const torch::Tensor sample_noise = torch::randn({smp.end - smp.begin, batch, 2}, gen, f64) * noise();
  const torch::Tensor test_noise = torch::randn({tst.end - tst.begin, batch, 2}, gen, f64) * noise();
  // Match: the test angle is the sample's; non-match: the opposite one.
  const torch::Tensor test_side = torch::where(gt.eq(1), sample_side, 1 - sample_side);

  torch::Tensor obs = torch::zeros({steps(), batch, 3}, f64);
  obs.index_put_({Slice(0, decision().begin), Slice(), 0}, 1.0);
  // One-hot ring: 0.5 + 0.5 cos(theta_j - angle) is 1 on the angle's unit and 0 on the other.
  const torch::Tensor sample_hot = torch::one_hot(sample_side, 2).to(torch::kDouble);
  const torch::Tensor test_hot = torch::one_hot(test_side, 2).to(torch::kDouble);
  if (smp.end > smp.begin) {
    obs.index_put_({Slice(smp.begin, smp.end), Slice(), Slice(1, 3)}, sample_hot.unsqueeze(0) + sample_noise);
  }
  if (tst.end > tst.begin) {
    obs.index_put_({Slice(tst.begin, tst.end), Slice(), Slice(1, 3)}, test_hot.unsqueeze(0) + test_noise);
  }
  return make_batch(obs, gt,
                    {{"ground_truth", gt},
                     {"sample_theta", sample_side.to(torch::kDouble) * M_PI},
                     {"test_theta", test_side.to(torch::kDouble) * M_PI}});
}

void register_delay_match_sample(TaskRegistry& registry) {
  registry.add({"DMS",
                "delayed match-to-sample (NeuroGym 0.0.2 DelayMatchSample-v0): is the test the "
                "sample shown before the delay?",
                neurogym_params(kPeriods),
                [](Params& p) -> std::unique_ptr<Task> {
                  return std::make_unique<DelayMatchSample>(read_neurogym_timing(p, kPeriods));
                }});
}

}  // namespace richlazy::tasks
