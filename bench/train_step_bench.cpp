// bench/train_step_bench.cpp: one training iteration of the paper's network (N = 300,
// batch 32, 8 steps, SGD with momentum), with richlazy's fused BPTT and with the recurrence
// recorded op by op for autograd (what a straightforward port, or the Python reference,
// does), plus drawing a 2AF batch.
#include <richlazy/core/registries.h>
#include <richlazy/core/seeding.h>
#include <richlazy/init/apply.h>
#include <richlazy/models/ctrnn.h>
#include <richlazy/tasks/scoring.h>
#include <richlazy/train/trainer.h>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

using namespace richlazy;

namespace {

struct Setup {
  Registries reg = builtin_registries();
  std::unique_ptr<tasks::Task> task;
  std::shared_ptr<models::Model> model;
  tasks::TrialBatch batch;

  explicit Setup(int64_t hidden) {
    auto source = std::make_shared<ConfigSource>("bench");
    Params tp(YAML::Load("{name: 2AF}"), "task", source, {});
    task = reg.tasks.create(tp);
    Params mp(YAML::Load("{name: ctrnn, hidden_size: " + std::to_string(hidden) + "}"), "model",
              source, {});
    const auto builder = reg.models.create(mp, models::TaskShape{3, 3, 100});
    model = builder->build();
    Params ip(YAML::Load("{}"), "init", source, {});
    init::apply_initializers(*model, init::plan_initializers(ip, builder->parameters(), reg.initializers), 0);
    at::Generator gen = make_generator(1);
    batch = tasks::stack_members({task->sample(32, gen)});
  }
};

/// richlazy's training step (Trainer::train_step: fused forward, hand-written BPTT).
void BM_TrainStep_richlazy(benchmark::State& state) {
  Setup s(state.range(0));
  auto source = std::make_shared<ConfigSource>("bench");
  Params op(YAML::Load("{name: sgd}"), "o", source, {});
  const auto opt = s.reg.optimizers.create(op);
  train::Trainer trainer(*s.model, *s.task, *opt, {}, train::TrainSettings{1, 32, 1}, torch::kCPU, 0);
  for (auto _ : state) benchmark::DoNotOptimize(trainer.train_step(s.batch).loss.item<double>());
}

/// The same step with the recurrence recorded op by op for autograd.
void BM_TrainStep_autograd(benchmark::State& state) {
  Setup s(state.range(0));
  torch::Tensor w_in = s.model->weight("W_in"), w_rec = s.model->weight("W_rec"),
                w_out = s.model->weight("W_out");
  torch::optim::SGD opt(s.model->parameters(), torch::optim::SGDOptions(0.003).momentum(0.9));
  for (auto _ : state) {
    const models::ModelOutput out = models::ctrnn_forward_reference(s.batch.inputs, w_in, w_rec, w_out, 1.0,
                                                                    models::Activation::relu);
    const torch::Tensor loss = tasks::masked_cross_entropy(out.logits, s.batch.targets, s.batch.mask).sum();
    opt.zero_grad();
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.item<double>());
  }
}

/// Drawing one batch of 32 2AF trials.
void BM_Sample2AF(benchmark::State& state) {
  Setup s(8);
  at::Generator gen = make_generator(2);
  for (auto _ : state) benchmark::DoNotOptimize(s.task->sample(32, gen));
}

}  // namespace

BENCHMARK(BM_TrainStep_richlazy)->Arg(300)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_TrainStep_autograd)->Arg(300)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Sample2AF)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
