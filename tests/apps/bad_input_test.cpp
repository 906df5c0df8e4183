// tests/apps/bad_input_test.cpp: bad files and values that used to crash, pass silently or
// print a stack trace (issue 12, items 3 and 4): each gives one line naming what is wrong,
// exit status 2, and no output folder.
#include "../test_common.h"

#include <richlazy/core/config_error.h>
#include <richlazy/core/config_source.h>
#include <richlazy/core/npy.h>
#include <richlazy/init/apply.h>
#include <richlazy/init/cell_types.h>
#include <richlazy/init/matrix_file.h>

#include <fmt/format.h>

#include <filesystem>

using namespace richlazy;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
// One line on stderr, starting "richlazy: error: ", no stack trace.
void require_one_line_error(const testing::CommandResult& r, int status, const std::string& message) {
  INFO("stderr: " << r.err);
  REQUIRE(r.status == status);
  REQUIRE(r.err.rfind("richlazy: error: ", 0) == 0);
  REQUIRE(r.err.find('\n') == r.err.size() - 1);
  REQUIRE_THAT(r.err, Contains(message));
  REQUIRE(r.err.find("frame #") == std::string::npos);
}

const char* kQuick = "experiment: q\ntask: {name: 2AF}\nmodel: {name: ctrnn, hidden_size: 8}\n"
                     "train: {iterations: 2, batch_size: 4}\n";
}  // namespace

TEST_CASE("edge-list neuron indices are integers in range, never a cast of 1e300 or inf", "[apps][init]") {
  testing::TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases{
      {"inf", "'inf' is not a neuron index"},
      {"1e300", "'1e300' is not a neuron index"},
      {"2.0", "'2.0' is not a neuron index"},
      {"-1", "'-1' is not a neuron index"},
      {"3000000000", "neuron index 3000000000 is out of range: a matrix file holds at most 50000 neurons"},
      {"99999999999999999999999", "is not a neuron index"},
  };
  for (const auto& [index, message] : cases) {
    const std::string path = dir.file("edges_" + std::to_string(&index - &cases[0].first) + ".csv");
    testing::write_text(path, "pre,post,weight\n0,1,1.0\n" + index + ",2,1.0\n");
    const std::string err = testing::config_error_of([&] { init::load_matrix(path, "auto"); });
    INFO(index);
    REQUIRE_THAT(err, Contains(path + ":3: ") && Contains(message));
  }
  // A valid list still reads: neuron 2 -> 0 with weight 0.5 lands at [post, pre] = [0, 2].
  testing::write_text(dir.file("ok.csv"), "pre,post,weight\n0,1,1.0\n2,0,0.5\n");
  const torch::Tensor m = init::load_matrix(dir.file("ok.csv"), "auto");
  REQUIRE(m.size(0) == 3);
  REQUIRE(m[0][2].item<double>() == 0.5);
  REQUIRE(m[1][0].item<double>() == 1.0);
}

TEST_CASE("matrix and vector files: entries beyond float32's range and NaN masks are refused", "[apps][init]") {
  testing::TempDir dir;
  // 1e155 used to pass; with norm: auto its squared norm overflowed and the matrix became 0.
  write_npy(dir.file("big.npy"), torch::full({4, 4}, 1e155, torch::kDouble));
  REQUIRE_THAT(testing::config_error_of([&] { init::load_matrix(dir.file("big.npy"), "auto"); }),
               Contains("big.npy: entry [0, 0] is 1e+155, outside float32's range"));
  write_npy(dir.file("nan.npy"), torch::tensor({0.0, 1.0, std::nan(""), 0.0}, torch::kDouble));
  REQUIRE_THAT(testing::config_error_of([&] { init::load_vector(dir.file("nan.npy")); }), Contains("nan.npy: entry 2 is NaN"));
  testing::write_text(dir.file("inf.txt"), "0\n1\ninf\n");
  REQUIRE_THAT(testing::config_error_of([&] { init::load_vector(dir.file("inf.txt")); }), Contains("inf.txt: entry 2 is infinite"));

  // Through the connectome initializer and the command line: one line, exit 2.
  write_npy(dir.file("w.npy"), torch::eye(4, torch::kDouble));
  write_npy(dir.file("mask2.npy"), torch::tensor({0.0, 1.0, 2.0, 0.0}, torch::kDouble));
  const auto r = testing::run_richlazy(fmt::format("init describe --spec '{{name: connectome, file: {}, inhibitory_mask: {}}}'",
                                 dir.file("w.npy"), dir.file("mask2.npy")));
  require_one_line_error(r, 2, "entry 2 is 2; the mask holds 0 (excitatory) or 1 (inhibitory)");
  const auto big = testing::run_richlazy(fmt::format("init describe --spec '{{name: connectome, file: {}, norm: auto}}'", dir.file("big.npy")));
  require_one_line_error(big, 2, "outside float32's range");
}

TEST_CASE("cell-type tables: fractions and weights must be finite", "[apps][init]") {
  testing::TempDir dir;
  const std::string rows =
      "connection_probability:\n  e: [0.1, 0.2]\n  i: [0.3, 0.4]\nsynaptic_weight:\n  e: [1, 1]\n  i: [-1, -1]\n";
  testing::write_text(dir.file("inf.yaml"), "classes:\n  - {name: e, fraction: .inf}\n  - {name: i, fraction: 1}\n" + rows);
  REQUIRE_THAT(testing::config_error_of([&] { init::load_cell_types(dir.file("inf.yaml")); }),
               Contains("inf.yaml:2:25: fraction must be a finite number >= 0"));
  testing::write_text(dir.file("w.yaml"), "classes:\n  - {name: e, fraction: 1}\n  - {name: i, fraction: 1}\n"
                                          "connection_probability:\n  e: [0.1, 0.2]\n  i: [0.3, 0.4]\n"
                                          "synaptic_weight:\n  e: [1e39, 1]\n  i: [-1, -1]\n");
  REQUIRE_THAT(testing::config_error_of([&] { init::load_cell_types(dir.file("w.yaml")); }),
               Contains("synaptic_weight.e[0] must be a finite number within float32's range"));
}

TEST_CASE("real-valued options beyond float32's range are refused at validation", "[apps][core]") {
  Params p = testing::params_from("{lr: 1e40, small: -1e39, fine: 3e38, list: [1, 1e300]}", "opt",
                                  {{"lr", "0.1", ""}, {"small", "0", ""}, {"fine", "1", ""}, {"list", "[1]", ""}});
  REQUIRE_THAT(testing::config_error_of([&] { p.get_double_above("lr", 0.0); }),
               Contains("opt.lr must lie within float32's range (|x| <= 3.40282e+38), got 1e40"));
  REQUIRE_THAT(testing::config_error_of([&] { p.get_double("small"); }), Contains("opt.small must lie within float32's range"));
  REQUIRE(p.get_double("fine") == 3e38);
  REQUIRE_THAT(testing::config_error_of([&] { p.get_double_list("list"); }), Contains("opt.list must lie within float32's range"));

  testing::TempDir dir;
  testing::write_text(dir.file("c.yaml"), kQuick);
  const std::string base = fmt::format("run {} --out {} ", dir.file("c.yaml"), dir.file("out"));
  require_one_line_error(testing::run_richlazy(base + "--set train.optimizer.lr=1e40"), 2,
                         "--set train.optimizer.lr=1e40: train.optimizer.lr must lie within float32's range");
  require_one_line_error(testing::run_richlazy(base + "--set task.stimulus_ms=1e300"), 2, "task.stimulus_ms must lie within float32's range");
  require_one_line_error(testing::run_richlazy(fmt::format("init describe --spec '{{name: gaussian, norm: 1e308}}' --size 5")), 2,
                         "norm must lie within float32's range");
  // Trials of more steps than richlazy takes are refused before anything is allocated, and
  // the message names the --set that made them so.
  require_one_line_error(testing::run_richlazy(base + "--set task.dt_ms=0.001"), 2,
                         "task.stimulus_ms makes the trial longer than 100000 time steps of dt_ms = 0.001 (from --set "
                         "task.dt_ms=0.001)");
  REQUIRE_FALSE(fs::exists(dir.file("out")));
}

TEST_CASE("sizes that cannot fit in memory are refused before anything is allocated", "[apps]") {
  testing::TempDir dir;
  testing::write_text(dir.file("ts.yaml"), "experiment: ts\ntask: {name: teacher_student, dim: 2000, train_size: 100000000}\n"
                                           "model: {name: linear2}\n");
  require_one_line_error(testing::run_richlazy(fmt::format("run {} --out {}", dir.file("ts.yaml"), dir.file("out"))), 2,
                         "ts.yaml:2:54: task.train_size (dim 2000, train_size 100000000) needs 1490.9 GiB of memory, "
                         "more than this machine's");
  // RICHLAZY_MEMORY_LIMIT_GB stands in for a smaller machine.
  testing::write_text(dir.file("ts2.yaml"), "experiment: ts\ntask: {name: teacher_student, dim: 1000, train_size: 1000}\nmetrics: {names: [loss]}\n"
                                            "model: {name: linear2}\n");
  const std::string plan = fmt::format("run {} --out {} --dry-run", dir.file("ts2.yaml"), dir.file("out"));
  REQUIRE(testing::run_richlazy(plan).status == 0);
  require_one_line_error(testing::run_command("RICHLAZY_MEMORY_LIMIT_GB=0.001 " + testing::richlazy_binary() + " " + plan),
                         2, "needs 15 MiB of memory, more than this machine's 1 MiB");
  REQUIRE_FALSE(fs::exists(dir.file("out")));
}

TEST_CASE("empty, comment-only, /dev/null and directory configs are errors, not the default experiment", "[apps]") {
  testing::TempDir dir;
  testing::write_text(dir.file("empty.yaml"), "");
  testing::write_text(dir.file("comments.yaml"), "# nothing here\n\n# at all\n");
  const std::string out = " --out " + dir.file("out");
  for (const std::string& path : {dir.file("empty.yaml"), dir.file("comments.yaml"), std::string("/dev/null")}) {
    require_one_line_error(testing::run_richlazy("run " + path + out), 2, path + ": the config is empty (no keys)");
  }
  require_one_line_error(testing::run_richlazy("run " + dir.path() + out), 2, dir.path() + ": is a directory, not a file");
  REQUIRE_FALSE(fs::exists(dir.file("out")));
}

TEST_CASE("a key written twice is an error naming both lines, in a file and in a --set", "[apps][core]") {
  testing::TempDir dir;
  testing::write_text(dir.file("dup.yaml"), "experiment: d\nseed: 1\ntrain:\n  iterations: 5\n  iterations: 6\n");
  require_one_line_error(testing::run_richlazy("run " + dir.file("dup.yaml") + " --out " + dir.file("out")), 2,
                         "dup.yaml:5:3: the key 'iterations' appears twice in one map, at lines 4 and 5; remove one");
  testing::write_text(dir.file("c.yaml"), kQuick);
  require_one_line_error(testing::run_richlazy("run " + dir.file("c.yaml") + " --out " + dir.file("out") +
                             " --set 'train={iterations: 5, iterations: 6}'"),
                         2,
                         "--set train={iterations: 5, iterations: 6}:1:17: the key 'iterations' appears twice in one "
                         "map, at columns 2 and 17 of line 1");
  REQUIRE_FALSE(fs::exists(dir.file("out")));
  // Same keys in different maps, and anchors/aliases, are fine; a billion-laughs alias tree
  // is checked in time linear in its text, not its expansion.
  REQUIRE_NOTHROW(load_yaml_text("a: {x: 1}\nb: {x: 1}\nc: &k {y: 2}\nd: *k\n", "t"));
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += fmt::format("{}: &{} [*{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}]\n", c, c, char(c - 1), char(c - 1),
                        char(c - 1), char(c - 1), char(c - 1), char(c - 1), char(c - 1), char(c - 1), char(c - 1),
                        char(c - 1));
  }
  REQUIRE_NOTHROW(load_yaml_text(bomb, "bomb"));
  REQUIRE_THAT(testing::config_error_of([] { load_yaml_text("a: 1\nb: {c: 1, d: [{e: 1, e: 2}]}\n", "t"); }),
               Contains("t:2:22: the key 'e' appears twice"));
}

TEST_CASE("a sweep is planned without re-reading the file per run, errors keep their position, the cap holds", "[apps][train]") {
  // (Planning time per run is measured by bench/plan_scaling.sh; 100,000 runs are too many for
  // a unit test's memory under the sanitizers.)
  testing::TempDir dir;
  std::string seeds;
  for (int i = 0; i < 5000; ++i) seeds += (i ? "," : "") + std::to_string(i);
  testing::write_text(dir.file("many.yaml"), std::string(kQuick) + "sweep:\n  seed: [" + seeds + "]\n");
  const auto r = testing::run_richlazy("run " + dir.file("many.yaml") + " --out " + dir.file("out") + " --dry-run");
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE_THAT(r.out, Contains("experiment q: 5000 runs in") && Contains("runs: seed-0, seed-1, seed-2, seed-3, seed-4, "
                                                                        "... (4995 more)"));
  REQUIRE_FALSE(fs::exists(dir.file("out")));
  // A run that fails validation is still located in the file (its copy has no positions).
  testing::write_text(dir.file("bad.yaml"), std::string(kQuick) + "sweep:\n  train.iterations: [3, 4, -1]\n");
  require_one_line_error(testing::run_richlazy("run " + dir.file("bad.yaml") + " --out " + dir.file("out") + " --dry-run"), 2,
                         "bad.yaml:6:28: train.iterations must be an integer in [1, 1000000000], got -1 (in run "
                         "iterations--1 of the sweep)");
  // 1,000 x 101 runs: refused from the lists' lengths, before any run is planned.
  std::string sizes;
  for (int i = 1; i <= 101; ++i) sizes += (i > 1 ? "," : "") + std::to_string(i);
  testing::write_text(dir.file("over.yaml"), std::string(kQuick) + "sweep:\n  seed: [" + seeds.substr(0, seeds.find(",1000,")) +
                                                 "]\n  train.batch_size: [" + sizes + "]\n");
  require_one_line_error(testing::run_richlazy("run " + dir.file("over.yaml") + " --out " + dir.file("out") + " --dry-run"), 2,
                         "has more than 100000 runs");
}

TEST_CASE("an initial matrix that overflows float32 is refused by name (the guard behind validation)", "[apps][init]") {
  // Validation keeps every built-in inside float32's range; an outside initializer may not.
  REQUIRE_NOTHROW(init::require_finite_float32(torch::full({3, 3}, 3e38, torch::kDouble), "W", "{name: x}"));
  REQUIRE_THAT(testing::config_error_of([] { init::require_finite_float32(torch::full({3, 3}, 1e39, torch::kDouble), "W", "{name: x}"); }),
               Contains("W {name: x}: the initial matrix has entries that are not finite in float32"));
}

TEST_CASE("config shapes yaml-cpp could not index give one located line", "[apps]") {
  testing::TempDir dir;
  testing::write_text(dir.file("as.yaml"), std::string(kQuick) + "metrics:\n  names: [{as: x}]\n");
  require_one_line_error(testing::run_richlazy("run " + dir.file("as.yaml") + " --out " + dir.file("out")), 2,
                         "as.yaml:6:11: metrics.names[0] must be a metric name or {name: ..., ...}");
  testing::write_text(dir.file("nameless.yaml"), std::string(kQuick) + "sweep:\n  init.W_rec: [{rank: 1}, {rank: 2}]\n");
  require_one_line_error(testing::run_richlazy("run " + dir.file("nameless.yaml") + " --out " + dir.file("out")), 2,
                         "nameless.yaml:6:17: init.W_rec.rank is not a known key");
  // The command line itself: an unknown option is bad input (CLI11's own codes were 105-114).
  const auto r = testing::run_richlazy("run " + dir.file("as.yaml") + " --no-such-option");
  REQUIRE(r.status == 2);
  REQUIRE_FALSE(fs::exists(dir.file("out")));
}

TEST_CASE("an output folder that cannot be created is bad input: exit 2, one line", "[apps]") {
  testing::TempDir dir;
  testing::write_text(dir.file("c.yaml"), kQuick);
  testing::write_text(dir.file("file"), "a file, not a folder\n");
  for (const std::string& out : {std::string("/proc/richlazy-no-such-dir"), dir.file("file") + "/sub"}) {
    const auto r = testing::run_richlazy("run " + dir.file("c.yaml") + " --out " + out);
    INFO(out);
    require_one_line_error(r, 2, out);
  }
}

TEST_CASE("what the fuzzers found stays fixed", "[apps][fuzz]") {
  testing::TempDir dir;
  // config: ", b" made yaml-cpp's event parser report empty documents forever (a hang).
  REQUIRE_NOTHROW(load_yaml_text(", b", "t"));
  testing::write_text(dir.file("comma.yaml"), ", b");
  require_one_line_error(testing::run_richlazy("run " + dir.file("comma.yaml") + " --dry-run --out " + dir.file("out")), 2,
                         "comma.yaml: the config is empty (no keys)");  // yaml-cpp reads it as null
  // npy: a zero dimension next to dimensions whose product overflows: LibTorch's strides did.
  const std::string header = "{'descr': '<f8', 'fortran_order': True, 'shape': (0, 18888888, 888, 1, 88881, 28881, 2, 32), }";
  std::string npy = std::string("\x93NUMPY\x01\x00", 8);
  std::string padded = header + std::string(118 - header.size(), ' ') + "\n";
  npy += static_cast<char>(padded.size() & 0xff);
  npy += static_cast<char>(padded.size() >> 8);
  npy += padded;
  testing::write_text(dir.file("zero.npy"), npy);
  REQUIRE_THAT(testing::config_error_of([&] { read_npy(dir.file("zero.npy")); }), Contains("zero.npy: .npy shape '(0, 18888888") &&
                                                                         Contains("holds more than 1099511627776 bytes"));
  // cell types: an empty file, a scalar, a missing row: yaml-cpp's InvalidNode escaped.
  testing::write_text(dir.file("empty.yaml"), "");
  testing::write_text(dir.file("scalar.yaml"), "x\n");
  for (const char* name : {"empty.yaml", "scalar.yaml"}) {
    REQUIRE_THAT(testing::config_error_of([&] { init::load_cell_types(dir.file(name)); }),
                 Contains(std::string(name) + ": a cell-type table is a YAML map"));
  }
  testing::write_text(dir.file("row.yaml"), "classes:\n  - {name: e, fraction: 1}\nconnection_probability:\n  i: [0.5]\n"
                                            "synaptic_weight:\n  e: [1]\n");
  REQUIRE_THAT(testing::config_error_of([&] { init::load_cell_types(dir.file("row.yaml")); }),
               Contains("row.yaml:4:3: connection_probability.e must be a list of 1 numbers"));
  // matrix: an edge list naming neuron 10300 asked for a 10301 x 10301 matrix with no check
  // against memory; RICHLAZY_MEMORY_LIMIT_GB stands in for a small machine.
  testing::write_text(dir.file("e.csv"), "pre,post,weight\n0,10300,1\n");
  require_one_line_error(
      testing::run_command("RICHLAZY_MEMORY_LIMIT_GB=1 " + testing::richlazy_binary() +
                           " init describe --spec '{name: connectome, file: " + dir.file("e.csv") + "}'"),
      2, "the 10301 x 10301 matrix of its edges needs 1.6 GiB of memory, more than this machine's 1.0 GiB");
}

TEST_CASE("every shipped config plans with its data inside the repository", "[apps]") {
  // The configs must not depend on anything outside this repository (the data they use
  // ships in data/), and each must validate as it stands.
  namespace fs = std::filesystem;
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(testing::source_dir() + "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path().string());
    const std::string text = testing::read_text(entry.path().string());
    REQUIRE(text.find("shared/") == std::string::npos);
    testing::TempDir tmp;
    const auto r = testing::run_richlazy("run '" + entry.path().string() + "' --dry-run --out '" + tmp.file("out") + "'");
    INFO(r.err);
    REQUIRE(r.status == 0);
    ++checked;
  }
  REQUIRE(checked >= 8);
}

TEST_CASE("bad shard or resume or submit options give one line and write nothing", "[apps][shard]") {
  testing::TempDir dir;
  testing::write_text(dir.file("q.yaml"), std::string(kQuick) + "sweep: {seed: [0, 1, 2]}\n");
  const std::string cfg = dir.file("q.yaml") + " --out " + dir.file("out");
  for (const std::string shard : {"4/4", "-1/2", "1", "a/b", "1/0", "1/2x"}) {
    INFO(shard);
    const auto r = testing::run_richlazy("run " + cfg + " --shard " + shard);
    REQUIRE(r.status == 2);
    REQUIRE_THAT(r.err, Contains("--shard: expected K/N with 0 <= K < N"));
  }
  REQUIRE_THAT(testing::run_richlazy("run " + cfg + " --resume --overwrite").err,
               Contains("--overwrite: cannot be combined with --resume or --shard"));
  REQUIRE_THAT(testing::run_richlazy("run " + cfg + " --retry-failed").err, Contains("--retry-failed: needs --resume or --shard"));
  REQUIRE_THAT(testing::run_richlazy("submit " + cfg).err, Contains("--slurm is required"));
  require_one_line_error(testing::run_richlazy("submit " + cfg + " --slurm --shards 4"), 2,
                         "--shards 4: the sweep has only 3 runs");
  // Without Slurm's commands on PATH: said so, and nothing written.
  require_one_line_error(testing::run_command("env PATH=/nonexistent " + testing::richlazy_binary() + " submit " + cfg +
                                              " --slurm"),
                         2, "sbatch: not found");
  // A config error is found before anything is submitted.
  require_one_line_error(testing::run_richlazy("submit " + cfg + " --slurm --set model.hidden_size=-3"), 2,
                         "model.hidden_size");
  REQUIRE_FALSE(fs::exists(dir.file("out")));
  // The dry run prints the job script: one shard per run, each resuming its share.
  const auto dry = testing::run_richlazy("submit " + cfg + " --slurm --dry-run --array-limit 2 --cpus-per-task 2");
  REQUIRE(dry.status == 0);
  REQUIRE_THAT(dry.out, Contains("--array=0-2%2") && Contains("#SBATCH --cpus-per-task=2") &&
                            Contains("--resume --no-report --shard \"$((SLURM_ARRAY_TASK_ID + ${RICHLAZY_SHARD_OFFSET:-0}))/3\"") &&
                            Contains("--jobs \"${SLURM_CPUS_PER_TASK:-1}\""));
  REQUIRE_FALSE(fs::exists(dir.file("out")));
  // gather on a folder that is not an experiment's.
  require_one_line_error(testing::run_richlazy("gather " + dir.path()), 2, "not an experiment folder");
}

TEST_CASE("submit splits an array larger than MaxArraySize and the gather job waits for every part", "[apps][shard]") {
  // Stand-ins for Slurm's commands: scontrol reports MaxArraySize = 2; sbatch records its
  // arguments and prints job ids 101, 102, ...
  testing::TempDir dir;
  fs::create_directories(dir.file("bin"));
  testing::write_text(dir.file("bin/scontrol"), "#!/bin/sh\necho 'MaxArraySize            = 2'\n");
  testing::write_text(dir.file("bin/sbatch"),
                      "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'slurm 22.05'; exit 0; }\n"
                      "echo \"$*\" >> " + dir.file("calls") + "\n"
                      "n=$(wc -l < " + dir.file("calls") + ")\necho $((100 + n))\n");
  for (const auto* f : {"bin/scontrol", "bin/sbatch"}) fs::permissions(dir.file(f), fs::perms::owner_all);
  testing::write_text(dir.file("q.yaml"), std::string(kQuick) + "sweep: {seed: [0, 1, 2, 3, 4]}\n");
  const auto r = testing::run_command("env PATH=" + dir.file("bin") + ":$PATH " + testing::richlazy_binary() +
                                      " submit " + dir.file("q.yaml") + " --out " + dir.file("out") +
                                      " --slurm --array-limit 1");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::string calls = testing::read_text(dir.file("calls"));
  const std::string job = dir.file("out") + "/q/slurm/job.sbatch";
  // Five shards in arrays of at most 2 tasks: offsets 0, 2, 4; then the gather job after all three.
  REQUIRE(calls == "--parsable --array=0-1%1 --export=ALL,RICHLAZY_SHARD_OFFSET=0 " + job + "\n" +
                       "--parsable --array=0-1%1 --export=ALL,RICHLAZY_SHARD_OFFSET=2 " + job + "\n" +
                       "--parsable --array=0-0%1 --export=ALL,RICHLAZY_SHARD_OFFSET=4 " + job + "\n" +
                       "--parsable --dependency=afterany:101:102:103 " + dir.file("out") + "/q/slurm/gather.sbatch\n");
  REQUIRE_THAT(r.out, Contains("job arrays: 101 (shards 0-1), 102 (shards 2-3), 103 (shards 4-4)"));
  REQUIRE_THAT(r.out, Contains("gather and report: job 104"));
  REQUIRE(fs::exists(dir.file("out") + "/q/experiment.yaml"));
  REQUIRE_THAT(testing::read_text(dir.file("out") + "/q/slurm/submitted.txt"), Contains("arrays 101 102 103 ; gather 104"));
  // Every shard of the script's arithmetic is a valid --shard of the run command.
  REQUIRE_THAT(testing::read_text(job), Contains("/5\""));
}

TEST_CASE("the matrix cache keeps the last few files and reads a rewritten file again", "[apps][fuzz]") {
  // Every matrix read stayed cached for the life of the process, so the fuzzer, which reads
  // thousands of files, ran out of memory; and a file rewritten under the same path was not read again.
  testing::TempDir dir;
  for (int i = 0; i < 20; ++i) {
    const std::string path = dir.file("m" + std::to_string(i) + ".csv");
    testing::write_text(path, "1,2\n3," + std::to_string(i) + "\n");
    REQUIRE(init::load_matrix(path, "csv")[1][1].item<double>() == i);
    REQUIRE(init::matrix_cache_size() <= init::kMatrixCacheEntries);
  }
  const std::string path = dir.file("m0.csv");
  testing::write_text(path, "1,2\n3,44\n");  // another size
  REQUIRE(init::load_matrix(path, "csv")[1][1].item<double>() == 44);
  testing::write_text(path, "1,2\n3,55\n");  // the same size, a later time
  REQUIRE(init::load_matrix(path, "csv")[1][1].item<double>() == 55);
  // Large matrices: the cache holds at most kMatrixCacheBytes (eight 512 MB edge-list matrices
  // ran the fuzzer out of memory), and a matrix larger than that is read but not kept.
  for (int i = 0; i < 4; ++i) {  // 2,000 x 2,000 float64: 32 MB each
    const std::string edges = dir.file("e" + std::to_string(i) + ".csv");
    testing::write_text(edges, "pre,post,weight\n0,1999," + std::to_string(i + 1) + "\n");
    REQUIRE(init::load_matrix(edges, "auto")[1999][0].item<double>() == i + 1);
    REQUIRE(init::matrix_cache_bytes() <= init::kMatrixCacheBytes);
  }
  const std::string huge = dir.file("huge.csv");  // 3,000 x 3,000 float64: 72 MB
  testing::write_text(huge, "pre,post,weight\n2999,0,7\n");
  REQUIRE(init::load_matrix(huge, "auto")[0][2999].item<double>() == 7);
  REQUIRE(init::matrix_cache_bytes() <= init::kMatrixCacheBytes);
  REQUIRE(init::matrix_cache_size() >= 1);  // the smaller ones stay
}
