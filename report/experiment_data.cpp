// report/experiment_data.cpp: reading an experiment folder back and grouping its runs.
#include <richlazy/report/experiment_data.h>

#include <richlazy/core/atomic_file.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/config_source.h>
#include <richlazy/core/csv.h>
#include <richlazy/core/sweep_keys.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

namespace richlazy::report {

namespace fs = std::filesystem;

namespace {

/// A file of the experiment folder that must be there; `why_needed` completes the message.
std::string read_required(const fs::path& path, const std::string& why_needed) {
  if (!fs::exists(path)) throw ConfigError(fmt::format("{}: missing ({})", path.string(), why_needed));
  return read_file(path.string());
}

std::optional<double> as_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

std::string flow(const YAML::Node& node) {
  YAML::Emitter e;
  e << YAML::Flow << node;
  return e.c_str();
}

/// The metric columns a metrics.names list produces: each item's `as`, else its name.
std::vector<std::string> logged_metric_names(const YAML::Node& names) {
  std::vector<std::string> out;
  if (!names || !names.IsSequence()) return out;
  for (const auto& item : names) {
    if (item.IsScalar()) out.push_back(item.Scalar());
    else if (item.IsMap() && item["as"] && item["as"].IsScalar()) out.push_back(item["as"].Scalar());
    else if (item.IsMap() && item["name"] && item["name"].IsScalar()) out.push_back(item["name"].Scalar());
  }
  return out;
}

std::string axis_label(const std::string& key) {
  // init.<param>.<option> or init.<param> (whole specs)
  if (key.rfind("init.", 0) == 0) {
    const std::string rest = key.substr(5);
    const auto dot = rest.find('.');
    if (dot == std::string::npos) return "initializer of " + rest;
    const std::string param = rest.substr(0, dot), option = rest.substr(dot + 1);
    if (option == "rank") return "rank of " + param + "(0)";
    if (option == "effective_rank") return "effective rank of " + param + "(0)";
    return option + " of " + param + "(0)";
  }
  return key;
}

}  // namespace

// ===========================================================================================

std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  int line = 1, quote_line = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = field_started = true;
      quote_line = line;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (field_started || !field.empty() || !row.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      field_started = false;
      ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) throw ConfigError(fmt::format("{}:{}: a quoted field is never closed", path, quote_line));
  if (field_started || !field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> value_labels(const std::vector<std::string>& texts) {
  std::vector<YAML::Node> nodes;
  for (const auto& t : texts) {
    try {
      nodes.push_back(YAML::Load(t));
    } catch (const YAML::Exception&) {
      nodes.push_back(YAML::Node(t));
    }
  }
  const auto name_of = [](const YAML::Node& n) -> std::string {
    if (!n.IsMap() || !n["name"] || !n["name"].IsScalar()) return "";
    std::string s = n["name"].Scalar();
    if (n["base"] && n["base"].IsMap() && n["base"]["name"]) s += "(" + n["base"]["name"].Scalar() + ")";
    return s;
  };
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const YAML::Node& n = nodes[i];
    // A scalar, a list or a map without a name (e.g. {spectral_radius: 0.9}) is its own label.
    if (!n.IsMap() || name_of(n).empty()) {
      labels.push_back(n.IsScalar() ? n.Scalar() : texts[i]);
      continue;
    }
    std::string label = name_of(n);
    // Keys whose values differ among the specs of the same name (and base).
    for (const auto& kv : n) {
      const std::string key = kv.first.Scalar();
      if (key == "name" || key == "base") continue;
      bool differs = false;
      for (std::size_t j = 0; j < nodes.size() && !differs; ++j) {
        // A scalar among maps (norm: [auto, {spectral_radius: 0.9}]) has no keys to compare.
        if (j == i || !nodes[j].IsMap() || name_of(nodes[j]) != name_of(n)) continue;
        differs = !nodes[j][key] || flow(nodes[j][key]) != flow(kv.second);
      }
      if (differs) label += " " + key + "=" + flow(kv.second);
    }
    labels.push_back(label);
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    int copies = 0;
    for (std::size_t j = 0; j < i; ++j) copies += labels[j] == labels[i] || labels[j].rfind(labels[i] + " #", 0) == 0;
    if (copies > 0) labels[i] += fmt::format(" #{}", copies + 1);
  }
  return labels;
}

// ===========================================================================================

std::string run_id_problem(const std::string& id) {
  if (id.empty()) return "is empty";
  if (id == "." || id == "..") return "is a relative folder reference";
  for (char c : id) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\') return "holds a path separator";
    if (u < 0x20 || u == 0x7f) return "holds a control character";
  }
  return "";
}

std::vector<const RunRecord*> ExperimentData::failed_runs() const {
  std::vector<const RunRecord*> out;
  for (const auto& r : runs) {
    if (r.status.rfind("failed", 0) == 0) out.push_back(&r);
  }
  return out;
}

ExperimentData load_experiment(const std::string& dir_text, const std::string& x_override) {
  const fs::path dir(dir_text);
  if (!fs::is_directory(dir)) throw ConfigError(dir_text + ": no such experiment folder");
  ExperimentData d;
  d.dir = fs::absolute(dir).lexically_normal().string();
  if (!d.dir.empty() && d.dir.back() == '/') d.dir.pop_back();

  const fs::path yaml_path = dir / "experiment.yaml";
  d.config_text = read_required(yaml_path, "is this a folder written by richlazy run?");
  YAML::Node config;
  try {
    config = YAML::Load(d.config_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}:{}: not valid YAML: {}", yaml_path.string(), e.mark.line + 1,
                                  e.mark.column + 1, e.msg));
  }
  d.name = config["experiment"] && config["experiment"].IsScalar() ? config["experiment"].Scalar()
                                                                    : dir.filename().string();
  auto component = [&](const char* section) {
    const YAML::Node n = config[section];
    if (!n.IsDefined() || !n.IsMap()) return std::string();
    const YAML::Node name = n["name"];
    return name.IsDefined() && name.IsScalar() ? name.Scalar() : std::string();
  };
  d.task_name = component("task");
  d.model_name = component("model");
  if (const YAML::Node metrics = config["metrics"]; metrics.IsDefined() && metrics.IsMap()) {
    if (const YAML::Node names = metrics["names"]; names.IsDefined() && names.IsSequence()) {
      for (const auto& entry : names) {
        if (!entry.IsMap()) continue;
        std::map<std::string, std::string> options;
        for (const auto& kv : entry) {
          if (kv.first.IsScalar()) options[kv.first.Scalar()] = node_text(kv.second);
        }
        const auto as = options.find("as");
        const auto name = options.find("name");
        if (as != options.end()) {
          d.metric_options[as->second] = options;
        } else if (name != options.end()) {
          d.metric_options[name->second] = options;
        }
      }
    }
  }

  const fs::path csv_path = dir / "summary.csv";
  const std::string csv_name = csv_path.string();
  auto table = parse_csv(read_required(csv_path, "richlazy run writes it when the experiment ends"), csv_name);
  if (table.empty() || table[0].empty() || table[0][0] != "run_id") {
    throw ConfigError(csv_name + ":1: not a richlazy summary.csv (the header must start with run_id)");
  }
  d.header = table[0];
  const auto status_it = std::find(d.header.begin(), d.header.end(), "status");
  const auto steps_it = std::find(d.header.begin(), d.header.end(), "steps");
  if (status_it == d.header.end() || steps_it == d.header.end() || steps_it < status_it) {
    throw ConfigError(csv_name + ":1: not a richlazy summary.csv (no status and steps columns)");
  }
  d.sweep_keys.assign(d.header.begin() + 1, status_it);
  d.metric_columns.assign(status_it + 1, steps_it);
  for (auto it = steps_it; it != d.header.end(); ++it) {
    if (it->rfind("init_", 0) == 0) d.init_columns.push_back(*it);
  }
  d.rows.assign(table.begin() + 1, table.end());
  if (d.rows.empty()) {
    throw ConfigError(csv_name + ": the experiment has no runs (summary.csv has a header and no rows)");
  }
  for (const auto& m : logged_metric_names(config["metrics"]["names"])) {
    if (std::find(d.metric_columns.begin(), d.metric_columns.end(), m) == d.metric_columns.end()) {
      throw ConfigError(fmt::format("{}:1: has no column '{}', which {} logs (metrics.names); "
                                    "columns are: {}",
                                    csv_name, m, yaml_path.string(), join_names(d.metric_columns)));
    }
  }

  const std::size_t status_col = static_cast<std::size_t>(status_it - d.header.begin());
  std::set<std::string> ids;
  for (std::size_t r = 0; r < d.rows.size(); ++r) {
    const auto& row = d.rows[r];
    if (row.size() != d.header.size()) {
      throw ConfigError(fmt::format("{}:{}: {} fields, the header has {}", csv_name, r + 2, row.size(),
                                    d.header.size()));
    }
    RunRecord run;
    run.id = row[0];
    if (const std::string problem = run_id_problem(run.id); !problem.empty()) {
      throw ConfigError(fmt::format("{}:{}: run id '{}' {}; summary.csv names folders under runs/ by plain "
                                    "names only",
                                    csv_name, r + 2, printable(run.id), problem));
    }
    if (!ids.insert(run.id).second) {
      throw ConfigError(fmt::format("{}:{}: run id '{}' is listed twice", csv_name, r + 2, printable(run.id)));
    }
    run.status = row[status_col];
    for (std::size_t k = 0; k < d.sweep_keys.size(); ++k) run.swept[d.sweep_keys[k]] = row[1 + k];
    for (std::size_t k = 0; k < d.metric_columns.size(); ++k) {
      const auto v = as_number(row[status_col + 1 + k]);
      run.final[d.metric_columns[k]] = v ? *v : std::nan("");
    }
    for (const auto& c : d.init_columns) {
      const auto col = static_cast<std::size_t>(std::find(d.header.begin(), d.header.end(), c) - d.header.begin());
      const auto v = as_number(row[col]);
      run.initial_state[c] = v ? *v : std::nan("");
    }
    const fs::path run_dir = dir / "runs" / run.id;
    // Only runs that finished ok are drawn: a failed run may have stopped before its first
    // logged step (and a failed run never blocks the report of the others).
    if (run.status == "ok" && !fs::is_regular_file(run_dir / "metrics.csv")) {
      throw ConfigError(fmt::format("{}: missing, but {}:{} lists run {}", (run_dir / "metrics.csv").string(),
                                    csv_name, r + 2, run.id));
    }
    if (fs::is_regular_file(run_dir / "summary.json")) {
      const std::string json_path = (run_dir / "summary.json").string();
      try {
        const auto j = nlohmann::json::parse(read_file(json_path));
        if (j.contains("init")) {
          for (const auto& i : j["init"]) {
            if (!i.contains("param") || !i["param"].is_string()) continue;
            const std::string param = i["param"].get<std::string>();
            if (i.contains("erank_roy_vetterli") && i["erank_roy_vetterli"].is_number()) {
              run.erank[param] = i["erank_roy_vetterli"].get<double>();
            }
            if (i.contains("role") && i["role"].is_string()) run.roles[param] = i["role"].get<std::string>();
            if (i.contains("spec") && i["spec"].is_string()) run.init_specs[param] = i["spec"].get<std::string>();
          }
        }
        if (j.contains("initial") && j["initial"].is_object()) {
          for (const auto& m : d.metric_columns) {
            if (j["initial"].contains(m) && j["initial"][m].is_number()) run.initial[m] = j["initial"][m].get<double>();
          }
        }
        if (j.contains("versions") && j["versions"].is_object() && j["versions"].contains("libtorch") &&
            j["versions"]["libtorch"].is_string() && d.libtorch_version.empty()) {
          d.libtorch_version = j["versions"]["libtorch"].get<std::string>();
        }
      } catch (const nlohmann::json::exception& e) {
        throw ConfigError(json_path + ": not valid JSON: " + e.what());
      }
    }
    d.runs.push_back(std::move(run));
  }

  // The x axis: the config's report.x, else the first swept initialization key, else the
  // first non-seed key.
  for (const auto& k : d.sweep_keys) {
    if (is_seed_key(k)) d.seed_keys.push_back(k);
  }
  if (const YAML::Node report = config["report"]; report.IsDefined() && report.IsMap()) {
    const YAML::Node x = report["x"];
    if (x.IsDefined() && x.IsScalar() && !is_seed_key(x.Scalar()) &&
        std::find(d.sweep_keys.begin(), d.sweep_keys.end(), x.Scalar()) != d.sweep_keys.end()) {
      d.x_key = x.Scalar();
    }
    const YAML::Node metrics = report["metrics"];
    if (metrics.IsDefined() && metrics.IsScalar()) d.report_metrics.push_back(metrics.Scalar());
    if (metrics.IsDefined() && metrics.IsSequence()) {
      for (const auto& m : metrics) {
        if (m.IsScalar()) d.report_metrics.push_back(m.Scalar());
      }
    }
  }
  if (!x_override.empty()) {
    if (is_seed_key(x_override) ||
        std::find(d.sweep_keys.begin(), d.sweep_keys.end(), x_override) == d.sweep_keys.end()) {
      std::vector<std::string> choices;
      for (const auto& k : d.sweep_keys) {
        if (!is_seed_key(k)) choices.push_back(k);
      }
      throw ConfigError(fmt::format("--x: '{}' is not a swept key of {} that is not a seed ({})", x_override,
                                    (dir / "summary.csv").string(),
                                    choices.empty() ? std::string("it sweeps none") : join_names(choices)));
    }
    d.x_key = x_override;
  }
  for (const auto& k : d.sweep_keys) {
    if (!d.x_key.empty()) break;
    if (!is_seed_key(k) && k.rfind("init.", 0) == 0) {
      d.x_key = k;
      break;
    }
  }
  for (const auto& k : d.sweep_keys) {
    if (d.x_key.empty() && !is_seed_key(k)) d.x_key = k;
  }
  for (const auto& k : d.sweep_keys) {
    if (!is_seed_key(k) && k != d.x_key) d.series_keys.push_back(k);
  }
  d.x_axis_label = d.x_key.empty() ? "experiment" : axis_label(d.x_key);

  std::vector<std::string> x_texts;
  for (const auto& run : d.runs) {
    const std::string t = d.x_key.empty() ? d.name : run.swept.at(d.x_key);
    if (std::find(x_texts.begin(), x_texts.end(), t) == x_texts.end()) x_texts.push_back(t);
  }
  const std::vector<std::string> x_labels = value_labels(x_texts);
  d.x_numeric = !d.x_key.empty();
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& t : x_texts) {
    const auto v = as_number(t);
    d.x_numeric = d.x_numeric && v.has_value();
    if (v) lo = std::min(lo, *v), hi = std::max(hi, *v);
  }
  d.x_log = d.x_numeric && lo > 0 &&
            (short_key(d.x_key).find("rank") != std::string::npos || hi / lo >= 20);

  for (const auto& run : d.runs) {
    const std::string x = d.x_key.empty() ? d.name : run.swept.at(d.x_key);
    std::string series;
    for (const auto& k : d.series_keys) {
      series += fmt::format("{}{}={}", series.empty() ? "" : ", ", short_key(k), run.swept.at(k));
    }
    auto g = std::find_if(d.groups.begin(), d.groups.end(),
                          [&](const RunGroup& e) { return e.x_text == x && e.series == series; });
    if (g == d.groups.end()) {
      RunGroup group;
      group.x_text = x;
      group.x_label = x_labels[std::find(x_texts.begin(), x_texts.end(), x) - x_texts.begin()];
      if (d.x_numeric) group.x_value = as_number(x);
      group.series = series;
      const std::string x_part = d.x_key.empty()  ? group.x_label
                                 : d.x_numeric    ? short_key(d.x_key) + " " + group.x_label
                                                  : group.x_label;
      group.label = series.empty() ? x_part : x_part + ", " + series;
      d.groups.push_back(group);
      g = d.groups.end() - 1;
    }
    g->runs.push_back(run.id);
    if (run.status == "ok") g->ok_runs.push_back(run.id);
  }

  // Figure (c) shows the initial spectrum of the swept parameter, else of the recurrent
  // weight (by its role; by the CTRNN's name in folders written before roles existed).
  const RunRecord& first = d.runs.front();
  if (d.x_key.rfind("init.", 0) == 0) {
    const std::string rest = d.x_key.substr(5);
    d.spectrum_param = rest.substr(0, rest.find('.'));
  } else {
    for (const auto& [param, role] : first.roles) {
      if (role == "recurrent" && first.erank.count(param)) d.spectrum_param = param;
    }
    if (d.spectrum_param.empty() && first.erank.count("W_rec")) d.spectrum_param = "W_rec";
    if (d.spectrum_param.empty() && !first.erank.empty()) d.spectrum_param = first.erank.begin()->first;
  }
  return d;
}

}  // namespace richlazy::report
