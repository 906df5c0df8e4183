// tests/train/experiment_test.cpp: sweeps, the output layout and what runs of a sweep share.
#include "../test_common.h"

#include <richlazy/core/config_error.h>
#include <nlohmann/json.hpp>
#include <richlazy/report/experiment_data.h>
#include <richlazy/core/npy.h>
#include <richlazy/core/seeding.h>
#include <richlazy/init/norm.h>
#include <richlazy/models/ctrnn.h>
#include <richlazy/tasks/scoring.h>
#include <richlazy/train/experiment.h>
#include <richlazy/train/packing.h>
#include <richlazy/train/summary.h>

#include <filesystem>

using namespace richlazy;
using testing::registries;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
const char* kSmall = R"(experiment: small
task: {name: 2AF}
model: {name: ctrnn, hidden_size: 40}
init:
  W_rec: {name: low_rank, rank: 40}
train: {iterations: 30, batch_size: 8}
metrics: {every: 10, names: [loss, accuracy, dw_rec, dw_in, dw_out]}
sweep:
  init.W_rec.rank: [1, 5, 40]
  seed: [0, 1]
)";

train::ExperimentOptions options_for(const testing::TempDir& tmp, const std::string& yaml) {
  return testing::experiment_options(tmp, yaml);
}

torch::Tensor weights(const std::string& dir, const std::string& run, const std::string& name) {
  return read_npy(dir + "/runs/" + run + "/weights/" + name + ".npy");
}
}  // namespace

TEST_CASE("a sweep expands to the cartesian product, first key slowest", "[train]") {
  testing::TempDir tmp;
  const auto plan = train::plan_experiment(options_for(tmp, kSmall), registries());
  std::vector<std::string> ids;
  for (const auto& r : plan.runs) ids.push_back(r.id);
  REQUIRE(ids == std::vector<std::string>{"rank-1_seed-0", "rank-1_seed-1", "rank-5_seed-0",
                                          "rank-5_seed-1", "rank-40_seed-0", "rank-40_seed-1"});
  REQUIRE(plan.sweep_keys == std::vector<std::string>{"init.W_rec.rank", "seed"});
  REQUIRE(plan.runs[3].config.seed == 1);
  REQUIRE(plan.runs[3].config.resolved["init"]["W_rec"]["rank"].as<int>() == 5);
  REQUIRE(plan.dir == tmp.file("out") + "/small");
  REQUIRE_FALSE(fs::exists(tmp.file("out")));  // planning writes nothing
}

TEST_CASE("set overrides reach any key, sweep lists included", "[train]") {
  testing::TempDir tmp;
  auto o = options_for(tmp, kSmall);
  o.sets = {"sweep.seed=[3]", "train.iterations=5", "sweep.init.W_rec.rank=[2,4]"};
  const auto plan = train::plan_experiment(o, registries());
  REQUIRE(plan.runs.size() == 2);
  REQUIRE(plan.runs[1].id == "rank-4_seed-3");
  REQUIRE(plan.runs[1].config.train.iterations == 5);
  o.sets = {"train.iterations"};
  REQUIRE_THROWS_WITH(train::plan_experiment(o, registries()), Contains("expected KEY=VALUE"));
}

TEST_CASE("every run of a sweep is validated before anything is written", "[train]") {
  testing::TempDir tmp;
  std::string yaml = kSmall;
  yaml.replace(yaml.find("[1, 5, 40]"), 10, "[1, 5, 41]");
  try {
    train::plan_experiment(options_for(tmp, yaml), registries());
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    REQUIRE(std::string(e.what()) ==
            tmp.file("exp.yaml") +
                ":9:27: init.W_rec.rank must be an integer in [1, 40], got 41 (in run "
                "rank-41_seed-0 of the sweep)");
  }
  REQUIRE_FALSE(fs::exists(tmp.file("out")));
  yaml = kSmall;
  yaml.replace(yaml.find("seed: [0, 1]"), 12, "seed: [0, 0]");
  REQUIRE_THROWS_WITH(train::plan_experiment(options_for(tmp, yaml), registries()),
                      Contains("sweep.seed lists the value 0 twice"));
}

TEST_CASE("runs that differ only in the seed are planned as the same run would be alone", "[train]") {
  // Planning copies the first seed's validated run for the other seeds; each copy must equal
  // the run planned on its own (seed first, so copies are not next to their original).
  testing::TempDir tmp;
  const std::string yaml = R"(experiment: seeds
model: {name: ctrnn, hidden_size: 20}
init:
  W_rec: {name: low_rank, rank: 2}
train: {iterations: 5}
metrics: {names: [loss, {name: dw, param: W_in, as: dw_input}]}
sweep:
  seed: [7, 0x10, 3]
  init.W_rec.rank: [1, 2]
)";
  const auto o = options_for(tmp, yaml);
  const auto plan = train::plan_experiment(o, registries());
  REQUIRE(plan.runs.size() == 6);
  const std::vector<uint64_t> seeds{7, 7, 16, 16, 3, 3};
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    const auto& run = plan.runs[i];
    INFO(run.id);
    REQUIRE(run.config.seed == seeds[i]);
    auto solo = o;
    solo.sets = {fmt::format("seed={}", seeds[i]), "init.W_rec.rank=" + run.swept[1].second, "sweep={}"};
    const auto alone = train::plan_experiment(solo, registries());
    REQUIRE(node_text(run.config.resolved_tree()) == node_text(alone.runs[0].config.resolved_tree()));
    REQUIRE(train::pack_key(run.config) == train::compute_pack_key(alone.runs[0].config));
    REQUIRE(run.config.resolved_tree()["seed"].as<uint64_t>() == seeds[i]);
    // Fresh hooks each time (they are stateful), with the run's columns.
    const auto a = run.config.make_metrics();
    const auto b = run.config.make_metrics();
    REQUIRE(a.size() == 2);
    REQUIRE(a[1].name == "dw_input");
    REQUIRE(a[0].hook.get() != b[0].hook.get());
  }
  REQUIRE(plan.packs.size() == 2);  // one per rank: the seeds train together

  // A bad seed among the copied ones is still located in the file.
  std::string bad = yaml;
  bad.replace(bad.find("0x10"), 4, "-1");
  try {
    train::plan_experiment(options_for(tmp, bad), registries());
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    REQUIRE(std::string(e.what()) == tmp.file("exp.yaml") +
                                         ":8:13: seed must be an integer >= 0, got -1 (in run seed--1_rank-1 of "
                                         "the sweep)");
  }
}

TEST_CASE("runs of a rank sweep differ only in the rank", "[train]") {
  testing::TempDir tmp;
  auto o = options_for(tmp, kSmall);
  auto plan = train::plan_experiment(o, registries());
  const auto result = train::run_experiment(plan, o);
  for (const auto& r : result.runs) REQUIRE(r.status == "ok");
  const std::string dir = plan.dir;
  for (const char* seed : {"0", "1"}) {
    const std::string full = std::string("rank-40_seed-") + seed;
    for (const char* rank : {"1", "5"}) {
      const std::string run = std::string("rank-") + rank + "_seed-" + seed;
      INFO(run);
      REQUIRE(torch::equal(weights(dir, run, "W_in_init"), weights(dir, full, "W_in_init")));
      REQUIRE(torch::equal(weights(dir, run, "W_out_init"), weights(dir, full, "W_out_init")));
      // The same Gaussian draw, truncated: the top singular vectors agree with full rank's.
      const torch::Tensor w = weights(dir, run, "W_rec_init").to(torch::kDouble);
      const torch::Tensor f = weights(dir, full, "W_rec_init").to(torch::kDouble);
      const auto sv_w = torch::linalg_svd(w, false);
      const auto sv_f = torch::linalg_svd(f, false);
      const double cos = torch::dot(std::get<0>(sv_w).select(1, 0), std::get<0>(sv_f).select(1, 0))
                             .abs().item<double>();
      REQUIRE(cos == Approx(1.0).epsilon(1e-5));
      REQUIRE(w.norm().item<double>() == Approx(f.norm().item<double>()).epsilon(1e-6));
    }
  }
  // Different seeds draw different weights.
  REQUIRE_FALSE(torch::equal(weights(dir, "rank-40_seed-0", "W_in_init"),
                             weights(dir, "rank-40_seed-1", "W_in_init")));
}

TEST_CASE("runs sharing a seed see the same training batches", "[train]") {
  // Sweeping only how often metrics are logged must give identical networks: same data,
  // and metric hooks that never touch training.
  testing::TempDir tmp;
  std::string yaml = kSmall;
  yaml = yaml.substr(0, yaml.find("sweep:")) + "sweep:\n  metrics.every: [3, 7]\n";
  auto o = options_for(tmp, yaml);
  auto plan = train::plan_experiment(o, registries());
  train::run_experiment(plan, o);
  for (const char* w : {"W_in_final", "W_rec_final", "W_out_final"}) {
    REQUIRE(torch::equal(weights(plan.dir, "every-3", w), weights(plan.dir, "every-7", w)));
  }
}

TEST_CASE("the output layout is complete and the tables summarize every run", "[train]") {
  testing::TempDir tmp;
  auto o = options_for(tmp, kSmall);
  o.sets = {"sweep.init.W_rec.rank=[1,40]"};
  auto plan = train::plan_experiment(o, registries());
  const auto result = train::run_experiment(plan, o);
  const std::string dir = plan.dir;
  REQUIRE(fs::exists(dir + "/experiment.yaml"));
  const YAML::Node exp = YAML::LoadFile(dir + "/experiment.yaml");
  REQUIRE(exp["sweep"]["init.W_rec.rank"].size() == 2);
  REQUIRE(exp["train"]["optimizer"]["momentum"].as<double>() == 0.9);  // defaults filled in
  const std::string summary = testing::read_text(dir + "/summary.csv");
  REQUIRE(summary.rfind("run_id,init.W_rec.rank,seed,status,loss,accuracy,dw_rec,dw_in,dw_out,", 0) == 0);
  REQUIRE(std::count(summary.begin(), summary.end(), '\n') == 5);
  for (const auto& r : plan.runs) {
    const std::string run = dir + "/runs/" + r.id;
    INFO(run);
    for (const char* f : {"config.yaml", "metrics.csv", "summary.json"}) REQUIRE(fs::exists(run + "/" + f));
    for (const char* w : {"W_in", "W_rec", "W_out"}) {
      for (const char* when : {"_init", "_final"}) {
        const torch::Tensor t = read_npy(run + "/weights/" + w + when + ".npy");
        REQUIRE(t.scalar_type() == torch::kFloat);
      }
    }
    REQUIRE(read_npy(run + "/weights/W_in_init.npy").sizes() == torch::IntArrayRef({40, 3}));
    const std::string csv = testing::read_text(run + "/metrics.csv");
    REQUIRE(csv.rfind("step,loss,accuracy,dw_rec,dw_in,dw_out\n0,", 0) == 0);
    REQUIRE(std::count(csv.begin(), csv.end(), '\n') == 5);  // header + steps 0, 10, 20, 30
    const YAML::Node js = YAML::LoadFile(run + "/summary.json");  // JSON is YAML
    REQUIRE(js["status"].as<std::string>() == "ok");
    REQUIRE(js["final"]["dw_rec"].as<double>() > 0);
    REQUIRE(js["init"][2]["param"].as<std::string>() == "W_rec");
    // The run's config.yaml is itself a valid config that reproduces the run.
    train::ExperimentOptions again;
    again.config_path = run + "/config.yaml";
    again.out_dir = tmp.file("again");
    again.quiet = true;
    auto replan = train::plan_experiment(again, registries());
    REQUIRE(replan.runs.size() == 1);
    REQUIRE(replan.runs[0].config.seed == r.config.seed);
  }
  const std::string table = train::format_results(plan.sweep_keys, result);
  REQUIRE_THAT(table, Contains("rank-40_seed-1"));
  REQUIRE_THAT(table, Contains("Mean ± standard deviation over seeds"));
  // An existing output folder is refused unless --overwrite.
  REQUIRE_THROWS_WITH(train::check_output_folder(plan, o), Contains("already exists"));
  o.overwrite = true;
  REQUIRE_NOTHROW(train::check_output_folder(plan, o));
}

TEST_CASE("results do not depend on how many runs train at once", "[train]") {
  // At the paper's size, where a multi-threaded BLAS would change the summation order.
  testing::TempDir tmp;
  auto o = options_for(tmp, kSmall);
  o.sets = {"sweep.init.W_rec.rank=[1,300]", "sweep.seed=[0]", "model.hidden_size=300",
            "train.batch_size=32"};
  o.jobs = 1;
  auto plan1 = train::plan_experiment(o, registries());
  const auto r1 = train::run_experiment(plan1, o);
  o.out_dir = tmp.file("out2");
  o.jobs = 2;
  auto plan2 = train::plan_experiment(o, registries());
  const auto r2 = train::run_experiment(plan2, o);
  for (std::size_t i = 0; i < r1.runs.size(); ++i) {
    REQUIRE(r1.runs[i].final_values == r2.runs[i].final_values);
  }
}

TEST_CASE("a diverged run is marked in its summary and the sweep goes on", "[train]") {
  testing::TempDir tmp;
  auto o = options_for(tmp, kSmall);
  o.sets = {"sweep={train.optimizer.lr: [1.0e+6, 0.003]}", "init.W_rec={name: gaussian, gain: 3}",
            "train.iterations=200", "metrics.every=50"};
  auto plan = train::plan_experiment(o, registries());
  REQUIRE(plan.runs.size() == 2);
  const auto result = train::run_experiment(plan, o);
  REQUIRE(result.runs[0].status == "diverged");
  REQUIRE(result.runs[0].steps_done < 200);
  REQUIRE(result.runs[1].status == "ok");
  REQUIRE(result.runs[1].steps_done == 200);
  const YAML::Node js = YAML::LoadFile(plan.dir + "/runs/" + plan.runs[0].id + "/summary.json");
  REQUIRE(js["status"].as<std::string>() == "diverged");
  REQUIRE(js["reason"].as<std::string>().find("training loss became") != std::string::npos);
  REQUIRE(js["final"]["loss"].IsNull());  // NaN is written as null
  const std::string summary = testing::read_text(plan.dir + "/summary.csv");
  REQUIRE_THAT(summary, Contains(",diverged,"));
  REQUIRE_THAT(summary, Contains(",ok,"));
}

TEST_CASE("a section that omits its name keeps the default component", "[train]") {
  testing::TempDir tmp;
  auto o = options_for(tmp, "train: {optimizer: {lr: 0.01}}\ninit: {W_rec: {gain: 1.5}}\n");
  o.sets = {"task.dt_ms=50"};
  const auto plan = train::plan_experiment(o, registries());
  const YAML::Node r = plan.runs[0].config.resolved;
  REQUIRE(r["train"]["optimizer"]["name"].as<std::string>() == "sgd");
  REQUIRE(r["train"]["optimizer"]["lr"].as<double>() == 0.01);
  REQUIRE(r["train"]["optimizer"]["momentum"].as<double>() == 0.9);
  REQUIRE(r["init"]["W_rec"]["name"].as<std::string>() == "gaussian");
  REQUIRE(r["init"]["W_rec"]["gain"].as<double>() == 1.5);
  REQUIRE(r["task"]["name"].as<std::string>() == "2AF");
  REQUIRE(plan.runs[0].config.task->dt_ms() == 50);
  REQUIRE(plan.name == "exp");  // named after the config file
}

TEST_CASE("run ids use the last key component unless two swept keys share it", "[train]") {
  testing::TempDir tmp;
  auto o = options_for(tmp, kSmall);
  o.sets = {"sweep={init.W_rec.gain: [1.0, 2.0], model.hidden_size: [20], "
            "init.W_in.gain: [0.5]}",
            "init.W_rec={name: gaussian}", "init.W_in={name: gaussian}"};
  const auto plan = train::plan_experiment(o, registries());
  REQUIRE(plan.runs.size() == 2);
  // "_" separates the parts of an id, so it is replaced inside them.
  REQUIRE(plan.runs[1].id == "init.W-rec.gain-2.0_hidden_size-20_init.W-in.gain-0.5");
}

TEST_CASE("metric columns can be renamed with as: and must be unique", "[train]") {
  testing::TempDir tmp;
  auto o = options_for(tmp, kSmall);
  o.sets = {"metrics.names=[loss, {name: dw, param: W_in, as: dw_input}, {name: dw, param: W_rec, relative: true}]",
            "sweep={}"};
  const auto plan = train::plan_experiment(o, registries());
  const auto m = plan.runs[0].config.make_metrics();
  REQUIRE(m.size() == 3);
  REQUIRE(m[1].name == "dw_input");
  REQUIRE(m[2].name == "dw");
  REQUIRE(plan.runs[0].config.resolved["metrics"]["names"][1]["as"].as<std::string>() == "dw_input");
  o.sets = {"metrics.names=[dw_rec, {name: dw_in, as: dw_rec}]", "sweep={}"};
  REQUIRE_THROWS_WITH(train::plan_experiment(o, registries()),
                      Contains("metrics.names[1] repeats the column dw_rec (name it differently with as:)"));
  o.sets = {"metrics.names=[{name: dw, param: W_foo}]", "sweep={}"};
  REQUIRE_THROWS_WITH(train::plan_experiment(o, registries()),
                      Contains("metrics.names[0].param names W_foo, which model ctrnn does not have; "
                               "its parameters: W_in (input), W_out (readout), W_rec (recurrent)"));
}

TEST_CASE("regression tasks train with mean squared error and refuse accuracy", "[train]") {
  testing::TempDir tmp;
  const std::string yaml = R"(experiment: ts
task: {name: teacher_student, dim: 10}
model: {name: linear2, hidden_size: 20}
train: {iterations: 600, batch_size: 64, optimizer: {name: sgd, lr: 0.05, momentum: 0}}
metrics:
  every: 300
  kernel_trials: 16
  names: [loss, test_loss, {name: kernel_alignment, param: [W_1, w_2]}, {name: dw, param: W_1}]
)";
  auto o = options_for(tmp, yaml);
  auto plan = train::plan_experiment(o, registries());
  REQUIRE(plan.runs[0].config.resolved["init"]["W_1"]["name"].as<std::string>() == "gaussian");
  const auto result = train::run_experiment(plan, o);
  REQUIRE(result.runs[0].status == "ok");
  const auto& v = result.runs[0].final_values;  // loss, test_loss, kernel_alignment, dw
  REQUIRE(v[0] < 1e-3);
  REQUIRE(v[1] < 1e-3);
  REQUIRE(v[2] > 0.0);
  REQUIRE(v[2] < 1.0);
  REQUIRE(v[3] > 0.0);
  o.sets = {"metrics.names=[loss, accuracy]"};
  o.out_dir = tmp.file("out2");
  REQUIRE_THROWS_WITH(train::plan_experiment(o, registries()),
                      Contains("accuracy needs a classification task; teacher_student is a regression task"));
}

TEST_CASE("the batch size defaults to the task's and test_accuracy scores held-out trials", "[train]") {
  testing::TempDir tmp;
  auto o = options_for(tmp, "train: {iterations: 200}\nmetrics: {every: 200, test_trials: 500, "
                            "names: [accuracy, test_accuracy, test_loss]}\nmodel: {hidden_size: 64}\n");
  auto plan = train::plan_experiment(o, registries());
  REQUIRE(plan.runs[0].config.train.batch_size == 32);
  REQUIRE(plan.runs[0].config.resolved["train"]["batch_size"].as<int>() == 32);
  const auto result = train::run_experiment(plan, o);
  const auto& v = result.runs[0].final_values;
  REQUIRE(v[1] > 0.5);
  REQUIRE(v[2] > 0.0);
  // Recompute it independently: the final weights on 500 trials of the run's "test" stream.
  models::CTRNNOptions net_options;
  net_options.hidden_size = 64;
  models::CTRNN net(net_options);
  {
    torch::NoGradGuard g;
    for (const char* w : {"W_in", "W_rec", "W_out"}) {
      net.weight(w)[0].copy_(weights(plan.dir, plan.runs[0].id, std::string(w) + "_final"));
    }
  }
  at::Generator gen = stream_generator(0, "test");
  const tasks::TrialBatch test = tasks::stack_members({plan.runs[0].config.task->sample(500, gen)});
  torch::NoGradGuard g;
  const torch::Tensor logits = net.forward(test.inputs).logits;
  REQUIRE(v[1] == Approx(tasks::decision_accuracy(logits, test.targets, {7, 8}).item<double>()).margin(1e-12));
  REQUIRE(v[2] == Approx(tasks::masked_cross_entropy(logits, test.targets, test.mask).item<double>()).epsilon(1e-5));
}

TEST_CASE("as: names are plain column names: no separators, no reserved or other metrics' names", "[train]") {
  testing::TempDir tmp;
  auto o = options_for(tmp, kSmall);
  auto error = [&](const std::string& names) {
    o.sets = {"metrics.names=" + names};
    try {
      train::plan_experiment(o, registries());
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  const std::string chars = "metrics.names[1].as must be a column name of letters, digits and _ . @ -";
  REQUIRE_THAT(error("[loss, {name: dw_rec, as: 'a,b'}]"), Contains(chars) && Contains("got 'a,b'"));
  REQUIRE_THAT(error("[loss, {name: dw_rec, as: \"two\\nlines\"}]"), Contains(chars) && Contains("got 'two\\nlines'"));
  REQUIRE_THAT(error("[loss, {name: dw_rec, as: 'say \"hi\"'}]"), Contains(chars));
  REQUIRE_THAT(error("[loss, {name: dw_rec, as: 'x y'}]"), Contains(chars));
  for (const char* reserved : {"step", "run_id", "status", "steps", "wall_seconds", "ms_per_iteration", "metric_seconds"}) {
    INFO(reserved);
    REQUIRE_THAT(error(std::string("[loss, {name: dw_rec, as: ") + reserved + "}]"),
                 Contains("metrics.names[1].as is a column richlazy writes itself") &&
                     Contains(std::string("got '") + reserved + "'"));
  }
  REQUIRE_THAT(error("[loss, {name: dw_rec, as: accuracy}]"),
               Contains("metrics.names[1].as is the name of another metric (accuracy)"));
  REQUIRE_THAT(error("[loss, {name: dw_rec, as: seed}]"),  // seed is swept: a summary.csv column
               Contains("metrics.names[1].as is a swept key"));
  REQUIRE_THAT(error("[loss, {name: dw_rec, as: x}, {name: dw_in, as: x}]"),
               Contains("metrics.names[2] repeats the column x"));
  // Allowed: letters, digits and _ . @ -, and a metric's own name.
  REQUIRE(error("[loss, {name: dw_rec, as: dw@W_rec.v-2_b}, {name: dw_in, as: dw_in}]") == "(no error)");

  // From a file: one line, exit status 2, located at the value.
  testing::write_text(tmp.file("names.yaml"), "experiment: names\n"
                                              "task: {name: 2AF}\n"
                                              "model: {name: ctrnn, hidden_size: 20}\n"
                                              "train: {iterations: 5, batch_size: 4}\n"
                                              "metrics:\n"
                                              "  names:\n"
                                              "    - loss\n"
                                              "    - {name: dw_rec, as: \"my,name\"}\n");
  const auto r = testing::run_command(testing::richlazy_binary() + " run " + tmp.file("names.yaml") + " --out " +
                                      tmp.file("out2"));
  INFO(r.out << r.err);
  REQUIRE(r.status == 2);
  REQUIRE(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  REQUIRE_THAT(r.err, Contains(tmp.file("names.yaml") + ":8:26: " + chars));
  REQUIRE_FALSE(fs::exists(tmp.file("out2/names")));
}

TEST_CASE("metrics.csv and summary.csv columns stay intact with as: names", "[train]") {
  // The names the check lets through need no quoting, and the files read back column for column.
  testing::TempDir tmp;
  auto o = options_for(tmp, kSmall);
  o.sets = {"metrics.names=[loss, {name: dw_rec, as: dw@rec.v-1}]", "sweep={init.W_rec.rank: [1, 5]}",
            "train.iterations=4"};
  auto plan = train::plan_experiment(o, registries());
  const auto result = train::run_experiment(plan, o);
  REQUIRE(result.runs.size() == 2);
  const std::string metrics = testing::read_text(tmp.file("out/small/runs/" + result.runs[0].id + "/metrics.csv"));
  REQUIRE(metrics.rfind("step,loss,dw@rec.v-1\n", 0) == 0);
  const std::string summary = testing::read_text(tmp.file("out/small/summary.csv"));
  REQUIRE(summary.rfind("run_id,init.W_rec.rank,status,loss,dw@rec.v-1,steps,", 0) == 0);
}

TEST_CASE("every run logs its initial spectral radius and erank_eig, and erank_rec can measure eig", "[train]") {
  testing::TempDir tmp;
  const std::string yaml = R"(experiment: spectra
model: {name: ctrnn, hidden_size: 30}
init:
  W_rec: {name: low_rank, rank: 3, norm: {spectral_radius: 0.9}}
train: {iterations: 4}
metrics: {every: 2, names: [loss, {name: erank_rec, measure: eig}]}
sweep:
  seed: [0, 1]
)";
  auto o = options_for(tmp, yaml);
  auto plan = train::plan_experiment(o, registries());
  train::run_experiment(plan, o);
  const auto table = report::parse_csv(testing::read_text(plan.dir + "/summary.csv"), "summary.csv");
  const auto& header = table[0];
  const std::size_t radius_col = header.size() - 5;
  REQUIRE(header[radius_col] == "init_spectral_radius");
  REQUIRE(header[radius_col + 1] == "init_erank_eig");
  REQUIRE(std::vector<std::string>(header.end() - 3, header.end()) ==
          std::vector<std::string>{"init_loss", "init_hidden_norm_ratio", "init_grad_norm"});
  for (std::size_t r = 1; r < table.size(); ++r) {
    const std::string run = plan.dir + "/runs/" + table[r][0];
    INFO(run);
    // Independently: the eigenvalues of the saved initial weight (float32, as trained).
    const torch::Tensor w = read_npy(run + "/weights/W_rec_init.npy").to(torch::kDouble);
    const torch::Tensor moduli = torch::linalg_eigvals(w).abs();
    const double radius = moduli.max().item<double>();
    const double erank = moduli.sum().item<double>() / (radius * 30);
    REQUIRE(radius == Approx(0.9).epsilon(1e-6));
    REQUIRE(std::stod(table[r][radius_col]) == Approx(radius).epsilon(1e-9));
    REQUIRE(std::stod(table[r][radius_col + 1]) == Approx(erank).epsilon(1e-9));
    const auto json = nlohmann::json::parse(testing::read_text(run + "/summary.json"));
    bool found = false;
    for (const auto& i : json["init"]) {
      if (i["param"] == "W_rec") {
        found = true;
        REQUIRE(i["spectral_radius"].get<double>() == Approx(radius).epsilon(1e-9));
        REQUIRE(i["erank_eig"].get<double>() == Approx(erank).epsilon(1e-9));
      } else {
        REQUIRE(i["spectral_radius"].is_null());  // W_in and W_out are not square
      }
    }
    REQUIRE(found);
    // The metric at step 0 is the same measure of the same matrix, and summary.json's
    // `initial` block holds the step-0 row.
    const auto metrics = report::parse_csv(testing::read_text(run + "/metrics.csv"), "metrics.csv");
    REQUIRE(metrics[0][2] == "erank_rec");
    REQUIRE(std::stod(metrics[1][2]) == Approx(erank).epsilon(1e-9));
    REQUIRE(metrics[1][0] == "0");
    REQUIRE(json["initial"]["loss"].get<double>() == Approx(std::stod(metrics[1][1])).epsilon(1e-12));
    REQUIRE(json["initial"]["erank_rec"].get<double>() == Approx(std::stod(metrics[1][2])).epsilon(1e-12));
    REQUIRE(json["final"]["loss"].get<double>() == Approx(std::stod(metrics.back()[1])).epsilon(1e-12));
    REQUIRE(json["initial"]["loss"].get<double>() != json["final"]["loss"].get<double>());
  }
  o.sets = {"metrics.names=[{name: erank_rec, param: W_in, measure: eig}]"};
  REQUIRE_THROWS_WITH(train::plan_experiment(o, registries()),
                      Contains("metrics.names[0].measure eig needs a square weight, and W_in is 30 x 3"));
}

TEST_CASE("every run logs its initial loss, hidden-norm ratio and gradient norm, named as metrics or not", "[train]") {
  testing::TempDir tmp;
  const std::string yaml = R"(experiment: initial
model: {name: ctrnn, hidden_size: 30}
init:
  W_rec: {name: gaussian, norm: {spectral_radius: 1.4}}
train: {iterations: 3}
metrics: {every: 3, probe_trials: 40, names: [loss]}
sweep:
  seed: [0, 1]
)";
  auto o = options_for(tmp, yaml);
  auto plan = train::plan_experiment(o, registries());
  train::run_experiment(plan, o);
  // The same runs again, now naming the metrics: their step-0 rows are the same measures.
  o.out_dir = tmp.file("named");
  o.sets = {"metrics.names=[loss, hidden_norm_ratio, grad_norm]"};
  auto named = train::plan_experiment(o, registries());
  train::run_experiment(named, o);
  const auto table = report::parse_csv(testing::read_text(plan.dir + "/summary.csv"), "summary.csv");
  const auto& header = table[0];
  const std::size_t loss_col = header.size() - 3;
  REQUIRE(header[loss_col] == "init_loss");
  for (std::size_t r = 1; r < table.size(); ++r) {
    const std::string id = table[r][0];
    INFO(id);
    const auto json = nlohmann::json::parse(testing::read_text(plan.dir + "/runs/" + id + "/summary.json"));
    const auto& init = json["initial_state"];
    REQUIRE(std::stod(table[r][loss_col]) == Approx(init["loss"].get<double>()).epsilon(1e-12));
    REQUIRE(std::stod(table[r][loss_col + 1]) == Approx(init["hidden_norm_ratio"].get<double>()).epsilon(1e-12));
    REQUIRE(std::stod(table[r][loss_col + 2]) == Approx(init["grad_norm_rec"].get<double>()).epsilon(1e-12));
    const auto metrics = report::parse_csv(testing::read_text(named.dir + "/runs/" + id + "/metrics.csv"), "metrics.csv");
    REQUIRE(metrics[0] == std::vector<std::string>{"step", "loss", "hidden_norm_ratio", "grad_norm"});
    REQUIRE(metrics[1][0] == "0");
    REQUIRE(init["hidden_norm_ratio"].get<double>() == Approx(std::stod(metrics[1][2])).epsilon(1e-9));
    REQUIRE(init["grad_norm_rec"].get<double>() == Approx(std::stod(metrics[1][3])).epsilon(1e-9));
    REQUIRE(init["grad_norm_rec"].get<double>() > 0);
    // At spectral radius 1.4 the hidden state grows from the first step to the last.
    REQUIRE(init["hidden_norm_ratio"].get<double>() > 1);
    // The initial loss is the probe trials' cross-entropy: near log(3) for an untrained net,
    // and finite.
    REQUIRE(init["loss"].get<double>() > 0.5);
    REQUIRE(init["loss"].get<double>() < 5);
    // Naming the metrics changes nothing in training: the two folders agree.
    REQUIRE(testing::read_text(plan.dir + "/runs/" + id + "/weights/W_rec_final.npy") ==
            testing::read_text(named.dir + "/runs/" + id + "/weights/W_rec_final.npy"));
  }
}

TEST_CASE("metrics.schedule log also logs at 1 2 5 10 20 50 and so on updates", "[train]") {
  train::TrainSettings s;
  s.iterations = 120;
  s.log_every = 50;
  auto logged = [&] {
    std::vector<int64_t> steps;
    for (int64_t k = 1; k <= s.iterations; ++k) {
      if (train::is_logged_step(s, k)) steps.push_back(k);
    }
    return steps;
  };
  REQUIRE(logged() == std::vector<int64_t>{50, 100, 120});
  s.log_schedule = true;
  REQUIRE(logged() == std::vector<int64_t>{1, 2, 5, 10, 20, 50, 100, 120});
  s.iterations = 2000000;
  s.log_every = 1000000000;
  const auto many = logged();
  REQUIRE(many.size() == 20);  // 1, 2, 5 in each of six decades, 1e6 and 2e6
  REQUIRE(many.back() == 2000000);

  // In a run: metrics.csv has a row at step 0 and at each of these steps.
  testing::TempDir tmp;
  auto o = options_for(tmp, R"(experiment: logsched
model: {name: ctrnn, hidden_size: 10}
train: {iterations: 120}
metrics: {every: 50, schedule: log, names: [loss, dw_rec]}
)");
  auto plan = train::plan_experiment(o, registries());
  train::run_experiment(plan, o);
  const auto rows = report::parse_csv(testing::read_text(plan.dir + "/runs/run/metrics.csv"), "metrics.csv");
  std::vector<std::string> steps;
  for (std::size_t r = 1; r < rows.size(); ++r) steps.push_back(rows[r][0]);
  REQUIRE(steps == std::vector<std::string>{"0", "1", "2", "5", "10", "20", "50", "100", "120"});
  o.sets = {"metrics.schedule=geometric"};
  REQUIRE_THROWS_WITH(train::plan_experiment(o, registries()), Contains("metrics.schedule must be one of"));
}

// ---- issue 13, item 4: the pilot stage and solution_aligned run: pilot ---------------------

namespace {
const char* kPilot = R"(experiment: aligned
model: {name: ctrnn, hidden_size: 16}
init:
  W_rec: {name: low_rank, rank: 16}
train: {iterations: 40, batch_size: 8}
metrics: {every: 20, probe_trials: 16, kernel_trials: 4, names: [loss, dw_rec]}
pilot:
  set: {init.W_rec: {name: gaussian, norm: auto}, train.iterations: 60}
sweep:
  init.W_rec:
    - {name: solution_aligned, run: pilot, rank: 1}
    - {name: low_rank, rank: 1}
  seed: [0, 1]
)";
}  // namespace

TEST_CASE("a pilot stage trains first, one run per seed, and solution_aligned reads the run's own pilot", "[train]") {
  testing::TempDir tmp;
  auto o = options_for(tmp, kPilot);
  auto plan = train::plan_experiment(o, registries());
  REQUIRE(plan.runs.size() == 4);
  REQUIRE(plan.pilot);
  REQUIRE(plan.pilot->runs.size() == 2);
  REQUIRE(plan.pilot->dir == plan.dir + "/pilot");
  REQUIRE(plan.pilot->runs[0].id == "seed-0");
  REQUIRE(plan.pilot->runs[0].config.train.iterations == 60);  // pilot.set applied
  REQUIRE(plan.runs[0].config.train.iterations == 40);
  REQUIRE(plan.runs[0].config.pilot_run == plan.dir + "/pilot/runs/seed-0");
  REQUIRE(plan.runs[1].config.pilot_run == plan.dir + "/pilot/runs/seed-1");
  const auto result = train::run_experiment(plan, o);
  for (const auto& r : result.runs) REQUIRE(r.status == "ok");
  REQUIRE(fs::exists(plan.dir + "/pilot/summary.csv"));
  REQUIRE(YAML::LoadFile(plan.dir + "/experiment.yaml")["pilot"]["set"]["train.iterations"].as<int>() == 60);
  for (const int seed : {0, 1}) {
    INFO(seed);
    const std::string pilot = plan.dir + "/pilot", run = fmt::format("W_rec-solution-aligned0_seed-{}", seed);
    const std::string pid = fmt::format("seed-{}", seed);
    REQUIRE(YAML::LoadFile(pilot + "/runs/" + pid + "/summary.json")["status"].as<std::string>() == "ok");
    // W_in and W_out are those of the run the solution came from (same seed, same streams).
    for (const char* w : {"W_in_init", "W_out_init"}) {
      REQUIRE(torch::equal(weights(plan.dir, run, w), weights(pilot, pid, w)));
    }
    // W_rec(0) = the top singular triplet of the pilot's learned change, signs kept, at norm
    // auto (1.25 sqrt(16) = 5), computed here from the pilot's saved weights.
    const torch::Tensor dw = weights(pilot, pid, "W_rec_final").to(torch::kDouble) -
                             weights(pilot, pid, "W_rec_init").to(torch::kDouble);
    const auto [u, s, vh] = torch::linalg_svd(dw, false);
    const torch::Tensor expected = torch::outer(u.select(1, 0), vh.select(0, 0)) * 5.0;
    const torch::Tensor got = weights(plan.dir, run, "W_rec_init").to(torch::kDouble);
    REQUIRE(torch::allclose(got, expected, 1e-5, 1e-6));
  }
  // Each seed's runs read their own pilot: the two seeds' solutions differ.
  REQUIRE(!torch::allclose(weights(plan.dir, "W_rec-solution-aligned0_seed-0", "W_rec_init"),
                           weights(plan.dir, "W_rec-solution-aligned0_seed-1", "W_rec_init"), 1e-3, 1e-3));
}

TEST_CASE("a bad pilot block or run: pilot without one is refused before anything is trained", "[train]") {
  testing::TempDir tmp;
  const std::string base(kPilot);
  auto refuse = [&](const std::string& yaml, const std::string& message) {
    INFO(message);
    auto o = options_for(tmp, yaml);
    REQUIRE_THROWS_WITH(train::plan_experiment(o, registries()), Contains(message));
    REQUIRE(!fs::exists(tmp.file("out")));
  };
  std::string no_pilot = base;
  no_pilot.erase(no_pilot.find("pilot:\n"), no_pilot.find("sweep:") - no_pilot.find("pilot:\n"));
  refuse(no_pilot, "exp.yaml:9:37: init.W_rec.run is pilot, but the experiment config has no pilot: section");
  auto with_pilot = [&](const std::string& block) {
    std::string y = base;
    const auto at = y.find("pilot:\n"), end = y.find("sweep:");
    return y.replace(at, end - at, block);
  };
  refuse(with_pilot("pilot: {sets: {}}\n"), "exp.yaml:7:9: pilot.sets is not a known key; known keys: set, keep");
  refuse(with_pilot("pilot: {set: {}}\n"), "pilot.set must be a non-empty map");
  refuse(with_pilot("pilot: {set: {init.W_rec: {name: gaussian}}, keep: [rank]}\n"),
         "exp.yaml:7:53: pilot.keep must list keys of sweep: (init.W_rec, seed), got rank");
  refuse(with_pilot("pilot: {set: {seed: 3}, keep: [seed]}\n"), "pilot.set.seed is also in pilot.keep");
  // A pilot config that does not validate names the pilot stage and the file position.
  refuse(with_pilot("pilot: {set: {init.W_rec: {name: gaussian, rank: 3}}}\n"),
         "(in pilot run seed-0: the config with pilot.set applied)");
}

TEST_CASE("a run whose pilot did not end ok fails with a message naming the pilot", "[train]") {
  testing::TempDir tmp;
  // A pilot at a huge norm diverges; the runs that read it fail, the others do not, also when
  // they train in one pack (a run whose initialization fails fails alone).
  for (const std::string pack : {"1", "4"}) {
    INFO(pack);
    auto o = options_for(tmp, kPilot);
    o.out_dir = tmp.file("out" + pack);
    o.sets = {"pilot.set={init.W_rec: {name: gaussian, norm: 1e6}}", "sweep.seed=[0, 1]", "train.pack=" + pack};
    auto plan = train::plan_experiment(o, registries());
    REQUIRE(plan.packs.size() == (pack == "1" ? 4 : 1));
    const auto result = train::run_experiment(plan, o);
    REQUIRE(result.runs.size() == 4);
    for (int r : {0, 1}) {
      REQUIRE_THAT(result.runs[r].status, Contains("failed: initialization: W_rec solution_aligned: the pilot run") &&
                                              Contains("ended with status diverged"));
      // Its folder says so, and summary.csv lists it with the others.
      const auto json = nlohmann::json::parse(testing::read_text(plan.dir + "/runs/" + plan.runs[r].id + "/summary.json"));
      REQUIRE(json["status"].get<std::string>() == result.runs[r].status);
      REQUIRE(json["final"]["dw_rec"].is_null());
      REQUIRE(fs::exists(plan.dir + "/runs/" + plan.runs[r].id + "/config.yaml"));
    }
    for (int r : {2, 3}) REQUIRE(result.runs[r].status == "ok");
    const std::string summary = testing::read_text(plan.dir + "/summary.csv");
    REQUIRE(std::count(summary.begin(), summary.end(), '\n') == 5);
    // The healthy runs train as they would alone: the same weights in either packing.
    if (pack == "4") {
      REQUIRE(testing::read_text(plan.dir + "/runs/" + plan.runs[3].id + "/weights/W_rec_final.npy") ==
              testing::read_text(tmp.file("out1") + "/aligned/runs/" + plan.runs[3].id + "/weights/W_rec_final.npy"));
    }
  }
}

// ---- issue 13, item 4: norm {matched_loss: SPEC} --------------------------------------------

TEST_CASE("matching_scale finds the crossing nearest to scale 1 and says when there is none", "[init]") {
  // (c - 3)^2 = 1 at c = 2 and c = 4: 2 is nearer to 1 in log scale.
  REQUIRE(init::matching_scale([](double c) { return (c - 3) * (c - 3); }, 1.0).value() ==
          Approx(2.0).epsilon(1e-10));
  // Already matched: exactly 1, whatever else crosses.
  REQUIRE(init::matching_scale([](double c) { return c * c; }, 1.0).value() == 1.0);
  // A target below every value on the grid: none.
  REQUIRE(!init::matching_scale([](double c) { return 2.0 + c; }, 1.0));
  // Non-finite values (a network that blew up) are never taken for a crossing.
  REQUIRE(init::matching_scale([](double c) { return c > 8 ? std::nan("") : c; }, 0.5).value() ==
          Approx(0.5).epsilon(1e-10));
  REQUIRE(!init::matching_scale([](double c) { return c > 8 ? std::nan("") : 0.0; }, 1.0));
}

TEST_CASE("norm matched_loss gives the initial network the reference spec's loss on the same trials", "[init]") {
  testing::TempDir tmp;
  const std::string yaml = R"(experiment: matched
model: {name: ctrnn, hidden_size: 40}
init:
  W_rec: {name: io_aligned_low_rank, rank: 1, norm: {matched_loss: {name: low_rank, rank: 1}}}
train: {iterations: 1}
sweep:
  seed: [0, 3]
)";
  auto o = options_for(tmp, yaml);
  auto plan = train::plan_experiment(o, registries());
  // The same initializer at its own scale (norm none), and the reference, from the same stream.
  o.sets = {"init.W_rec.norm=none"};
  auto raw_plan = train::plan_experiment(o, registries());
  o.sets = {"init.W_rec={name: low_rank, rank: 1}"};
  auto ref_plan = train::plan_experiment(o, registries());
  for (std::size_t r = 0; r < plan.runs.size(); ++r) {
    const train::RunConfig& rc = plan.runs[r].config;
    INFO(rc.seed);
    auto init_model = [&](const train::RunConfig& c) {
      std::shared_ptr<models::Model> m = c.model->build(1);
      init::apply_initializers(*m, c.init, c.seed);
      return m;
    };
    auto matched = init_model(rc), raw = init_model(raw_plan.runs[r].config), ref = init_model(ref_plan.runs[r].config);
    const torch::Tensor w = matched->weight("W_rec")[0].to(torch::kDouble);
    const torch::Tensor w_raw = raw->weight("W_rec")[0].to(torch::kDouble);
    const torch::Tensor w_ref = ref->weight("W_rec")[0].to(torch::kDouble);
    // A positive multiple of the initializer's own matrix ...
    const double cosine = ((w * w_raw).sum() / (w.norm() * w_raw.norm())).item<double>();
    REQUIRE(cosine == Approx(1.0).epsilon(1e-6));
    // ... whose loss on the documented trials (the stream after the reference's draw) is the
    // reference's, recomputed here.
    at::Generator gen = stream_generator(rc.seed, "init/W_rec");
    const std::map<std::string, torch::Tensor> none;
    for (const auto& step : ref_plan.runs[r].config.init) {
      // Past the reference's draw, as the initializer does (low_rank needs no other weight).
      if (step.param == "W_rec") (void)step.initializer->make(init::InitInputs{gen, none});
    }
    const tasks::TrialBatch trials = tasks::stack_members({rc.task->sample(init::kMatchingTrials, gen)});
    auto loss = [&](models::Model& m) {
      torch::NoGradGuard no_grad;
      return tasks::task_loss(rc.task->loss(), m.forward(trials.inputs).logits, trials)[0].item<double>();
    };
    const double target = loss(*ref), got = loss(*matched), unmatched = loss(*raw);
    REQUIRE(got == Approx(target).epsilon(1e-5));
    // The match is not a coincidence: at its own scale the initializer's loss differs.
    REQUIRE(std::abs(unmatched - target) > 1e-3 * target);
    // W_in and W_out are untouched by the matching.
    REQUIRE(torch::equal(matched->weight("W_in"), ref->weight("W_in")));
  }
}
