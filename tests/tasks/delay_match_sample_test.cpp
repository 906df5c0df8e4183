// tests/tasks/delay_match_sample_test.cpp: DMS trials against TASKS.md section 3
// (20,480 trials, tolerances of five standard errors).
#include "task_test_util.h"

#include <richlazy/core/seeding.h>

using namespace richlazy;
using namespace richlazy::testing;
using torch::indexing::Slice;

namespace {
constexpr int64_t kTrials = 20480;
}

TEST_CASE("DMS with the paper's timing: sample at 0, silent delay 1-5, test at 6, decision 7",
          "[tasks]") {
  const auto task = make_task("{name: DMS}");
  REQUIRE(task->steps() == 8);
  REQUIRE(task->decision().begin == 7);
  at::Generator gen = make_generator(21);
  const tasks::TrialBatch b = task->sample(kTrials, gen);
  const torch::Tensor x = b.inputs.to(torch::kDouble);
  REQUIRE(x.index({Slice(0, 7), Slice(), 0}).eq(1).all().item<bool>());
  REQUIRE(x.index({7}).eq(0).all().item<bool>());
  // The delay and the decision step are exactly silent on the stimulus channels.
  REQUIRE(x.index({Slice(1, 6), Slice(), Slice(1, 3)}).eq(0).all().item<bool>());
  REQUIRE(x.index({7, Slice(), Slice(1, 3)}).eq(0).all().item<bool>());
  // Sample and test steps: each stimulus channel has mean 0.5 and std sqrt(0.25 + 0.01).
  const double sd = std::sqrt(0.26);
  for (int64_t t : {0, 6}) {
    for (int64_t c : {1, 2}) {
      INFO("step " << t << " channel " << c);
      const torch::Tensor v = x.index({t, Slice(), c});
      REQUIRE(within_5se(v.mean().item<double>(), 0.5, sd / std::sqrt(kTrials)));
      REQUIRE(within_5se(v.std().item<double>(), sd, sd / std::sqrt(2.0 * kTrials)));
    }
    // The one-hot pair sums to 1, so the sum minus 1 is the noise: std 0.1 * sqrt(2).
    const torch::Tensor noise = x.index({t, Slice(), 1}) + x.index({t, Slice(), 2}) - 1.0;
    REQUIRE(within_5se(noise.std().item<double>(), 0.1 * std::sqrt(2.0),
                       0.1 * std::sqrt(2.0) / std::sqrt(2.0 * kTrials)));
  }
  REQUIRE(b.targets.index({Slice(0, 7)}).eq(0).all().item<bool>());
  REQUIRE(within_5se(fraction(b.targets[7].eq(1)), 0.5, 0.5 / std::sqrt(kTrials)));
  REQUIRE(fraction(b.targets[7].eq(1).logical_or(b.targets[7].eq(2))) == 1.0);
}

TEST_CASE("DMS labels say match exactly when test and sample agree, four conditions at 25%",
          "[tasks]") {
  const auto task = make_task("{name: DMS, sigma: 0}");
  at::Generator gen = make_generator(22);
  const tasks::TrialBatch b = task->sample(kTrials, gen);
  const torch::Tensor sample = b.inputs.index({0, Slice(), Slice(1, 3)});
  const torch::Tensor test = b.inputs.index({6, Slice(), Slice(1, 3)});
  // Exactly one-hot without noise.
  REQUIRE(sample.sum(1).eq(1).all().item<bool>());
  REQUIRE(test.sum(1).eq(1).all().item<bool>());
  const torch::Tensor match = sample.argmax(1).eq(test.argmax(1));
  REQUIRE(torch::equal(b.targets[7].eq(1), match));
  REQUIRE(torch::equal(b.trial_vars.at("ground_truth"), b.targets[7]));
  const torch::Tensor side = sample.argmax(1);
  const double se = std::sqrt(0.25 * 0.75 / kTrials);
  for (int64_t s : {0, 1}) {
    for (bool m : {true, false}) {
      REQUIRE(within_5se(fraction(side.eq(s).logical_and(match.eq(m))), 0.25, se));
    }
  }
}
