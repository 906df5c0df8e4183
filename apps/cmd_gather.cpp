// apps/cmd_gather.cpp: `richlazy gather`.
#include <richlazy/apps/commands.h>

#include <richlazy/train/gather.h>
#include <richlazy/train/summary.h>

#include <fmt/format.h>

#include <cstdio>

namespace richlazy::apps {

int command_gather(const std::string& experiment_dir, bool quiet) {
  const train::GatherResult g = train::gather_and_write(experiment_dir);
  if (!quiet && !g.complete.runs.empty()) {
    std::fputs((train::format_results(g.sweep_keys, g.complete) + "\n").c_str(), stdout);
  }
  std::fputs(fmt::format("{}: {}. Wrote {}/summary.csv\n", g.name, train::gather_status(g), experiment_dir).c_str(),
             stdout);
  // Complete only when every run is: scripts (and the Slurm gather job) can test it.
  return g.complete.runs.size() == g.total && g.unreadable.empty() ? 0 : 3;
}

}  // namespace richlazy::apps
