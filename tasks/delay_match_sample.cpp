// tasks/delay_match_sample.cpp: the DMS task.
#include <richlazy/tasks/delay_match_sample.h>

#include <torch/torch.h>

namespace richlazy::tasks {

using torch::indexing::Slice;

DelayMatchSample::DelayMatchSample(DelayMatchSampleOptions options)
    : options_(options),
      timing_({{"fixation", options.fixation_ms},
               {"sample", options.sample_ms},
               {"delay", options.delay_ms},
               {"test", options.test_ms},
               {"decision", options.decision_ms}},
              options.dt_ms) {}

DecisionWindow DelayMatchSample::decision() const {
  const Period& d = timing_.period("decision");
  return {d.begin, d.end};
}

std::vector<std::string> DelayMatchSample::input_names() const {
  return {"fixation", "ring_0", "ring_pi"};
}

std::vector<std::string> DelayMatchSample::output_names() const {
  return {"fixate", "match", "non-match"};
}

TrialBatch DelayMatchSample::sample(int64_t batch, at::Generator& gen) const {
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  const auto i64 = torch::TensorOptions().dtype(torch::kLong);
  const Period& smp = timing_.period("sample");
  const Period& tst = timing_.period("test");
  const Period& dec = timing_.period("decision");
  const int64_t T = timing_.steps();
  const double std = noise_std(options_.sigma, options_.dt_ms);

  // NeuroGym's draw order: gt, sample angle, then the noise of the sample and of the test.
  const torch::Tensor gt = torch::randint(1, 3, {batch}, gen, i64);
  const torch::Tensor sample_side = torch::randint(0, 2, {batch}, gen, i64);  // 0: angle 0, 1: pi
  const torch::Tensor sample_noise = torch::randn({smp.end - smp.begin, batch, 2}, gen, f64) * std;
  const torch::Tensor test_noise = torch::randn({tst.end - tst.begin, batch, 2}, gen, f64) * std;
  // Match: the test angle is the sample's; non-match: the opposite one.
  const torch::Tensor test_side = torch::where(gt.eq(1), sample_side, 1 - sample_side);

  torch::Tensor obs = torch::zeros({T, batch, 3}, f64);
  obs.index_put_({Slice(0, dec.begin), Slice(), 0}, 1.0);
  // One-hot ring: 0.5 + 0.5 cos(theta_j - angle) is 1 on the angle's unit and 0 on the other.
  const torch::Tensor sample_hot = torch::one_hot(sample_side, 2).to(torch::kDouble);
  const torch::Tensor test_hot = torch::one_hot(test_side, 2).to(torch::kDouble);
  if (smp.end > smp.begin) {
    obs.index_put_({Slice(smp.begin, smp.end), Slice(), Slice(1, 3)}, sample_hot.unsqueeze(0) + sample_noise);
  }
  if (tst.end > tst.begin) {
    obs.index_put_({Slice(tst.begin, tst.end), Slice(), Slice(1, 3)}, test_hot.unsqueeze(0) + test_noise);
  }
  torch::Tensor targets = torch::zeros({T, batch}, i64);
  targets.index_put_({Slice(dec.begin, dec.end)}, gt.unsqueeze(0).expand({dec.end - dec.begin, batch}));

  TrialBatch out;
  out.inputs = obs.to(torch::kFloat);
  out.targets = targets;
  out.mask = torch::ones({T, batch});
  out.trial_vars = {{"ground_truth", gt},
                    {"sample_theta", sample_side.to(torch::kDouble) * M_PI},
                    {"test_theta", test_side.to(torch::kDouble) * M_PI}};
  return out;
}

void register_delay_match_sample(TaskRegistry& registry) {
  registry.add(
      {"DMS",
       "delayed match-to-sample (NeuroGym 0.0.2 DelayMatchSample-v0): is the test the sample "
       "shown before the delay?",
       {{"dt_ms", "100", "time step, ms"},
        {"sigma", "1.0", "noise scale; per-step noise std is sigma / sqrt(dt_ms)"},
        {"fixation_ms", "0", "fixation period, ms (NeuroGym default 300; paper 0)"},
        {"sample_ms", "100", "sample period, ms (NeuroGym default 500; paper 100)"},
        {"delay_ms", "500", "delay period, ms, exactly silent (NeuroGym default 1000; paper 500)"},
        {"test_ms", "100", "test period, ms (NeuroGym default 500; paper 100)"},
        {"decision_ms", "100", "decision period, ms (NeuroGym default 900; paper 100)"}},
       [](Params& p) -> std::unique_ptr<Task> {
         DelayMatchSampleOptions o;
         o.dt_ms = p.get_double_above("dt_ms", 0.0);
         o.sigma = p.get_double("sigma", 0.0);
         o.fixation_ms = p.get_double("fixation_ms", 0.0);
         o.sample_ms = p.get_double("sample_ms", 0.0);
         o.delay_ms = p.get_double("delay_ms", 0.0);
         o.test_ms = p.get_double("test_ms", 0.0);
         o.decision_ms = p.get_double("decision_ms", 0.0);
         p.require(duration_steps(o.decision_ms, o.dt_ms) >= 1, "decision_ms",
                   "must last at least one time step (>= dt_ms)");
         return std::make_unique<DelayMatchSample>(o);
       }});
}

}  // namespace richlazy::tasks
