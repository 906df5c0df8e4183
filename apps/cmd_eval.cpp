// apps/cmd_eval.cpp: `richlazy eval RUN_DIR`: a saved network on fresh trials of its own task
// or another, written as .npy files (inputs, targets, mask, logits, hidden states, trial
// variables) with index.json: loss, accuracy, accuracy per condition, and for 2AF the
// psychometric curve.
#include <richlazy/apps/commands.h>

#include <richlazy/core/atomic_file.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/config_source.h>
#include <richlazy/core/limits.h>
#include <richlazy/core/npy.h>
#include <richlazy/core/seeding.h>
#include <richlazy/tasks/scoring.h>
#include <richlazy/train/run_config.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>

namespace richlazy::apps {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {
/// The run's config with the task replaced or changed as asked, and without what eval does
/// not need (initializers: the weights come from files; metrics, sweep, pilot, report).
YAML::Node eval_config(const EvalArgs& args, const std::string& config_path, ConfigSource& source) {
  YAML::Node root = load_yaml_file(config_path);
  if (!root.IsMap()) throw ConfigError(config_path + ": not a run's config (expected a YAML map)");
  if (!args.task.empty()) {
    YAML::Node spec(YAML::NodeType::Map);
    spec["name"] = args.task;
    root["task"] = spec;
    source.set_origin("task.name", "--task " + args.task);
  }
  for (const auto& s : args.sets) {
    const auto eq = s.find('=');
    const std::string origin = "--set " + s;
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError(origin + ": expected KEY=VALUE with a task option, e.g. --set cohs=[0,6.4]");
    }
    if (!root["task"].IsMap()) root["task"] = YAML::Node(YAML::NodeType::Map);
    root["task"][s.substr(0, eq)] = load_yaml_text(s.substr(eq + 1), origin);
    source.set_origin("task." + s.substr(0, eq), origin);
  }
  root.remove("init");
  root.remove("sweep");
  root.remove("pilot");
  root.remove("report");
  YAML::Node metrics(YAML::NodeType::Map);
  metrics["names"] = YAML::Load("[loss]");
  root["metrics"] = metrics;
  root["device"] = "cpu";
  return root;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::vector<std::string> parts;
  for (const int64_t d : shape) parts.push_back(std::to_string(d));
  return "[" + join_names(parts, " x ") + "]";
}

std::string value_text(double v) { return fmt::format("{:g}", v); }

/// For each distinct value of `keys` [B] (ascending): {key_name: value, "trials": count,
/// mean_name: the mean of `per_trial` [B] over those trials}; null when there are more than
/// `max_values` distinct values.
ordered_json means_by_value(const torch::Tensor& keys, const torch::Tensor& per_trial, const char* key_name,
                            const char* mean_name, int64_t max_values = std::numeric_limits<int64_t>::max()) {
  const torch::Tensor unique = std::get<0>(torch::_unique(keys, /*sorted=*/true));
  if (unique.size(0) > max_values) return nullptr;
  ordered_json rows = ordered_json::array();
  for (int64_t i = 0; i < unique.size(0); ++i) {
    const torch::Tensor in = keys.eq(unique[i]);
    rows.push_back({{key_name, unique[i].item<double>()},
                    {"trials", in.sum().item<int64_t>()},
                    {mean_name, per_trial.masked_select(in).mean().item<double>()}});
  }
  return rows;
}
}  // namespace

int command_eval(const EvalArgs& args, const Registries& reg) {
  const fs::path run_dir(args.run_dir);
  const fs::path config_path = run_dir / "config.yaml";
  if (!fs::is_regular_file(config_path) || !fs::is_directory(run_dir / "weights")) {
    throw ConfigError(fmt::format("{}: not a run folder (expected config.yaml and weights/ in it: DIR/<experiment>/"
                                  "runs/<run_id>)",
                                  args.run_dir));
  }
  if (args.which != "init" && args.which != "final") {
    throw ConfigError(fmt::format("--which: must be init or final, got '{}'", args.which));
  }
  if (args.trials < 1 || args.trials > 1000000) {
    throw ConfigError(fmt::format("--trials: must be an integer in [1, 1000000], got {}", args.trials));
  }
  if (args.seed < 0) throw ConfigError(fmt::format("--seed: must be >= 0, got {}", args.seed));

  auto source = std::make_shared<ConfigSource>(config_path.string());
  const YAML::Node root = eval_config(args, config_path.string(), *source);
  const train::RunConfig rc = train::parse_run_config(root, source, reg, "eval");
  const tasks::Task& task = *rc.task;

  // The network, from its saved weights.
  const std::shared_ptr<models::Model> model = rc.model->build(1);
  for (const auto& p : rc.model->parameters()) {
    const fs::path file = run_dir / "weights" / (p.name + "_" + args.which + ".npy");
    if (!fs::is_regular_file(file)) {
      throw ConfigError(fmt::format("{}: missing (the run's {} weights; a run that failed before training has none)",
                                    file.string(), args.which));
    }
    const torch::Tensor w = read_npy(file.string());
    if (w.sizes().vec() != p.shape) {
      throw ConfigError(fmt::format("{}: {} is {}, but {} on task {} ({} inputs, {} outputs) needs {}: the network "
                                    "was trained for other input or output sizes",
                                    file.string(), p.name, shape_text(w.sizes().vec()),
                                    rc.resolved["model"]["name"].as<std::string>("the model"), task.name(),
                                    task.input_size(), task.output_size(), shape_text(p.shape)));
    }
    torch::NoGradGuard no_grad;
    model->weight(p.name)[0].copy_(w.to(torch::kFloat));
  }

  // Fresh trials from the eval seed's own stream, and the network's response.
  const double hidden = static_cast<double>(model->hidden_size());
  const double floats = static_cast<double>(task.steps()) * static_cast<double>(args.trials) *
                        (task.input_size() + 2.0 * hidden + 2.0 * task.output_size() + 2.0);
  if (const std::string shortfall = memory_shortfall(4.0 * floats); !shortfall.empty()) {
    throw ConfigError(fmt::format("--trials {}: the trials and hidden states {}", args.trials, shortfall));
  }
  at::Generator gen = stream_generator(static_cast<uint64_t>(args.seed), "eval");
  const tasks::TrialBatch batch = task.sample(args.trials, gen);
  const tasks::TrialBatch members = tasks::stack_members({batch});
  models::ModelOutput out;
  {
    torch::NoGradGuard no_grad;
    out = model->forward(members.inputs);
  }
  const double loss = tasks::task_loss(task.loss(), out.logits, members).item<double>();
  const bool classification = task.loss() == tasks::LossKind::cross_entropy;
  const tasks::DecisionWindow window = task.decision();
  ordered_json summary{{"loss", loss}};
  torch::Tensor correct;  // [trials]: fraction of the trial's decision steps answered correctly
  if (classification) {
    const torch::Tensor logits = out.logits.select(1, 0).slice(0, window.begin, window.end);  // [D, B, O]
    const torch::Tensor targets = batch.targets.slice(0, window.begin, window.end);              // [D, B]
    correct = logits.argmax(-1).eq(targets).to(torch::kDouble).mean(0);
    summary["accuracy"] = correct.mean().item<double>();
  } else {
    summary["accuracy"] = nullptr;
  }

  // Accuracy per value of each per-trial variable (at most 50 values; "index" is not one).
  ordered_json per_condition = ordered_json::object();
  if (classification) {
    for (const auto& [name, values] : batch.trial_vars) {
      if (name == "index" || values.dim() != 1 || values.size(0) != args.trials) continue;
      ordered_json rows = means_by_value(values.to(torch::kDouble), correct, "value", "accuracy", 50);
      if (!rows.is_null()) per_condition[name] = std::move(rows);
    }
  }

  // 2AF's psychometric curve: the fraction of trials answered with the second choice at the
  // last decision step, per signed coherence (+c when the second choice is right, -c otherwise).
  ordered_json psychometric;
  const auto gt = batch.trial_vars.find("ground_truth"), coh = batch.trial_vars.find("coherence");
  if (classification && gt != batch.trial_vars.end() && coh != batch.trial_vars.end() && task.output_size() == 3) {
    const torch::Tensor signed_coherence =
        torch::where(gt->second.eq(1), coh->second.to(torch::kDouble), -coh->second.to(torch::kDouble)) + 0.0;  // no -0
    const torch::Tensor choice = out.logits.select(1, 0)[window.end - 1].argmax(-1);  // [B]
    const torch::Tensor second = choice.eq(2).to(torch::kDouble);
    psychometric = {{"choice", task.output_names().at(2)},
                    {"points", means_by_value(signed_coherence, second, "signed_coherence", "fraction_chosen")}};
  }

  // Written into a staging folder and renamed into place: complete or absent.
  const fs::path out_dir = args.out_dir.empty()
                               ? run_dir / "eval" / fmt::format("{}-{}-seed{}", args.which, task.name(), args.seed)
                               : fs::path(args.out_dir);
  if (fs::exists(out_dir)) {
    throw ConfigError(fmt::format("{}: exists (choose another --out, or remove it)", out_dir.string()));
  }
  fs::create_directories(out_dir.parent_path().empty() ? fs::path(".") : out_dir.parent_path());
  const fs::path staging = out_dir.string() + fmt::format(".tmp-{}", ::getpid());
  fs::remove_all(staging);
  fs::create_directories(staging);
  ordered_json files = ordered_json::object();
  try {
    write_trial_arrays(staging.string(), task, batch, files);
    write_indexed_npy(staging.string(), "logits", out.logits.select(1, 0),
                      "[T, trials, n_outputs], the readout at every step", files);
    write_indexed_npy(staging.string(), "hidden", out.hidden.select(1, 0),
                      "[T, trials, hidden units], the hidden state after each step", files);
    const ordered_json index{{"run_dir", fs::absolute(run_dir).lexically_normal().string()},
                             {"which", args.which},
                             {"task", node_text(rc.resolved["task"])},
                             {"task_name", task.name()},
                             {"trials", args.trials},
                             {"seed", args.seed},
                             {"seed_stream", "eval"},
                             {"steps", task.steps()},
                             {"decision", {window.begin, window.end}},
                             {"output_names", task.output_names()},
                             {"scores", summary},
                             {"accuracy_per_condition", per_condition},
                             {"psychometric", psychometric},
                             {"files", files}};
    write_file_atomic((staging / "index.json").string(), index.dump(2) + "\n");
    fs::rename(staging, out_dir);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    throw;
  }

  // What it found, on the terminal.
  std::string text = fmt::format("{} network of {} on {} trials of {} (seed {}): loss {:.4g}", args.which,
                                 args.run_dir, args.trials, task.name(), args.seed, loss);
  if (classification) text += fmt::format(", accuracy {:.4f}", summary["accuracy"].get<double>());
  text += "\n";
  for (const auto& [name, rows] : per_condition.items()) {
    text += fmt::format("  accuracy by {}:", name);
    for (const auto& r : rows) {
      text += fmt::format(" {} {:.3f} ({})", value_text(r["value"].get<double>()), r["accuracy"].get<double>(),
                          r["trials"].get<int64_t>());
    }
    text += "\n";
  }
  if (!psychometric.is_null()) {
    text += fmt::format("  psychometric (fraction '{}' by signed coherence):", psychometric["choice"].get<std::string>());
    for (const auto& r : psychometric["points"]) {
      text += fmt::format(" {} {:.3f}", value_text(r["signed_coherence"].get<double>()),
                          r["fraction_chosen"].get<double>());
    }
    text += "\n";
  }
  text += fmt::format("-> {}/ (index.json, {} .npy files)\n", out_dir.string(), files.size());
  std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace richlazy::apps
