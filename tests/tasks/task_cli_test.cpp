// tests/tasks/task_cli_test.cpp: `richlazy tasks stats` for every task, `richlazy tasks sample`.
#include "task_test_util.h"

#include <filesystem>

using namespace richlazy;
using namespace richlazy::testing;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

TEST_CASE("tasks stats works for every registered task", "[tasks]") {
  const Registries reg = builtin_registries();
  for (const auto& e : reg.tasks.entries()) {
    if (e.name == "sfmnist" && !fs::exists("/usr/share/datasets/fashion-mnist")) continue;
    INFO(e.name);
    TempDir tmp;
    const auto r = run_command(richlazy_binary() + " tasks stats " + e.name + " --trials 500 --json " + tmp.file("s.json"));
    REQUIRE(r.status == 0);
    const YAML::Node j = YAML::LoadFile(tmp.file("s.json"));
    REQUIRE(j["task"].as<std::string>() == e.name);
    REQUIRE(j["input_mean"].size() == j["steps"].as<std::size_t>());
    REQUIRE(j["input_mean"][0].size() == j["n_inputs"].as<std::size_t>());
  }
}

TEST_CASE("tasks sample writes inputs, targets, mask and per-trial variables", "[tasks]") {
  TempDir tmp;
  const auto r = run_command(richlazy_binary() + " tasks sample CXT --trials 6 --seed 2 --out " + tmp.file("cxt"));
  REQUIRE(r.status == 0);
  const YAML::Node index = YAML::LoadFile(tmp.file("cxt/index.json"));
  REQUIRE(index["task"].as<std::string>() == "CXT");
  REQUIRE(index["trials"].as<int>() == 6);
  for (const char* name : {"inputs", "targets", "mask", "ground_truth", "context", "coh_0", "coh_1", "other"}) {
    INFO(name);
    REQUIRE(index["files"][name]["file"].as<std::string>() == std::string(name) + ".npy");
    REQUIRE(fs::exists(tmp.file("cxt/") + name + ".npy"));
  }
  REQUIRE(index["files"]["inputs"]["shape"][2].as<int>() == 7);
  const auto bad = run_command(richlazy_binary() + " tasks sample DMS --out " + tmp.file("d") + " --set delay_ms=-5");
  REQUIRE(bad.status == 2);
  REQUIRE_THAT(bad.err, Contains("--set delay_ms=-5: task.delay_ms must be a number >= 0, got -5"));
}
