// train/gather.cpp: an experiment's results from its runs' summary.json files.
#include <richlazy/train/gather.h>

#include <richlazy/core/atomic_file.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/folder_lock.h>
#include <richlazy/train/checkpoint.h>
#include <richlazy/train/summary.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <cerrno>
#include <csignal>

namespace richlazy::train {

namespace fs = std::filesystem;

namespace {
double number(const nlohmann::ordered_json& j) {
  return j.is_number() ? j.get<double>() : std::nan("");  // null: NaN or infinite when written
}

double number_at(const nlohmann::ordered_json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() ? std::nan("") : number(*it);
}

}  // namespace

std::string run_lock_path(const std::string& experiment_dir, const std::string& run_id) {
  return (fs::path(experiment_dir) / "locks" / (run_id + ".lock")).string();
}

RunResult run_result_from_json(const std::string& text) {
  const auto j = nlohmann::ordered_json::parse(text);  // throws on bad JSON
  if (!j.is_object() || !j.contains("run_id") || !j.contains("status")) {
    throw std::runtime_error("not a run's summary (no run_id and status)");
  }
  RunResult r;
  r.id = j.at("run_id").get<std::string>();
  r.status = j.at("status").get<std::string>();
  if (j.contains("reason")) r.reason = j.at("reason").get<std::string>();
  if (j.contains("index")) r.index = j.at("index").get<int64_t>();
  if (j.contains("swept")) {
    for (const auto& [k, v] : j.at("swept").items()) r.swept.emplace_back(k, v.get<std::string>());
  }
  if (j.contains("final")) {
    for (const auto& [k, v] : j.at("final").items()) {
      r.columns.push_back(k);
      r.final_values.push_back(number(v));
    }
  }
  r.initial_values.assign(r.columns.size(), std::nan(""));
  if (j.contains("initial")) {
    const auto& initial = j.at("initial");
    for (std::size_t i = 0; i < r.columns.size(); ++i) r.initial_values[i] = number_at(initial, r.columns[i].c_str());
  }
  if (j.contains("initial_state")) {
    const auto& s = j.at("initial_state");
    r.init_loss = number_at(s, "loss");
    r.init_hidden_norm_ratio = number_at(s, "hidden_norm_ratio");
    r.init_grad_norm = number_at(s, "grad_norm_rec");
  }
  if (j.contains("steps_done")) r.steps_done = j.at("steps_done").get<int64_t>();
  r.wall_seconds = number_at(j, "wall_seconds");
  r.ms_per_iteration = number_at(j, "ms_per_iteration");
  r.metric_seconds = number_at(j, "metric_seconds");
  if (j.contains("resumed_from_step")) r.resumed_from = j.at("resumed_from_step").get<int64_t>();
  if (j.contains("trained_by")) r.trained_by = j.at("trained_by").get<std::string>();
  if (j.contains("pack")) {
    const auto& p = j.at("pack");
    if (p.contains("index")) r.pack = p.at("index").get<int64_t>();
    if (p.contains("networks")) r.pack_size = p.at("networks").get<int64_t>();
    if (p.contains("cuda_graph")) r.cuda_graph = p.at("cuda_graph").get<std::string>();
  }
  if (j.contains("init")) {
    for (const auto& i : j.at("init")) {
      init::InitReport rep;
      rep.param = i.value("param", "");
      rep.role = i.value("role", "");
      rep.spec = i.value("spec", "");
      if (i.contains("shape") && i.at("shape").size() == 2) {
        rep.rows = i.at("shape")[0].get<int64_t>();
        rep.cols = i.at("shape")[1].get<int64_t>();
      }
      rep.rank = i.value("rank", int64_t{0});
      rep.frobenius_norm = number_at(i, "frobenius_norm");
      rep.erank_roy_vetterli = number_at(i, "erank_roy_vetterli");
      rep.spectral_radius = number_at(i, "spectral_radius");
      rep.erank_eig = number_at(i, "erank_eig");
      r.init.push_back(rep);
    }
  }
  return r;
}

GatherResult gather(const std::string& experiment_dir) {
  GatherResult g;
  g.dir = experiment_dir;
  const fs::path dir(experiment_dir);
  const fs::path yaml_path = dir / "experiment.yaml";
  std::error_code ec;
  if (!fs::is_regular_file(yaml_path, ec)) {
    throw ConfigError(fmt::format("{}: not an experiment folder (it has no experiment.yaml; richlazy run writes "
                                  "one when a sweep starts)",
                                  experiment_dir));
  }
  YAML::Node config;
  try {
    config = YAML::LoadFile(yaml_path.string());
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}:{}: not valid YAML: {}", yaml_path.string(), e.mark.line + 1,
                                  e.mark.column + 1, e.msg));
  }
  g.name = config["experiment"] && config["experiment"].IsScalar() ? config["experiment"].Scalar()
                                                                    : dir.filename().string();
  g.total = 1;
  if (const YAML::Node sweep = config["sweep"]; sweep.IsMap()) {
    for (const auto& kv : sweep) {
      g.sweep_keys.push_back(kv.first.Scalar());
      g.total *= kv.second.IsSequence() ? kv.second.size() : 1;
    }
  }
  const fs::path runs = dir / "runs";
  std::vector<fs::path> folders;
  if (fs::is_directory(runs, ec)) {
    for (const auto& entry : fs::directory_iterator(runs, ec)) {
      if (entry.is_directory(ec)) folders.push_back(entry.path());
    }
  }
  std::sort(folders.begin(), folders.end());
  for (const auto& folder : folders) {
    const fs::path summary = folder / "summary.json";
    const std::string id = folder.filename().string();
    if (fs::exists(summary, ec)) {
      try {
        RunResult r = run_result_from_json(read_file(summary.string()));
        if (r.id != id) throw std::runtime_error(fmt::format("its run_id is {}, not its folder's name", r.id));
        g.complete.runs.push_back(std::move(r));
      } catch (const std::exception& e) {
        g.unreadable.push_back(fmt::format("{}: {}", summary.string(), e.what()));
      }
      continue;
    }
    // Not complete: being trained (its lock file names a holder), or left with a checkpoint.
    ++g.incomplete;
    const fs::path lock = run_lock_path(experiment_dir, id);
    std::ifstream in(lock);
    std::string host, pid;
    if (in >> host >> pid) {
      // A process on this host that is gone left the lock file when it was killed; elsewhere
      // only the lock's holder can tell.
      const std::string me = FolderLock::holder_text();
      const bool here = me.substr(0, me.find(' ')) == host;
      const bool number = !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos && pid.size() < 10;
      const bool dead = here && number && ::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH;
      g.in_progress.push_back(fmt::format("{} ({} {} on {})", id, dead ? "left by killed process" : "process", pid, host));
    }
    if (fs::exists(checkpoint_path(folder.string()), ec)) g.resumable.push_back(id);
  }
  // Sweep order (summary.json's index); runs written before it was recorded go last, by id.
  std::stable_sort(g.complete.runs.begin(), g.complete.runs.end(), [](const RunResult& a, const RunResult& b) {
    const int64_t ia = a.index < 0 ? INT64_MAX : a.index, ib = b.index < 0 ? INT64_MAX : b.index;
    return ia < ib;
  });
  return g;
}

GatherResult gather_and_write(const std::string& experiment_dir) {
  GatherResult g = gather(experiment_dir);
  try {
    write_file_atomic((fs::path(experiment_dir) / "summary.csv").string(), summary_csv(g.sweep_keys, g.complete));
  } catch (const std::exception& e) {
    throw ConfigError(e.what());
  }
  return g;
}

std::string gather_status(const GatherResult& g) {
  const std::size_t done = g.complete.runs.size();
  std::string out = fmt::format("{} of {} run{} complete", done, g.total, g.total == 1 ? "" : "s");
  std::size_t failed = 0, diverged = 0;
  for (const auto& r : g.complete.runs) {
    failed += r.status.rfind("failed", 0) == 0;
    diverged += r.status == "diverged";
  }
  if (failed + diverged > 0) out += fmt::format(" ({} diverged, {} failed)", diverged, failed);
  if (!g.in_progress.empty()) {
    out += fmt::format("; {} not finished: ", g.in_progress.size());
    for (std::size_t i = 0; i < g.in_progress.size() && i < 5; ++i) out += (i ? ", " : "") + g.in_progress[i];
    if (g.in_progress.size() > 5) out += fmt::format(", ... ({} more)", g.in_progress.size() - 5);
  }
  if (!g.resumable.empty()) out += fmt::format("; {} with a checkpoint to resume from", g.resumable.size());
  const std::size_t counted = done + g.unreadable.size() + g.incomplete;
  if (g.total > counted) out += fmt::format("; {} not started", g.total - counted);
  if (!g.unreadable.empty()) {
    out += fmt::format("; {} unreadable summary.json (first: {})", g.unreadable.size(), g.unreadable.front());
  }
  return out;
}

}  // namespace richlazy::train
