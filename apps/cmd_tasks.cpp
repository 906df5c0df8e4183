// apps/cmd_tasks.cpp: `richlazy tasks stats`.
#include <richlazy/apps/commands.h>

#include <richlazy/core/atomic_file.h>
#include <richlazy/tasks/task_stats.h>

#include <cstdio>

namespace richlazy::apps {

int command_task_stats(const TaskStatsArgs& args, const Registries& reg) {
  YAML::Node spec(YAML::NodeType::Map);
  spec["name"] = args.task;
  auto source = std::make_shared<ConfigSource>("tasks stats");
  Params p(spec, "task", source, {});
  const std::unique_ptr<tasks::Task> task = reg.tasks.create(p);
  const tasks::TaskStats stats = tasks::compute_task_stats(*task, args.trials, args.seed);
  std::fputs(tasks::format_task_stats(*task, stats).c_str(), stdout);
  if (!args.json_path.empty()) {
    write_file_atomic(args.json_path, tasks::task_stats_json(*task, stats));
  }
  return 0;
}

}  // namespace richlazy::apps
