// tests/apps/eval_test.cpp: `richlazy eval RUN_DIR`, run as a user would, checked against
// an independent simulation of the saved network and against the run's own test accuracy.
#include "../run_compare.h"
#include "../test_common.h"

#include <richlazy/core/npy.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

using namespace richlazy;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(testing::read_text(path)); }

void require_one_line_error(const testing::CommandResult& r, const std::string& message) {
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 2);
  REQUIRE(r.err.rfind("richlazy: error: ", 0) == 0);
  REQUIRE(r.err.find('\n') == r.err.size() - 1);
  REQUIRE_THAT(r.err, Contains(message));
}
}  // namespace

TEST_CASE("eval runs a trained CTRNN on fresh trials as an independent simulation does, at its logged test accuracy", "[apps]") {
  testing::TempDir tmp;
  const std::string yaml = R"(experiment: ev
task: {name: 2AF}
model: {name: ctrnn, hidden_size: 24}
train: {iterations: 300, batch_size: 32, optimizer: {name: adam, lr: 0.01}}
metrics: {every: 300, test_trials: 3000, names: [loss, test_accuracy]}
)";
  const testing::Ran ran = testing::run_config(tmp, yaml, "1");
  const train::RunResult& run = ran.result.runs.at(0);
  REQUIRE(run.status == "ok");
  const std::string run_dir = ran.plan.dir + "/runs/" + run.id;
  const std::string out = tmp.file("eval-final");
  const auto r = testing::run_richlazy(fmt::format("eval {} --trials 3000 --seed 5 --out {}", run_dir, out));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  REQUIRE_THAT(r.out, Contains("accuracy by coherence:"));
  REQUIRE_THAT(r.out, Contains("psychometric (fraction 'choice2' by signed coherence):"));
  const nlohmann::json index = read_json(out + "/index.json");
  REQUIRE(index["trials"] == 3000);
  REQUIRE(index["seed"] == 5);
  REQUIRE(index["which"] == "final");

  // The arrays, and the network simulated here from its saved weights: h_t = relu(W_in x_t +
  // W_rec h_{t-1}) (alpha = dt / tau = 1 for 2AF), logits = W_out h_t.
  const torch::Tensor x = read_npy(out + "/inputs.npy").to(torch::kDouble);
  const torch::Tensor hidden = read_npy(out + "/hidden.npy").to(torch::kDouble);
  const torch::Tensor logits = read_npy(out + "/logits.npy").to(torch::kDouble);
  const int64_t T = x.size(0);
  REQUIRE(x.sizes() == torch::IntArrayRef({T, 3000, 3}));
  REQUIRE(hidden.sizes() == torch::IntArrayRef({T, 3000, 24}));
  REQUIRE(logits.sizes() == torch::IntArrayRef({T, 3000, 3}));
  REQUIRE(index["files"]["hidden"]["shape"] == std::vector<int64_t>{T, 3000, 24});
  const auto w = [&](const char* name) { return read_npy(run_dir + "/weights/" + name + "_final.npy").to(torch::kDouble); };
  const torch::Tensor w_in = w("W_in"), w_rec = w("W_rec"), w_out = w("W_out");
  torch::Tensor h = torch::zeros({3000, 24}, torch::kDouble);
  double worst = 0;
  for (int64_t t = 0; t < T; ++t) {
    h = torch::relu(torch::matmul(x[t], w_in.t()) + torch::matmul(h, w_rec.t()));
    worst = std::max(worst, testing::max_abs_diff(hidden[t], h) / (1.0 + h.abs().max().item<double>()));
    worst = std::max(worst, testing::max_abs_diff(logits[t], torch::matmul(h, w_out.t())) /
                                (1.0 + logits[t].abs().max().item<double>()));
  }
  REQUIRE(worst < 1e-5);

  // Accuracy: the same expectation as the run's test_accuracy (3,000 held-out trials), from
  // 3,000 other trials; per trial a fraction in [0, 1] has variance <= 1/4, so two means of
  // 3,000 differ by more than 4 sqrt(2 / (4 * 3000)) = 0.052 with probability below 1e-4.
  double logged = std::nan("");
  for (std::size_t i = 0; i < run.columns.size(); ++i) {
    if (run.columns[i] == "test_accuracy") logged = run.final_values[i];
  }
  const double accuracy = index["scores"]["accuracy"].get<double>();
  INFO("eval accuracy " << accuracy << ", logged test accuracy " << logged);
  REQUIRE(std::abs(accuracy - logged) < 0.052);
  // It is what the saved arrays say: argmax of the logits at the decision steps.
  const torch::Tensor targets = read_npy(out + "/targets.npy").to(torch::kLong);
  const int64_t begin = index["decision"][0], end = index["decision"][1];
  const double recomputed = logits.slice(0, begin, end).argmax(-1).eq(targets.slice(0, begin, end)).to(torch::kDouble).mean().item<double>();
  REQUIRE(accuracy == Approx(recomputed).epsilon(1e-12));

  // Per condition and the psychometric curve: signed coherences symmetric around 0, and each
  // point the fraction of trials whose last decision step chose class 2.
  const auto& points = index["psychometric"]["points"];
  REQUIRE(points.size() >= 2);
  int64_t counted = 0;
  for (const auto& p : points) counted += p["trials"].get<int64_t>();
  REQUIRE(counted == 3000);
  REQUIRE(points.front()["signed_coherence"].get<double>() == -points.back()["signed_coherence"].get<double>());
  const torch::Tensor gt = read_npy(out + "/ground_truth.npy"), coh = read_npy(out + "/coherence.npy");
  const torch::Tensor signed_coh = torch::where(gt.eq(1), coh, -coh).to(torch::kDouble);
  const torch::Tensor chose2 = logits[end - 1].argmax(-1).eq(2).to(torch::kDouble);
  for (const auto& p : points) {
    const torch::Tensor in = signed_coh.eq(p["signed_coherence"].get<double>());
    REQUIRE(p["fraction_chosen"].get<double>() == Approx(chose2.masked_select(in).mean().item<double>()).epsilon(1e-12));
  }
  REQUIRE(index["accuracy_per_condition"].contains("coherence"));
  REQUIRE(index["accuracy_per_condition"].contains("ground_truth"));

  // Another seed draws other trials; the same seed the same ones.
  const auto again = testing::run_richlazy(fmt::format("eval {} --trials 3000 --seed 5 --out {}", run_dir, tmp.file("again")));
  REQUIRE(again.status == 0);
  REQUIRE(testing::read_text(tmp.file("again/inputs.npy")) == testing::read_text(out + "/inputs.npy"));
  REQUIRE(testing::read_text(tmp.file("again/hidden.npy")) == testing::read_text(out + "/hidden.npy"));

  // Options of the task change its trials: two coherences, four signed values at most.
  const auto two = testing::run_richlazy(fmt::format("eval {} --trials 200 --set 'cohs=[0, 51.2]' --out {}",
                                                     run_dir, tmp.file("two")));
  INFO(two.err);
  REQUIRE(two.status == 0);
  const nlohmann::json two_index = read_json(tmp.file("two/index.json"));
  std::vector<double> values;
  for (const auto& p : two_index["psychometric"]["points"]) values.push_back(p["signed_coherence"].get<double>());
  REQUIRE(values == std::vector<double>{-51.2, 0.0, 51.2});

  // Bad input: one line, exit 2, nothing written.
  require_one_line_error(testing::run_richlazy(fmt::format("eval {} --out {}", run_dir, out)), "exists");
  require_one_line_error(testing::run_richlazy(fmt::format("eval {} --which middle --out {}", run_dir, tmp.file("x"))),
                         "--which: must be init or final, got 'middle'");
  require_one_line_error(testing::run_richlazy(fmt::format("eval {} --task CXT --out {}", run_dir, tmp.file("x"))),
                         "W_in is [24 x 3], but ctrnn on task CXT (7 inputs, 3 outputs) needs [24 x 7]");
  require_one_line_error(testing::run_richlazy(fmt::format("eval {} --out {}", tmp.file("nowhere"), tmp.file("x"))),
                         "not a run folder");
  require_one_line_error(testing::run_richlazy(fmt::format("eval {} --set coherence=5 --out {}", run_dir, tmp.file("x"))),
                         "task.coherence");
  REQUIRE_FALSE(fs::exists(tmp.file("x")));
}

TEST_CASE("eval of a linear2 network at its initial weights gives W_1 x and no accuracy", "[apps]") {
  testing::TempDir tmp;
  const std::string yaml = R"(experiment: lin
task: {name: teacher_student, dim: 6}
model: {name: linear2, hidden_size: 5, W_1_norm: 0.3, balanced: true}
train: {iterations: 20, batch_size: 8}
metrics: {every: 10, names: [loss]}
)";
  const testing::Ran ran = testing::run_config(tmp, yaml, "1");
  const std::string run_dir = ran.plan.dir + "/runs/" + ran.result.runs.at(0).id;
  const auto r = testing::run_richlazy(fmt::format("eval {} --which init --trials 50", run_dir));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::string out = run_dir + "/eval/init-teacher_student-seed0";
  const nlohmann::json index = read_json(out + "/index.json");
  REQUIRE(index["scores"]["accuracy"].is_null());
  REQUIRE(index["psychometric"].is_null());
  const torch::Tensor x = read_npy(out + "/inputs.npy").to(torch::kDouble)[0];    // [50, 6]
  const torch::Tensor hidden = read_npy(out + "/hidden.npy").to(torch::kDouble)[0];  // [50, 5]
  const torch::Tensor w1 = read_npy(run_dir + "/weights/W_1_init.npy").to(torch::kDouble);
  REQUIRE(testing::max_abs_diff(hidden, torch::matmul(x, w1.t())) < 1e-6);
  // Its loss is the mean squared error of the saved logits against the saved targets.
  const torch::Tensor y = read_npy(out + "/targets.npy").to(torch::kDouble), f = read_npy(out + "/logits.npy").to(torch::kDouble);
  REQUIRE(index["scores"]["loss"].get<double>() == Approx((f - y).pow(2).mean().item<double>()).epsilon(1e-5));
}
