// tests/train/continual_test.cpp: task sequences (train.phases): a single phase is the plain
// run, phases hand the network from task to task through their own channels and heads, the
// optimizer state at a boundary is reset or kept, forgetting and backward transfer follow from
// the logged accuracies, the kernel overlap equals its brute-force definition, and bad
// sequences are refused with one line.
#include "../run_compare.h"
#include "../test_common.h"

#include <richlazy/core/npy.h>
#include <richlazy/init/apply.h>
#include <richlazy/metrics/laziness.h>
#include <richlazy/models/ctrnn.h>
#include <richlazy/tasks/embedded_task.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

using namespace richlazy;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
/// metrics.csv as columns.
std::map<std::string, std::vector<double>> read_metrics(const std::string& path) {
  std::istringstream in(testing::read_text(path));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> names;
  {
    std::istringstream header(line);
    std::string name;
    while (std::getline(header, name, ',')) names.push_back(name);
  }
  std::map<std::string, std::vector<double>> columns;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string cell;
    for (const auto& name : names) {
      std::getline(row, cell, ',');
      columns[name].push_back(cell == "nan" || cell == "-nan" ? std::nan("") : std::stod(cell));
    }
  }
  return columns;
}

torch::Tensor weight(const testing::Ran& ran, std::size_t run, const std::string& file) {
  return read_npy(ran.plan.dir + "/runs/" + ran.plan.runs.at(run).id + "/weights/" + file + ".npy");
}

std::map<std::string, std::vector<double>> metrics_of(const testing::Ran& ran, std::size_t run) {
  return read_metrics(ran.plan.dir + "/runs/" + ran.plan.runs.at(run).id + "/metrics.csv");
}

const char* kSequence = R"(experiment: seq
model: {name: ctrnn, hidden_size: 24}
train:
  phases:
    - {task: {name: 2AF}, iterations: 20}
    - {task: {name: DMS}, iterations: 20}
    - {task: {name: 2AF}, iterations: 10}
  batch_size: 8
  optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
metrics: {every: 100, probe_trials: 16, kernel_trials: 4, test_trials: 64, names: [loss, dw_rec, test_accuracy]}
)";
}  // namespace

TEST_CASE("a sequence of one phase trains exactly as the plain run of its task", "[train][continual]") {
  const char* plain = R"(experiment: plain
task: {name: 2AF}
model: {name: ctrnn, hidden_size: 24}
train: {iterations: 30, batch_size: 8}
metrics: {every: 10, probe_trials: 16, kernel_trials: 4, test_trials: 64,
          names: [loss, accuracy, dw_rec, kernel_alignment, test_loss, test_accuracy]}
)";
  const char* phased = R"(experiment: phased
model: {name: ctrnn, hidden_size: 24}
train: {phases: [{task: {name: 2AF}, iterations: 30}], batch_size: 8}
metrics: {every: 10, probe_trials: 16, kernel_trials: 4, test_trials: 64,
          names: [loss, accuracy, dw_rec, kernel_alignment, test_loss, test_accuracy]}
)";
  testing::TempDir t1, t2;
  const auto a = testing::run_config(t1, plain, "1");
  const auto b = testing::run_config(t2, phased, "1");
  for (const char* w : {"W_in_final", "W_rec_final", "W_out_final"}) {
    INFO(w);
    REQUIRE(torch::equal(weight(a, 0, w), weight(b, 0, w)));
  }
  const auto ma = metrics_of(a, 0), mb = metrics_of(b, 0);
  for (const auto& [name, values] : ma) {
    INFO(name);
    REQUIRE(mb.at(name) == values);  // bit for bit
  }
  // The sequence's own columns: its task scored on the same held-out trials as test_*.
  REQUIRE(mb.at("test_accuracy@2AF") == ma.at("test_accuracy"));
  REQUIRE(mb.at("test_loss@2AF") == ma.at("test_loss"));
  REQUIRE(mb.at("phase") == std::vector<double>(4, 0.0));
  for (double v : mb.at("kernel_overlap")) REQUIRE(std::isnan(v));  // no boundary
}

TEST_CASE("phases hand one network from task to task through their channels and heads", "[train][continual]") {
  testing::TempDir tmp;
  const auto ran = testing::run_config(tmp, kSequence, "1");
  REQUIRE(ran.result.runs.at(0).status == "ok");
  const auto m = metrics_of(ran, 0);
  // Logged at step 0, at each phase's end (boundaries are always logged) and at the end.
  REQUIRE(m.at("step") == std::vector<double>{0, 20, 40, 50});
  REQUIRE(m.at("phase") == std::vector<double>{0, 0, 1, 2});
  // Two distinct tasks: 2AF's 3 channels then DMS's 3 (2AF's labels come first); one head each.
  REQUIRE(weight(ran, 0, "W_in_init").sizes() == torch::IntArrayRef({24, 6}));
  REQUIRE(weight(ran, 0, "W_out_init").sizes() == torch::IntArrayRef({6, 24}));
  for (const char* c : {"test_accuracy@2AF", "test_accuracy@DMS", "test_loss@2AF", "test_loss@DMS"}) {
    INFO(c);
    for (double v : m.at(c)) REQUIRE(std::isfinite(v));
  }
  // The kernel overlap is measured at the two boundaries only, and is a cosine in [0, 1].
  const auto& overlap = m.at("kernel_overlap");
  REQUIRE(std::isnan(overlap[0]));
  REQUIRE(std::isnan(overlap[3]));
  for (int i : {1, 2}) {
    REQUIRE(overlap[i] > 0.0);
    REQUIRE(overlap[i] <= 1.0 + 1e-9);
  }
  // The summary: forgetting and backward transfer from the logged accuracies, by hand.
  const auto& r = ran.result.runs.at(0);
  auto final_of = [&](const std::string& c) {
    const auto it = std::find(r.columns.begin(), r.columns.end(), c);
    REQUIRE(it != r.columns.end());
    return r.final_values.at(static_cast<std::size_t>(it - r.columns.begin()));
  };
  const auto& acc2 = m.at("test_accuracy@2AF");
  const auto& accd = m.at("test_accuracy@DMS");
  REQUIRE(final_of("forgetting@2AF") == acc2[1] - acc2[3]);
  REQUIRE(final_of("max_forgetting@2AF") == std::max(acc2[1] - acc2[2], acc2[1] - acc2[3]));
  REQUIRE(final_of("forgetting@DMS") == accd[2] - accd[3]);
  REQUIRE(final_of("max_forgetting@DMS") == accd[2] - accd[3]);
  REQUIRE(final_of("backward_transfer") == ((acc2[3] - acc2[1]) + (accd[3] - accd[2])) / 2);
  REQUIRE(final_of("kernel_overlap@1") == overlap[1]);
  REQUIRE(final_of("kernel_overlap@2") == overlap[2]);
  const std::string summary = testing::read_text(ran.plan.dir + "/summary.csv");
  REQUIRE_THAT(summary, Contains("forgetting@2AF,max_forgetting@2AF,forgetting@DMS,max_forgetting@DMS,"
                                 "backward_transfer,kernel_overlap@1,kernel_overlap@2"));
  // The report draws the boundaries on every trajectory and says where they are.
  const auto report = testing::run_richlazy("report " + ran.plan.dir + " --formats png");
  REQUIRE(report.status == 0);
  const std::string figures = testing::read_text(ran.plan.dir + "/report/figures.json");
  REQUIRE_THAT(figures, Contains("Dotted vertical lines: the ends of the task sequence's phases (steps 20, 40)."));
  // The run's config.yaml names its phases and the sum of their iterations.
  const YAML::Node config = YAML::LoadFile(ran.plan.dir + "/runs/" + ran.plan.runs[0].id + "/config.yaml");
  REQUIRE(config["train"]["iterations"].as<int>() == 50);
  REQUIRE(config["train"]["phases"][1]["label"].as<std::string>() == "DMS");
  REQUIRE_FALSE(config["task"].IsDefined());
}

TEST_CASE("at a boundary the optimizer state is reset or kept, and an idle task's weights stay put", "[train][continual]") {
  // Two runs that share the first phase: 2AF for 20 updates, then DMS for 20 or for 1.
  for (const std::string keep : {"reset", "keep"}) {
    INFO("phase_optimizer " << keep);
    const std::string base = std::string(kSequence);
    auto config = [&](int dms) {
      return fmt::format(R"(experiment: seq{}
model: {{name: ctrnn, hidden_size: 24}}
train:
  phases: [{{task: {{name: 2AF}}, iterations: 20}}, {{task: {{name: DMS}}, iterations: {}}}]
  phase_optimizer: {}
  batch_size: 8
  optimizer: {{name: sgd, lr: 0.05, momentum: 0.9}}
metrics: {{every: 100, probe_trials: 16, kernel_trials: 4, test_trials: 64, names: [loss]}}
)",
                         dms, dms, keep);
    };
    testing::TempDir t1, t2;
    const auto long_run = testing::run_config(t1, config(20), "1");
    const auto short_run = testing::run_config(t2, config(1), "1");
    // The same first phase: the same accuracy on 2AF at its end.
    REQUIRE(metrics_of(long_run, 0).at("test_accuracy@2AF")[1] == metrics_of(short_run, 0).at("test_accuracy@2AF")[1]);
    // While DMS trains, 2AF's input channels carry zeros and its head is not read: with a
    // fresh optimizer they get no update at all, so they are where phase 1 left them, after
    // 1 or 20 DMS updates alike. A kept momentum moves them on.
    const torch::Tensor in_long = weight(long_run, 0, "W_in_final").slice(1, 0, 3);
    const torch::Tensor in_short = weight(short_run, 0, "W_in_final").slice(1, 0, 3);
    const torch::Tensor out_long = weight(long_run, 0, "W_out_final").slice(0, 0, 3);
    const torch::Tensor out_short = weight(short_run, 0, "W_out_final").slice(0, 0, 3);
    if (keep == "reset") {
      REQUIRE(torch::equal(in_long, in_short));
      REQUIRE(torch::equal(out_long, out_short));
    } else {
      REQUIRE_FALSE(torch::equal(in_long, in_short));
      REQUIRE_FALSE(torch::equal(out_long, out_short));
    }
    // DMS's head did move.
    REQUIRE_FALSE(torch::equal(weight(long_run, 0, "W_out_final").slice(0, 3), weight(long_run, 0, "W_out_init").slice(0, 3)));
  }
}

TEST_CASE("a shared readout gives every task the same outputs", "[train][continual]") {
  testing::TempDir tmp;
  const auto ran = testing::run_config(tmp, kSequence, "1", {"train.readout=shared"});
  REQUIRE(weight(ran, 0, "W_out_init").sizes() == torch::IntArrayRef({3, 24}));
  REQUIRE(weight(ran, 0, "W_in_init").sizes() == torch::IntArrayRef({24, 6}));
  REQUIRE(ran.result.runs.at(0).status == "ok");
}

TEST_CASE("a task in a sequence draws its own trials in its own channels", "[train][continual]") {
  const auto& reg = testing::registries();
  Params p = testing::params_from("{name: DMS}", "task");
  std::shared_ptr<const tasks::Task> dms = reg.tasks.create(p);
  std::vector<std::string> names(7, "x");
  tasks::EmbeddedTask embedded(dms, "DMS", 3, 7, names);
  at::Generator g1 = at::make_generator<at::CPUGeneratorImpl>(5);
  at::Generator g2 = at::make_generator<at::CPUGeneratorImpl>(5);
  const tasks::TrialBatch inner = dms->sample(9, g1);
  const tasks::TrialBatch outer = embedded.sample(9, g2);
  REQUIRE(outer.inputs.size(2) == 7);
  REQUIRE(torch::equal(outer.inputs.slice(2, 3, 6), inner.inputs));
  REQUIRE(outer.inputs.slice(2, 0, 3).abs().sum().item<double>() == 0.0);
  REQUIRE(outer.inputs.slice(2, 6).abs().sum().item<double>() == 0.0);
  REQUIRE(torch::equal(outer.targets, inner.targets));
  REQUIRE(embedded.output_size() == dms->output_size());
}

TEST_CASE("the cross tangent kernel and the kernel overlap equal their brute-force definitions", "[metrics][continual]") {
  torch::manual_seed(3);
  models::CTRNNOptions o;
  o.inputs = 4;
  o.hidden_size = 7;
  o.outputs = 5;  // head A: outputs 0-1, head B: outputs 2-4
  models::CTRNN net(o);
  {
    torch::NoGradGuard g;
    for (const char* w : {"W_in", "W_rec", "W_out"}) net.weight(w).copy_(torch::randn(net.weight(w).sizes()) * 0.6);
  }
  const int64_t T = 4, B = 3;
  const torch::Tensor xa = torch::randn({T, 1, B, 4}), xb = torch::randn({T, 1, B + 1, 4});
  const std::vector<int64_t> steps_a{1, 2, 3}, steps_b{0, 3};
  // J: one row per (step, trial, output) in the kernel's order, d logit / d W_rec.
  auto jacobian = [&](const torch::Tensor& x, const std::vector<int64_t>& steps, int64_t offset, int64_t count) {
    net.select_outputs(offset, count);
    const auto out = net.forward(x);
    std::vector<torch::Tensor> rows;
    for (int64_t t : steps) {
      for (int64_t b = 0; b < x.size(2); ++b) {
        for (int64_t k = 0; k < count; ++k) {
          rows.push_back(torch::autograd::grad({out.logits[t][0][b][k]}, {net.weight("W_rec")}, {}, true)[0].flatten());
        }
      }
    }
    return torch::stack(rows).to(torch::kDouble);
  };
  const torch::Tensor ja = jacobian(xa, steps_a, 0, 2), jb = jacobian(xb, steps_b, 2, 3);
  net.select_outputs(0, 2);
  const auto fa = net.kernel_factors("W_rec", xa, steps_a);
  net.select_outputs(2, 3);
  const auto fb = net.kernel_factors("W_rec", xb, steps_b);
  REQUIRE(fa);
  REQUIRE(fb);
  const torch::Tensor cross = metrics::tangent_cross_kernel(*fa, *fb)[0];
  const torch::Tensor expected = torch::matmul(ja, jb.t());
  REQUIRE(cross.sizes() == expected.sizes());
  REQUIRE(testing::max_abs_diff(cross, expected) < 1e-5 * expected.abs().max().item<double>());
  // With itself it is the kernel.
  REQUIRE(testing::max_abs_diff(metrics::tangent_cross_kernel(*fa, *fa)[0], metrics::tangent_kernel(*fa)[0]) <
          1e-5 * expected.abs().max().item<double>());
  const double kaa = torch::matmul(ja, ja.t()).norm().item<double>(), kbb = torch::matmul(jb, jb.t()).norm().item<double>();
  const double overlap = std::pow(expected.norm().item<double>(), 2) / (kaa * kbb);
  REQUIRE(metrics::kernel_overlap(*fa, *fb)[0].item<double>() == Approx(overlap).epsilon(1e-5));
  REQUIRE(metrics::kernel_overlap(*fa, *fa)[0].item<double>() == Approx(1.0).epsilon(1e-5));
  REQUIRE(overlap < 0.999);  // two heads, two input sets: not the same tangent space
}

TEST_CASE("bad task sequences are refused with one line naming the key", "[train][continual]") {
  testing::TempDir tmp;
  auto error_of = [&](const std::string& yaml) {
    return testing::config_error_of([&] { train::plan_experiment(testing::experiment_options(tmp, yaml), testing::registries()); });
  };
  const std::string head = "experiment: e\nmodel: {name: ctrnn, hidden_size: 8}\n";
  REQUIRE_THAT(error_of(head + "task: {name: 2AF}\ntrain: {phases: [{task: {name: 2AF}, iterations: 5}]}\n"),
               Contains("task is set, and so is train.phases"));
  REQUIRE_THAT(error_of(head + "train: {phases: []}\n"), Contains("train.phases must be a non-empty list"));
  REQUIRE_THAT(error_of(head + "train: {phases: [{task: {name: 2AF}}]}\n"), Contains("train.phases[0].iterations"));
  REQUIRE_THAT(error_of(head + "train: {phases: [{iterations: 5}]}\n"), Contains("train.phases[0].task is required"));
  REQUIRE_THAT(error_of(head + "train: {phases: [{task: {name: 2AF}, iterations: 5, label: a@b}]}\n"),
               Contains("train.phases[0].label must be a short name"));
  REQUIRE_THAT(error_of(head + "train: {phases: [{task: {name: 2AF}, iterations: 5}, "
                               "{task: {name: 2AF, cohs: [51.2]}, iterations: 5}]}\n"),
               Contains("give one of them its own label"));
  REQUIRE_THAT(error_of(head + "train: {phases: [{task: {name: 2AF}, iterations: 5}], iterations: 7}\n"),
               Contains("train.iterations is set by train.phases (the sum of their iterations, 5)"));
  REQUIRE_THAT(error_of(head + "task: {name: 2AF}\ntrain: {readout: shared}\n"), Contains("train.readout needs train.phases"));
  REQUIRE_THAT(error_of("experiment: e\nmodel: {name: linear2}\ntrain: {phases: [{task: {name: teacher_student}, iterations: 5}]}\n"),
               Contains("which train.phases needs"));
  REQUIRE_THAT(error_of(head + "train: {phases: [{task: {name: 2AF}, iterations: 5}]}\nmetrics: {names: [{name: loss, as: phase}]}\n"),
               Contains("which train.phases writes itself"));
  // A label that is not a task's own name works, and two labels may name the same task.
  REQUIRE(error_of(head + "train: {phases: [{task: {name: 2AF}, iterations: 5, label: easy}, "
                          "{task: {name: 2AF, cohs: [6.4]}, iterations: 5, label: hard}]}\n") == "(no error)");
}

TEST_CASE("one phase's field or a whole phase can be swept and set by its index", "[train][continual]") {
  testing::TempDir tmp;
  std::string yaml = std::string(kSequence) + "sweep:\n  'train.phases[1].iterations': [5, 15]\n";
  auto o = testing::experiment_options(tmp, yaml);
  o.sets = {"train.phases[2].task.name=CXT"};
  const auto plan = train::plan_experiment(o, testing::registries());
  REQUIRE(plan.runs.size() == 2);
  REQUIRE(plan.runs[0].id == "iterations-5");
  REQUIRE(plan.runs[1].id == "iterations-15");
  for (std::size_t r = 0; r < 2; ++r) {
    const auto& c = *plan.runs[r].config.train.curriculum;
    REQUIRE(c.phases.size() == 3);
    REQUIRE(c.phases[0].iterations == 20);
    REQUIRE(c.phases[1].iterations == (r == 0 ? 5 : 15));
    REQUIRE(c.phases[2].iterations == 10);
    REQUIRE(c.tasks.size() == 3);  // 2AF, DMS, and CXT from the --set
    REQUIRE(plan.runs[r].config.train.iterations == 30 + (r == 0 ? 5 : 15));
  }
  // A whole phase; a value out of range names the sweep's value in the file.
  yaml = std::string(kSequence) + "sweep:\n  'train.phases[1]':\n    - {task: {name: CXT}, iterations: 5}\n"
                                  "    - {task: {name: DMS}, iterations: 0}\n";
  const std::string error = testing::config_error_of(
      [&] { train::plan_experiment(testing::experiment_options(tmp, yaml), testing::registries()); });
  REQUIRE_THAT(error, Contains("exp.yaml:14:39: train.phases[1].iterations must be an integer") &&
                          Contains("in run phases1-v1 of the sweep"));
  // The sweep itself from the command line.
  auto swept = testing::experiment_options(tmp, kSequence);
  swept.sets = {"sweep.train.phases[0].iterations=[3, 4, 5]"};
  const auto by_set = train::plan_experiment(swept, testing::registries());
  REQUIRE(by_set.runs.size() == 3);
  REQUIRE(by_set.runs[2].id == "iterations-5");
  REQUIRE(by_set.runs[2].config.train.curriculum->phases[0].iterations == 5);
  auto bad = testing::experiment_options(tmp, kSequence);
  bad.sets = {"train.phases[3].iterations=5"};
  REQUIRE_THAT(testing::config_error_of([&] { train::plan_experiment(bad, testing::registries()); }),
               Contains("--set train.phases[3].iterations=5: cannot set train.phases[3].iterations: train.phases has 3 "
                        "entries"));
}

TEST_CASE("a sequence resumed from a checkpoint at or after a boundary ends as the uninterrupted one", "[train][continual][checkpoint]") {
  // Noise and Dale's law too: the noise stream and the reflection are part of the state.
  const char* yaml = R"(experiment: resume
model: {name: ctrnn, hidden_size: 16, noise_std: 0.1, dale: train}
train:
  phases: [{task: {name: 2AF}, iterations: 20}, {task: {name: DMS}, iterations: 20}]
  batch_size: 8
  optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
metrics: {every: 10, probe_trials: 8, kernel_trials: 2, test_trials: 32, names: [loss, dw_rec, path_length_rec]}
)";
  testing::TempDir tmp;
  const auto plan = train::plan_experiment(testing::experiment_options(tmp, yaml), testing::registries());
  const train::RunConfig& rc = plan.runs.at(0).config;
  struct Killed {};
  auto make = [&](int64_t checkpoint_every) {
    std::shared_ptr<models::Model> model = rc.model->build(1);
    init::apply_initializers(*model, rc.init, rc.seed, 0);
    train::TrainSettings s = rc.train;
    s.checkpoint_every = checkpoint_every;
    auto trainer = std::make_unique<train::Trainer>(*model, *rc.task, std::vector<uint64_t>{rc.seed},
                                                    std::vector<const train::OptimizerBuilder*>{rc.optimizer.get()},
                                                    rc.make_metrics(), s, torch::kCPU);
    return std::make_pair(model, std::move(trainer));
  };
  auto whole = make(0);
  whole.second->run();
  for (const int64_t at : {20, 25}) {  // the boundary (the fresh optimizer comes after it), mid-phase
    INFO("killed at step " << at);
    auto first = make(at);
    train::MemberState state;
    try {
      first.second->run({}, {}, [&](int64_t step) {
        state = first.second->checkpoint(0);
        if (step == at) throw Killed{};
      });
      FAIL("not interrupted");
    } catch (const Killed&) {
    }
    auto second = make(0);
    second.second->resume({state});
    second.second->run();
    for (const char* w : {"W_in", "W_rec", "W_out"}) {
      INFO(w);
      REQUIRE(torch::equal(second.first->weight(w), whole.first->weight(w)));
    }
    const auto& a = second.second->log(0).rows;
    const auto& b = whole.second->log(0).rows;
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      for (std::size_t j = 0; j < a[i].size(); ++j) {
        INFO("row " << i << " column " << whole.second->log(0).columns[j]);
        REQUIRE(((std::isnan(a[i][j]) && std::isnan(b[i][j])) || a[i][j] == b[i][j]));
      }
    }
  }
}

TEST_CASE("a regression task's forgetting is the rise of its test loss", "[train][continual]") {
  const char* yaml = R"(experiment: reg
model: {name: ctrnn, hidden_size: 16}
train:
  phases:
    - {task: {name: teacher_student, dim: 8, teacher_seed: 1}, label: A, iterations: 30}
    - {task: {name: teacher_student, dim: 8, teacher_seed: 2}, label: B, iterations: 30}
  batch_size: 16
  optimizer: {name: sgd, lr: 0.02, momentum: 0.9}
metrics: {every: 100, probe_trials: 8, kernel_trials: 2, test_trials: 64, names: [loss]}
)";
  testing::TempDir tmp;
  const auto ran = testing::run_config(tmp, yaml, "1");
  const auto m = metrics_of(ran, 0);
  REQUIRE(m.at("step") == std::vector<double>{0, 30, 60});
  const auto& r = ran.result.runs.at(0);
  auto final_of = [&](const std::string& c) {
    return r.final_values.at(static_cast<std::size_t>(std::find(r.columns.begin(), r.columns.end(), c) - r.columns.begin()));
  };
  const auto& loss_a = m.at("test_loss@A");
  REQUIRE(std::isnan(m.at("test_accuracy@A")[1]));  // no accuracy for regression
  REQUIRE(final_of("forgetting@A") == loss_a[2] - loss_a[1]);
  REQUIRE(final_of("max_forgetting@A") == loss_a[2] - loss_a[1]);
  REQUIRE(final_of("backward_transfer") == -(loss_a[2] - loss_a[1]));
}

TEST_CASE("initializers and init describe see a sequence's first task through its head", "[train][continual]") {
  // norm: matched_loss simulates the initial network: on a sequence's model it must score
  // the first task through that task's head, as the run does.
  const char* yaml = R"(experiment: matched
model: {name: ctrnn, hidden_size: 16}
init: {W_rec: {name: low_rank, rank: 1}}
train:
  phases: [{task: {name: 2AF}, iterations: 2}, {task: {name: DMS}, iterations: 2}]
  batch_size: 8
metrics: {every: 100, probe_trials: 200, kernel_trials: 2, test_trials: 16, names: [loss]}
sweep:
  init.W_rec: [{name: low_rank, rank: 1}, {name: gaussian, norm: {matched_loss: {name: low_rank, rank: 1}}}]
)";
  testing::TempDir tmp;
  const auto ran = testing::run_config(tmp, yaml, "1");
  const double reference = ran.result.runs.at(0).init_loss, matched = ran.result.runs.at(1).init_loss;
  INFO("rank-1 init_loss " << reference << ", matched Gaussian " << matched);
  // Matched on other trials than the probe's: equal to a few percent (all outputs: 2.3 vs 1.0).
  REQUIRE(std::abs(matched - reference) < 0.05 * reference);
  // init describe prints the run's initial loss.
  testing::write_text(tmp.file("seq.yaml"), yaml);
  const auto out = testing::run_richlazy("init describe --config " + tmp.file("seq.yaml") + " --json " + tmp.file("d.json"));
  REQUIRE(out.status == 0);
  const YAML::Node js = YAML::LoadFile(tmp.file("d.json"));
  INFO(testing::read_text(tmp.file("d.json")));
  REQUIRE(js["initial_state"]["loss"].as<double>() == Approx(reference).epsilon(1e-6));
}

TEST_CASE("tasks of different sizes and lengths share one network", "[train][continual]") {
  // 2AF: 3 inputs, 3 classes, 8 steps; teacher_student: 5 inputs, 1 value, 1 step.
  const char* yaml = R"(experiment: mixed
model: {name: ctrnn, hidden_size: 12}
train:
  phases:
    - {task: {name: 2AF}, iterations: 20}
    - {task: {name: teacher_student, dim: 5}, label: ts, iterations: 20}
  batch_size: 8
  optimizer: {name: sgd, lr: 0.02, momentum: 0.9}
metrics: {every: 100, probe_trials: 8, kernel_trials: 2, test_trials: 32, names: [loss, dw_rec]}
)";
  testing::TempDir tmp;
  const auto ran = testing::run_config(tmp, yaml, "1");
  REQUIRE(ran.result.runs.at(0).status == "ok");
  REQUIRE(weight(ran, 0, "W_in_init").sizes() == torch::IntArrayRef({12, 8}));
  REQUIRE(weight(ran, 0, "W_out_init").sizes() == torch::IntArrayRef({4, 12}));
  const auto m = metrics_of(ran, 0);
  for (const char* c : {"test_loss@2AF", "test_accuracy@2AF", "test_loss@ts"}) {
    INFO(c);
    for (double v : m.at(c)) REQUIRE(std::isfinite(v));
  }
  for (double v : m.at("test_accuracy@ts")) REQUIRE(std::isnan(v));  // a regression task
  // One step: W_rec never acts on teacher_student's trials, so its kernel is zero and the
  // overlap undefined (NaN, not -NaN).
  REQUIRE(std::isnan(m.at("kernel_overlap")[1]));
  REQUIRE(testing::read_text(ran.plan.dir + "/runs/" + ran.plan.runs[0].id + "/metrics.csv").find("-nan") ==
          std::string::npos);
  // teacher_student's input columns were trained (in the second phase).
  REQUIRE_FALSE(torch::equal(weight(ran, 0, "W_in_final").slice(1, 3), weight(ran, 0, "W_in_init").slice(1, 3)));
}
