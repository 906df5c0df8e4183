// apps/cmd_run.cpp: `richlazy run`.
#include <richlazy/apps/commands.h>

#include <richlazy/core/blas_check.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/folder_lock.h>
#include <richlazy/core/progress.h>
#include <richlazy/report/report.h>
#include <richlazy/train/gather.h>
#include <richlazy/train/summary.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>

namespace richlazy::apps {

int command_run(const train::ExperimentOptions& options, const Registries& registries, bool no_report,
                std::string* experiment_dir, bool tables) {
  const auto t0 = std::chrono::steady_clock::now();
  train::ExperimentPlan plan = train::plan_experiment(options, registries);
  if (experiment_dir) *experiment_dir = plan.dir;
  if (options.dry_run) {
    // Everything a run validates before it trains, and nothing written.
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string ids;
    for (std::size_t i = 0; i < plan.runs.size() && i < 5; ++i) ids += (i ? ", " : "") + plan.runs[i].id;
    if (plan.runs.size() > 5) ids += fmt::format(", ... ({} more)", plan.runs.size() - 5);
    if (plan.pilot) {
      ids += fmt::format("\n  first a pilot stage of {} run{} -> {}", plan.pilot->runs.size(),
                         plan.pilot->runs.size() == 1 ? "" : "s", plan.pilot->dir);
    }
    std::size_t share = 0;
    for (const auto& p : plan.packs) share += p.runs.size();
    if (options.shard_count > 0) {
      ids += fmt::format("\n  shard {}/{} trains {} of the {} runs:", options.shard_index, options.shard_count, share,
                         plan.runs.size());
      std::size_t shown = 0;
      for (const auto& p : plan.packs) {
        for (const std::size_t i : p.runs) {
          if (shown++ < 8) ids += " " + plan.runs[i].id;
        }
      }
      if (share > 8) ids += fmt::format(" ... ({} more)", share - 8);
    }
    std::fputs(fmt::format("experiment {}: {} run{} in {} pack{}, {} at a time -> {} (dry run: the config is "
                           "valid; nothing was trained or written; planned in {:.2f} s)\n  runs: {}\n",
                           plan.name, plan.runs.size(), plan.runs.size() == 1 ? "" : "s", plan.packs.size(),
                           plan.packs.size() == 1 ? "" : "s", plan.jobs, plan.dir, seconds, ids)
                   .c_str(),
               stdout);
    return 0;
  }
  // One process per experiment folder, from the check of the folder to the report; processes
  // that share it (--resume, --shard) hold the lock together, which keeps out a fresh run or
  // an --overwrite of it meanwhile.
  const bool shared = train::shares_folder(options);
  const FolderLock lock(train::lock_file(plan), plan.dir,
                        shared ? FolderLock::Mode::shared : FolderLock::Mode::exclusive);
  train::check_output_folder(plan, options);

  bool any_cpu = false;
  for (const auto& r : plan.runs) any_cpu = any_cpu || r.config.device.is_cpu();
  if (any_cpu) {
    const BlasReport blas = check_blas();
    if (blas.slow) std::fprintf(stderr, "richlazy: %s\n", blas_warning(blas).c_str());
  }

  const train::ExperimentResult result = train::run_experiment(plan, options);
  if (tables) {
    // The tables list every complete run of the folder, whichever process trained it.
    const train::GatherResult gathered = train::gather(plan.dir);
    std::fputs(("\n" + train::format_results(gathered.sweep_keys, gathered.complete)).c_str(), stdout);
    std::string mine;
    if (shared) {
      mine = fmt::format(" This process trained {} run{}{}; {} of its share {} complete already, {} left to other "
                         "processes.",
                         result.runs.size(), result.runs.size() == 1 ? "" : "s",
                         result.resumed > 0 ? fmt::format(" ({} from a checkpoint)", result.resumed) : std::string(),
                         result.skipped_complete, result.skipped_complete == 1 ? "was" : "were", result.skipped_locked);
    }
    std::fputs(fmt::format("\nWall time {} for {} run{}.{} Folder: {}.\nResults in {}/: summary.csv, "
                           "experiment.yaml, runs/<run_id>/{{metrics.csv, summary.json, "
                           "config.yaml, weights/}}\n",
                           format_duration(result.wall_seconds), result.runs.size(),
                           result.runs.size() == 1 ? "" : "s", mine, train::gather_status(gathered), plan.dir)
                   .c_str(),
               stdout);
    std::fflush(stdout);
  }
  if (!no_report) {
    // The results are on disk already: a report that cannot be drawn is a warning.
    try {
      report::ReportOptions o;
      o.experiment_dir = plan.dir;
      const report::ReportResult r = report::make_report(o);
      if (const std::string note = report::failed_runs_note(r); !note.empty()) {
        std::fprintf(stderr, "richlazy: note: %s\n", note.c_str());
      }
      if (!r.plotter_missing.empty()) {
        std::fprintf(stderr, "richlazy: warning: no figures: %s\n", r.plotter_missing.c_str());
      }
      if (tables) std::fputs(fmt::format("Report: {}\n", r.index).c_str(), stdout);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "richlazy: warning: no report: %s\n", e.what());
    }
    std::fflush(stdout);
  }
  for (const auto& r : result.runs) {
    if (r.status.rfind("failed", 0) == 0) return 1;
  }
  return 0;
}

}  // namespace richlazy::apps
