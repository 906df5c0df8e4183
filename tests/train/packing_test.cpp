// tests/train/packing_test.cpp: a pack of networks is exactly its solo runs: same files, same
// weights and metrics, a diverged member frozen while the others go on, any model's
// parameter names, and which sweep points may share a pack.
#include "../test_common.h"

#include "../run_compare.h"

#include <richlazy/core/config_error.h>
#include <richlazy/core/npy.h>
#include <richlazy/metrics/laziness.h>
#include <richlazy/models/model.h>
#include <richlazy/report/experiment_data.h>
#include <richlazy/train/experiment.h>
#include <richlazy/train/packing.h>

#include <cmath>
#include <filesystem>
#include <set>

using namespace richlazy;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
/// Every laziness measure, logged often, on a small network (two ranks x two seeds).
const char* const kPacked = testing::kEveryMeasureSweep;

// ---- a model whose parameters are not named W_* ----------------------------------------------

/// h_t = tanh(encoder x_t + recurrence h_{t-1} + recurrence_bias), y_t = decoder h_t, written op
/// by op; no kernel factors (the metrics fall back to one backward pass per logit).
class Elman final : public models::Model {
 public:
  Elman(int64_t inputs, int64_t hidden, int64_t outputs, int64_t members) : Model(members) {
    encoder_ = register_parameter("encoder", torch::zeros({members, hidden, inputs}));
    recurrence_ = register_parameter("recurrence", torch::zeros({members, hidden, hidden}));
    bias_ = register_parameter("recurrence_bias", torch::zeros({members, hidden}));
    decoder_ = register_parameter("decoder", torch::zeros({members, outputs, hidden}));
  }
  models::ModelOutput forward(const torch::Tensor& x) override {
    std::vector<torch::Tensor> states;
    torch::Tensor h = torch::zeros({x.size(1), x.size(2), recurrence_.size(1)}, x.options());
    for (int64_t t = 0; t < x.size(0); ++t) {
      h = torch::tanh(torch::matmul(x[t], encoder_.transpose(1, 2)) + torch::matmul(h, recurrence_.transpose(1, 2)) +
                      bias_.unsqueeze(1));
      states.push_back(h);
    }
    const torch::Tensor hidden = torch::stack(states);
    return {torch::matmul(hidden, decoder_.transpose(1, 2)), hidden};
  }
  int64_t hidden_size() const override { return recurrence_.size(1); }

 private:
  torch::Tensor encoder_, recurrence_, bias_, decoder_;
};

void register_elman(models::ModelRegistry& registry) {
  class Builder final : public models::ModelBuilder {
   public:
    Builder(int64_t i, int64_t n, int64_t o) : i_(i), n_(n), o_(o) {}
    std::vector<models::ParameterInfo> parameters() const override {
      return {{"encoder", {n_, i_}, "{name: torch_default}", "input weights", "input"},
              {"recurrence", {n_, n_}, "{name: gaussian, gain: 0.9}", "recurrent weights", "recurrent"},
              {"recurrence_bias", {n_}, "{name: constant, value: 0.1}", "bias", "bias"},
              {"decoder", {o_, n_}, "{name: torch_default}", "readout weights", "readout"}};
    }
    std::shared_ptr<models::Model> build(int64_t members) const override {
      return std::make_shared<Elman>(i_, n_, o_, members);
    }

   private:
    int64_t i_, n_, o_;
  };
  registry.add({"elman", "test model with other parameter names", {{"hidden_size", "10", "units"}},
                [](Params& p, const models::TaskShape& s) -> std::unique_ptr<models::ModelBuilder> {
                  return std::make_unique<Builder>(s.inputs, p.get_int("hidden_size", 1, 1000), s.outputs);
                }});
}
}  // namespace

TEST_CASE("a pack of four networks (two ranks x two seeds) equals the four solo runs", "[train]") {
  testing::TempDir tmp;
  const testing::Ran packed = testing::run_config(tmp, kPacked, "4");
  const testing::Ran solo = testing::run_config(tmp, kPacked, "1");
  REQUIRE(packed.plan.packs.size() == 1);
  REQUIRE(packed.plan.packs[0].runs.size() == 4);
  REQUIRE(solo.plan.packs.size() == 4);
  testing::require_same_runs(packed, solo);
  // Something to compare: the networks trained, and their measures differ between runs.
  REQUIRE(solo.result.runs[0].final_values != solo.result.runs[2].final_values);
  // summary.csv is the same table; summary.json says which pack a run trained in.
  const auto summary = [](const testing::Ran& r) {
    return report::parse_csv(testing::read_text(r.plan.dir + "/summary.csv"), "summary.csv");
  };
  REQUIRE(summary(packed).size() == summary(solo).size());
  REQUIRE(summary(packed)[0] == summary(solo)[0]);
  const YAML::Node js = YAML::LoadFile(packed.plan.dir + "/runs/rank-24_seed-1/summary.json");
  REQUIRE(js["pack"]["networks"].as<int>() == 4);
  REQUIRE(js["init"][2]["role"].as<std::string>() == "recurrent");
}

TEST_CASE("a pack mixes a connectome file with a Gaussian, each as its solo run", "[train]") {
  testing::TempDir tmp;
  // A connectome-like matrix: sparse, non-negative, with a positive mean (an outlier eigenvalue).
  torch::manual_seed(4);
  write_npy(tmp.file("connectome.npy"),
            (torch::rand({24, 24}, torch::kDouble) < 0.2).to(torch::kDouble) * torch::rand({24, 24}, torch::kDouble) * 3);
  std::string yaml = kPacked;
  yaml = yaml.substr(0, yaml.find("sweep:")) +
         "sweep:\n  init.W_rec: [{name: connectome, file: connectome.npy, norm: auto}, {name: gaussian}]\n"
         "  seed: [0, 1]\n";
  const testing::Ran packed = testing::run_config(tmp, yaml, "auto", {"train.iterations=40"});
  const testing::Ran solo = testing::run_config(tmp, yaml, "1", {"train.iterations=40"});
  REQUIRE(packed.plan.packs.size() <= 2);  // 4 networks on at most two cores' packs
  REQUIRE(packed.plan.packs.front().runs.size() >= 2);
  testing::require_same_runs(packed, solo);
  // The connectome really is in the pack: its members' initial W_rec is the file's matrix,
  // rescaled.
  std::string id;
  for (const auto& r : packed.plan.runs) {
    if (r.swept[0].second.find("connectome") != std::string::npos && r.config.seed == 1) id = r.id;
  }
  const torch::Tensor c = read_npy(packed.plan.dir + "/runs/" + id + "/weights/W_rec_init.npy");
  const torch::Tensor file = read_npy(tmp.file("connectome.npy"));
  REQUIRE(metrics::frobenius_cosine(c, file) > 1 - 1e-6);
}

TEST_CASE("a diverged member is frozen and marked while the rest of its pack trains on", "[train]") {
  testing::TempDir tmp;
  std::string yaml = kPacked;
  yaml = yaml.substr(0, yaml.find("sweep:")) + "sweep:\n  train.optimizer.lr: [1.0e+6, 0.003, 0.01]\n";
  const std::vector<std::string> sets{"init.W_rec={name: gaussian, gain: 3}", "train.iterations=200",
                                      "metrics.every=50"};
  const testing::Ran packed = testing::run_config(tmp, yaml, "3", sets);
  const testing::Ran solo = testing::run_config(tmp, yaml, "1", sets);
  REQUIRE(packed.plan.packs.size() == 1);
  REQUIRE(packed.result.runs[0].status == "diverged");
  REQUIRE(packed.result.runs[0].steps_done < 200);
  REQUIRE(packed.result.runs[1].status == "ok");
  REQUIRE(packed.result.runs[2].status == "ok");
  REQUIRE(packed.result.runs[2].steps_done == 200);
  testing::require_same_runs(packed, solo);
  const YAML::Node js = YAML::LoadFile(packed.plan.dir + "/runs/" + packed.plan.runs[0].id + "/summary.json");
  REQUIRE(js["reason"].as<std::string>() ==
          YAML::LoadFile(solo.plan.dir + "/runs/" + solo.plan.runs[0].id + "/summary.json")["reason"].as<std::string>());
}

TEST_CASE("a model whose parameters are not named W_* works with the default metrics", "[train]") {
  testing::TempDir tmp;
  Registries reg = builtin_registries();
  register_elman(reg.models);
  const std::string yaml = R"(experiment: elman
model: {name: elman, hidden_size: 10}
init: {recurrence: {name: low_rank, rank: 3}}
train: {iterations: 30, batch_size: 8}
metrics:
  every: 10
  probe_trials: 16
  kernel_trials: 4
  names: [loss, accuracy, dw_rec, dw_rec_rel, dw_in, dw_out, kernel_alignment, rep_alignment,
          erank_rec, path_length_rec, {name: dw, param: recurrence_bias}]
sweep:
  seed: [0, 1]
)";
  const testing::Ran packed = testing::run_config(tmp, yaml, "2", {}, reg);
  const testing::Ran solo = testing::run_config(tmp, yaml, "1", {}, reg);
  testing::require_same_runs(packed, solo);
  const std::string dir = packed.plan.dir + "/runs/seed-1";
  for (const char* w : {"encoder", "recurrence", "recurrence_bias", "decoder"}) {
    REQUIRE(fs::exists(dir + "/weights/" + std::string(w) + "_final.npy"));
  }
  // The vector parameter kept its shape and its constant start; the roles found every weight.
  const torch::Tensor bias0 = read_npy(dir + "/weights/recurrence_bias_init.npy");
  REQUIRE(bias0.sizes() == torch::IntArrayRef({10}));
  REQUIRE(torch::allclose(bias0, torch::full({10}, 0.1f)));
  const auto& v = packed.result.runs[1].final_values;
  for (std::size_t i = 2; i < v.size(); ++i) REQUIRE(std::isfinite(v[i]));
  REQUIRE(v[2] > 0);          // dw_rec measured the recurrence
  REQUIRE(v[6] < 1.0);        // kernel_alignment (one backward pass per logit) moved
  // Aimed at a parameter the model lacks: a config error naming the model's parameters.
  train::ExperimentOptions o;
  o.config_path = tmp.file("exp.yaml");
  o.sets = {"init.W_rec={name: gaussian}"};
  REQUIRE_THROWS_WITH(train::plan_experiment(o, reg),
                      Contains("init.W_rec is not a parameter of this model; its parameters: encoder (input), "
                               "recurrence (recurrent), recurrence_bias (bias), decoder (readout)"));
  o.sets = {"model={name: linear2}", "metrics.names=[loss, dw_rec]", "task={name: teacher_student}", "init={}"};
  REQUIRE_THROWS_WITH(train::plan_experiment(o, reg),
                      Contains("dw_rec measures the recurrent weight, which model linear2 does not have; its "
                               "parameters: W_1 (input), w_2 (readout)"));
  // An initializer whose default (by role) would be the very weight it fills says so.
  o.sets = {"model={name: linear2}", "metrics.names=[loss]", "task={name: teacher_student}",
            "init={W_1: {name: io_aligned_low_rank, rank: 2}}"};
  REQUIRE_THROWS_WITH(train::plan_experiment(o, reg),
                      Contains("init.W_1.input is not set, and the model's input weight is W_1 itself"));
}

TEST_CASE("only sweep points that share shapes, task and optimizer pack together", "[train]") {
  testing::TempDir tmp;
  testing::write_text(tmp.file("exp.yaml"), kPacked);
  train::ExperimentOptions o;
  o.config_path = tmp.file("exp.yaml");
  o.out_dir = tmp.file("out");
  auto plan_with = [&](std::vector<std::string> sets, const std::string& pack = "64") {
    o.sets = std::move(sets);
    o.pack = pack;
    return train::plan_experiment(o, testing::registries());
  };
  auto pack_sizes = [](const train::ExperimentPlan& p) {
    std::vector<std::size_t> out;
    for (const auto& k : p.packs) out.push_back(k.runs.size());
    return out;
  };
  // Seeds, init specs and optimizer hyperparameters pack ...
  REQUIRE(pack_sizes(plan_with({"sweep={seed: [0, 1, 2], train.optimizer.lr: [0.1, 0.2], "
                                "init.W_rec: [{name: gaussian}, {name: orthogonal}]}"})) ==
          std::vector<std::size_t>{12});
  // ... shapes, the task and the optimizer's kind do not.
  REQUIRE(pack_sizes(plan_with({"sweep={model.hidden_size: [24, 30], seed: [0, 1]}", "init={}"})) ==
          std::vector<std::size_t>{2, 2});
  REQUIRE(pack_sizes(plan_with({"sweep={task.sigma: [0.5, 1.0], seed: [0, 1]}"})) ==
          std::vector<std::size_t>{2, 2});
  REQUIRE(pack_sizes(plan_with({"sweep={train.optimizer: [{name: sgd}, {name: adam}], seed: [0, 1]}"})) ==
          std::vector<std::size_t>{2, 2});
  REQUIRE(pack_sizes(plan_with({"sweep={train.iterations: [10, 20], seed: [0]}"})) ==
          std::vector<std::size_t>{1, 1});
  // At most N per pack, split evenly, in sweep order; 1 turns packing off.
  const auto plan = plan_with({"sweep={seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}"}, "4");
  REQUIRE(pack_sizes(plan) == std::vector<std::size_t>{4, 3, 3});
  REQUIRE(plan.packs[1].runs == std::vector<std::size_t>{4, 5, 6});
  REQUIRE(pack_sizes(plan_with({}, "1")) == std::vector<std::size_t>{1, 1, 1, 1});
  // auto on the CPU: at least one pack per job, small networks in large packs, large ones in
  // small packs or alone (train/packing.h: 700,000 weights per pack).
  o.jobs = 2;
  REQUIRE(pack_sizes(plan_with({"sweep={seed: [0, 1, 2, 3, 4, 5]}"}, "auto")) == std::vector<std::size_t>{3, 3});
  const std::string many = "sweep={seed: [" + [] {
    std::string s;
    for (int i = 0; i < 40; ++i) s += (i ? "," : "") + std::to_string(i);
    return s;
  }() + "]}";
  // 40 networks of 91,800 weights: at most 7 per pack, so 6 packs, sized evenly.
  REQUIRE(pack_sizes(plan_with({many, "model.hidden_size=300", "init={}"}, "auto")) ==
          std::vector<std::size_t>{7, 7, 7, 7, 6, 6});
  REQUIRE(pack_sizes(plan_with({"sweep={seed: [0, 1]}", "model.hidden_size=1000", "init={}"}, "auto")) ==
          std::vector<std::size_t>{1, 1});
  // Bad values and sweeping it are config errors.
  REQUIRE_THROWS_WITH(plan_with({}, "0"), Contains("--pack 0: train.pack must be auto or an integer in [1, 4096], got 0"));
  REQUIRE_THROWS_WITH(plan_with({"sweep={train.pack: [1, 2]}"}), Contains("sweep.train.pack cannot be swept"));
  // Whole sections can be swept as maps (without a name:), and runs that ask for different
  // packing are packed apart.
  const auto sections = plan_with({"sweep={train: [{iterations: 5, pack: 1}, {iterations: 5, pack: 2}], seed: [0, 1]}"});
  REQUIRE(sections.runs.front().id == "train-v0_seed-0");
  REQUIRE(pack_sizes(sections) == std::vector<std::size_t>{1, 1, 2});
}
