// apps/cmd_tasks.cpp: `richlazy tasks stats` and `richlazy tasks sample`.
#include <richlazy/apps/commands.h>

#include <richlazy/core/atomic_file.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/npy.h>
#include <richlazy/core/seeding.h>
#include <richlazy/tasks/task_stats.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

namespace richlazy::apps {

std::vector<TaskOption> parse_task_sets(const std::vector<std::string>& sets) {
  std::vector<TaskOption> options;
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    const std::string origin = "--set " + s;
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError(origin + ": expected KEY=VALUE with a task option, e.g. --set dt_ms=20");
    }
    options.push_back({s.substr(0, eq), load_yaml_text(s.substr(eq + 1), origin), origin});
  }
  return options;
}

std::unique_ptr<tasks::Task> make_task(const std::string& name, const std::vector<TaskOption>& options,
                                       const Registries& reg) {
  YAML::Node spec(YAML::NodeType::Map);
  spec["name"] = name;
  auto source = std::make_shared<ConfigSource>("task " + name);
  source->set_positions(false);  // built here: its values' origins are the options'
  for (const auto& o : options) {
    spec[o.key] = o.value;
    source->set_origin("task." + o.key, o.origin);
  }
  Params p(spec, "task", source, {});
  return reg.tasks.create(p);
}

void write_indexed_npy(const std::string& dir, const std::string& name, torch::Tensor t, const std::string& what,
                       nlohmann::ordered_json& files) {
  t = t.detach().to(torch::kCPU);
  if (t.scalar_type() != torch::kFloat) t = t.to(torch::kDouble);
  write_npy((std::filesystem::path(dir) / (name + ".npy")).string(), t.contiguous());
  files[name] = {{"file", name + ".npy"},
                 {"shape", t.sizes().vec()},
                 {"dtype", t.scalar_type() == torch::kDouble ? "float64" : "float32"},
                 {"content", what}};
}

void write_trial_arrays(const std::string& dir, const tasks::Task& task, const tasks::TrialBatch& batch,
                        nlohmann::ordered_json& files) {
  write_indexed_npy(dir, "inputs", batch.inputs, "[T, trials, n_inputs], channels: " + join_names(task.input_names()),
                    files);
  write_indexed_npy(dir, "targets", batch.targets,
                    task.loss() == tasks::LossKind::cross_entropy
                        ? "[T, trials] class labels: " + join_names(task.output_names())
                        : "[T, trials, n_outputs] target values",
                    files);
  write_indexed_npy(dir, "mask", batch.mask, "[T, trials], 1 where the loss scores the step", files);
  for (const auto& [name, value] : batch.trial_vars) {
    write_indexed_npy(dir, name, value, "[trials], drawn per trial", files);
  }
}

int command_task_stats(const TaskStatsArgs& args, const Registries& reg) {
  const std::unique_ptr<tasks::Task> task = make_task(args.task, parse_task_sets(args.sets), reg);
  const tasks::TaskStats stats = tasks::compute_task_stats(*task, args.trials, args.seed);
  std::fputs(tasks::format_task_stats(*task, stats).c_str(), stdout);
  if (!args.json_path.empty()) {
    write_file_atomic(args.json_path, tasks::task_stats_json(*task, stats));
  }
  return 0;
}

int command_task_sample(const TaskSampleArgs& args, const Registries& reg) {
  const std::unique_ptr<tasks::Task> task = make_task(args.task, parse_task_sets(args.sets), reg);
  at::Generator gen = make_generator(args.seed);
  const tasks::TrialBatch batch = task->sample(args.trials, gen);
  namespace fs = std::filesystem;
  fs::create_directories(args.out_dir);
  nlohmann::ordered_json files = nlohmann::ordered_json::object();
  write_trial_arrays(args.out_dir, *task, batch, files);
  const tasks::DecisionWindow d = task->decision();
  const nlohmann::ordered_json index{{"task", task->name()},
                                     {"trials", args.trials},
                                     {"seed", args.seed},
                                     {"steps", task->steps()},
                                     {"dt_ms", task->dt_ms()},
                                     {"decision", {d.begin, d.end}},
                                     {"input_names", task->input_names()},
                                     {"output_names", task->output_names()},
                                     {"files", files}};
  write_file_atomic((fs::path(args.out_dir) / "index.json").string(), index.dump(2) + "\n");
  std::fputs(fmt::format("{} trials of {} -> {}/ (index.json, {})\n", args.trials, task->name(),
                         args.out_dir, join_names([&] {
                           std::vector<std::string> names;
                           for (const auto& f : files.items()) names.push_back(f.key() + ".npy");
                           return names;
                         }()))
                 .c_str(),
             stdout);
  return 0;
}

}  // namespace richlazy::apps
