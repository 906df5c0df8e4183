// train/summary.cpp: summary.json, summary.csv and the final tables.
#include <richlazy/train/summary.h>

#include <richlazy/core/csv.h>
#include <richlazy/core/sweep_keys.h>
#include <richlazy/core/table.h>
#include <richlazy/core/version.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/version.h>

#include <cmath>
#include <map>

namespace richlazy::train {

std::string version_string() { return richlazy_version() + ", LibTorch " + TORCH_VERSION; }

std::string run_summary_json(const RunResult& r, const RunConfig& config) {
  nlohmann::ordered_json j;
  j["run_id"] = r.id;
  j["index"] = r.index;  // its position in the sweep: summary.csv lists runs in this order
  j["status"] = r.status;
  if (!r.reason.empty()) j["reason"] = r.reason;
  nlohmann::ordered_json swept = nlohmann::ordered_json::object();
  for (const auto& [k, v] : r.swept) swept[k] = v;
  j["swept"] = swept;
  j["seed"] = config.seed;
  j["device"] = config.device.str();
  nlohmann::ordered_json final = nlohmann::ordered_json::object();
  // NaN and infinities are written as null (nlohmann's rule for non-finite numbers).
  for (std::size_t i = 0; i < r.columns.size(); ++i) final[r.columns[i]] = r.final_values[i];
  j["final"] = final;
  // The same metrics at step 0, before any update: the initial loss, kernel-task alignment,
  // hidden-norm ratio and gradient norm where they are logged.
  nlohmann::ordered_json initial = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < r.columns.size() && i < r.initial_values.size(); ++i) {
    initial[r.columns[i]] = r.initial_values[i];
  }
  j["initial"] = initial;
  // Measures of the initial networks on the probe trials, logged for every run.
  j["initial_state"] = {{"loss", r.init_loss},
                        {"hidden_norm_ratio", r.init_hidden_norm_ratio},
                        {"grad_norm_rec", r.init_grad_norm}};
  j["iterations"] = config.train.iterations;
  j["steps_done"] = r.steps_done;
  j["wall_seconds"] = r.wall_seconds;
  j["ms_per_iteration"] = r.ms_per_iteration;
  j["metric_seconds"] = r.metric_seconds;
  // Timings count this process's part of a resumed run only.
  j["resumed_from_step"] = r.resumed_from;
  j["trained_by"] = r.trained_by;
  // Trained together with other runs as one pack (train.pack): which, and with how many.
  j["pack"] = {{"index", r.pack}, {"networks", r.pack_size}};
  if (!r.cuda_graph.empty()) j["pack"]["cuda_graph"] = r.cuda_graph;
  nlohmann::ordered_json init = nlohmann::ordered_json::array();
  for (const auto& i : r.init) {
    init.push_back({{"param", i.param},
                    {"role", i.role},
                    {"spec", i.spec},
                    {"shape", {i.rows, i.cols}},
                    {"rank", i.rank},
                    {"frobenius_norm", i.frobenius_norm},
                    {"erank_roy_vetterli", i.erank_roy_vetterli},
                    // null for a matrix that is not square
                    {"spectral_radius", i.spectral_radius},
                    {"erank_eig", i.erank_eig}});
  }
  j["init"] = init;
  j["versions"] = {{"richlazy", RICHLAZY_VERSION},
                   {"git", RICHLAZY_GIT_DESCRIBE},
                   {"libtorch", TORCH_VERSION}};
  return j.dump(2) + "\n";
}

// ===========================================================================================

namespace {

/// Metric columns in first-seen order across runs.
std::vector<std::string> metric_columns(const ExperimentResult& result) {
  std::vector<std::string> cols;
  for (const auto& r : result.runs) {
    for (const auto& c : r.columns) {
      if (std::find(cols.begin(), cols.end(), c) == cols.end()) cols.push_back(c);
    }
  }
  return cols;
}

double value_of(const RunResult& r, const std::string& column) {
  for (std::size_t i = 0; i < r.columns.size(); ++i) {
    if (r.columns[i] == column) return r.final_values[i];
  }
  return std::nan("");
}

/// The initial recurrent weight's report (NaN measures when the model has none).
init::InitReport recurrent_init(const RunResult& r) {
  for (const auto& i : r.init) {
    if (i.role == models::roles::kRecurrent) return i;
  }
  return {};
}

std::string swept_value(const RunResult& r, const std::string& key) {
  for (const auto& [k, v] : r.swept) {
    if (k == key) return v;
  }
  return "";
}

}  // namespace

std::string summary_csv(const std::vector<std::string>& sweep_keys, const ExperimentResult& result) {
  const auto cols = metric_columns(result);
  std::string out = "run_id";
  for (const auto& k : sweep_keys) out += "," + csv_field(k);
  out += ",status";
  for (const auto& c : cols) out += "," + csv_field(c);
  out += ",steps,wall_seconds,ms_per_iteration,metric_seconds,init_spectral_radius,init_erank_eig,init_loss,"
         "init_hidden_norm_ratio,init_grad_norm\n";
  for (const auto& r : result.runs) {
    out += csv_field(r.id);
    for (const auto& k : sweep_keys) out += "," + csv_field(swept_value(r, k));
    out += "," + csv_field(r.status);
    for (const auto& c : cols) out += fmt::format(",{}", value_of(r, c));
    const init::InitReport rec = recurrent_init(r);
    out += fmt::format(",{},{:.3f},{:.4f},{:.3f},{},{},{},{},{}\n", r.steps_done, r.wall_seconds, r.ms_per_iteration,
                       r.metric_seconds, rec.spectral_radius, rec.erank_eig, r.init_loss, r.init_hidden_norm_ratio,
                       r.init_grad_norm);
  }
  return out;
}

std::string format_results(const std::vector<std::string>& sweep_keys, const ExperimentResult& result) {
  const auto cols = metric_columns(result);
  std::vector<std::string> header{"run"};
  for (const auto& k : sweep_keys) header.push_back(short_key(k));
  header.push_back("status");
  for (const auto& c : cols) header.push_back(c);
  header.push_back("ms/iter");
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : result.runs) {
    std::vector<std::string> row{r.id};
    for (const auto& k : sweep_keys) row.push_back(swept_value(r, k));
    row.push_back(r.status.substr(0, 40));
    for (const auto& c : cols) row.push_back(format_metric(value_of(r, c)));
    row.push_back(fmt::format("{:.2f}", r.ms_per_iteration));
    rows.push_back(std::move(row));
  }
  std::string out = "Final values (one row per run)\n" + format_table(header, rows);

  // Mean and standard deviation over seeds (the run's `seed`, or any swept key whose last
  // component ends in "seed", such as task.teacher_seed), grouped by the other swept keys.
  std::vector<std::string> group_keys;
  bool seed_swept = false;
  for (const auto& k : sweep_keys) {
    if (is_seed_key(k)) seed_swept = true;
    else group_keys.push_back(k);
  }
  if (seed_swept && !group_keys.empty()) {
    std::vector<std::vector<std::string>> groups;  // group key values, in first-seen order
    std::map<std::vector<std::string>, std::vector<const RunResult*>> members;
    for (const auto& r : result.runs) {
      std::vector<std::string> g;
      for (const auto& k : group_keys) g.push_back(swept_value(r, k));
      if (!members.count(g)) groups.push_back(g);
      if (r.status == "ok") members[g].push_back(&r);
      else members[g];
    }
    std::vector<std::string> h;
    for (const auto& k : group_keys) h.push_back(short_key(k));
    h.push_back("seeds");
    for (const auto& c : cols) h.push_back(c);
    std::vector<std::vector<std::string>> grows;
    for (const auto& g : groups) {
      const auto& m = members[g];
      std::vector<std::string> row = g;
      row.push_back(std::to_string(m.size()));
      for (const auto& c : cols) {
        double sum = 0, sq = 0;
        for (const auto* r : m) sum += value_of(*r, c);
        const double mean = m.empty() ? std::nan("") : sum / m.size();
        for (const auto* r : m) sq += (value_of(*r, c) - mean) * (value_of(*r, c) - mean);
        const double sd = m.size() > 1 ? std::sqrt(sq / (m.size() - 1)) : 0.0;
        row.push_back(m.size() > 1 ? format_metric(mean) + fmt::format(" ± {:.2g}", sd)
                                   : format_metric(mean));
      }
      grows.push_back(std::move(row));
    }
    out += "\nMean ± standard deviation over seeds (runs with status ok)\n" + format_table(h, grows);
  }
  return out;
}

}  // namespace richlazy::train
