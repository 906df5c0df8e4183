// tests/train/checkpoint_test.cpp: checkpoints, shards, gathering and shared folders.
#include "../test_common.h"

#include <richlazy/core/config_error.h>
#include <richlazy/init/apply.h>
#include <richlazy/train/checkpoint.h>
#include <richlazy/train/experiment.h>
#include <richlazy/train/gather.h>
#include <richlazy/train/packing.h>
#include <richlazy/train/summary.h>
#include <richlazy/train/trainer.h>

#include <filesystem>
#include <numeric>
#include <set>

using namespace richlazy;
using testing::registries;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
struct Pack3 {
  std::unique_ptr<tasks::Task> task;
  std::shared_ptr<models::ModelBuilder> builder;
  std::shared_ptr<models::Model> model;
  std::unique_ptr<train::OptimizerBuilder> optimizer;
};

/// Three CTRNNs of 16 units on 2AF (seeds 0, 1, 2; the last two share seed 1's streams when
/// `shared_seed`), with the initializers of their seeds.
Pack3 make_pack(const std::string& optimizer, const std::vector<uint64_t>& seeds) {
  Pack3 p;
  Params tp = testing::params_from("{name: 2AF}", "task");
  p.task = registries().tasks.create(tp);
  Params mp = testing::params_from("{name: ctrnn, hidden_size: 16}", "model");
  p.builder = registries().models.create(mp, models::TaskShape{3, 3, 100});
  p.model = p.builder->build(static_cast<int64_t>(seeds.size()));
  Params ip = testing::params_from("{W_rec: {name: low_rank, rank: 2}}", "init");
  const auto steps = init::plan_initializers(ip, p.builder->parameters(), registries().initializers);
  for (std::size_t e = 0; e < seeds.size(); ++e) init::apply_initializers(*p.model, steps, seeds[e], static_cast<int64_t>(e));
  p.optimizer = testing::make_optimizer(optimizer);
  return p;
}

std::vector<train::NamedHook> all_hooks(const tasks::Task& task) {
  std::vector<train::NamedHook> out;
  const std::vector<models::ParameterInfo> params{{"W_in", {}, "", "", "input"},
                                                  {"W_out", {}, "", "", "readout"},
                                                  {"W_rec", {}, "", "", "recurrent"}};
  // Stateless ones, ones that snapshot step 0, and path_length, which accumulates.
  for (const std::string n : {"loss", "accuracy", "test_accuracy", "dw_rec", "dw_rec_rel", "erank_delta_rec",
                              "path_length_rec", "rep_alignment", "sign_similarity", "kernel_alignment"}) {
    Params p = testing::params_from("{name: " + n + "}", "metrics");
    out.push_back({n, registries().metrics.create(p, metrics::MetricTarget{params, task})});
  }
  return out;
}

train::TrainSettings settings() {
  train::TrainSettings s;
  s.iterations = 40;
  s.batch_size = 8;
  s.log_every = 10;
  s.probe_trials = 16;
  s.kernel_trials = 4;
  s.test_trials = 32;
  s.checkpoint_every = 15;  // between logged steps: the loss sums since the last row are state too
  return s;
}

std::unique_ptr<train::Trainer> make_trainer(Pack3& p, const std::vector<uint64_t>& seeds) {
  std::vector<const train::OptimizerBuilder*> opts(seeds.size(), p.optimizer.get());
  return std::make_unique<train::Trainer>(*p.model, *p.task, seeds, opts, all_hooks(*p.task), settings(),
                                          torch::kCPU);
}

bool same_bits(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() && a.dtype() == b.dtype() && torch::equal(a, b);
}
struct Killed {};
}  // namespace

TEST_CASE("a pack resumed from its checkpoint files ends bit-identical to the uninterrupted pack", "[train][checkpoint]") {
  at::set_num_threads(1);
  const std::string optimizer = GENERATE(std::string("{name: sgd, lr: 0.05, momentum: 0.9}"),
                                         std::string("{name: adam, lr: 0.01}"));
  // Members 1 and 2 share a seed, and with it their streams.
  const std::vector<uint64_t> seeds{0, 1, 1};
  INFO(optimizer);
  Pack3 full = make_pack(optimizer, seeds);
  const train::TrainOutcome whole = make_trainer(full, seeds)->run();
  auto full_trainer = make_trainer(full, seeds);  // (only its logs are compared below)

  // The same pack, killed right after its checkpoint at step 30, its state in files.
  testing::TempDir tmp;
  Pack3 first = make_pack(optimizer, seeds);
  auto t1 = make_trainer(first, seeds);
  int64_t saved_at = -1;
  try {
    t1->run({}, {}, [&](int64_t step) {
      for (int64_t e = 0; e < 3; ++e) {
        train::write_checkpoint(tmp.file("c" + std::to_string(e) + ".pt"), t1->checkpoint(e), "config text");
      }
      saved_at = step;
      if (step == 30) throw Killed{};
    });
    FAIL("the run was not interrupted");
  } catch (const Killed&) {
  }
  REQUIRE(saved_at == 30);

  // A new process: the initial weights again, then the checkpoints.
  Pack3 second = make_pack(optimizer, seeds);
  auto t2 = make_trainer(second, seeds);
  std::vector<train::MemberState> states;
  for (int64_t e = 0; e < 3; ++e) {
    std::string why;
    auto s = train::read_checkpoint(tmp.file("c" + std::to_string(e) + ".pt"), "config text", &why);
    REQUIRE(why.empty());
    REQUIRE(s.has_value());
    REQUIRE(train::checkpoint_step(*s) == 30);
    states.push_back(std::move(*s));
  }
  t2->resume(states);
  REQUIRE(t2->start_step() == 30);
  const train::TrainOutcome resumed = t2->run();

  for (const auto& name : {"W_in", "W_rec", "W_out"}) {
    INFO(name);
    REQUIRE(same_bits(second.model->weight(name), full.model->weight(name)));
  }
  // Every logged value, bit for bit (the full run's trainer is the first one made above).
  Pack3 again = make_pack(optimizer, seeds);
  auto t3 = make_trainer(again, seeds);
  t3->run();
  for (int64_t e = 0; e < 3; ++e) {
    REQUIRE(t2->log(e).steps == t3->log(e).steps);
    REQUIRE(t2->log(e).steps == std::vector<int64_t>{0, 10, 20, 30, 40});
    for (std::size_t i = 0; i < t3->log(e).rows.size(); ++i) {
      for (std::size_t j = 0; j < t3->log(e).rows[i].size(); ++j) {
        INFO("member " << e << " step " << t3->log(e).steps[i] << " " << t3->log(e).columns[j] << " resumed "
                       << t2->log(e).rows[i][j] << " whole " << t3->log(e).rows[i][j] << " other members "
                       << t2->log((e + 1) % 3).rows[i][j] << " " << t3->log((e + 1) % 3).rows[i][j]);
        const double a = t2->log(e).rows[i][j], b = t3->log(e).rows[i][j];
        REQUIRE(((std::isnan(a) && std::isnan(b)) || a == b));
      }
    }
    REQUIRE(resumed.members[e].status == whole.members[e].status);
    REQUIRE(resumed.members[e].steps_done == 40);
  }
  // The path length accumulated before the checkpoint is in it: not zero after resuming.
  const std::size_t path_col = 6;
  REQUIRE(t2->log(0).columns[path_col] == "path_length_rec");
  REQUIRE(t2->log(0).rows.back()[path_col] > t2->log(0).rows[3][path_col]);
  (void)full_trainer;
}

TEST_CASE("runs checkpointed in different packs resume together as one pack", "[train][checkpoint]") {
  // Seed 0 with momentum (its pack keeps momentum buffers) and seed 1 without (its pack keeps
  // none), each checkpointed alone, then resumed as members of one pack: each must end as its
  // uninterrupted solo run, bit for bit.
  at::set_num_threads(1);
  const std::vector<std::string> optimizers{"{name: sgd, lr: 0.05, momentum: 0.9}", "{name: sgd, lr: 0.05, momentum: 0}"};
  auto solo = [&](std::size_t m, int64_t kill_at, train::MemberState* state) {
    Pack3 p = make_pack(optimizers[m], {m});
    auto t = make_trainer(p, {m});
    try {
      t->run({}, {}, [&](int64_t step) {
        if (step == kill_at) {
          *state = t->checkpoint(0);
          throw Killed{};
        }
      });
    } catch (const Killed&) {
    }
    return p.model->weight("W_rec").clone();
  };
  std::vector<torch::Tensor> final;
  std::vector<train::MemberState> states(2);
  for (std::size_t m = 0; m < 2; ++m) {
    final.push_back(solo(m, -1, nullptr));
    solo(m, 30, &states[m]);
  }
  REQUIRE(states[0].count("optimizer/momentum_buffer/0") == 1);
  REQUIRE(states[1].count("optimizer/momentum_buffer/0") == 0);
  for (const bool swap : {false, true}) {  // either member first
    INFO("swapped " << swap);
    const std::vector<std::size_t> order = swap ? std::vector<std::size_t>{1, 0} : std::vector<std::size_t>{0, 1};
    Pack3 p = make_pack(optimizers[0], {order[0], order[1]});
    const auto first = testing::make_optimizer(optimizers[order[0]]);
    const auto second = testing::make_optimizer(optimizers[order[1]]);
    train::Trainer t(*p.model, *p.task, {order[0], order[1]}, {first.get(), second.get()}, all_hooks(*p.task),
                     settings(), torch::kCPU);
    t.resume({states[order[0]], states[order[1]]});
    t.run();
    for (std::size_t k = 0; k < 2; ++k) REQUIRE(same_bits(p.model->weight("W_rec")[k], final[order[k]][0]));
  }
}

TEST_CASE("a checkpoint is not resumed into another config, nor read from a damaged file", "[train][checkpoint]") {
  testing::TempDir tmp;
  train::MemberState s{{"step", torch::tensor(int64_t{5})}, {"w", torch::arange(6, torch::kFloat).reshape({2, 3})}};
  train::write_checkpoint(tmp.file("c.pt"), s, "config A");
  std::string why;
  auto back = train::read_checkpoint(tmp.file("c.pt"), "config A", &why);
  REQUIRE(back.has_value());
  REQUIRE(torch::equal(back->at("w"), s.at("w")));
  REQUIRE(train::checkpoint_step(*back) == 5);
  REQUIRE_FALSE(train::read_checkpoint(tmp.file("c.pt"), "config B", &why).has_value());
  REQUIRE_THAT(why, Contains("different config"));
  testing::write_text(tmp.file("bad.pt"), "not a checkpoint");
  why.clear();
  REQUIRE_FALSE(train::read_checkpoint(tmp.file("bad.pt"), "config A", &why).has_value());
  REQUIRE_THAT(why, Contains("cannot read it"));
  why.clear();
  REQUIRE_FALSE(train::read_checkpoint(tmp.file("none.pt"), "config A", &why).has_value());
  REQUIRE(why.empty());  // no file: nothing to say
  REQUIRE_FALSE(fs::exists(tmp.file("c.pt.tmp." + std::to_string(::getpid()))));
}

namespace {
const char* kSweep = R"(experiment: shared
task: {name: 2AF}
model: {name: ctrnn, hidden_size: 12}
init:
  W_rec: {name: low_rank, rank: 2}
train: {iterations: 20, batch_size: 8, checkpoint_every: 5}
metrics: {every: 10, probe_trials: 16, kernel_trials: 4, names: [loss, accuracy, dw_rec, path_length_rec]}
sweep:
  init.W_rec.rank: [1, 2, 12]
  seed: [0, 1, 2, 3]
)";

train::ExperimentOptions options_for(const testing::TempDir& tmp, const std::string& yaml) {
  return testing::experiment_options(tmp, yaml);
}

/// summary.csv without the columns that depend on how and when runs were trained.
std::string results_only(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::stringstream in(csv);
  std::string line, out;
  std::vector<bool> keep;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream l(line);
    std::string cell;
    while (std::getline(l, cell, ',')) cells.push_back(cell);
    if (keep.empty()) {
      for (const auto& c : cells) keep.push_back(c != "wall_seconds" && c != "ms_per_iteration" && c != "metric_seconds");
    }
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i < keep.size() && keep[i]) out += cells[i] + ",";
    }
    out += "\n";
  }
  return out;
}
}  // namespace

TEST_CASE("shards split the sweep into contiguous blocks that do not depend on packing or --jobs", "[train][shard]") {
  testing::TempDir tmp;
  for (const std::size_t runs : {1u, 5u, 12u, 13u, 100u}) {
    for (const int n : {1, 2, 3, 4, 5, 12}) {
      INFO(runs << " runs, N = " << n);
      const auto shards = train::shard_runs(runs, n);
      REQUIRE(shards.size() == static_cast<std::size_t>(n));
      std::vector<std::size_t> all;
      std::size_t largest = 0, smallest = runs;
      for (const auto& s : shards) {
        all.insert(all.end(), s.begin(), s.end());
        largest = std::max(largest, s.size());
        smallest = std::min(smallest, s.size());
      }
      std::vector<std::size_t> expected(runs);
      std::iota(expected.begin(), expected.end(), 0);
      REQUIRE(all == expected);           // every run once, shard after shard, in sweep order
      REQUIRE(largest - smallest <= 1);  // balanced
    }
  }
  // The plan of shard K holds exactly shard_runs' share, whatever --jobs and packing are.
  for (const int jobs : {1, 2, 3}) {
    for (const std::string pack : {"auto", "1", "5"}) {
      auto o = options_for(tmp, kSweep);
      o.shard_index = 1;
      o.shard_count = 4;
      o.jobs = jobs;
      o.pack = pack;
      const auto p = train::plan_experiment(o, registries());
      std::vector<std::size_t> mine;
      for (const auto& packed : p.packs) mine.insert(mine.end(), packed.runs.begin(), packed.runs.end());
      std::sort(mine.begin(), mine.end());
      REQUIRE(mine == std::vector<std::size_t>{3, 4, 5});
    }
  }
}

TEST_CASE("shards and a resumed sweep gather the same summary as one process", "[train][shard]") {
  at::set_num_threads(1);
  testing::TempDir tmp;
  // One process, the whole sweep.
  auto o = options_for(tmp, kSweep);
  o.out_dir = tmp.file("one");
  auto plan = train::plan_experiment(o, registries());
  const auto whole = train::run_experiment(plan, o);
  REQUIRE(whole.runs.size() == 12);
  const std::string reference = testing::read_text(tmp.file("one/shared/summary.csv"));
  // summary.csv gathered from the files equals the one made from the runs in memory.
  REQUIRE(reference == train::summary_csv(plan.sweep_keys, whole));
  REQUIRE(fs::exists(tmp.file("one/shared/runs/rank-1_seed-0/history.log")));
  REQUIRE_FALSE(fs::exists(tmp.file("one/shared/runs/rank-1_seed-0/checkpoint.pt")));  // removed once complete

  // Three shards, one after the other, into one folder; then gathered.
  for (int k : {2, 0, 1}) {
    auto s = options_for(tmp, kSweep);
    s.out_dir = tmp.file("sharded");
    s.shard_index = k;
    s.shard_count = 3;
    auto p = train::plan_experiment(s, registries());
    const auto r = train::run_experiment(p, s);
    REQUIRE(r.runs.size() == 4);
    const auto g = train::gather(tmp.file("sharded/shared"));
    REQUIRE(g.total == 12);
  }
  REQUIRE(results_only(testing::read_text(tmp.file("sharded/shared/summary.csv"))) == results_only(reference));
  for (const auto& run : plan.runs) {
    for (const auto& w : {"W_rec_final", "W_out_final"}) {
      const auto a = testing::read_text(tmp.file("one/shared/runs/" + run.id + "/weights/" + w + ".npy"));
      const auto b = testing::read_text(tmp.file("sharded/shared/runs/" + run.id + "/weights/" + w + ".npy"));
      REQUIRE(!a.empty());
      REQUIRE(a == b);
    }
  }

  // --resume on the complete folder trains nothing; a changed config is refused, naming the key.
  auto again = options_for(tmp, kSweep);
  again.out_dir = tmp.file("sharded");
  again.resume = true;
  auto p = train::plan_experiment(again, registries());
  const auto none = train::run_experiment(p, again);
  REQUIRE(none.runs.empty());
  REQUIRE(none.skipped_complete == 12);
  std::string changed = kSweep;
  changed.replace(changed.find("hidden_size: 12"), 15, "hidden_size: 13");
  auto other = options_for(tmp, changed);
  other.out_dir = tmp.file("sharded");
  other.resume = true;
  const auto other_plan = train::plan_experiment(other, registries());
  const std::string error = testing::config_error_of([&] { train::check_output_folder(other_plan, other); });
  REQUIRE_THAT(error, Contains("model.hidden_size: was 12, now 13"));
  REQUIRE_THAT(error, Contains("experiment.yaml"));
  // Keys that do not change results may differ.
  auto packed = options_for(tmp, kSweep);
  packed.out_dir = tmp.file("sharded");
  packed.resume = true;
  packed.sets = {"train.checkpoint_every=0", "train.pack=1"};
  const auto packed_plan = train::plan_experiment(packed, registries());
  REQUIRE(testing::config_error_of([&] { train::check_output_folder(packed_plan, packed); }) == "(no error)");
  // Without --resume an existing folder is refused, and the message says how to continue it.
  auto plain = options_for(tmp, kSweep);
  plain.out_dir = tmp.file("sharded");
  REQUIRE_THAT(testing::config_error_of([&] { train::check_output_folder(plan, plain); }), Contains("--resume"));
}

TEST_CASE("a run's summary.json reads back to the values summary.csv shows", "[train][gather]") {
  train::RunResult r;
  r.id = "rank-1_seed-0";
  r.index = 3;
  r.swept = {{"init.W_rec.rank", "1"}, {"seed", "0"}};
  r.status = "diverged";
  r.reason = "the training loss became nan at step 7";
  r.columns = {"loss", "dw_rec"};
  r.final_values = {0.1 + 0.2, std::nan("")};
  r.initial_values = {1.0986122886681098, 0.0};
  r.init_loss = 1.5;
  r.steps_done = 7;
  r.resumed_from = 5;
  r.trained_by = "host 12";
  init::InitReport rep;
  rep.param = "W_rec";
  rep.role = "recurrent";
  rep.rows = rep.cols = 4;
  rep.rank = 1;
  rep.spectral_radius = 0.25;
  r.init = {rep};
  testing::TempDir tmp;
  auto o = options_for(tmp, kSweep);
  const auto plan = train::plan_experiment(o, registries());
  const train::RunResult back = train::run_result_from_json(train::run_summary_json(r, plan.runs[0].config));
  REQUIRE(back.id == r.id);
  REQUIRE(back.index == 3);
  REQUIRE(back.status == "diverged");
  REQUIRE(back.reason == r.reason);
  REQUIRE(back.swept == r.swept);
  REQUIRE(back.columns == r.columns);
  REQUIRE(back.final_values[0] == 0.1 + 0.2);  // every bit
  REQUIRE(std::isnan(back.final_values[1]));
  REQUIRE(back.initial_values[0] == 1.0986122886681098);
  REQUIRE(back.resumed_from == 5);
  REQUIRE(back.trained_by == "host 12");
  REQUIRE(back.init.size() == 1);
  REQUIRE(back.init[0].spectral_radius == 0.25);
  REQUIRE(std::isnan(back.init[0].erank_eig));
  train::ExperimentResult a, b;
  a.runs = {r};
  b.runs = {back};
  REQUIRE(train::summary_csv(plan.sweep_keys, a) == train::summary_csv(plan.sweep_keys, b));
  REQUIRE_THROWS(train::run_result_from_json("{\"x\": 1}"));
  REQUIRE_THROWS(train::run_result_from_json("not json"));
}

TEST_CASE("config differences name each changed key and leave out packing and checkpoints", "[train][gather]") {
  const YAML::Node a = YAML::Load("{model: {hidden_size: 12, tau_ms: 100}, train: {pack: auto, checkpoint_every: 0}, "
                                  "sweep: {seed: [0, 1]}}");
  const YAML::Node b = YAML::Load("{model: {hidden_size: 12, tau_ms: 50}, train: {pack: 4, checkpoint_every: 100}, "
                                  "sweep: {seed: [0, 1, 2]}, extra: 1}");
  const auto d = train::config_differences(a, b);
  REQUIRE(d == std::vector<std::string>{"model.tau_ms: was 100, now 50", "sweep.seed: was [0, 1], now [0, 1, 2]",
                                        "extra: was not set, now 1"});
  REQUIRE(train::config_differences(a, YAML::Clone(a)).empty());
}

TEST_CASE("shards of a config with a pilot stage share its pilot runs and train each once", "[train][shard]") {
  at::set_num_threads(1);
  testing::TempDir tmp;
  std::string yaml = kSweep;
  yaml += "pilot: {set: {init.W_rec: {name: gaussian}}}\n";
  for (int k : {1, 0, 2}) {  // plain --shard (no --resume), one after the other
    auto o = options_for(tmp, yaml);
    o.shard_index = k;
    o.shard_count = 3;
    auto p = train::plan_experiment(o, registries());
    REQUIRE(train::run_experiment(p, o).runs.size() == 4);
  }
  const auto pilots = train::gather(tmp.file("out/shared/pilot"));
  REQUIRE(pilots.total == 4);  // one per seed
  REQUIRE(pilots.complete.runs.size() == 4);
  for (const auto& r : pilots.complete.runs) {
    const std::string history = testing::read_text(tmp.file("out/shared/pilot/runs/" + r.id + "/history.log"));
    INFO(history);
    REQUIRE(std::count(history.begin(), history.end(), '\n') == 2);  // started, finished: once
  }
  REQUIRE(train::gather(tmp.file("out/shared")).complete.runs.size() == 12);
}
