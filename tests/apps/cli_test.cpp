// tests/apps/cli_test.cpp: the richlazy binary, run as a user would.
#include "../test_common.h"

#include <richlazy/core/device.h>
#include <richlazy/core/folder_lock.h>

#include <fmt/format.h>

#include <filesystem>

using namespace richlazy;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
const char* kTiny = R"(experiment: tiny
task: {name: 2AF}
model: {name: ctrnn, hidden_size: 20}
init:
  W_rec: {name: low_rank, rank: 20}
train: {iterations: 12, batch_size: 8}
metrics: {every: 4}
sweep:
  init.W_rec.rank: [1, 20]
)";

struct Case {
  const char* what;
  std::string yaml;  // "" = no file at all
  std::string message;
};
}  // namespace

TEST_CASE("each kind of bad config gives its message, a non-zero exit and no output", "[apps]") {
  const std::vector<Case> cases{
      {"unknown key", "experiment: t\ntrain:\n  iterations: 10\n  itrations: 5\n",
       ":4:3: train.itrations is not a known key (did you mean 'iterations'?); known keys: "
       "iterations, batch_size, optimizer"},
      {"wrong type", "experiment: t\ntrain:\n  iterations: ten\n",
       ":3:15: train.iterations must be an integer in [1, 1000000000], got ten"},
      {"rank > N", "experiment: t\ninit:\n  W_rec: {name: low_rank, rank: 500}\n",
       ":3:33: init.W_rec.rank must be an integer in [1, 300], got 500"},
      {"malformed YAML", "experiment: t\ntrain: {iterations: 10\n", ":3:1: malformed YAML"},
      {"unknown initializer", "init:\n  W_rec: {name: lowrank, rank: 5}\n",
       ":2:17: init.W_rec.name names an unknown initializer 'lowrank' (did you mean 'low_rank'?)"},
      {"unknown task", "task: {name: 3AF}\n", ":1:14: task.name names an unknown task '3AF'"},
      {"bad sweep value", "init:\n  W_rec: {name: low_rank}\nsweep:\n  init.W_rec.rank: [1, 301]\n",
       ":4:24: init.W_rec.rank must be an integer in [1, 300], got 301 (in run rank-301 of the sweep)"},
      {"not a map", "- 1\n- 2\n", ":1:1: the config must be a YAML map"},
      {"metric map without a name", "metrics: {names: [loss, {as: x}]}\n",
       ":1:25: metrics.names[1] must be a metric name or {name: ..., ...}"},
      {"metric aimed at a weight the model lacks",
       "model: {name: linear2}\ntask: {name: teacher_student}\nmetrics: {names: [loss, dw_rec]}\n",
       ":3:25: metrics.names[1].name dw_rec measures the recurrent weight, which model linear2 does not "
       "have; its parameters: W_1 (input), w_2 (readout)"},
      {"bad pack size", "train: {pack: 0}\n", ":1:15: train.pack must be auto or an integer in [1, 4096], got 0"},
      {"missing file", "", ": cannot open the file: No such file or directory"},
      // 2^64 runs: the count must not overflow (to 0, which crashed) before it is refused.
      {"sweep too large", [] {
         std::string y = "sweep:\n";
         for (int k = 0; k < 64; ++k) y += "  train.k" + std::to_string(k) + ": [1, 2]\n";
         return y;
       }(),
       ":2:3: sweep has more than 100000 runs (the product of its lists' lengths); split it"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    testing::TempDir tmp;
    const std::string path = tmp.file("exp.yaml");
    if (!c.yaml.empty()) testing::write_text(path, c.yaml);
    const auto r = testing::run_richlazy("run " + path + " --out " + tmp.file("out") + " --quiet");
    REQUIRE(r.status == 2);
    REQUIRE_THAT(r.err, Contains("richlazy: error: " + path + c.message));
    REQUIRE(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // one message
    REQUIRE_FALSE(fs::exists(tmp.file("out")));
    REQUIRE(r.out.empty());
  }
}

TEST_CASE("overwriting deletes only experiment folders, and only once the new run has ended", "[apps]") {
  testing::TempDir tmp;
  testing::write_text(tmp.file("exp.yaml"), kTiny);
  // A folder richlazy did not write is never deleted.
  fs::create_directories(tmp.file("out/tiny"));
  testing::write_text(tmp.file("out/tiny/thesis.tex"), "precious");
  const auto refused = testing::run_richlazy("run " + tmp.file("exp.yaml") + " --out " + tmp.file("out") + " --overwrite --quiet");
  REQUIRE(refused.status == 2);
  REQUIRE_THAT(refused.err, Contains(tmp.file("out/tiny") + ": not an experiment folder richlazy wrote (it has no "
                                     "experiment.yaml), so --overwrite will not delete it"));
  REQUIRE(testing::read_text(tmp.file("out/tiny/thesis.tex")) == "precious");
  fs::remove_all(tmp.file("out"));

  // A rerun with --overwrite that is killed leaves the earlier results whole.
  REQUIRE(testing::run_richlazy("run " + tmp.file("exp.yaml") + " --out " + tmp.file("out") + " --quiet --no-report").status == 0);
  const std::string before = testing::read_text(tmp.file("out/tiny/summary.csv"));
  const std::string weights = "runs/rank-20/weights/W_rec_final.npy";
  const std::string before_w = testing::read_text(tmp.file("out/tiny/" + weights));
  testing::write_text(tmp.file("kill.sh"), fmt::format(R"(set -u
"{0}" run "{1}" --out "{2}" --overwrite --quiet --no-report --set train.iterations=1000000 &
pid=$!
for i in $(seq 1 300); do
  if ls -d "{2}"/.tiny.replaced-* > /dev/null 2>&1 && [ -f "{2}/tiny/experiment.yaml" ]; then break; fi
  sleep 0.1
done
kill -9 $pid
wait $pid
exit 0
)", testing::richlazy_binary(), tmp.file("exp.yaml"), tmp.file("out")));
  REQUIRE(testing::run_command("bash " + tmp.file("kill.sh")).status == 0);
  std::vector<fs::path> aside;
  for (const auto& e : fs::directory_iterator(tmp.file("out"))) {
    if (e.path().filename().string().rfind(".tiny.replaced-", 0) == 0) aside.push_back(e.path());
  }
  REQUIRE(aside.size() == 1);
  REQUIRE(testing::read_text((aside[0] / "summary.csv").string()) == before);
  REQUIRE(testing::read_text((aside[0] / weights).string()) == before_w);
  // A rerun that ends replaces the results and deletes its own copy of the earlier ones.
  REQUIRE(testing::run_richlazy("run " + tmp.file("exp.yaml") + " --out " + tmp.file("out") + " --overwrite --quiet --no-report")
              .status == 0);
  REQUIRE(testing::read_text(tmp.file("out/tiny/" + weights)) == before_w);  // the same network again
  std::size_t copies = 0;
  for (const auto& e : fs::directory_iterator(tmp.file("out"))) {
    copies += e.path().filename().string().rfind(".tiny.replaced-", 0) == 0;
  }
  REQUIRE(copies == 1);  // only the killed run's
}

TEST_CASE("two runs never write into one experiment folder at once", "[apps]") {
  testing::TempDir tmp;
  testing::write_text(tmp.file("exp.yaml"), kTiny);
  const std::string lock = tmp.file("out/.tiny.lock");
  {
    // This process holds the experiment's lock, as a running `richlazy run` would.
    const FolderLock held(lock, "test");
    const auto r = testing::run_richlazy("run " + tmp.file("exp.yaml") + " --out " + tmp.file("out") + " --quiet");
    REQUIRE(r.status == 2);
    const std::string me = FolderLock::holder_text();
    const std::string host = me.substr(0, me.find(' ')), pid = me.substr(me.find(' ') + 1);
    REQUIRE_THAT(r.err, Contains(tmp.file("out/tiny") + " is in use by process " + pid + " on " + host +
                                 " (lock file " + lock + ")"));
    REQUIRE(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    REQUIRE_FALSE(fs::exists(tmp.file("out/tiny")));
  }
  // A lock file left by a process that died holds no lock: the next run goes ahead.
  testing::write_text(lock, "elsewhere 999999\n");
  REQUIRE(testing::run_richlazy("run " + tmp.file("exp.yaml") + " --out " + tmp.file("out") + " --quiet --no-report").status == 0);
  REQUIRE(fs::exists(tmp.file("out/tiny/summary.csv")));
  REQUIRE_FALSE(fs::exists(lock));  // released on exit
}

TEST_CASE("set overrides are validated and located by the --set", "[apps]") {
  testing::TempDir tmp;
  testing::write_text(tmp.file("exp.yaml"), kTiny);
  const auto r = testing::run_richlazy("run " + tmp.file("exp.yaml") + " --out " + tmp.file("out") +
                          " --set train.batch_size=-3");
  REQUIRE(r.status == 2);
  REQUIRE_THAT(r.err, Contains("--set train.batch_size=-3: train.batch_size must be an integer in "
                               "[1, 1000000], got -3"));
  REQUIRE_FALSE(fs::exists(tmp.file("out")));
  // --pack is validated the same way, even when given empty, and a command line that cannot
  // be parsed is bad input too (status 2).
  for (const std::string pack : {"0", "''", "abc"}) {
    INFO("--pack " << pack);
    const auto p = testing::run_richlazy("run " + tmp.file("exp.yaml") + " --out " + tmp.file("out") + " --pack " + pack);
    REQUIRE(p.status == 2);
    REQUIRE_THAT(p.err, Contains("train.pack must be auto or an integer in [1, 4096]"));
  }
  REQUIRE(testing::run_richlazy("run " + tmp.file("exp.yaml") + " --pack").status == 2);
  REQUIRE(testing::run_richlazy("run " + tmp.file("exp.yaml") + " --no-such-option").status == 2);
  REQUIRE_FALSE(fs::exists(tmp.file("out")));
}

TEST_CASE("richlazy run trains, prints the table and writes the layout", "[apps]") {
  testing::TempDir tmp;
  testing::write_text(tmp.file("exp.yaml"), kTiny);
  const auto r = testing::run_richlazy("run " + tmp.file("exp.yaml") + " --out " + tmp.file("out") + " --jobs 1");
  REQUIRE(r.status == 0);
  REQUIRE_THAT(r.out, Contains("rank-1"));
  REQUIRE_THAT(r.out, Contains("dw_rec"));
  REQUIRE_THAT(r.out, Contains("Results in " + tmp.file("out") + "/tiny/"));
  REQUIRE_THAT(r.err, Contains("W_rec [20 x 20] {name: low_rank, rank: 1, gain: 1.25, norm: none}: rank 1"));
  REQUIRE(fs::exists(tmp.file("out/tiny/runs/rank-20/weights/W_rec_final.npy")));
  // The two ranks are one pack of small networks, and the log says so.
  REQUIRE_THAT(r.err, Contains("2 runs in 1 pack, 1 at a time"));
  REQUIRE_THAT(r.err, Contains("pack 1/1 (2 networks trained together): rank-1, rank-20"));
  // A second run into the same folder is refused, then allowed with --overwrite.
  const auto again = testing::run_richlazy("run " + tmp.file("exp.yaml") + " --out " + tmp.file("out") + " --quiet");
  REQUIRE(again.status == 2);
  REQUIRE_THAT(again.err, Contains("already exists"));
  const auto over = testing::run_richlazy("run " + tmp.file("exp.yaml") + " --out " + tmp.file("out") +
                             " --quiet --overwrite");
  INFO("stderr: " << over.err);
  REQUIRE(over.status == 0);
  REQUIRE(over.err.empty());
}

TEST_CASE("richlazy list prints every component with its parameters", "[apps]") {
  const auto r = testing::run_richlazy("list");
  REQUIRE(r.status == 0);
  for (const char* s : {"2AF", "ctrnn", "gaussian", "low_rank", "torch_default", "dw_rec", "sgd",
                        "rank (required)", "gain = 1.25", "hidden_size = 300"}) {
    REQUIRE_THAT(r.out, Contains(s));
  }
  REQUIRE_THAT(testing::run_richlazy("list tasks").out, Contains("2AF"));
  REQUIRE(testing::run_richlazy("list bogus").status != 0);
}

TEST_CASE("richlazy info says what the build runs on", "[apps]") {
  const auto r = testing::run_richlazy("info");
  REQUIRE(r.status == 0);
  REQUIRE_THAT(r.out, Contains(std::string("LibTorch ") + TORCH_VERSION));
  REQUIRE_THAT(r.out, Contains(built_with_cuda() ? "built with CUDA yes" : "built with CUDA no"));
  if (cuda_available()) {
    REQUIRE_THAT(r.out, Contains("CUDA available  yes"));
    REQUIRE_THAT(r.out, Contains("device 0: "));
  } else {
    REQUIRE_THAT(r.out, Contains("CUDA available  no"));
  }
  REQUIRE_THAT(r.out, Contains("CPU BLAS"));
  REQUIRE(testing::run_richlazy("info --bogus").status == 2);
}

TEST_CASE("richlazy tasks stats writes the PRODUCT.md schema", "[apps]") {
  testing::TempDir tmp;
  const auto r = testing::run_richlazy("tasks stats 2AF --trials 5000 --seed 3 --json " + tmp.file("s.json"));
  REQUIRE(r.status == 0);
  REQUIRE_THAT(r.out, Contains("decision steps [7, 8)"));
  const YAML::Node j = YAML::LoadFile(tmp.file("s.json"));
  REQUIRE(j["task"].as<std::string>() == "2AF");
  REQUIRE(j["trials"].as<int>() == 5000);
  REQUIRE(j["seed"].as<int>() == 3);
  REQUIRE(j["n_inputs"].as<int>() == 3);
  REQUIRE(j["n_outputs"].as<int>() == 3);
  REQUIRE(j["steps"].as<int>() == 8);
  REQUIRE(j["decision"][0].as<int>() == 7);
  REQUIRE(j["input_mean"].size() == 8);
  REQUIRE(j["input_std"][0].size() == 3);
  REQUIRE(j["label_fraction"][7].size() == 3);
  const auto bad = testing::run_richlazy("tasks stats 2AFF");
  REQUIRE(bad.status == 2);
  REQUIRE_THAT(bad.err, Contains("unknown task '2AFF' (did you mean '2AF'?)"));
}

TEST_CASE("richlazy init describe reports rank, norms and effective ranks", "[apps]") {
  testing::TempDir tmp;
  const auto r = testing::run_richlazy("init describe --spec '{name: low_rank, rank: 30}' --size 300 --seed 4 "
                          "--json " + tmp.file("d.json") + " --npy " + tmp.file("w.npy"));
  REQUIRE(r.status == 0);
  const YAML::Node j = YAML::LoadFile(tmp.file("d.json"));
  REQUIRE(j["rank"].as<int>() == 30);
  REQUIRE(j["shape"][0].as<int>() == 300);
  REQUIRE(j["frobenius_norm"].as<double>() == Approx(1.25 * std::sqrt(300.0)).epsilon(0.02));
  REQUIRE(j["singular_values"].size() == 10);
  REQUIRE(j["erank_roy_vetterli"].as<double>() <= 30.0);
  REQUIRE(j["stable_rank"].as<double>() >= 1.0);
  REQUIRE(j["participation_ratio"].as<double>() <= 30.0);
  REQUIRE(j["erank_nuclear_ratio"].as<double>() <= 0.1);
  REQUIRE(j["spectral_radius"].as<double>() > 0);
  REQUIRE(fs::file_size(tmp.file("w.npy")) == 128 + 300 * 300 * 4);
  // --config builds the matrix a run of that config starts from.
  testing::write_text(tmp.file("exp.yaml"), kTiny);
  const auto c = testing::run_richlazy("init describe --config " + tmp.file("exp.yaml") + " --json " + tmp.file("c.json"));
  REQUIRE(c.status == 0);
  REQUIRE(YAML::LoadFile(tmp.file("c.json"))["rank"].as<int>() == 1);  // first run of the sweep
  REQUIRE_THAT(c.out, Contains("the initial network on its run's 320 probe trials (seed 0):"));
  // ... and the initial state it prints is the one that run logs in its summary.json.
  const auto run = testing::run_richlazy("run " + tmp.file("exp.yaml") + " --out " + tmp.file("out"));
  REQUIRE(run.status == 0);
  const YAML::Node described = YAML::LoadFile(tmp.file("c.json"))["initial_state"];
  const YAML::Node logged = YAML::LoadFile(tmp.file("out/tiny/runs/rank-1/summary.json"))["initial_state"];
  for (const char* key : {"loss", "hidden_norm_ratio", "grad_norm_rec"}) {
    INFO(key);
    // float32 networks: the run trains its two networks as one pack, whose batched products
    // may round differently from the single network here (seen: 1e-8 relative).
    REQUIRE(described[key].as<double>() == Approx(logged[key].as<double>()).epsilon(1e-6));
  }
  const auto bad = testing::run_richlazy("init describe --spec '{name: low_rank, rank: 400}'");
  REQUIRE(bad.status == 2);
  REQUIRE_THAT(bad.err, Contains("rank must be an integer in [1, 300], got 400"));
  // A norm that overflows float32 is refused at validation, before any matrix is built
  // (eigvals crashed on the all-inf matrix it made).
  const auto inf = testing::run_richlazy("init describe --spec '{name: gaussian, norm: 1e300}' --size 50");
  REQUIRE(inf.status == 2);
  REQUIRE_THAT(inf.err, Contains("--spec:1:24: norm must lie within float32's range (<= 3.40282e+38), got 1e300"));
  REQUIRE(std::count(inf.err.begin(), inf.err.end(), '\n') == 1);
}

TEST_CASE("richlazy warns when LibTorch runs on the reference BLAS", "[apps]") {
  const std::string reference_blas = "/usr/lib/x86_64-linux-gnu/blas";
  if (!fs::exists(reference_blas + "/libblas.so.3")) {
    WARN("the reference BLAS (Debian package libblas3) is not installed; skipping");
    return;
  }
  // Only a LibTorch that takes its BLAS from the system can be given the slow one (Debian's
  // does; PyPI's carries MKL inside).
  if (testing::run_command("ldd " + testing::richlazy_binary() + " | grep -q 'libblas.so.3 '").status != 0) {
    WARN("this LibTorch does not load the system's libblas.so.3; skipping");
    return;
  }
  testing::TempDir tmp;
  testing::write_text(tmp.file("exp.yaml"), kTiny);
  const auto r = testing::run_command("LD_LIBRARY_PATH=" + reference_blas + " " +
                                      testing::richlazy_binary() + " run " + tmp.file("exp.yaml") +
                                      " --out " + tmp.file("out") + " --quiet --set train.iterations=1");
  REQUIRE(r.status == 0);
  REQUIRE_THAT(r.err, Contains("warning: slow BLAS"));
  REQUIRE_THAT(r.err, Contains("the netlib reference BLAS is loaded"));
  REQUIRE_THAT(r.err, Contains("apt-get install libopenblas0-pthread"));
}
