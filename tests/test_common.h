// tests/test_common.h: the one header every test includes.
// LibTorch leaks glog's CHECK macro, which silently replaces Catch2's CHECK with an abort:
// include torch first, drop its CHECK, then include Catch (pytorch#79272).
#pragma once

#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <richlazy/core/registries.h>
#include <richlazy/core/params.h>
#include <richlazy/train/experiment.h>

#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <string>

namespace richlazy::testing {

/// A fresh temporary folder, removed with everything in it at the end of the scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Writes `text` to `path`.
void write_text(const std::string& path, const std::string& text);
/// The whole file as text ("" when it cannot be read).
std::string read_text(const std::string& path);

struct CommandResult {
  int status = -1;  ///< exit status of the command
  std::string out, err;
};
/// Runs a shell command and captures its exit status, stdout and stderr.
CommandResult run_command(const std::string& command);
/// Runs the richlazy binary under test with `args` (shell words), as run_command does.
CommandResult run_richlazy(const std::string& args);

/// The message of the ConfigError that `f` throws, or "(no error)".
std::string config_error_of(const std::function<void()>& f);

/// The built-in registries, made once per test process.
const Registries& registries();

/// Path of the richlazy binary under test, the source tree and the data/ it ships.
std::string richlazy_binary();
std::string source_dir();
std::string data_dir();

/// Options that run the config `yaml` (written to TMP/exp.yaml) into TMP/out, quietly.
train::ExperimentOptions experiment_options(const TempDir& tmp, const std::string& yaml);

/// The optimizer a `train.optimizer` spec names, e.g. "{name: sgd, lr: 0.1}".
std::unique_ptr<train::OptimizerBuilder> make_optimizer(const std::string& yaml);

/// Params over YAML text, as a config section at `path` in a file called "test.yaml".
Params params_from(const std::string& yaml, const std::string& path = "section",
                   std::vector<ParamSpec> specs = {});

/// Largest |a - b| over all entries, after converting both to float64 on the CPU.
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace richlazy::testing
