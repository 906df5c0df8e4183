// richlazy/report/report.h: `richlazy report`, figures and a page for one experiment.
// The figures are drawn by report/plot_report.py (matplotlib); this side reads and checks the
// experiment, hands the plotter one JSON file, and writes index.html around its figures with
// the summary tables and the config. The page needs nothing from the network.
#pragma once

#include <richlazy/report/experiment_data.h>

#include <string>
#include <vector>

namespace richlazy::report {

struct ReportOptions {
  std::string experiment_dir;
  std::string out_dir;                            ///< "" = <experiment_dir>/report
  std::string python;                             ///< "" = $RICHLAZY_PYTHON, /usr/bin/python3, python3
  std::vector<std::string> formats{"png", "svg"};  ///< png always; svg and/or pdf for papers
  std::vector<std::string> final_metrics;         ///< figure (a) panels; "" = report.metrics, else dw_rec, rep_alignment, kernel_alignment (those logged)
  std::string x_key;                              ///< the x axis; "" = report.x, else the first swept init key
};

struct ReportResult {
  std::string dir;          ///< the report folder
  std::string index;        ///< its index.html
  int figures = 0;          ///< figures drawn
  std::string plotter_missing;  ///< set when no figures could be drawn: what to install
  /// Failed runs, left out of the figures and means: "id (failed: why)", in summary.csv order.
  std::vector<std::string> failed_runs;
};

/// "the report leaves out 2 failed runs: a (failed: ...), b (failed: ...)", or "" when no run
/// failed: what `richlazy report` and the end of `richlazy run` print.
std::string failed_runs_note(const ReportResult& result);

/// The default panels of figure (a), the paper's Figure 1.
const std::vector<std::string>& default_final_metrics();

/// The interpreter the plotter runs under for `requested` ("" = the default search).
std::string python_interpreter(const std::string& requested);

/// "" when `python` can import matplotlib and numpy, else a message that says what to install.
std::string check_plotter(const std::string& python);

/// Path of plot_report.py: $RICHLAZY_PLOT_SCRIPT, <bin>/../share/richlazy/, or the source tree.
std::string plot_script_path();

/// Writes the report. The folder appears complete or not at all (built beside it, then
/// renamed). Failed runs are left out of the figures and means and named on the page and in
/// `failed_runs`. Throws ConfigError for an unusable experiment or output folder (the
/// plotter's one-line message when it finds a run's data unusable), and std::runtime_error
/// with the plotter's last line when it fails otherwise. A missing plotter is not an error: the page is
/// written with the tables only and `plotter_missing` says what to install.
ReportResult make_report(const ReportOptions& options);

/// The page itself (exposed for tests): `figures` is the plotter's figures.json content.
std::string index_html(const ExperimentData& data, const std::string& figures_json,
                       const std::string& plotter_missing);

}  // namespace richlazy::report
