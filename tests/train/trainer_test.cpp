// tests/train/trainer_test.cpp: the training step against PyTorch, and the loop's guarantees.
#include "../test_common.h"

#include "../reference/pytorch_reference.h"

#include <richlazy/core/registries.h>
#include <richlazy/core/seeding.h>
#include <richlazy/init/apply.h>
#include <richlazy/models/ctrnn.h>
#include <richlazy/tasks/scoring.h>
#include <richlazy/train/trainer.h>

#include <cmath>

using namespace richlazy;
using testing::registries;

namespace {
std::unique_ptr<tasks::Task> task_2af() {
  Params p = testing::params_from("{name: 2AF}", "task");
  return registries().tasks.create(p);
}

torch::Tensor pattern(int64_t rows, int64_t cols, double a, double b) {
  const auto i = torch::arange(rows, torch::kDouble).unsqueeze(1);
  const auto j = torch::arange(cols, torch::kDouble).unsqueeze(0);
  return (torch::sin(a * i + b * j + 0.5) / 2.0).to(torch::kFloat);
}

/// A CTRNN of the paper's kind, initialized by the given init section and seed.
std::shared_ptr<models::Model> paper_net(int64_t hidden, const std::string& init_yaml, uint64_t seed) {
  Params mp = testing::params_from("{name: ctrnn, hidden_size: " + std::to_string(hidden) + "}", "model");
  const auto builder = registries().models.create(mp, models::TaskShape{3, 3, 100});
  auto model = builder->build();
  Params ip = testing::params_from(init_yaml, "init");
  init::apply_initializers(*model, init::plan_initializers(ip, builder->parameters(), registries().initializers),
                           seed);
  return model;
}

std::vector<train::NamedHook> hooks(const std::vector<std::string>& names, const tasks::Task& task) {
  std::vector<train::NamedHook> out;
  const std::vector<models::ParameterInfo> params{{"W_in", {}, "", "", "input"},
                                                  {"W_out", {}, "", "", "readout"},
                                                  {"W_rec", {}, "", "", "recurrent"}};
  for (const auto& n : names) {
    Params p = testing::params_from("{name: " + n + "}", "metrics");
    out.push_back({n, registries().metrics.create(p, metrics::MetricTarget{params, task})});
  }
  return out;
}
}  // namespace

TEST_CASE("a training step equals PyTorch's SGD with momentum on CrossEntropyLoss", "[train]") {
  models::CTRNNOptions o;
  o.hidden_size = 8;
  models::CTRNN net(o);
  {
    torch::NoGradGuard g;
    net.weight("W_in").copy_(pattern(8, 3, 0.7, 1.3).unsqueeze(0));
    net.weight("W_rec").copy_(pattern(8, 8, 0.37, -0.91).unsqueeze(0) * 0.6);
    net.weight("W_out").copy_(pattern(3, 8, 1.1, 0.23).unsqueeze(0));
  }
  const int64_t T = 8, B = 4;
  tasks::TrialBatch batch;
  batch.inputs = (torch::cos(0.3 * torch::arange(T * B * 3, torch::kDouble)) * 0.5 + 0.5)
                     .reshape({T, 1, B, 3}).to(torch::kFloat);
  batch.targets = torch::arange(T * B, torch::kLong).mul(7).remainder(3).reshape({T, 1, B});
  batch.mask = torch::ones({T, 1, B});
  const auto task = task_2af();
  train::Trainer trainer(net, *task, *testing::make_optimizer("{name: sgd, lr: 0.05, momentum: 0.9}"), {},
                         train::TrainSettings{3, B, 1}, torch::kCPU, 0);
  for (int s = 0; s < reference::kTrainSteps; ++s) {
    INFO("step " << s);
    REQUIRE(trainer.train_step(batch).loss.item<double>() == Approx(reference::kTrainLosses[s]).epsilon(1e-6));
  }
  auto expect = [](const torch::Tensor& w, const std::vector<double>& ref) {
    const torch::Tensor r = torch::tensor(ref, torch::kDouble).reshape(w[0].sizes()).unsqueeze(0);
    REQUIRE(testing::max_abs_diff(w, r) < 2e-6);
  };
  expect(net.weight("W_rec"), reference::kTrainWRecFinal);
  expect(net.weight("W_in"), reference::kTrainWInFinal);
  expect(net.weight("W_out"), reference::kTrainWOutFinal);
}

TEST_CASE("masked cross-entropy scores only the masked steps, each member on its own", "[train]") {
  torch::manual_seed(3);
  const int64_t T = 4, E = 2, B = 5;
  const torch::Tensor logits = torch::randn({T, E, B, 3});
  const torch::Tensor targets = torch::randint(0, 3, {T, E, B}, torch::kLong);
  auto reference = [&](int64_t e, int64_t first_step) {  // PyTorch's CrossEntropyLoss
    const torch::Tensor l = logits.select(1, e).slice(0, first_step), t = targets.select(1, e).slice(0, first_step);
    return torch::nn::functional::cross_entropy(l.reshape({-1, 3}), t.reshape({-1})).item<double>();
  };
  const torch::Tensor all = tasks::masked_cross_entropy(logits, targets, torch::ones({T, E, B}));
  REQUIRE(all.sizes() == torch::IntArrayRef({E}));
  for (int64_t e = 0; e < E; ++e) REQUIRE(all[e].item<double>() == Approx(reference(e, 0)));
  torch::Tensor mask = torch::zeros({T, E, B});
  mask[3] = 1;
  const torch::Tensor last = tasks::masked_cross_entropy(logits, targets, mask);
  for (int64_t e = 0; e < E; ++e) REQUIRE(last[e].item<double>() == Approx(reference(e, 3)));
}

TEST_CASE("a short training run on 2AF reaches decision accuracy >= 0.8", "[train]") {
  const auto task = task_2af();
  auto net = paper_net(300, "{}", 0);
  train::Trainer trainer(*net, *task, *testing::make_optimizer("{name: sgd}"), hooks({"loss", "accuracy"}, *task),
                         train::TrainSettings{1000, 32, 500}, torch::kCPU, 0);
  const train::TrainOutcome out = trainer.run();
  REQUIRE(out.members[0].status == "ok");
  // Evaluate on 4096 fresh trials. An ideal observer gets about 0.87 (20% of trials have
  // coherence 0); the standard error at this size is 0.006.
  at::Generator gen = make_generator(99);
  const tasks::TrialBatch test = tasks::stack_members({task->sample(4096, gen)});
  torch::NoGradGuard g;
  const double acc =
      tasks::decision_accuracy(net->forward(test.inputs).logits, test.targets, task->decision()).item<double>();
  REQUIRE(acc >= 0.8);
  // The logged training loss fell from chance (about ln 3 per step) to well below it.
  REQUIRE(trainer.log().rows.front()[0] > 0.5);
  REQUIRE(trainer.log().rows.back()[0] < 0.1);
}

TEST_CASE("metrics are logged at step 0, every k steps and at the end", "[train]") {
  const auto task = task_2af();
  auto net = paper_net(16, "{}", 1);
  train::Trainer trainer(*net, *task, *testing::make_optimizer("{name: sgd}"), hooks({"loss", "dw_rec"}, *task),
                         train::TrainSettings{25, 8, 10}, torch::kCPU, 1);
  trainer.run();
  REQUIRE(trainer.log().steps == std::vector<int64_t>{0, 10, 20, 25});
  REQUIRE(trainer.log().rows[0][1] == 0.0);  // nothing moved at step 0
  REQUIRE(trainer.log().rows[3][1] > 0.0);
  const std::string csv = trainer.log().csv();
  REQUIRE(csv.rfind("step,loss,dw_rec\n0,", 0) == 0);
}

TEST_CASE("metric hooks never change training", "[train]") {
  const auto task = task_2af();
  auto a = paper_net(32, "{W_rec: {name: low_rank, rank: 3}}", 4);
  auto b = paper_net(32, "{W_rec: {name: low_rank, rank: 3}}", 4);
  train::Trainer with(*a, *task, *testing::make_optimizer("{name: sgd}"),
                      hooks({"loss", "accuracy", "dw_rec", "dw_rec_rel", "dw_in", "dw_out",
                             "rep_alignment", "kernel_alignment", "sign_similarity", "erank_rec",
                             "erank_delta_rec", "path_length_rec"},
                            *task),
                      train::TrainSettings{60, 16, 7}, torch::kCPU, 4);
  train::Trainer without(*b, *task, *testing::make_optimizer("{name: sgd}"), {}, train::TrainSettings{60, 16, 1000},
                         torch::kCPU, 4);
  with.run();
  without.run();
  for (const char* w : {"W_in", "W_rec", "W_out"}) REQUIRE(torch::equal(a->weight(w), b->weight(w)));
}

TEST_CASE("the same seed gives identical metrics and another seed does not", "[train]") {
  const auto task = task_2af();
  auto run = [&](uint64_t seed) {
    auto net = paper_net(24, "{}", seed);
    train::Trainer t(*net, *task, *testing::make_optimizer("{name: sgd}"), hooks({"loss", "dw_rec"}, *task),
                     train::TrainSettings{30, 8, 10}, torch::kCPU, seed);
    t.run();
    return t.log().rows;
  };
  REQUIRE(run(7) == run(7));
  REQUIRE(run(7) != run(8));
}

TEST_CASE("a run whose loss stops being finite is marked diverged", "[train]") {
  const auto task = task_2af();
  auto net = paper_net(32, "{W_rec: {name: gaussian, gain: 3}}", 2);
  train::Trainer trainer(*net, *task, *testing::make_optimizer("{name: sgd, lr: 1e6, momentum: 0.9}"),
                         hooks({"loss"}, *task), train::TrainSettings{200, 8, 50}, torch::kCPU, 2);
  const train::TrainOutcome out = trainer.run();
  REQUIRE(out.members[0].status == "diverged");
  REQUIRE(out.members[0].steps_done < 200);
  REQUIRE_FALSE(std::isfinite(trainer.log().rows.back()[0]));
  REQUIRE(out.members[0].reason.find("training loss became") != std::string::npos);
  // The last row is at the update whose loss failed, and the weights froze before it.
  REQUIRE(trainer.log().steps.back() == out.members[0].steps_done);
}
