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
YAML::Node eval_config(const std::string& task_name, const std::vector<TaskOption>& options,
                       const std::string& config_path, ConfigSource& source) {
  YAML::Node root = load_yaml_file(config_path);
  if (!root.IsMap()) throw ConfigError(config_path + ": not a run's config (expected a YAML map)");
  const YAML::Node train = static_cast<const YAML::Node&>(root)["train"];
  const bool sequence = train.IsDefined() && train.IsMap() && train["phases"].IsDefined() && !train["phases"].IsNull();
  if (sequence && !options.empty()) {
    throw ConfigError(fmt::format("--task options: {} trained a task sequence (train.phases): choose one of its tasks "
                                  "by label with --task LABEL, with the options it was trained with",
                                  config_path));
  }
  if (!task_name.empty() && !sequence) {
    YAML::Node spec(YAML::NodeType::Map);
    spec["name"] = task_name;
    root["task"] = spec;
    source.set_origin("task.name", "--task " + task_name);
  }
  for (const auto& o : options) {
    if (!root["task"].IsMap()) root["task"] = YAML::Node(YAML::NodeType::Map);
    root["task"][o.key] = o.value;
    source.set_origin("task." + o.key, o.origin);
  }
  root.remove("init");
  root.remove("sweep");
  root.remove("pilot");
  root.remove("report");
  // No metrics, but the run's probe set (Network.probe_trials in Python draws it again).
  YAML::Node metrics(YAML::NodeType::Map);
  metrics["names"] = YAML::Load("[loss]");
  for (const char* key : {"probe_trials", "kernel_trials"}) {
    if (root["metrics"].IsMap() && root["metrics"][key].IsDefined()) metrics[key] = root["metrics"][key];
  }
  root["metrics"] = metrics;
  root["device"] = "cpu";
  return root;
}

/// The config of the task evaluated: the run's task, or for a task sequence the task of its
/// first phase with the evaluated label.
YAML::Node task_spec(const train::RunConfig& rc) {
  const YAML::Node& resolved = rc.resolved;
  if (!rc.train.curriculum) return resolved["task"];
  for (const auto& phase : resolved["train"]["phases"]) {
    if (phase["label"].IsDefined() && phase["label"].Scalar() == rc.task->name()) return phase["task"];
  }
  return YAML::Node();
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

SavedNetwork load_saved_network(const std::string& run_dir_text, const std::string& which, const std::string& task_name,
                                const std::vector<TaskOption>& options, const Registries& reg) {
  const fs::path run_dir(run_dir_text);
  const fs::path config_path = run_dir / "config.yaml";
  if (!fs::is_regular_file(config_path) || !fs::is_directory(run_dir / "weights")) {
    throw ConfigError(fmt::format("{}: not a run folder (expected config.yaml and weights/ in it: DIR/<experiment>/"
                                  "runs/<run_id>)",
                                  run_dir_text));
  }
  if (which != "init" && which != "final") {
    throw ConfigError(fmt::format("--which: must be init or final, got '{}'", which));
  }
  auto source = std::make_shared<ConfigSource>(config_path.string());
  const YAML::Node root = eval_config(task_name, options, config_path.string(), *source);
  SavedNetwork net{train::parse_run_config(root, source, reg, "eval"), nullptr};
  const train::SequenceTask* head = nullptr;  // a task sequence's task: its channels and head
  if (const auto& c = net.config.train.curriculum) {
    const std::string label = task_name.empty() ? c->tasks.at(c->phases.front().task).label : task_name;
    std::vector<std::string> labels;
    for (const auto& t : c->tasks) {
      labels.push_back(t.label);
      if (t.label == label) head = &t;
    }
    if (!head) {
      throw ConfigError(fmt::format("--task: '{}' is not a task of {}'s sequence (train.phases); its tasks are {}",
                                    label, run_dir_text, join_names(labels)));
    }
    net.config.task = head->task;
  }
  const train::RunConfig& rc = net.config;
  const tasks::Task& task = *rc.task;
  net.model = rc.model->build(1);
  if (head) net.model->select_outputs(head->head_offset, head->head_size);
  for (const auto& p : rc.model->parameters()) {
    const fs::path file = run_dir / "weights" / (p.name + "_" + which + ".npy");
    if (!fs::is_regular_file(file)) {
      throw ConfigError(fmt::format("{}: missing (the run's {} weights; a run that failed before training has none)",
                                    file.string(), which));
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
    net.model->weight(p.name)[0].copy_(w.to(torch::kFloat));
  }
  return net;
}

Evaluation evaluate_network(const EvalArgs& args, const Registries& reg) {
  if (args.trials < 1 || args.trials > 1000000) {
    throw ConfigError(fmt::format("--trials: must be an integer in [1, 1000000], got {}", args.trials));
  }
  if (args.seed < 0) throw ConfigError(fmt::format("--seed: must be >= 0, got {}", args.seed));
  Evaluation ev{load_saved_network(args.run_dir, args.which, args.task, args.options, reg), {}, {}, {}, {}, {}};
  const train::RunConfig& rc = ev.network.config;
  const tasks::Task& task = *rc.task;
  models::Model& model = *ev.network.model;

  // Fresh trials from the eval seed's own stream, and the network's response.
  const double hidden = static_cast<double>(model.hidden_size());
  const double floats = static_cast<double>(task.steps()) * static_cast<double>(args.trials) *
                        (task.input_size() + 2.0 * hidden + 2.0 * task.output_size() + 2.0);
  if (const std::string shortfall = memory_shortfall(4.0 * floats); !shortfall.empty()) {
    throw ConfigError(fmt::format("--trials {}: the trials and hidden states {}", args.trials, shortfall));
  }
  at::Generator gen = stream_generator(static_cast<uint64_t>(args.seed), "eval");
  ev.batch = task.sample(args.trials, gen);
  const tasks::TrialBatch& batch = ev.batch;
  const tasks::TrialBatch members = tasks::stack_members({batch});
  models::ModelOutput out;
  {
    torch::NoGradGuard no_grad;
    out = model.forward(members.inputs);
  }
  ev.logits = out.logits.select(1, 0);
  ev.hidden = out.hidden.select(1, 0);
  const double loss = tasks::task_loss(task.loss(), out.logits, members).item<double>();
  const bool classification = task.loss() == tasks::LossKind::cross_entropy;
  const tasks::DecisionWindow window = task.decision();
  ordered_json summary{{"loss", loss}};
  torch::Tensor correct;  // [trials]: fraction of the trial's decision steps answered correctly
  if (classification) {
    const torch::Tensor logits = ev.logits.slice(0, window.begin, window.end);    // [D, B, O]
    const torch::Tensor targets = batch.targets.slice(0, window.begin, window.end);  // [D, B]
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
    const torch::Tensor choice = ev.logits[window.end - 1].argmax(-1);  // [B]
    const torch::Tensor second = choice.eq(2).to(torch::kDouble);
    psychometric = {{"choice", task.output_names().at(2)},
                    {"points", means_by_value(signed_coherence, second, "signed_coherence", "fraction_chosen")}};
  }
  ev.index = ordered_json{{"run_dir", fs::absolute(args.run_dir).lexically_normal().string()},
                          {"which", args.which},
                          {"task", node_text(task_spec(rc))},
                          {"task_name", task.name()},
                          {"trials", args.trials},
                          {"seed", args.seed},
                          {"seed_stream", "eval"},
                          {"steps", task.steps()},
                          {"decision", {window.begin, window.end}},
                          {"output_names", task.output_names()},
                          {"scores", summary},
                          {"accuracy_per_condition", per_condition},
                          {"psychometric", psychometric}};

  // What it found, in words.
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
  ev.text = std::move(text);
  return ev;
}

std::string default_eval_dir(const EvalArgs& args, const Evaluation& ev) {
  return (fs::path(args.run_dir) / "eval" /
          fmt::format("{}-{}-seed{}", args.which, ev.network.config.task->name(), args.seed))
      .string();
}

std::size_t write_evaluation(const Evaluation& ev, const std::string& out_text) {
  // Written into a staging folder and renamed into place: complete or absent.
  const fs::path out_dir(out_text);
  if (fs::exists(out_dir)) {
    throw ConfigError(fmt::format("{}: exists (choose another --out, or remove it)", out_dir.string()));
  }
  fs::create_directories(out_dir.parent_path().empty() ? fs::path(".") : out_dir.parent_path());
  const fs::path staging = out_dir.string() + fmt::format(".tmp-{}", ::getpid());
  fs::remove_all(staging);
  fs::create_directories(staging);
  ordered_json files = ordered_json::object();
  try {
    write_trial_arrays(staging.string(), *ev.network.config.task, ev.batch, files);
    write_indexed_npy(staging.string(), "logits", ev.logits, "[T, trials, n_outputs], the readout at every step",
                      files);
    write_indexed_npy(staging.string(), "hidden", ev.hidden,
                      "[T, trials, hidden units], the hidden state after each step", files);
    ordered_json index = ev.index;
    index["files"] = files;
    write_file_atomic((staging / "index.json").string(), index.dump(2) + "\n");
    fs::rename(staging, out_dir);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    throw;
  }
  return files.size();
}

int command_eval(const EvalArgs& args, const Registries& reg) {
  const Evaluation ev = evaluate_network(args, reg);
  const std::string out_dir = args.out_dir.empty() ? default_eval_dir(args, ev) : args.out_dir;
  const std::size_t files = write_evaluation(ev, out_dir);
  std::fputs((ev.text + fmt::format("-> {}/ (index.json, {} .npy files)\n", out_dir, files)).c_str(), stdout);
  return 0;
}

}  // namespace richlazy::apps
