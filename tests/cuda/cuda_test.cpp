// tests/cuda/cuda_test.cpp: training on a GPU is training on the CPU: the same run, the same
// pack, every measure computed where the network lives. Run on a machine with a CUDA device
// (scripts/gpu_check.sh); elsewhere each test is reported as skipped.
#include "../test_common.h"

#include "../run_compare.h"

#include <richlazy/core/device.h>
#include <richlazy/core/npy.h>
#include <richlazy/core/seeding.h>
#include <richlazy/init/apply.h>
#include <richlazy/metrics/laziness.h>
#include <richlazy/metrics/probe.h>
#include <richlazy/models/ctrnn.h>
#include <richlazy/train/experiment.h>

#include <filesystem>

using namespace richlazy;
namespace fs = std::filesystem;

namespace {
/// A short 2AF sweep logging every measure, two ranks x two seeds (N = 24).
const char* const kShort = testing::kEveryMeasureSweep;

const std::vector<std::string> kAllMetrics{
    "loss", "accuracy", "test_loss", "test_accuracy", "dw_rec", "dw_rec_rel", "dw_in", "dw_out", "dw",
    "rep_alignment", "kernel_alignment", "sign_similarity", "erank_rec", "erank_delta_rec", "path_length_rec"};
}  // namespace

TEST_CASE("device: auto picks CUDA when a device is present", "[cuda]") {
  REQUIRE(resolve_device("auto", "test").is_cuda());
  REQUIRE(built_with_cuda());
  REQUIRE_FALSE(cuda_device_descriptions().empty());
  testing::TempDir tmp;
  const testing::Ran r = testing::run_config(tmp, kShort, "1", {"sweep={}", "train.iterations=2"});
  REQUIRE(r.plan.runs[0].config.device.is_cuda());
  const YAML::Node js = YAML::LoadFile(r.plan.dir + "/runs/run/summary.json");
  REQUIRE(js["device"].as<std::string>().rfind("cuda", 0) == 0);
}

TEST_CASE("a short 2AF run on CUDA equals the same run on the CPU", "[cuda]") {
  testing::TempDir tmp;
  const testing::Ran gpu = testing::run_config(tmp, kShort, "1", {}, testing::registries(), "cuda");
  const testing::Ran cpu = testing::run_config(tmp, kShort, "1", {}, testing::registries(), "cpu");
  // Initial weights and batches are drawn on the CPU: the starting points are identical.
  for (const auto& run : cpu.plan.runs) {
    for (const char* w : {"W_in", "W_rec", "W_out"}) {
      const std::string f = std::string("/runs/") + run.id + "/weights/" + w + "_init.npy";
      REQUIRE(torch::equal(read_npy(gpu.plan.dir + f), read_npy(cpu.plan.dir + f)));
    }
  }
  testing::require_same_runs(gpu, cpu, 1e-4, 1e-4);
}

TEST_CASE("a packed ensemble on CUDA equals its solo CPU runs", "[cuda]") {
  testing::TempDir tmp;
  const testing::Ran gpu = testing::run_config(tmp, kShort, "4", {}, testing::registries(), "cuda");
  const testing::Ran cpu = testing::run_config(tmp, kShort, "1", {}, testing::registries(), "cpu");
  REQUIRE(gpu.plan.packs.size() == 1);
  testing::require_same_runs(gpu, cpu, 1e-4, 1e-4);
}

TEST_CASE("every metric, the initializers and the fast kernel compute on the device", "[cuda]") {
  const torch::Device cuda(torch::kCUDA, 0);
  Params tp = testing::params_from("{name: 2AF}", "task");
  const auto task = testing::registries().tasks.create(tp);
  Params mp = testing::params_from("{name: ctrnn, hidden_size: 24}", "model");
  const auto builder = testing::registries().models.create(mp, models::TaskShape{3, 3, 100});
  const auto model = builder->build(2);
  Params ip = testing::params_from("{}", "init");
  const auto plan = init::plan_initializers(ip, builder->parameters(), testing::registries().initializers);
  // Initializers fill a model that lives on the device in place, with the CPU's values.
  const auto cpu_model = builder->build(2);
  model->to(cuda);
  for (int64_t e = 0; e < 2; ++e) {
    init::apply_initializers(*model, plan, e, e);
    init::apply_initializers(*cpu_model, plan, e, e);
  }
  const auto cpu_parameters = cpu_model->named_parameters();
  for (const auto& p : model->named_parameters()) {
    INFO("parameter " << p.key());
    REQUIRE(p.value().device().is_cuda());
    REQUIRE(torch::equal(p.value().cpu(), cpu_parameters[p.key()]));
  }

  metrics::Probe probe(metrics::draw_member_trials(*task, {0, 1}, "probe", 16, cuda), 4);
  metrics::EvaluationSet test(*task, {0, 1}, 32, cuda);
  const metrics::HookContext ctx{*model, *task, cuda, probe, test};
  const torch::Tensor loss = torch::rand({2}, torch::TensorOptions().dtype(torch::kDouble).device(cuda));
  const metrics::StepInfo info{1, 10, loss, loss};
  for (const auto& name : kAllMetrics) {
    INFO("metric " << name);
    Params p = testing::params_from("{name: " + name + "}", "metrics");
    const auto hook = testing::registries().metrics.create(p, metrics::MetricTarget{builder->parameters(), *task});
    torch::NoGradGuard no_grad;
    hook->on_train_begin(ctx);
    const torch::Tensor v = hook->on_step(info, ctx);
    REQUIRE(v.device().is_cuda());
    REQUIRE(v.numel() == 2);
  }
  // The fast kernel on the device is the CPU's.
  const std::vector<int64_t> steps{0, 1, 2, 3, 4, 5, 6, 7};
  const auto factors = model->kernel_factors("W_rec", probe.kernel_inputs(), steps);
  REQUIRE(factors.has_value());
  REQUIRE(factors->errors.device().is_cuda());
  const torch::Tensor k_gpu = metrics::tangent_kernel(*factors);
  REQUIRE(k_gpu.device().is_cuda());
  model->to(torch::kCPU);
  const torch::Tensor k_cpu = metrics::tangent_kernel(*model, "W_rec", probe.kernel_inputs().cpu(), steps);
  REQUIRE(testing::relative_difference(k_gpu, k_cpu) < 1e-4);
}

TEST_CASE("replaying a recorded CUDA graph trains as running each iteration does", "[cuda]") {
  // A pack of four in which the members with lr 0.3 stop being finite long after the graph was
  // recorded (at step 32 on the CPU), so the replayed iterations must also do the in-place
  // bookkeeping of divergence (frozen members, the step and loss of divergence).
  const std::vector<std::string> sets{"sweep={train.optimizer.lr: [0.003, 0.3], seed: [0, 1]}",
                                      "init.W_rec.rank=2", "model.hidden_size=48", "train.batch_size=16"};
  testing::TempDir tmp_graph, tmp_plain;  // run_config names its output by pack and device
  auto with = [&](const char* graph) {
    std::vector<std::string> s = sets;
    s.push_back(std::string("train.cuda_graph=") + graph);
    return s;
  };
  const testing::Ran graph = testing::run_config(tmp_graph, kShort, "4", with("true"), testing::registries(), "cuda");
  const testing::Ran plain = testing::run_config(tmp_plain, kShort, "4", with("false"), testing::registries(), "cuda");
  REQUIRE(graph.plan.packs.size() == 1);
  for (const auto& run : graph.plan.runs) {
    const YAML::Node js = YAML::LoadFile(graph.plan.dir + "/runs/" + run.id + "/summary.json");
    REQUIRE(js["pack"]["cuda_graph"].as<std::string>() == "replayed");
    const YAML::Node plain_js = YAML::LoadFile(plain.plan.dir + "/runs/" + run.id + "/summary.json");
    REQUIRE(plain_js["pack"]["cuda_graph"].IsDefined() == false);
  }
  int diverged = 0;
  for (const auto& r : plain.result.runs) {
    if (r.status != "diverged") continue;
    ++diverged;
    INFO(r.id << ": " << r.reason);
    REQUIRE(r.steps_done > 5);  // after the graph was recorded (at the fifth iteration)
  }
  REQUIRE(diverged >= 1);
  testing::require_same_runs(graph, plain, 1e-5, 1e-5);
}

TEST_CASE("recurrent noise and Dale's law in a replayed CUDA graph, and a task sequence, train as on the CPU", "[cuda]") {
  // The noise is drawn on the CPU from the run's own stream and copied into the graph's
  // buffer; the reflection of Dale's law is recorded with the update.
  const std::vector<std::string> sets{"model.noise_std=0.1", "model.dale=train", "model.inhibitory_fraction=0.25"};
  testing::TempDir t1, t2;
  const testing::Ran gpu = testing::run_config(t1, kShort, "4", sets, testing::registries(), "cuda");
  const testing::Ran cpu = testing::run_config(t2, kShort, "1", sets, testing::registries(), "cpu");
  for (const auto& run : gpu.plan.runs) {
    const YAML::Node js = YAML::LoadFile(gpu.plan.dir + "/runs/" + run.id + "/summary.json");
    REQUIRE(js["pack"]["cuda_graph"].as<std::string>() == "replayed");
  }
  testing::require_same_runs(gpu, cpu, 1e-4, 1e-4);

  const char* sequence = R"(experiment: seq
model: {name: ctrnn, hidden_size: 24, noise_std: 0.1}
train:
  phases: [{task: {name: 2AF}, iterations: 30}, {task: {name: DMS}, iterations: 30}]
  batch_size: 8
metrics: {every: 10, probe_trials: 16, kernel_trials: 4, test_trials: 64, names: [loss, dw_rec, kernel_alignment]}
sweep: {seed: [0, 1]}
)";
  testing::TempDir t3, t4;
  const testing::Ran seq_gpu = testing::run_config(t3, sequence, "2", {}, testing::registries(), "cuda");
  const testing::Ran seq_cpu = testing::run_config(t4, sequence, "1", {}, testing::registries(), "cpu");
  testing::require_same_runs(seq_gpu, seq_cpu, 1e-4, 1e-4);
}
