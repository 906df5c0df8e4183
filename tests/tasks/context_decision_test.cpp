// tests/tasks/context_decision_test.cpp: CXT trials against TASKS.md section 4
// (20,480 trials, tolerances of five standard errors).
#include "task_test_util.h"

#include <richlazy/core/seeding.h>

#include <map>

using namespace richlazy;
using namespace richlazy::testing;
using torch::indexing::Slice;

namespace {
constexpr int64_t kTrials = 20480;
}

TEST_CASE("CXT channels per step: noise on all seven during the stimulus, context kept at "
          "the decision",
          "[tasks]") {
  const auto task = make_task("{name: CXT}");
  REQUIRE(task->input_size() == 7);
  REQUIRE(task->steps() == 8);
  REQUIRE(task->decision().begin == 7);
  at::Generator gen = make_generator(31);
  const tasks::TrialBatch b = task->sample(kTrials, gen);
  const torch::Tensor x = b.inputs.to(torch::kDouble);
  const double se_mean_01 = 0.1 / std::sqrt(kTrials), se_std_01 = 0.1 / std::sqrt(2.0 * kTrials);
  for (int64_t t : {0, 1}) {
    INFO("stimulus step " << t);
    // Fixation: 1 + noise (std 0.1).
    REQUIRE(within_5se(x.index({t, Slice(), 0}).mean().item<double>(), 1.0, se_mean_01));
    REQUIRE(within_5se(x.index({t, Slice(), 0}).std().item<double>(), 0.1, se_std_01));
    // Stimulus channels: 0.5 +- c/200 + noise, std sqrt(0.0229167 + 0.01) = 0.1814.
    const double sd = std::sqrt(0.0229167 + 0.01);
    for (int64_t c = 1; c <= 4; ++c) {
      REQUIRE(within_5se(x.index({t, Slice(), c}).mean().item<double>(), 0.5, sd / std::sqrt(kTrials)));
      REQUIRE(within_5se(x.index({t, Slice(), c}).std().item<double>(), sd, sd / std::sqrt(2.0 * kTrials)));
    }
  }
  const torch::Tensor context = b.trial_vars.at("context");
  const torch::Tensor active = torch::where(context.eq(0), x.index({Slice(), Slice(), 5}), x.index({Slice(), Slice(), 6}));
  const torch::Tensor inactive = torch::where(context.eq(0), x.index({Slice(), Slice(), 6}), x.index({Slice(), Slice(), 5}));
  // Active context: 1 + noise at 0-1, exactly 1 at 2-7 (the decision included).
  REQUIRE(within_5se(active.index({Slice(0, 2)}).std().item<double>(), 0.1, 0.1 / std::sqrt(4.0 * kTrials)));
  REQUIRE(active.index({Slice(2, 8)}).eq(1).all().item<bool>());
  // Inactive context: noise at 0-1, exactly 0 afterwards.
  REQUIRE(within_5se(inactive.index({Slice(0, 2)}).mean().item<double>(), 0.0, 0.1 / std::sqrt(2.0 * kTrials)));
  REQUIRE(inactive.index({Slice(2, 8)}).eq(0).all().item<bool>());
  // Fixation 1 without noise in the delay, 0 at the decision; stimuli 0 from step 2 on.
  REQUIRE(x.index({Slice(2, 7), Slice(), 0}).eq(1).all().item<bool>());
  REQUIRE(x.index({7, Slice(), 0}).eq(0).all().item<bool>());
  REQUIRE(x.index({Slice(2, 8), Slice(), Slice(1, 5)}).eq(0).all().item<bool>());
  REQUIRE(b.targets.index({Slice(0, 7)}).eq(0).all().item<bool>());
  REQUIRE(within_5se(fraction(b.targets[7].eq(1)), 0.5, 0.5 / std::sqrt(kTrials)));
}

TEST_CASE("CXT labels follow the context's modality in 72 equiprobable trial types", "[tasks]") {
  const auto task = make_task("{name: CXT, sigma: 0}");
  at::Generator gen = make_generator(32);
  const tasks::TrialBatch b = task->sample(kTrials, gen);
  const torch::Tensor x = b.inputs.to(torch::kDouble);
  // Signed coherence of each modality: stim1 - stim2 = s / 100.
  const torch::Tensor s1 = (x.index({0, Slice(), 1}) - x.index({0, Slice(), 2})) * 100.0;
  const torch::Tensor s2 = (x.index({0, Slice(), 3}) - x.index({0, Slice(), 4})) * 100.0;
  const torch::Tensor context = x.index({2, Slice(), 6}).round().to(torch::kLong);  // 1 = context 2
  const torch::Tensor choice1 = torch::where(s1.gt(0), torch::ones_like(context), 2 * torch::ones_like(context));
  const torch::Tensor choice2 = torch::where(s2.gt(0), torch::ones_like(context), 2 * torch::ones_like(context));
  const torch::Tensor label = b.targets[7];
  REQUIRE(torch::equal(label, torch::where(context.eq(0), choice1, choice2)));
  REQUIRE(torch::equal(context, b.trial_vars.at("context")));
  // coh_0 always goes with modality 1, coh_1 with modality 2.
  REQUIRE(torch::allclose(s1.abs(), b.trial_vars.at("coh_0"), 1e-4, 1e-4));
  REQUIRE(torch::allclose(s2.abs(), b.trial_vars.at("coh_1"), 1e-4, 1e-4));
  // Congruent trials (both modalities favour the same side): 50%.
  REQUIRE(within_5se(fraction(choice1.eq(choice2)), 0.5, 0.5 / std::sqrt(kTrials)));
  // 2 gt x 2 other x 2 contexts x 3 x 3 coherences = 72 types, each 1/72.
  const torch::Tensor gt = b.trial_vars.at("ground_truth"), other = b.trial_vars.at("other");
  const torch::Tensor c0 = s1.abs().round().to(torch::kLong), c1 = s2.abs().round().to(torch::kLong);
  std::map<std::vector<int64_t>, int64_t> counts;
  for (int64_t i = 0; i < kTrials; ++i) {
    counts[{gt[i].item<int64_t>(), other[i].item<int64_t>(), context[i].item<int64_t>(),
            c0[i].item<int64_t>(), c1[i].item<int64_t>()}]++;
  }
  REQUIRE(counts.size() == 72);
  const double p = 1.0 / 72, se = std::sqrt(p * (1 - p) / kTrials);
  for (const auto& [type, n] : counts) REQUIRE(within_5se(static_cast<double>(n) / kTrials, p, se));
}

TEST_CASE("every task's trials are determined by the generator and its stats follow the spec",
          "[tasks]") {
  for (const char* spec : {"{name: 2AF}", "{name: DMS}", "{name: CXT}", "{name: teacher_student}"}) {
    INFO(spec);
    const auto task = make_task(spec);
    at::Generator a = make_generator(3), b = make_generator(3), c = make_generator(4);
    const auto x = task->sample(64, a), y = task->sample(64, b), z = task->sample(64, c);
    REQUIRE(torch::equal(x.inputs, y.inputs));
    REQUIRE(torch::equal(x.targets, y.targets));
    REQUIRE_FALSE(torch::equal(x.inputs, z.inputs));
    REQUIRE(x.inputs.size(0) == task->steps());
    REQUIRE(x.inputs.size(2) == task->input_size());
  }
}
