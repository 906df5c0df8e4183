// tests/test_common.cpp: helpers shared by the tests.
#include "test_common.h"

#include <richlazy/core/config_error.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace richlazy::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "richlazy-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

CommandResult run_command(const std::string& command) {
  TempDir tmp;
  const std::string full = command + " >" + tmp.file("out") + " 2>" + tmp.file("err");
  CommandResult r;
  const int raw = std::system(full.c_str());
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_text(tmp.file("out"));
  r.err = read_text(tmp.file("err"));
  return r;
}

CommandResult run_richlazy(const std::string& args) { return run_command(richlazy_binary() + " " + args); }

std::string config_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

const Registries& registries() {
  static const Registries reg = builtin_registries();
  return reg;
}

std::string richlazy_binary() { return RICHLAZY_TEST_BINARY; }
std::string source_dir() { return RICHLAZY_TEST_SOURCE_DIR; }
std::string data_dir() { return std::string(RICHLAZY_TEST_SOURCE_DIR) + "/data"; }

std::unique_ptr<train::OptimizerBuilder> make_optimizer(const std::string& yaml) {
  Params p = params_from(yaml, "train.optimizer");
  return registries().optimizers.create(p);
}

Params params_from(const std::string& yaml, const std::string& path, std::vector<ParamSpec> specs) {
  auto source = std::make_shared<ConfigSource>("test.yaml");
  return Params(YAML::Load(yaml), path, source, std::move(specs));
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.detach().to(torch::kCPU, torch::kDouble) - b.detach().to(torch::kCPU, torch::kDouble))
      .abs()
      .max()
      .item<double>();
}

train::ExperimentOptions experiment_options(const TempDir& tmp, const std::string& yaml) {
  write_text(tmp.file("exp.yaml"), yaml);
  train::ExperimentOptions o;
  o.config_path = tmp.file("exp.yaml");
  o.out_dir = tmp.file("out");
  o.quiet = true;
  return o;
}

}  // namespace richlazy::testing
