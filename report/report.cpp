// report/report.cpp: the report folder: plotter input, figures, index.html, atomic swap.
#include <richlazy/report/report.h>

#include <richlazy/core/atomic_file.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/csv.h>
#include <richlazy/core/subprocess.h>
#include <richlazy/core/table.h>
#include <richlazy/core/version.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <set>

#include <unistd.h>

namespace richlazy::report {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

const char* kMarker = ".richlazy-report";  // marks a folder this command may replace

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string cell(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size()) {
    // Counts (steps, seeds, ranks) stay integers; measurements get 4 significant digits.
    if (std::isfinite(v) && v == std::round(v) && std::fabs(v) < 1e15) return fmt::format("<td>{:.0f}</td>", v);
    return "<td>" + format_metric(v) + "</td>";
  }
  return "<td class=\"text\">" + escape(text) + "</td>";
}

/// Mean ± standard error over the finite values (NaN mean for none).
std::pair<double, double> mean_sem(const std::vector<double>& values) {
  double sum = 0, sq = 0;
  int n = 0;
  for (double v : values) {
    if (std::isfinite(v)) sum += v, ++n;
  }
  if (n == 0) return {std::nan(""), 0};
  const double mean = sum / n;
  for (double v : values) {
    if (std::isfinite(v)) sq += (v - mean) * (v - mean);
  }
  return {mean, n > 1 ? std::sqrt(sq / (n - 1) / n) : 0.0};
}

/// What plot_report.py reads; it writes the figures next to this file.
ordered_json plotter_input(const ExperimentData& d, const std::vector<std::string>& final_metrics,
                           const std::vector<std::string>& formats) {
  ordered_json j;
  j["experiment"] = d.name;
  j["experiment_dir"] = d.dir;
  j["formats"] = formats;
  j["x"] = {{"key", d.x_key}, {"label", d.x_axis_label}, {"numeric", d.x_numeric}, {"log", d.x_log}};
  j["series_keys"] = d.series_keys;
  j["seed_keys"] = d.seed_keys;
  j["final_metrics"] = final_metrics;
  j["spectrum_param"] = d.spectrum_param.empty() ? ordered_json(nullptr) : ordered_json(d.spectrum_param);
  j["task"] = d.task_name;
  j["model"] = d.model_name;
  j["metric_options"] = d.metric_options;
  ordered_json groups = ordered_json::array();
  for (const auto& g : d.groups) {
    groups.push_back({{"label", g.label},
                      {"x_text", g.x_text},
                      {"x_label", g.x_label},
                      {"x_value", g.x_value ? ordered_json(*g.x_value) : ordered_json(nullptr)},
                      {"series", g.series},
                      {"runs", g.runs},
                      {"ok_runs", g.ok_runs}});
  }
  j["groups"] = groups;
  ordered_json runs = ordered_json::object();
  for (const auto& r : d.runs) {
    runs[r.id] = {{"status", r.status}, {"final", r.final}, {"erank", r.erank},
                  {"init_specs", r.init_specs}};  // NaN is written as null
  }
  j["runs"] = runs;
  return j;
}

/// The last non-empty line of a process's output, without control characters, at most 1000
/// characters ("(no output)" when there is none).
std::string last_line(const std::string& output) {
  std::string text = output;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  const auto nl = text.rfind('\n');
  const std::string line = nl == std::string::npos ? text : text.substr(nl + 1);
  return line.empty() ? std::string("(no output)") : printable(line, 1000);
}

/// Removes a folder on scope exit unless released.
class FolderGuard {
 public:
  explicit FolderGuard(fs::path p) : path_(std::move(p)) {}
  ~FolderGuard() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

}  // namespace

// ===========================================================================================

const std::vector<std::string>& default_final_metrics() {
  static const std::vector<std::string> m{"dw_rec", "rep_alignment", "kernel_alignment"};
  return m;
}

std::string python_interpreter(const std::string& requested) {
  if (!requested.empty()) return requested;
  if (const char* env = std::getenv("RICHLAZY_PYTHON"); env && *env) return env;
  // Debian's interpreter is where apt installs python3-matplotlib; a python3 earlier on PATH
  // (a virtual environment, another distribution) may lack it.
  if (fs::exists("/usr/bin/python3")) return "/usr/bin/python3";
  return "python3";
}

std::string check_plotter(const std::string& python) {
  const ProcessResult r = run_process({python, "-c", "import matplotlib, numpy"});
  if (r.status == 0) return "";
  if (r.status == 127) {
    return fmt::format("no Python interpreter '{}' to draw the figures; install it with "
                       "'apt-get install python3 python3-matplotlib' (Debian), or name one with "
                       "--python or RICHLAZY_PYTHON", python);
  }
  std::string last = r.output;
  while (!last.empty() && (last.back() == '\n' || last.back() == ' ')) last.pop_back();
  last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
  return fmt::format("{} cannot import matplotlib and numpy ({}); install them with "
                     "'apt-get install python3-matplotlib' (Debian; brings numpy), or name a "
                     "Python that has them with --python or RICHLAZY_PYTHON", python, last);
}

std::string plot_script_path() {
  if (const char* env = std::getenv("RICHLAZY_PLOT_SCRIPT"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path() / ".." / "share" / "richlazy" / "plot_report.py";
    if (fs::exists(installed)) return installed.lexically_normal().string();
  }
  return std::string(RICHLAZY_SOURCE_DIR) + "/report/plot_report.py";
}

std::string index_html(const ExperimentData& d, const std::string& figures_json,
                       const std::string& plotter_missing) {
  const auto figures = nlohmann::json::parse(figures_json.empty() ? "[]" : figures_json);
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>richlazy report: " + escape(d.name) + "</title>\n<style>\n"
       "body{font-family:\"DejaVu Sans\",Arial,sans-serif;color:#1a1a1a;max-width:1250px;"
       "margin:1.5em auto;padding:0 1em;line-height:1.45}\n"
       "h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}\n"
       "img{max-width:100%;height:auto;border:1px solid #e3e3e3;background:#fff}\n"
       "figure{margin:1.2em 0 2em 0}figcaption{max-width:62em;font-size:.93em;color:#333}\n"
       "table{border-collapse:collapse;font-size:.85em;margin:.5em 0}\n"
       "th,td{border:1px solid #cfcfcf;padding:.15em .5em;text-align:right;white-space:nowrap}\n"
       "th{background:#eef2f6}td.text{text-align:left}tr:nth-child(even) td{background:#fafafa}\n"
       ".scroll{overflow-x:auto}pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:.85em}\n"
       ".warning{background:#fff4e0;border-left:4px solid #D55E00;padding:.6em 1em}\n"
       ".meta{color:#555;font-size:.9em}nav a{margin-right:1.2em}\n</style>\n</head>\n<body>\n";
  std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  h += "<h1>" + escape(d.name) + "</h1>\n";
  h += fmt::format("<p class=\"meta\">{} runs in {} &middot; swept: {} &middot; made {} by {}</p>\n",
                   d.runs.size(), escape(d.dir),
                   d.sweep_keys.empty() ? std::string("nothing") : escape(join_names(d.sweep_keys)),
                   when, escape(richlazy_version() + (d.libtorch_version.empty() ? std::string()
                                                                                : ", trained with LibTorch " +
                                                                                      d.libtorch_version)));
  h += "<nav><a href=\"#figures\">Figures</a><a href=\"#means\">Means over seeds</a><a href=\"#initial\">Initial state</a>"
       "<a href=\"#runs\">Runs</a><a href=\"#config\">Config</a></nav>\n";

  h += "<h2 id=\"figures\">Figures</h2>\n";
  if (const auto failed = d.failed_runs(); !failed.empty()) {
    h += fmt::format("<p class=\"warning\" id=\"failed-runs\">{} of {} runs failed and are left out of the "
                     "figures and the means:",
                     failed.size(), d.runs.size());
    for (std::size_t i = 0; i < failed.size(); ++i) {
      h += fmt::format("{} <code>{}</code> ({})", i == 0 ? "" : ";", escape(failed[i]->id), escape(failed[i]->status));
    }
    h += ".</p>\n";
  }
  bool any_ok = false;
  for (const auto& g : d.groups) any_ok = any_ok || !g.ok_runs.empty();
  if (!any_ok) h += "<p class=\"warning\">No figures: no run finished ok.</p>\n";
  if (!plotter_missing.empty() && any_ok) {
    h += "<p class=\"warning\">No figures: " + escape(plotter_missing) +
         ". Then run <code>richlazy report " + escape(d.dir) + "</code> again.</p>\n";
  }
  for (const auto& f : figures) {
    const std::string id = f.value("id", "");
    const auto& files = f.at("files");
    const std::string png = files.value("png", "");
    h += "<figure id=\"" + escape(id) + "\">\n<h3>" + escape(f.value("title", "")) + "</h3>\n";
    std::string vector;
    for (const auto& [fmt_name, file] : files.items()) {
      if (fmt_name != "png") vector += fmt::format(" <a href=\"{}\">{}</a>", escape(file.get<std::string>()),
                                                     fmt_name == "svg" ? "SVG" : "PDF");
    }
    h += "<a href=\"" + escape(png) + "\"><img src=\"" + escape(png) + "\" alt=\"" +
         escape(f.value("title", "")) + "\"></a>\n";
    h += "<figcaption>" + escape(f.value("caption", "")) +
         (vector.empty() ? "" : " For papers:" + vector + ".") + "</figcaption>\n</figure>\n";
  }

  // Means over seeds, one row per swept value.
  h += "<h2 id=\"means\">Means over seeds</h2>\n<p>Final values: mean ± standard error over the runs "
       "with status ok.</p>\n<div class=\"scroll\"><table id=\"means-table\">\n<tr><th>value</th>"
       "<th>runs ok</th>";
  for (const auto& m : d.metric_columns) h += "<th>" + escape(m) + "</th>";
  h += "</tr>\n";
  std::map<std::string, const RunRecord*> run_by_id;
  for (const auto& r : d.runs) run_by_id[r.id] = &r;
  for (const auto& g : d.groups) {
    h += fmt::format("<tr><td class=\"text\">{}</td><td>{} / {}</td>", escape(g.label), g.ok_runs.size(),
                     g.runs.size());
    for (const auto& m : d.metric_columns) {
      std::vector<double> values;
      for (const auto& id : g.ok_runs) values.push_back(run_by_id.at(id)->final.at(m));
      const auto [mean, sem] = mean_sem(values);
      h += std::isfinite(mean) ? fmt::format("<td>{:.4g} ± {:.2g}</td>", mean, sem) : "<td>–</td>";
    }
    h += "</tr>\n";
  }
  h += "</table></div>\n";

  // The initial state, one row per swept value: summary.csv's init_* columns and each metric
  // at step 0, where it is not the same in every run (dw is 0 and an alignment with step 0 is
  // 1 there by definition).
  std::vector<std::pair<std::string, std::string>> initial_columns;  // (header, key)
  for (const auto& c : d.init_columns) initial_columns.emplace_back(c, c);
  for (const auto& m : d.metric_columns) {
    std::set<double> seen;
    for (const auto& r : d.runs) {
      if (r.initial.count(m) && std::isfinite(r.initial.at(m))) seen.insert(r.initial.at(m));
    }
    if (seen.size() > 1) initial_columns.emplace_back(m + " (step 0)", "@" + m);
  }
  h += "<h2 id=\"initial\">Initial state</h2>\n";
  if (initial_columns.empty()) {
    h += "<p>summary.csv has no init_* columns (written by an older richlazy) and no metric varies at "
         "step 0.</p>\n";
  } else {
    h += "<p>Before any update: W_rec(0)'s spectral radius and "
         "eigenvalue effective rank, the initial network's loss, hidden-norm ratio and recurrent gradient "
         "norm on the probe trials, and the logged metrics at step 0; mean ± standard error over the runs "
         "that trained (ok or diverged).</p>\n<div class=\"scroll\"><table id=\"initial-table\">\n<tr>"
         "<th>value</th><th>runs</th>";
    for (const auto& [header, key] : initial_columns) h += "<th>" + escape(header) + "</th>";
    h += "</tr>\n";
    for (const auto& g : d.groups) {
      std::vector<const RunRecord*> trained;
      for (const auto& id : g.runs) {
        const RunRecord* r = run_by_id.at(id);
        if (r->status.rfind("failed", 0) != 0) trained.push_back(r);
      }
      h += fmt::format("<tr><td class=\"text\">{}</td><td>{}</td>", escape(g.label), trained.size());
      for (const auto& [header, key] : initial_columns) {
        std::vector<double> values;
        for (const RunRecord* r : trained) {
          const auto& source = key[0] == '@' ? r->initial : r->initial_state;
          const std::string k = key[0] == '@' ? key.substr(1) : key;
          values.push_back(source.count(k) ? source.at(k) : std::nan(""));
        }
        const auto [mean, sem] = mean_sem(values);
        h += std::isfinite(mean) ? fmt::format("<td>{:.4g} ± {:.2g}</td>", mean, sem) : "<td>–</td>";
      }
      h += "</tr>\n";
    }
    h += "</table></div>\n";
  }

  // summary.csv, one row per run; long spec values shown by their label.
  h += "<h2 id=\"runs\">Runs</h2>\n<p>summary.csv, one row per run.</p>\n"
       "<div class=\"scroll\"><table id=\"runs-table\">\n<tr>";
  for (const auto& c : d.header) h += "<th>" + escape(c) + "</th>";
  h += "</tr>\n";
  // Swept value text -> its short label, per sweep key (labels depend on all of a key's values).
  std::map<std::string, std::map<std::string, std::string>> labels;
  for (const auto& k : d.sweep_keys) {
    std::vector<std::string> texts;
    for (const auto& r : d.runs) {
      if (std::find(texts.begin(), texts.end(), r.swept.at(k)) == texts.end()) texts.push_back(r.swept.at(k));
    }
    const auto short_labels = value_labels(texts);
    for (std::size_t i = 0; i < texts.size(); ++i) labels[k][texts[i]] = short_labels[i];
  }
  for (const auto& row : d.rows) {
    h += "<tr class=\"run\">";
    for (std::size_t c = 0; c < row.size(); ++c) {
      const bool swept = c >= 1 && c <= d.sweep_keys.size();
      if (swept && row[c].find('{') != std::string::npos) {
        const std::string& label = labels[d.sweep_keys[c - 1]][row[c]];
        h += "<td class=\"text\" title=\"" + escape(row[c]) + "\">" + escape(label) + "</td>";
      } else {
        h += cell(row[c]);
      }
    }
    h += "</tr>\n";
  }
  h += "</table></div>\n";
  h += "<h2 id=\"config\">Config</h2>\n<p>experiment.yaml as run, every default filled in.</p>\n<pre>" +
       escape(d.config_text) + "</pre>\n";
  // Lets a headless browser (and the test) tell that every image loaded.
  h += "<p id=\"image-check\" class=\"meta\" data-images=\"" + std::to_string(figures.size()) +
       "\"></p>\n<script>\nwindow.addEventListener('load', function () {\n"
       "  var images = Array.prototype.slice.call(document.images);\n"
       "  var ok = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;\n"
       "  var p = document.getElementById('image-check');\n"
       "  p.setAttribute('data-loaded', ok);\n  p.setAttribute('data-failed', images.length - ok);\n"
       "  if (ok < images.length) p.textContent = (images.length - ok) + ' image(s) failed to load';\n"
       "});\n</script>\n</body>\n</html>\n";
  return h;
}

std::string failed_runs_note(const ReportResult& r) {
  if (r.failed_runs.empty()) return "";
  return fmt::format("the report leaves out {} failed run{}: {}", r.failed_runs.size(),
                     r.failed_runs.size() == 1 ? "" : "s", join_names(r.failed_runs));
}

ReportResult make_report(const ReportOptions& options) {
  const ExperimentData data = load_experiment(options.experiment_dir, options.x_key);

  std::vector<std::string> final_metrics;
  if (options.final_metrics.empty() && !data.report_metrics.empty()) {
    for (const auto& m : data.report_metrics) {  // validated when the experiment ran
      if (std::find(data.metric_columns.begin(), data.metric_columns.end(), m) != data.metric_columns.end()) {
        final_metrics.push_back(m);
      }
    }
  } else if (options.final_metrics.empty()) {
    for (const auto& m : default_final_metrics()) {
      if (std::find(data.metric_columns.begin(), data.metric_columns.end(), m) != data.metric_columns.end()) {
        final_metrics.push_back(m);
      }
    }
  } else {
    for (const auto& m : options.final_metrics) {
      if (std::find(data.metric_columns.begin(), data.metric_columns.end(), m) == data.metric_columns.end()) {
        throw ConfigError(fmt::format("--metrics: '{}' is not a final metric of {}/summary.csv; its "
                                      "metrics are: {}", m, data.dir, join_names(data.metric_columns)));
      }
      final_metrics.push_back(m);
    }
  }
  std::vector<std::string> formats{"png"};
  for (const auto& f : options.formats) {
    if (f != "png" && f != "svg" && f != "pdf") {
      throw ConfigError("--formats: '" + f + "' is not a figure format; choose from png, svg, pdf");
    }
    if (std::find(formats.begin(), formats.end(), f) == formats.end()) formats.push_back(f);
  }

  const fs::path out = options.out_dir.empty() ? fs::path(data.dir) / "report"
                                               : fs::absolute(options.out_dir).lexically_normal();
  if (fs::exists(out)) {
    if (!fs::is_directory(out)) throw ConfigError(out.string() + ": exists and is not a folder");
    if (!fs::is_empty(out) && !fs::exists(out / kMarker)) {
      throw ConfigError(out.string() + ": exists and is not a richlazy report; choose another --out "
                        "or remove it");
    }
  }
  const fs::path partial = out.string() + fmt::format(".partial-{}", getpid());
  fs::remove_all(partial);
  fs::create_directories(partial);
  FolderGuard guard(partial);
  write_file_atomic((partial / kMarker).string(), "written by richlazy report; the command replaces this folder\n");

  ReportResult result;
  for (const RunRecord* r : data.failed_runs()) result.failed_runs.push_back(r->id + " (" + printable(r->status, 200) + ")");
  bool any_ok = false;
  for (const auto& g : data.groups) any_ok = any_ok || !g.ok_runs.empty();
  const std::string python = python_interpreter(options.python);
  result.plotter_missing = check_plotter(python);
  std::string figures = "[]";
  if (result.plotter_missing.empty() && any_ok) {
    const fs::path input = partial / "report_data.json";
    write_file_atomic(input.string(), plotter_input(data, final_metrics, formats).dump(1) + "\n");
    const std::string script = plot_script_path();
    if (!fs::exists(script)) {
      throw std::runtime_error(script + ": the plotting script is missing (set RICHLAZY_PLOT_SCRIPT "
                               "to report/plot_report.py of the richlazy sources)");
    }
    const ProcessResult r = run_process({python, script, input.string()});
    // The plotter ends a failure with one line that says what went wrong (status 2: the
    // experiment's data); anything printed before it (library warnings) is not shown.
    if (r.status == 2) throw ConfigError(last_line(r.output));
    if (r.status != 0) {
      throw std::runtime_error(fmt::format("drawing the figures failed ({} exited with status {}): {}",
                                           fs::path(script).filename().string(), r.status,
                                           last_line(r.output)));
    }
    figures = read_file((partial / "figures.json").string());
    result.figures = static_cast<int>(nlohmann::json::parse(figures).size());
  }
  write_file_atomic((partial / "index.html").string(), index_html(data, figures, result.plotter_missing));

  const fs::path old = out.string() + fmt::format(".old-{}", getpid());
  const bool replacing = fs::exists(out);
  if (replacing) fs::rename(out, old);
  try {
    fs::rename(partial, out);
  } catch (...) {
    if (replacing) fs::rename(old, out);  // keep the previous report rather than none
    throw;
  }
  guard.release();
  fs::remove_all(old);
  result.dir = out.string();
  result.index = (out / "index.html").string();
  return result;
}

}  // namespace richlazy::report
