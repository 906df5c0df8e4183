// train/run_config.cpp: the config schema and its validation.
#include <richlazy/train/run_config.h>

#include <richlazy/core/config_error.h>
#include <richlazy/core/csv.h>
#include <richlazy/core/device.h>
#include <richlazy/core/sweep_keys.h>
#include <richlazy/tasks/embedded_task.h>
#include <richlazy/train/packing.h>

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <tuple>
#include <regex>
#include <set>

namespace richlazy::train {

const std::vector<ParamSpec>& config_schema() {
  static const std::vector<ParamSpec> specs{
      {"experiment", "null", "name of the output folder DIR/<experiment>; default: the config file's name"},
      {"seed", "0", "seed of every random stream of a run (integer >= 0)"},
      {"device", "auto", "cpu | cuda | auto (CUDA when available)"},
      {"task", "{name: 2AF}", "the task: {name: <task>, ...options} (richlazy list tasks)"},
      {"model", "{name: ctrnn}", "the model: {name: <model>, ...options} (richlazy list models)"},
      {"init", "{}", "parameter name -> initializer spec {name: <initializer>, ...options}; "
                     "unnamed parameters keep the model's default"},
      {"train", "{}", "training options (see train.*)"},
      {"metrics", "{}", "logged metrics (see metrics.*)"},
      {"sweep", "{}", "dotted key -> list of values; the runs are the cartesian product"},
      {"report", "{}", "how `richlazy report` lays out its figures: {x: <swept key>, metrics: [...]}: x puts "
                       "that key on the x axis (default: the first swept initialization key) and the others in "
                       "series; metrics, the final values drawn against it (`richlazy report --metrics` overrides)"},
      {"pilot", "null", "a pilot stage trained before the sweep, into DIR/<experiment>/pilot: "
                        "{set: {dotted.key: value, ...}, keep: [sweep keys]}: this config with `set` "
                        "applied, one run per value of the kept sweep keys (default [seed]); "
                        "initializers read a run's pilot (solution_aligned run: pilot)"},
  };
  return specs;
}

const std::vector<ParamSpec>& train_schema() {
  static const std::vector<ParamSpec> specs{
      {"iterations", "10000", "optimizer updates"},
      {"batch_size", "null", "trials per update; default: the task's (32, or 200 for sfmnist)"},
      {"optimizer", "{name: sgd}", "{name: sgd | adam, ...options} (richlazy list optimizers)"},
      {"pack", "auto", "networks trained together as one pack: auto (when that is faster on the "
                       "device), or at most this many (1 = every run alone); results do not depend on it"},
      {"cuda_graph", "true", "on a GPU, record an iteration as a CUDA graph and replay it (faster; "
                             "the same arithmetic)"},
      {"checkpoint_every", "0", "save each run's training state (weights, optimizer, random stream, metric "
                                "hooks) every this many updates into runs/<id>/checkpoint.pt, keeping the last, "
                                "so that `richlazy run --resume` continues a killed run from it; 0 = never"},
      {"tf32", "false", "on a GPU, let float32 matrix products use TF32 (faster, about 3 decimal "
                        "digits; the default keeps exact float32, so CPU and GPU runs agree)"},
      {"phases", "null", "a task sequence (continual learning), trained one phase after the other in one "
                         "network: [{task: {name: ...}, iterations: N, label: L}, ...]; replaces task: and "
                         "train.iterations. Each task has its own input channels (zero while another runs) "
                         "and is scored on its own held-out trials (test_accuracy@L) throughout"},
      {"readout", "per_task", "with phases: per_task (each task its own readout head) | shared (the tasks "
                              "share the readout's first outputs)"},
      {"phase_optimizer", "reset", "with phases: reset (a fresh optimizer state at each phase boundary) | keep"},
  };
  return specs;
}

const std::vector<ParamSpec>& metrics_schema() {
  static const std::vector<ParamSpec> specs{
      {"every", "500", "log the metrics every this many updates (and at step 0 and the end)"},
      {"schedule", "every", "every: log every `every` updates; log: also at 1, 2, 5, 10, 20, 50, 100, ... "
                            "updates, to see learning's first steps"},
      {"probe_trials", "320", "fixed probe trials for rep_alignment and sign_similarity"},
      {"kernel_trials", "32", "the first this many probe trials form the tangent kernel"},
      {"test_trials", "2000", "held-out trials for test_loss / test_accuracy when the task has no "
                              "test split of its own"},
      {"names", "[loss, accuracy, dw_rec, dw_rec_rel, dw_in, dw_out]",
       "metrics to log, in column order (richlazy list metrics)"},
  };
  return specs;
}

namespace {
/// Columns that metrics.csv (step) and summary.csv (run_id, status, steps, timings) write
/// themselves, so no metric may be called so.
const std::vector<std::string>& reserved_columns() {
  static const std::vector<std::string> names{"step",           "run_id",           "status",
                                              "steps",          "wall_seconds",     "ms_per_iteration",
                                              "metric_seconds", "init_spectral_radius", "init_erank_eig",
                                              "init_loss",      "init_hidden_norm_ratio", "init_grad_norm"};
  return names;
}

bool column_character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '@' || c == '-';
}

/// Why `column` cannot name a metric column ("" when it can). `own` is the metric's own name,
/// which its column may repeat; `sweep_keys` are summary.csv's other columns.
std::string column_problem(const std::string& column, const std::string& own, const Registries& reg,
                           const std::vector<std::string>& sweep_keys) {
  if (column.size() > 100) return "is longer than 100 characters";
  if (column.empty() || !std::all_of(column.begin(), column.end(), column_character)) {
    return "must be a column name of letters, digits and _ . @ - (it heads a column of "
           "metrics.csv and summary.csv)";
  }
  const auto& reserved = reserved_columns();
  if (std::find(reserved.begin(), reserved.end(), column) != reserved.end()) {
    return fmt::format("is a column richlazy writes itself ({}); choose another name", join_names(reserved));
  }
  if (column != own && reg.metrics.find(column)) {
    return fmt::format("is the name of another metric ({}), whose column it would pass for; choose another name",
                       column);
  }
  if (std::find(sweep_keys.begin(), sweep_keys.end(), column) != sweep_keys.end()) {
    return "is a swept key, which has a column of its own in summary.csv; choose another name";
  }
  return "";
}

/// A sequence's label of a task: a column suffix (test_accuracy@<label>).
bool label_ok(const std::string& label) {
  return !label.empty() && label.size() <= 40 &&
         std::all_of(label.begin(), label.end(), [](char c) { return column_character(c) && c != '@'; });
}

/// train.phases: the sequence's tasks (each distinct label once, in order of first use),
/// embedded in the network's shared inputs with their heads, and the phases. Returns the
/// curriculum and the model's shape.
std::pair<std::shared_ptr<Curriculum>, models::TaskShape> parse_phases(Params& train, const Registries& reg) {
  const YAML::Node list = train.raw("phases");
  if (!list.IsSequence() || list.size() == 0) {
    train.fail("phases", "must be a non-empty list of phases {task: {name: ...}, iterations: N}");
  }
  struct Slot {
    std::string label, identity;
    std::shared_ptr<const tasks::Task> task;
    std::size_t phase = 0;  ///< where it first appears
  };
  std::vector<Slot> slots;
  auto curriculum = std::make_shared<Curriculum>();
  YAML::Node resolved(YAML::NodeType::Sequence);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = fmt::format("{}[{}]", train.key_path("phases"), i);
    if (!list[i].IsMap()) train.source().fail(path, list[i].Mark(), "must be a map {task: {name: ...}, iterations: N}");
    Params ph(list[i], path, train.source_ptr(),
              {{"task", "{}", "the task this phase trains: {name: <task>, ...options}"},
               {"iterations", "", "optimizer updates of this phase"},
               {"label", "null", "the task's name in column suffixes (default: the task's name)"}});
    ph.require(ph.has("task"), "task", "is required: the task this phase trains");
    Params task_section = ph.child("task", {});
    std::shared_ptr<const tasks::Task> task = reg.tasks.create(task_section);
    Phase phase;
    phase.iterations = ph.get_int("iterations", 1, 1000000000);
    std::string label = task->name();
    if (ph.raw("label").IsNull()) {
      // A task's own name (a Python task's may be anything) must make a column suffix too.
      ph.require(label_ok(label), "label",
                 fmt::format("is needed: the task's name '{}' cannot end a column name (letters, digits and _ . - "
                             "only)", printable(label)));
      ph.set_resolved("label", YAML::Node(label));
    } else {
      label = ph.get_string("label");
      ph.require(label_ok(label), "label", "must be a short name of letters, digits and _ . - (it ends column names)");
    }
    YAML::Emitter emitter;
    emitter << YAML::Flow << task_section.resolved();
    const std::string identity = emitter.c_str();
    ph.finish();
    auto same = std::find_if(slots.begin(), slots.end(), [&](const Slot& s) { return s.label == label; });
    if (same == slots.end()) {
      slots.push_back({label, identity, task, i});
      phase.task = static_cast<int64_t>(slots.size()) - 1;
    } else {
      if (same->identity != identity) {
        ph.fail_bare(ph.has("label") ? "label" : "task",
                     fmt::format("names the task '{}' of phase {}, with other options ({} there, {} here): give one of "
                                 "them its own label",
                                 label, same->phase, same->identity, identity));
      }
      phase.task = same - slots.begin();
    }
    curriculum->phases.push_back(phase);
    resolved.push_back(ph.resolved());
  }
  train.set_resolved("phases", resolved);
  const bool shared = train.get_choice("readout", {"per_task", "shared"}) == "shared";
  curriculum->reset_optimizer = train.get_choice("phase_optimizer", {"reset", "keep"}) == "reset";
  models::TaskShape shape{0, 0, slots.front().task->dt_ms()};
  std::vector<std::string> channels;
  for (const Slot& s : slots) {
    if (s.task->dt_ms() != shape.dt_ms) {
      train.source().fail(fmt::format("{}[{}].task", train.key_path("phases"), s.phase), list[s.phase]["task"].Mark(),
                          fmt::format("has dt_ms {}, the first task {}: the tasks of a sequence share one network "
                                      "and its time step",
                                      format_number(s.task->dt_ms()), format_number(shape.dt_ms)));
    }
    for (const auto& name : s.task->input_names()) channels.push_back(s.label + ":" + name);
    shape.inputs += s.task->input_size();
    shape.outputs = shared ? std::max(shape.outputs, s.task->output_size()) : shape.outputs + s.task->output_size();
  }
  int64_t in_offset = 0, out_offset = 0;
  for (const Slot& s : slots) {
    SequenceTask t;
    t.label = s.label;
    t.task = std::make_shared<tasks::EmbeddedTask>(s.task, s.label, in_offset, shape.inputs, channels);
    t.head_offset = shared ? 0 : out_offset;
    t.head_size = s.task->output_size();
    in_offset += s.task->input_size();
    out_offset += s.task->output_size();
    curriculum->tasks.push_back(std::move(t));
  }
  return {curriculum, shape};
}

/// What it takes to make a run's metric hooks again (see RunConfig::make_metrics).
struct MetricsRecipe {
  YAML::Node section;  ///< the metrics: section as validated, a tree of its own
  std::shared_ptr<const ConfigSource> source;
  const Registries* registries = nullptr;  ///< outlives every config parsed with it
  std::vector<models::ParameterInfo> parameters;
  std::shared_ptr<const tasks::Task> task;
  std::string model;
  std::vector<std::string> sweep_keys;
  bool population_kernel = false;
};

std::mutex& shared_yaml_mutex() {
  static std::mutex m;
  return m;
}

std::vector<NamedHook> parse_metrics(Params& section, const Registries& reg,
                                     const metrics::MetricTarget& target,
                                     const std::vector<std::string>& sweep_keys) {
  YAML::Node names = section.raw("names");
  const std::string rule = "must be a non-empty list of metric names";
  if (!names.IsSequence() || names.size() == 0) section.fail("names", rule);
  std::vector<NamedHook> hooks;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const YAML::Node item = names[i];
    const std::string path = fmt::format("{}[{}]", section.key_path("names"), i);
    YAML::Node spec;
    std::string name;
    if (item.IsScalar()) {
      name = item.Scalar();
      spec = YAML::Node(YAML::NodeType::Map);
      spec["name"] = name;
    } else if (item.IsMap() && item["name"].IsDefined() && item["name"].IsScalar()) {
      name = item["name"].Scalar();
      spec.reset(item);
    } else {
      section.source().fail(path, item.Mark(), "must be a metric name or {name: ..., ...}");
    }
    if (!reg.metrics.find(name)) {
      section.source().fail(path, item.Mark(), reg.metrics.unknown_message(name));
    }
    Params p(spec, path, section.source_ptr(), {});
    p.set_fallback_mark(item.Mark());  // a bare name has no position of its own
    // `as:` renames the column (e.g. two `dw` metrics of different weights). It is handled
    // here, so the metric's own options never see it.
    std::string column = name;
    const YAML::Node as = static_cast<const YAML::Node&>(spec)["as"];
    if (as.IsDefined()) {
      if (!as.IsScalar() || as.Scalar().empty()) {
        section.source().fail(path + ".as", as.Mark(), "must be a column name");
      }
      column = as.Scalar();
      p.set_resolved("as", as);
    }
    if (!seen.insert(column).second) {
      section.source().fail(path, item.Mark(),
                            "repeats the column " + printable(column) + " (name it differently with as:)");
    }
    if (const std::string problem = column_problem(column, name, reg, sweep_keys); !problem.empty()) {
      if (as.IsDefined()) {
        section.source().fail(path + ".as", as.Mark(), fmt::format("{}, got '{}'", problem, printable(column)));
      }
      // A metric registered from outside richlazy under a name that cannot head a column.
      section.source().fail(path, item.Mark(), fmt::format("names the metric '{}', which {}; rename its column "
                                                           "with as:", printable(column), problem));
    }
    hooks.push_back({column, reg.metrics.create(p, target)});
  }
  return hooks;
}
}  // namespace

RunConfig parse_run_config(const YAML::Node& root, std::shared_ptr<const ConfigSource> source,
                           const Registries& reg, const std::string& default_experiment) {
  if (!root.IsMap()) {
    source->fail("", root.Mark(), "must be a YAML map of keys (experiment, task, model, ...)");
  }
  Params p(root, "", source, config_schema());
  RunConfig rc;

  if (p.has("experiment")) {
    rc.experiment = p.get_string("experiment");
    static const std::regex ok("[A-Za-z0-9_.+-]+");
    p.require(std::regex_match(rc.experiment, ok) && rc.experiment != "." && rc.experiment != "..",
              "experiment", "must be a folder name (letters, digits, _ . + -)");
  } else {
    rc.experiment = default_experiment;
    p.set_resolved("experiment", YAML::Node(rc.experiment));
  }
  rc.seed = static_cast<uint64_t>(p.get_int("seed", 0));
  rc.device_choice = p.get_choice("device", device_choices());
  if (rc.device_choice == "cuda" && !cuda_available()) {
    p.fail_bare("device", "is cuda, but this LibTorch build sees no CUDA device (use cpu or auto)");
  }
  rc.device = resolve_device(rc.device_choice, source->file());

  // A task sequence (train.phases) names its tasks in its phases: its train section is read
  // first, since the tasks make the model's shape.
  const YAML::Node train_node = root["train"];
  // (A missing key of a const node is invalid: only IsDefined may be asked of it.)
  const bool phased = train_node.IsDefined() && train_node.IsMap() && train_node["phases"].IsDefined() &&
                      !train_node["phases"].IsNull();
  std::optional<Params> train_section;
  models::TaskShape shape;
  std::shared_ptr<Curriculum> curriculum;
  if (phased) {
    if (p.has("task")) p.fail_key("task", "is set, and so is train.phases, whose phases name their tasks: keep one");
    p.skip("task");
    train_section.emplace(p.child("train", train_schema()));
    std::tie(curriculum, shape) = parse_phases(*train_section, reg);
    rc.task = curriculum->tasks[curriculum->phases.front().task].task;
  } else {
    Params task = p.child("task", {});
    rc.task = reg.tasks.create(task);
    shape = models::TaskShape{rc.task->input_size(), rc.task->output_size(), rc.task->dt_ms()};
  }

  Params model = p.child("model", {});
  rc.model = reg.models.create(model, shape);
  if (phased && !rc.model->output_heads()) {
    model.fail_bare("name", "is a model without output heads, which train.phases needs (one readout head per "
                            "task): use ctrnn");
  }
  const auto parameters = rc.model->parameters();

  Params init = p.child("init", {});
  const bool has_pilot = root["pilot"].IsDefined() && !root["pilot"].IsNull();
  rc.init = init::plan_initializers(init, parameters, reg.initializers, rc.task.get(), rc.model.get(), has_pilot);
  init.finish();

  if (!train_section) train_section.emplace(p.child("train", train_schema()));
  Params& train = *train_section;
  if (curriculum) {
    int64_t total = 0;
    for (const Phase& ph : curriculum->phases) total += ph.iterations;
    train.require(total <= 1000000000, "phases", fmt::format("add up to {} iterations, over 1,000,000,000", total));
    train.require(!train.has("iterations") || train.get_int("iterations") == total, "iterations",
                  fmt::format("is set by train.phases (the sum of their iterations, {}): remove it", total));
    rc.train.iterations = total;
    train.set_resolved("iterations", YAML::Node(total));
    rc.train.curriculum = curriculum;
  } else {
    train.skip("phases");  // null
    for (const char* key : {"readout", "phase_optimizer"}) {
      train.require(!train.has(key), key, "needs train.phases (a task sequence)");
    }
    rc.train.iterations = train.get_int("iterations", 1, 1000000000);
  }
  if (train.has("batch_size") && !train.node()["batch_size"].IsNull()) {
    rc.train.batch_size = train.get_int("batch_size", 1, 1000000);
  } else {
    rc.train.batch_size = rc.task->default_batch_size();
    train.set_resolved("batch_size", YAML::Node(rc.train.batch_size));
  }
  Params optimizer = train.child("optimizer", {});
  rc.optimizer = reg.optimizers.create(optimizer);
  rc.train.cuda_graph = train.get_bool("cuda_graph");
  rc.train.checkpoint_every = train.get_int("checkpoint_every", 0, 1000000000);
  rc.tf32 = train.get_bool("tf32");
  const YAML::Node pack = train.raw("pack");
  if (!pack.IsScalar() || pack.Scalar() != "auto") {
    const bool ok = pack.IsScalar() && YAML::convert<int64_t>::decode(pack, rc.pack) && rc.pack >= 1 &&
                    rc.pack <= 4096;
    train.require(ok, "pack", "must be auto or an integer in [1, 4096]");
  }
  train.finish();

  Params metrics = p.child("metrics", metrics_schema());
  rc.train.log_every = metrics.get_int("every", 1);
  rc.train.log_schedule = metrics.get_choice("schedule", {"every", "log"}) == "log";
  rc.train.probe_trials = metrics.get_int("probe_trials", 1, 1000000);
  rc.train.kernel_trials = metrics.get_int("kernel_trials", 1, rc.train.probe_trials);
  rc.train.test_trials = metrics.get_int("test_trials", 1, 10000000);
  const YAML::Node model_name = model.node()["name"];
  std::vector<std::string> sweep_keys;  // summary.csv's columns for them
  if (const YAML::Node sweep = root["sweep"]; sweep.IsDefined() && sweep.IsMap()) {
    for (const auto& kv : sweep) {
      if (kv.first.IsScalar()) sweep_keys.push_back(kv.first.Scalar());
    }
  }
  // Validated here, once; each pack makes fresh hooks from the same section when it starts.
  auto recipe = std::make_shared<MetricsRecipe>();
  recipe->section = YAML::Clone(metrics.node());
  recipe->source = source;
  recipe->registries = &reg;
  recipe->parameters = parameters;
  recipe->task = rc.task;
  recipe->model = model_name.IsScalar() ? "model " + model_name.Scalar() : "the model";
  recipe->sweep_keys = sweep_keys;
  recipe->population_kernel = rc.model->has_population_kernel() && rc.task->whitened_gaussian_inputs();
  std::vector<std::string> metric_names;
  for (const NamedHook& h : parse_metrics(metrics, reg,
                                          metrics::MetricTarget{parameters, *rc.task, recipe->model,
                                                                recipe->population_kernel},
                                          sweep_keys)) {
    metric_names.push_back(h.name);
  }
  if (curriculum) {
    // The sequence's own columns are written by the trainer and the summary.
    std::vector<std::string> own = curriculum->row_columns();
    for (const auto& c : curriculum->summary_columns()) own.push_back(c);
    for (const auto& m : metric_names) {
      if (std::find(own.begin(), own.end(), m) != own.end()) {
        metrics.fail_bare("names", fmt::format("logs a column '{}', which train.phases writes itself; rename it "
                                               "with as:", m));
      }
    }
    metric_names.insert(metric_names.end(), own.begin(), own.end());  // the report may draw them
  }
  metrics.finish();
  rc.make_metrics = [recipe = std::shared_ptr<const MetricsRecipe>(recipe)] {
    // Runs that differ only in their seed share the recipe, and packs start on many threads:
    // yaml-cpp nodes are not safe to read from two threads at once.
    std::lock_guard<std::mutex> lock(shared_yaml_mutex());
    Params section(YAML::Clone(recipe->section), "metrics", recipe->source, metrics_schema());
    return parse_metrics(section, *recipe->registries,
                         metrics::MetricTarget{recipe->parameters, *recipe->task, recipe->model,
                                               recipe->population_kernel},
                         recipe->sweep_keys);
  };

  {
    Params report = p.child("report", {{"x", "null", "the swept key on the report's x axis"},
                                       {"metrics", "null", "the metrics whose final values the report draws against "
                                                           "x (default: dw_rec, rep_alignment and kernel_alignment "
                                                           "where logged)"}});
    if (!report.raw("metrics").IsNull()) {
      for (const auto& m : report.get_string_list("metrics")) {
        const bool known = std::find(metric_names.begin(), metric_names.end(), m) != metric_names.end();
        report.require(known, "metrics", fmt::format("must name logged metrics ({}); '{}' is not one",
                                                     join_names(metric_names), m));
      }
    }
    const YAML::Node x = report.raw("x");
    if (!x.IsNull()) {
      const std::string key = report.get_string("x");
      const bool swept = std::find(sweep_keys.begin(), sweep_keys.end(), key) != sweep_keys.end();
      report.require(swept, "x", sweep_keys.empty() ? std::string("must be a key of sweep:, and there is no sweep")
                                                    : "must be a key of sweep: (" + join_names(sweep_keys) + ")");
      report.require(!is_seed_key(key), "x", "must not be a seed key: the report averages over seeds");
    }
    report.finish();
  }
  p.skip("sweep");
  p.skip("pilot");  // checked and planned by plan_experiment
  p.finish();
  rc.resolved = p.resolved();
  rc.pack_key = std::make_shared<const std::string>(compute_pack_key(rc));
  return rc;
}

YAML::Node RunConfig::resolved_tree() const {
  YAML::Node tree;
  {
    std::lock_guard<std::mutex> lock(shared_yaml_mutex());
    tree = YAML::Clone(resolved);
  }
  tree["seed"] = seed;
  return tree;
}

RunConfig RunConfig::with_seed(uint64_t new_seed) const {
  RunConfig copy = *this;
  copy.seed = new_seed;
  return copy;
}

}  // namespace richlazy::train
