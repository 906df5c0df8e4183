// apps/cmd_report.cpp: `richlazy report`.
#include <richlazy/apps/commands.h>

#include <richlazy/report/report.h>
#include <richlazy/train/gather.h>

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

namespace richlazy::apps {

int command_report(const ReportArgs& args) {
  // summary.csv from the runs' own files first: the report shows every complete run, whichever
  // process trained it (a folder that is not an experiment's is the report's to refuse).
  if (std::filesystem::is_regular_file(std::filesystem::path(args.experiment_dir) / "experiment.yaml")) {
    try {
      const train::GatherResult g = train::gather_and_write(args.experiment_dir);
      if (g.complete.runs.size() < g.total || !g.unreadable.empty()) {
        std::fprintf(stderr, "richlazy: note: %s\n", train::gather_status(g).c_str());
      }
    } catch (const std::exception& e) {
      // A folder this process cannot write (read-only storage): its summary.csv as it is.
      std::fprintf(stderr, "richlazy: warning: summary.csv not gathered again (%s); the report uses it as it is\n",
                   e.what());
    }
  }
  report::ReportOptions o;
  o.experiment_dir = args.experiment_dir;
  o.out_dir = args.out_dir;
  o.python = args.python;
  o.formats = args.formats;
  o.final_metrics = args.metrics;
  o.x_key = args.x;
  const report::ReportResult r = report::make_report(o);
  if (const std::string note = report::failed_runs_note(r); !note.empty()) {
    std::fprintf(stderr, "richlazy: note: %s\n", note.c_str());
  }
  if (!r.plotter_missing.empty()) {
    std::fprintf(stderr, "richlazy: error: %s\nrichlazy: wrote %s with the tables only\n",
                 r.plotter_missing.c_str(), r.index.c_str());
    return 1;
  }
  std::fputs(fmt::format("Report: {} ({} figures)\n", r.index, r.figures).c_str(), stdout);
  return 0;
}

}  // namespace richlazy::apps
