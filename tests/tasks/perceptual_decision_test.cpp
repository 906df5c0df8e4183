// tests/tasks/perceptual_decision_test.cpp: 2AF trials against TASKS.md section 2.
// Statistical checks use 20,480 trials (as the spec's own measurement) and a tolerance of
// five standard errors.
#include "../test_common.h"

#include <richlazy/core/registries.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/seeding.h>
#include <richlazy/tasks/member_streams.h>
#include <richlazy/tasks/perceptual_decision.h>
#include <richlazy/tasks/task_stats.h>
#include <richlazy/tasks/timing.h>

#include <cmath>
#include <set>

using namespace richlazy;
using torch::indexing::Slice;

namespace {
std::unique_ptr<tasks::Task> make_task(const std::string& yaml) {
  const Registries reg = builtin_registries();
  Params p = testing::params_from(yaml, "task");
  return reg.tasks.create(p);
}
constexpr int64_t kTrials = 20480;
}  // namespace

TEST_CASE("2AF with the paper's timing: sizes and decision window", "[tasks]") {
  const auto task = make_task("{name: 2AF}");
  REQUIRE(task->input_size() == 3);
  REQUIRE(task->output_size() == 3);
  REQUIRE(task->steps() == 8);
  REQUIRE(task->decision().begin == 7);
  REQUIRE(task->decision().end == 8);
  REQUIRE(task->dt_ms() == 100);
}

TEST_CASE("2AF channel values per step, noise and labels follow the spec", "[tasks]") {
  const auto task = make_task("{name: 2AF}");
  at::Generator gen = make_generator(11);
  const tasks::TrialBatch b = task->sample(kTrials, gen);
  REQUIRE(b.inputs.sizes() == torch::IntArrayRef({8, kTrials, 3}));
  REQUIRE(b.inputs.scalar_type() == torch::kFloat);
  REQUIRE(b.targets.scalar_type() == torch::kLong);
  REQUIRE(b.mask.eq(1).all().item<bool>());

  const torch::Tensor x = b.inputs.to(torch::kDouble);
  // Fixation: exactly 1 (no noise) at steps 0-6, 0 at the decision step.
  REQUIRE(x.index({Slice(0, 7), Slice(), 0}).eq(1).all().item<bool>());
  REQUIRE(x.index({7}).eq(0).all().item<bool>());
  // Stimulus channels at steps 0-6: mean 0.5, std sqrt(0.017408 + 0.01) = 0.16555.
  const double total_std = std::sqrt(0.017408 + 0.01);
  for (int64_t t = 0; t < 7; ++t) {
    for (int64_t c : {1, 2}) {
      INFO("step " << t << " channel " << c);
      const torch::Tensor v = x.index({t, Slice(), c});
      REQUIRE(std::abs(v.mean().item<double>() - 0.5) < 5 * total_std / std::sqrt(kTrials));
      REQUIRE(std::abs(v.std().item<double>() - total_std) < 5 * total_std / std::sqrt(2.0 * kTrials));
    }
  }
  // The two stimulus values sum to 1, so stim1 + stim2 - 1 is pure noise: std 0.1 * sqrt(2),
  // independent across steps.
  const torch::Tensor noise = x.index({Slice(0, 7), Slice(), 1}) + x.index({Slice(0, 7), Slice(), 2}) - 1.0;
  const double noise_std = 0.1 * std::sqrt(2.0);
  REQUIRE(std::abs(noise.std().item<double>() - noise_std) < 5 * noise_std / std::sqrt(2.0 * 7 * kTrials));
  const double corr = (noise[0] * noise[1]).mean().item<double>() / (noise_std * noise_std);
  REQUIRE(std::abs(corr) < 5 / std::sqrt(static_cast<double>(kTrials)));
  // Labels: 0 before the decision, gt + 1 in {1, 2} at step 7, balanced.
  REQUIRE(b.targets.index({Slice(0, 7)}).eq(0).all().item<bool>());
  const torch::Tensor label = b.targets[7];
  REQUIRE((label.eq(1).logical_or(label.eq(2))).all().item<bool>());
  const double p1 = label.eq(1).to(torch::kDouble).mean().item<double>();
  REQUIRE(std::abs(p1 - 0.5) < 5 * 0.5 / std::sqrt(kTrials));
}

TEST_CASE("2AF coherences come from the set, uniformly, and the label names the stronger side",
          "[tasks]") {
  const auto task = make_task("{name: 2AF, sigma: 0}");  // noiseless: values are exact
  at::Generator gen = make_generator(12);
  const tasks::TrialBatch b = task->sample(kTrials, gen);
  const torch::Tensor s1 = b.inputs.index({0, Slice(), 1}).to(torch::kDouble);
  const torch::Tensor s2 = b.inputs.index({0, Slice(), 2}).to(torch::kDouble);
  // Constant over the stimulus period.
  REQUIRE(b.inputs.index({Slice(0, 7), Slice(), 1}).eq(b.inputs.index({0, Slice(), 1})).all().item<bool>());
  const torch::Tensor coh = ((s1 - s2).abs() * 100.0).round();  // 0.5 +- c/200 -> c
  const std::vector<double> cohs{0, 6.4, 12.8, 25.6, 51.2};
  int64_t matched = 0;
  for (double c : cohs) {
    const torch::Tensor is_c = ((s1 - s2).abs() * 100.0 - c).abs().lt(1e-4);
    const double frac = is_c.to(torch::kDouble).mean().item<double>();
    INFO("coherence " << c);
    REQUIRE(std::abs(frac - 0.2) < 5 * std::sqrt(0.2 * 0.8 / kTrials));
    matched += is_c.sum().item<int64_t>();
  }
  REQUIRE(matched == kTrials);
  const torch::Tensor label = b.targets[7];
  const torch::Tensor strong1 = s1.gt(s2);
  const torch::Tensor strong2 = s2.gt(s1);
  REQUIRE(label.index({strong1}).eq(1).all().item<bool>());
  REQUIRE(label.index({strong2}).eq(2).all().item<bool>());
  // At coherence 0 (20% of trials) the label is a coin flip.
  const torch::Tensor zero = s1.eq(s2);
  const double p1 = label.index({zero}).eq(1).to(torch::kDouble).mean().item<double>();
  REQUIRE(std::abs(p1 - 0.5) < 5 * 0.5 / std::sqrt(0.2 * kTrials));
}

TEST_CASE("2AF timing floors durations to dt and noise scales as 1/sqrt(dt)", "[tasks]") {
  const auto task = make_task(
      "{name: 2AF, dt_ms: 20, fixation_ms: 50, stimulus_ms: 700, delay_ms: 30, decision_ms: 100}");
  // fixation 50 -> 40 ms = 2 steps; stimulus 35; delay 1; decision 5.
  REQUIRE(task->steps() == 2 + 35 + 1 + 5);
  REQUIRE(task->decision().begin == 38);
  at::Generator gen = make_generator(13);
  const tasks::TrialBatch b = task->sample(4096, gen);
  const torch::Tensor x = b.inputs.to(torch::kDouble);
  REQUIRE(x.index({Slice(0, 38), Slice(), 0}).eq(1).all().item<bool>());
  REQUIRE(x.index({Slice(0, 2), Slice(), Slice(1, 3)}).eq(0).all().item<bool>());   // fixation
  REQUIRE(x.index({Slice(37, 38), Slice(), Slice(1, 3)}).eq(0).all().item<bool>());  // delay
  const torch::Tensor noise = x.index({Slice(2, 37), Slice(), 1}) + x.index({Slice(2, 37), Slice(), 2}) - 1.0;
  const double expected = std::sqrt(2.0) / std::sqrt(20.0);  // 0.2236 per channel
  REQUIRE(noise.std().item<double>() == Approx(expected).epsilon(0.02));
  REQUIRE(tasks::duration_steps(700, 100) == 7);
  REQUIRE(tasks::duration_steps(750, 100) == 7);
  REQUIRE(tasks::duration_steps(0, 100) == 0);
}

TEST_CASE("2AF trials are determined by the generator state", "[tasks]") {
  const auto task = make_task("{name: 2AF}");
  at::Generator a = make_generator(5), b = make_generator(5), c = make_generator(6);
  const auto x = task->sample(64, a), y = task->sample(64, b), z = task->sample(64, c);
  REQUIRE(torch::equal(x.inputs, y.inputs));
  REQUIRE(torch::equal(x.targets, y.targets));
  REQUIRE_FALSE(torch::equal(x.inputs, z.inputs));
}

TEST_CASE("2AF options are validated", "[tasks]") {
  REQUIRE_THROWS_WITH(make_task("{name: 2AF, decision_ms: 50}"),
                      Catch::Matchers::Contains("task.decision_ms must last at least one time step"));
  REQUIRE_THROWS_WITH(make_task("{name: 2AF, cohs: [10, 120]}"),
                      Catch::Matchers::Contains("task.cohs must hold coherences in [0, 100]"));
  REQUIRE_THROWS_WITH(make_task("{name: 2AF, dt_ms: 0}"),
                      Catch::Matchers::Contains("task.dt_ms must be a number > 0, got 0"));
}

TEST_CASE("task stats reproduce the spec's figures", "[tasks]") {
  const auto task = make_task("{name: 2AF}");
  const tasks::TaskStats s = tasks::compute_task_stats(*task, kTrials, 0);
  REQUIRE(s.input_mean.size() == 8);
  REQUIRE(s.input_mean[3][1] == Approx(0.5).margin(0.006));
  REQUIRE(s.input_std[3][2] == Approx(0.16555).margin(0.004));
  REQUIRE(s.input_std[3][0] == 0.0);
  REQUIRE(s.label_fraction[6][0] == 1.0);
  REQUIRE(s.label_fraction[7][1] + s.label_fraction[7][2] == Approx(1.0));
}

TEST_CASE("sample_members draws exactly each generator's trials of sample, all tasks", "[tasks]") {
  // 2AF assembles the trials of all generators at once; the other tasks stack sample().
  for (const char* spec : {"{name: 2AF}", "{name: DMS}", "{name: CXT}", "{name: teacher_student}"}) {
    INFO(spec);
    const auto task = make_task(spec);
    std::vector<at::Generator> gens{make_generator(1), make_generator(2), make_generator(1)};
    std::vector<at::Generator> twins{make_generator(1), make_generator(2), make_generator(1)};
    std::vector<at::Generator*> ptrs{&gens[0], &gens[1], &gens[2]};
    for (int round = 0; round < 2; ++round) {  // the generators advance exactly as sample's do
      const tasks::TrialBatch members = task->sample_members(16, ptrs);
      REQUIRE(members.inputs.size(1) == 3);
      for (int e = 0; e < 3; ++e) {
        const tasks::TrialBatch one = task->sample(16, twins[e]);
        REQUIRE(torch::equal(members.inputs.select(1, e), one.inputs));
        REQUIRE(torch::equal(members.targets.select(1, e), one.targets));
        REQUIRE(torch::equal(members.mask.select(1, e), one.mask));
      }
    }
  }
}

TEST_CASE("member streams: each seed's own trials, drawn once for members that share it", "[tasks]") {
  const auto task = make_task("{name: 2AF}");
  tasks::MemberStreams streams({3, 5, 3}, "train");
  at::Generator three = stream_generator(3, "train"), five = stream_generator(5, "train");
  for (int round = 0; round < 2; ++round) {
    const tasks::TrialBatch b = streams.draw(*task, 8);
    REQUIRE(torch::equal(b.inputs.select(1, 0), task->sample(8, three).inputs));
    REQUIRE(torch::equal(b.inputs.select(1, 1), task->sample(8, five).inputs));
    REQUIRE(torch::equal(b.inputs.select(1, 2), b.inputs.select(1, 0)));
  }
}
