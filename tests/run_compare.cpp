// tests/run_compare.cpp: experiment runs and their comparison.
#include "run_compare.h"

#include <richlazy/core/npy.h>
#include <richlazy/report/experiment_data.h>

#include <filesystem>
#include <set>

namespace richlazy::testing {

namespace fs = std::filesystem;

namespace {
/// The files of a run folder, relative to it.
std::set<std::string> files_of(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (f.is_regular_file()) out.insert(fs::relative(f.path(), dir).string());
  }
  return out;
}

/// metrics.csv as a [rows, columns] tensor (the step column included) plus its header.
std::pair<std::string, torch::Tensor> read_metrics(const fs::path& file) {
  const auto rows = report::parse_csv(read_text(file.string()), file.string());
  std::vector<double> values;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    for (const auto& cell : rows[r]) values.push_back(std::stod(cell));
  }
  std::string header;
  for (const auto& h : rows[0]) header += h + ",";
  return {header, torch::tensor(values, torch::kDouble).reshape({static_cast<int64_t>(rows.size()) - 1, -1})};
}
}  // namespace

const char* const kEveryMeasureSweep = R"(experiment: packed
task: {name: 2AF}
model: {name: ctrnn, hidden_size: 24}
init:
  W_rec: {name: low_rank, rank: 2}
train: {iterations: 60, batch_size: 8}
metrics:
  every: 20
  probe_trials: 40
  kernel_trials: 8
  test_trials: 100
  names: [loss, accuracy, dw_rec, dw_rec_rel, dw_in, dw_out, rep_alignment, kernel_alignment,
          sign_similarity, erank_rec, erank_delta_rec, path_length_rec, test_loss, test_accuracy]
sweep:
  init.W_rec.rank: [2, 24]
  seed: [0, 1]
)";

Ran run_config(const TempDir& tmp, const std::string& yaml, const std::string& pack,
               const std::vector<std::string>& sets, const Registries& reg, const std::string& device) {
  write_text(tmp.file("exp.yaml"), yaml);
  train::ExperimentOptions o;
  o.config_path = tmp.file("exp.yaml");
  o.out_dir = tmp.file("out-pack-" + pack + (device.empty() ? "" : "-" + device));
  o.quiet = true;
  o.pack = pack;
  o.sets = sets;
  o.device = device;
  Ran r{train::plan_experiment(o, reg), {}};
  r.result = train::run_experiment(r.plan, o);
  return r;
}

double relative_difference(const torch::Tensor& a64, const torch::Tensor& b64) {
  const torch::Tensor a = a64.to(torch::kCPU, torch::kDouble), b = b64.to(torch::kCPU, torch::kDouble);
  REQUIRE(a.sizes() == b.sizes());
  const torch::Tensor finite = torch::isfinite(b);
  REQUIRE(torch::equal(finite, torch::isfinite(a)));
  const torch::Tensor nonfinite = finite.logical_not();
  if (nonfinite.any().item<bool>()) {
    // Same infinities; NaN where NaN.
    REQUIRE(torch::equal(a.index({nonfinite}).isnan(), b.index({nonfinite}).isnan()));
  }
  if (!finite.any().item<bool>()) return 0.0;
  const double scale = b.index({finite}).abs().max().item<double>();
  return (a.index({finite}) - b.index({finite})).abs().max().item<double>() / std::max(scale, 1e-300);
}

void require_same_runs(const Ran& packed, const Ran& solo, double weight_tolerance, double metric_tolerance) {
  REQUIRE(packed.plan.runs.size() == solo.plan.runs.size());
  for (std::size_t i = 0; i < solo.plan.runs.size(); ++i) {
    const std::string id = solo.plan.runs[i].id;
    INFO("run " << id);
    const fs::path a = fs::path(packed.plan.dir) / "runs" / id, b = fs::path(solo.plan.dir) / "runs" / id;
    REQUIRE(files_of(a) == files_of(b));
    for (const auto& f : files_of(b)) {
      if (f.size() < 4 || f.substr(f.size() - 4) != ".npy") continue;
      INFO(f);
      REQUIRE(relative_difference(read_npy((a / f).string()), read_npy((b / f).string())) <= weight_tolerance);
    }
    const auto [header_a, ma] = read_metrics(a / "metrics.csv");
    const auto [header_b, mb] = read_metrics(b / "metrics.csv");
    REQUIRE(header_a == header_b);
    REQUIRE(ma.sizes() == mb.sizes());
    REQUIRE(torch::equal(ma.select(1, 0), mb.select(1, 0)));  // the same logged steps
    for (int64_t c = 1; c < mb.size(1); ++c) {
      INFO("column " << c << " of " << header_b);
      REQUIRE(relative_difference(ma.select(1, c), mb.select(1, c)) <= metric_tolerance);
    }
    REQUIRE(packed.result.runs[i].status == solo.result.runs[i].status);
    REQUIRE(packed.result.runs[i].steps_done == solo.result.runs[i].steps_done);
  }
}

}  // namespace richlazy::testing
