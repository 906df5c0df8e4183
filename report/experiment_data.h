// richlazy/report/experiment_data.h: an experiment folder read back for its report.
// Reads what `richlazy run` wrote (experiment.yaml, summary.csv, runs/<id>/summary.json),
// checks it is complete, and groups the runs by swept value: runs that differ only in a
// seed form one group, the unit of every figure's mean and error band.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace richlazy::report {

/// One run, as summary.csv and its summary.json describe it.
struct RunRecord {
  std::string id;
  std::string status;                    ///< ok | diverged | failed: ...
  std::map<std::string, std::string> swept;   ///< sweep key -> value text
  std::map<std::string, double> final;   ///< summary.csv metric columns (NaN where empty)
  /// summary.csv's init_* columns (spectral radius, erank_eig, loss, ... of the initial network)
  std::map<std::string, double> initial_state;
  std::map<std::string, double> initial;  ///< the metric columns at step 0 (summary.json's `initial`)
  std::map<std::string, double> erank;   ///< parameter -> Roy–Vetterli effective rank of its initial value
  std::map<std::string, std::string> roles;  ///< parameter -> its role (input, recurrent, readout, ...)
  std::map<std::string, std::string> init_specs;  ///< parameter -> the initializer spec it started from
};

/// The runs that share every swept value but the seed.
struct RunGroup {
  std::string label;     ///< legend text, e.g. "rank 30" or "shuffled(connectome)"
  std::string x_text;    ///< the value of the x key, as in summary.csv
  std::string x_label;   ///< its short display form
  std::optional<double> x_value;  ///< numeric value of the x key, when it is a number
  std::string series;    ///< the other non-seed swept values, "" when there are none
  std::vector<std::string> runs;     ///< ids, in summary.csv order
  std::vector<std::string> ok_runs;  ///< those with status ok
};

struct ExperimentData {
  std::string dir;          ///< the experiment folder
  std::string name;         ///< its `experiment` key
  std::string config_text;  ///< experiment.yaml as written by the run
  std::string task_name, model_name;  ///< task.name and model.name ("" when not set)
  /// The metrics: section's entries written as maps ({name: ..., as: ..., options}), by column
  /// name (the `as` name, else the metric's), each option as YAML text: what the report needs
  /// to know about a column beyond its name (e.g. which kernel it measures).
  std::map<std::string, std::map<std::string, std::string>> metric_options;
  std::vector<std::string> report_metrics;  ///< the config's report.metrics (empty when not set)
  std::string libtorch_version;  ///< the LibTorch the runs trained with ("" when unknown)
  std::vector<std::string> sweep_keys;   ///< in file order
  std::vector<std::string> seed_keys;    ///< swept keys whose last component ends in "seed"
  std::string x_key;                     ///< the swept initialization parameter ("" without sweep)
  std::string x_axis_label;              ///< "rank of W_rec(0)", "initializer of W_rec", ...
  bool x_numeric = false, x_log = false;
  std::vector<std::string> series_keys;  ///< the other non-seed swept keys
  std::string spectrum_param;            ///< weight whose initial spectrum figure (c) shows
  std::vector<std::string> header;       ///< summary.csv header
  std::vector<std::vector<std::string>> rows;  ///< summary.csv rows, one per run
  std::vector<std::string> metric_columns;     ///< final metrics in summary.csv
  std::vector<std::string> init_columns;       ///< summary.csv's init_* columns, in file order
  std::vector<RunRecord> runs;
  std::vector<RunGroup> groups;                ///< in order of first appearance
  /// Runs whose status is failed: listed in the tables, left out of the figures and means
  /// (a failed run may have no metrics.csv), and named on the page and in the log.
  std::vector<const RunRecord*> failed_runs() const;
};

/// Reads and checks an experiment folder. Throws ConfigError naming the file (and the line or
/// column) when it is missing, empty or inconsistent: no summary.csv, no runs, a metric that
/// experiment.yaml logs but summary.csv lacks, a run id that is not a plain folder name, a
/// run with status ok without metrics.csv. Failed runs are kept (see failed_runs()).
/// `x_key`, when given, replaces the config's report.x (`richlazy report --x`); it must be a
/// swept key that is not a seed key (a ConfigError naming the swept keys otherwise).
ExperimentData load_experiment(const std::string& dir, const std::string& x_key = "");

/// "" when `id` is a plain folder name (what runs/<id> may be), else why not: empty, "." or
/// "..", or holding '/', '\\' or a control character.
std::string run_id_problem(const std::string& id);

/// Splits CSV text (RFC 4180 quoting) into rows of fields. `path` names the file in errors.
std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& path);

/// Short legend labels for initializer specs swept as whole maps: the name, the base's name in
/// parentheses for wrappers, and `key=value` for the keys where specs of the same name differ.
/// Scalars keep their text. Labels are unique (a "#n" suffix breaks ties).
std::vector<std::string> value_labels(const std::vector<std::string>& value_texts);

}  // namespace richlazy::report
