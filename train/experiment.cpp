// train/experiment.cpp: sweep expansion, validation, and running with the output layout.
#include <richlazy/train/experiment.h>

#include <richlazy/core/allocator.h>
#include <richlazy/core/atomic_file.h>
#include <richlazy/core/blas_check.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/folder_lock.h>
#include <richlazy/core/npy.h>
#include <richlazy/core/progress.h>
#include <richlazy/core/table.h>
#include <richlazy/metrics/probe.h>
#include <richlazy/train/checkpoint.h>
#include <richlazy/train/gather.h>
#include <richlazy/train/summary.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

namespace richlazy::train {

namespace fs = std::filesystem;

// ===========================================================================================
// Planning

namespace {

struct Override {
  std::string key, text, origin;
};

std::vector<Override> parse_overrides(const ExperimentOptions& o) {
  std::vector<Override> out;
  for (const auto& s : o.sets) {
    const auto eq = s.find('=');
    const std::string origin = "--set " + s;
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError(origin + ": expected KEY=VALUE with a dotted key, e.g. "
                                 "--set train.iterations=2000");
    }
    out.push_back({s.substr(0, eq), s.substr(eq + 1), origin});
  }
  if (!o.device.empty()) out.push_back({"device", o.device, "--device " + o.device});
  if (o.pack) out.push_back({"train.pack", *o.pack, "--pack " + *o.pack});
  return out;
}

/// The sweep keys a pilot run is made for (`pilot.keep`, default [seed] when the seed is
/// swept), after checking the `pilot:` block: {set: {dotted.key: value, ...}, keep: [...]}.
std::vector<std::string> pilot_keep(const YAML::Node& root, const ConfigSource& source) {
  const YAML::Node pilot = root["pilot"];
  if (!pilot.IsMap()) {
    source.fail("pilot", pilot.Mark(), "must be a map {set: {dotted.key: value, ...}, keep: [sweep keys]}, got " +
                                           node_text(pilot));
  }
  for (const auto& kv : pilot) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : node_text(kv.first);
    if (key != "set" && key != "keep") {
      source.fail("pilot." + key, kv.first.Mark(), "is not a known key; known keys: set, keep");
    }
  }
  const YAML::Node set = pilot["set"];
  if (!set.IsDefined() || !set.IsMap() || set.size() == 0) {
    source.fail("pilot.set", set.IsDefined() ? set.Mark() : pilot.Mark(),
                "must be a non-empty map of dotted keys to the values the pilot runs use instead, e.g. "
                "{init.W_rec: {name: gaussian}}");
  }
  const YAML::Node sweep = root["sweep"];
  std::vector<std::string> swept;
  if (sweep.IsMap()) {
    for (const auto& kv : sweep) swept.push_back(kv.first.Scalar());
  }
  std::vector<std::string> keep;
  const YAML::Node k = pilot["keep"];
  if (!k.IsDefined() || k.IsNull()) {
    if (std::find(swept.begin(), swept.end(), "seed") != swept.end()) keep.push_back("seed");
  } else {
    if (!k.IsSequence()) source.fail("pilot.keep", k.Mark(), "must be a list of sweep keys, got " + node_text(k));
    for (const auto& item : k) {
      if (!item.IsScalar() || std::find(swept.begin(), swept.end(), item.Scalar()) == swept.end()) {
        source.fail("pilot.keep", item.Mark(), fmt::format("must list keys of sweep: ({}), got {}",
                                                           swept.empty() ? "none" : join_names(swept),
                                                           node_text(item)));
      }
      keep.push_back(item.Scalar());
    }
  }
  for (const auto& kv : set) {
    const std::string key = kv.first.Scalar();
    if (key == "pilot" || key == "sweep" || key == "experiment" || key.rfind("sweep.", 0) == 0 ||
        key.rfind("pilot.", 0) == 0) {
      source.fail("pilot.set." + key, kv.first.Mark(), "cannot be set for the pilot (it runs inside this experiment)");
    }
    if (std::find(keep.begin(), keep.end(), key) != keep.end()) {
      source.fail("pilot.set." + key, kv.first.Mark(), "is also in pilot.keep: a pilot run either keeps a swept "
                                                        "value or sets its own");
    }
  }
  return keep;
}

/// Turns the config tree into the pilot stage's: pilot.set applied (values keep their file
/// positions), the sweep reduced to the kept keys, no pilot block.
void to_pilot_tree(YAML::Node root, const ConfigSource& source) {
  const std::vector<std::string> keep = pilot_keep(root, source);
  const YAML::Node set = root["pilot"]["set"];
  for (const auto& kv : set) {
    const std::string key = kv.first.Scalar();
    set_config_path(root, key, kv.second, source.locate("pilot.set." + key, kv.second.Mark()));
  }
  YAML::Node sweep(YAML::NodeType::Map);
  for (const auto& key : keep) sweep[key] = root["sweep"][key];
  root.remove("report");  // the pilot has no report of its own, and report.x may name a key it does not sweep
  if (keep.empty()) root.remove("sweep");
  else root["sweep"] = sweep;
  root.remove("pilot");
}

/// A fresh tree of the config file with the overrides applied (fresh, because sweep values
/// are written into it and yaml-cpp nodes are shared references).
YAML::Node load_tree(const ExperimentOptions& o, const std::vector<Override>& overrides,
                     ConfigSource& source) {
  YAML::Node root = o.config_tree ? YAML::Clone(*o.config_tree) : load_yaml_file(o.config_path);
  if (!root.IsDefined() || root.IsNull()) {
    // An empty file, one of comments only, or /dev/null: most likely not the file meant, and
    // it would silently train the default experiment.
    throw ConfigError(fmt::format("{}: the config is empty (no keys); write at least `experiment: NAME` "
                                  "(see configs/quick_2af.yaml)",
                                  o.config_path));
  }
  if (!root.IsMap()) {
    source.fail("", root.Mark(), "must be a YAML map of keys (experiment, task, model, ...)");
  }
  for (const auto& ov : overrides) {
    set_config_path(root, ov.key, load_yaml_text(ov.text, ov.origin), ov.origin);
    source.set_origin(ov.key, ov.origin);
  }
  if (o.pilot_stage) to_pilot_tree(root, source);
  return root;
}

struct SweepAxis {
  std::string key;
  std::string short_name;
  std::vector<std::string> labels;
};

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-';
    out += keep ? c : '-';
  }
  return out.empty() ? "empty" : out;
}

std::vector<SweepAxis> parse_sweep(const YAML::Node& root, const ConfigSource& source) {
  std::vector<SweepAxis> axes;
  const YAML::Node sweep = root["sweep"];
  if (!sweep.IsDefined() || sweep.IsNull()) return axes;
  if (!sweep.IsMap()) source.fail("sweep", sweep.Mark(), "must be a map of dotted keys to lists of values");
  for (const auto& kv : sweep) {
    const std::string key = kv.first.Scalar();
    const std::string path = "sweep." + key;
    if (key.empty() || key.front() == '.' || key.back() == '.' ||
        key.find("..") != std::string::npos) {
      source.fail(path, kv.first.Mark(), "is not a valid dotted key");
    }
    const std::string head = split_config_path(key).front();
    if (head == "sweep" || head == "experiment") {
      source.fail(path, kv.first.Mark(), "cannot be swept (one experiment, one sweep)");
    }
    if (key == "train.pack") {
      source.fail(path, kv.first.Mark(), "cannot be swept (it says how runs train, not what they compute)");
    }
    if (head == "report") {
      source.fail(path, kv.first.Mark(), "cannot be swept (it says how the report is drawn, not what runs compute)");
    }
    if (key == "train.tf32") {
      source.fail(path, kv.first.Mark(), "cannot be swept (it is a setting of the whole process)");
    }
    const YAML::Node values = kv.second;
    if (!values.IsSequence() || values.size() == 0) {
      source.fail(path, values.Mark(), "must be a non-empty list of values, got " + node_text(values));
    }
    SweepAxis axis;
    axis.key = key;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const YAML::Node v = values[i];
      std::string label;
      if (v.IsScalar()) label = sanitize(v.Scalar());
      else if (v.IsMap() && v["name"].IsDefined() && v["name"].IsScalar()) {
        label = sanitize(v["name"].Scalar()) + std::to_string(i);
      }
      else label = "v" + std::to_string(i);
      if (!seen.insert(label).second) source.fail(path, v.Mark(), "lists the value " + node_text(v) + " twice");
      axis.labels.push_back(label);
    }
    axes.push_back(std::move(axis));
  }
  // Run ids use the last key component ("rank", "seed"; "phases1" for "train.phases[1]",
  // brackets being glob characters in a shell) unless two axes share it.
  for (auto& a : axes) {
    const auto dot = a.key.rfind('.');
    a.short_name = dot == std::string::npos ? a.key : a.key.substr(dot + 1);
    a.short_name.erase(std::remove_if(a.short_name.begin(), a.short_name.end(),
                                      [](char c) { return c == '[' || c == ']'; }),
                       a.short_name.end());
  }
  std::vector<std::string> last;
  for (const auto& a : axes) last.push_back(a.short_name);
  for (auto& a : axes) {
    if (std::count(last.begin(), last.end(), a.short_name) > 1) a.short_name = sanitize(a.key);
  }
  return axes;
}

std::string file_stem(const std::string& path) {
  if (path.empty()) return "experiment";
  std::string stem = fs::path(path).stem().string();
  return stem.empty() ? "experiment" : sanitize(stem);
}
}  // namespace

ExperimentPlan plan_experiment(const ExperimentOptions& o, const Registries& reg) {
  const std::vector<Override> overrides = parse_overrides(o);
  ConfigSource base(o.config_path);
  base.set_positions(!o.config_tree);
  const YAML::Node tree0 = load_tree(o, overrides, base);
  const std::vector<SweepAxis> axes = parse_sweep(tree0, base);

  ExperimentPlan plan;
  for (const auto& a : axes) plan.sweep_keys.push_back(a.key);
  std::size_t count = 1;
  for (const auto& a : axes) {
    // Checked as it grows: 64 axes of 2 values would overflow the count to 0.
    if (count > kMaxSweepRuns / a.labels.size()) {
      base.fail("sweep", tree0["sweep"].Mark(),
                fmt::format("has more than {} runs (the product of its lists' lengths); split it", kMaxSweepRuns));
    }
    count *= a.labels.size();
  }

  // Each run validates a tree of its own (validation fills in defaults, so trees cannot be
  // shared). Parsing the file once per run made planning quadratic (the file holds the sweep's
  // lists), so each run gets a copy of the config without the lists' values, plus copies of its
  // sweep values: time and memory linear in the number of runs. Copies lose the file positions
  // that error messages quote, so a run that fails validation is planned again from the file,
  // which gives the error its position.
  YAML::Node base_tree = YAML::Clone(tree0);
  std::vector<std::vector<YAML::Node>> axis_values;
  if (!axes.empty()) {
    YAML::Node keys_only(YAML::NodeType::Map);  // summary.csv's columns need the keys
    for (const auto& a : axes) {
      keys_only[a.key] = YAML::Node(YAML::NodeType::Sequence);
      std::vector<YAML::Node> values;
      for (const auto& v : tree0["sweep"][a.key]) values.push_back(v);
      axis_values.push_back(std::move(values));
    }
    base_tree["sweep"] = keys_only;
  }
  // A run's id and its swept values as text.
  auto name_run = [&](PlannedRun& run, const std::vector<std::size_t>& index) {
    std::vector<std::string> id_parts;
    for (std::size_t k = 0; k < axes.size(); ++k) {
      run.swept.emplace_back(axes[k].key, node_text(axis_values[k][index[k]]));
      id_parts.push_back(axes[k].short_name + "-" + axes[k].labels[index[k]]);
    }
    run.id = id_parts.empty() ? "run" : join_names(id_parts, "_");
  };
  auto plan_run = [&](const std::vector<std::size_t>& index, bool from_file) {
    auto source = std::make_shared<ConfigSource>(o.config_path);
    source->set_positions(!o.config_tree);
    YAML::Node tree = from_file ? load_tree(o, overrides, *source) : YAML::Clone(base_tree);
    if (!from_file) {
      for (const auto& ov : overrides) source->set_origin(ov.key, ov.origin);
    }
    PlannedRun run;
    name_run(run, index);
    for (std::size_t k = 0; k < axes.size(); ++k) {
      const SweepAxis& a = axes[k];
      const YAML::Node value =
          from_file ? YAML::Node(tree["sweep"][a.key][index[k]]) : YAML::Clone(axis_values[k][index[k]]);
      const YAML::Mark mark = axis_values[k][index[k]].Mark();
      const std::string sweep_origin = source->origin_of("sweep." + a.key);
      set_config_path(tree, a.key, value,
                      sweep_origin.empty() ? source->locate("sweep." + a.key, mark) : sweep_origin);
      // A value from the file keeps its own position; one from --set names the --set.
      if (!sweep_origin.empty()) source->set_origin(a.key, sweep_origin);
    }
    if (o.pilot_stage) {
      source->set_context(fmt::format("(in pilot run {}: the config with pilot.set applied)", run.id));
    } else if (count > 1) {
      source->set_context(fmt::format("(in run {} of the sweep)", run.id));
    }
    run.config = parse_run_config(tree, source, reg, o.config_tree ? "experiment" : file_stem(o.config_path));
    return run;
  };

  // The seed reaches only a run's random streams, never its components, so runs that differ
  // only in the seed share one validation: the first seed's run is planned in full, and the
  // others copy it once their seed passes the same check (>= 0). This is what plans a sweep of
  // 100,000 seeds in seconds; every other swept key is validated run by run.
  std::size_t seed_axis = axes.size();
  std::size_t seed_stride = 1;  // runs between consecutive values of the seed axis
  for (std::size_t k = 0; k < axes.size(); ++k) {
    if (axes[k].key == "seed") seed_axis = k;
  }
  for (std::size_t k = seed_axis + 1; k < axes.size(); ++k) seed_stride *= axes[k].labels.size();
  const auto seed_source = std::make_shared<ConfigSource>(o.config_path);
  seed_source->set_positions(!o.config_tree);
  auto seed_of = [&](const YAML::Node& value) -> std::optional<uint64_t> {
    YAML::Node one(YAML::NodeType::Map);
    one["seed"] = YAML::Clone(value);  // assigning the node itself would merge its tree's node pool
    try {
      Params p(one, "", seed_source, config_schema());
      return static_cast<uint64_t>(p.get_int("seed", 0));
    } catch (const ConfigError&) {
      return std::nullopt;
    }
  };

  std::vector<std::size_t> index(axes.size(), 0);
  plan.runs.reserve(count);
  for (std::size_t r = 0; r < count; ++r) {
    std::optional<uint64_t> seed;
    if (seed_axis < axes.size() && index[seed_axis] > 0) seed = seed_of(axis_values[seed_axis][index[seed_axis]]);
    if (seed) {
      PlannedRun run;
      name_run(run, index);
      run.config = plan.runs[r - index[seed_axis] * seed_stride].config.with_seed(*seed);
      plan.runs.push_back(std::move(run));
    } else {
      try {
        plan.runs.push_back(plan_run(index, false));
      } catch (const ConfigError&) {
        plan.runs.push_back(plan_run(index, true));  // throws again, with the file position
      }
    }
    // Odometer: the last axis varies fastest.
    for (std::size_t k = axes.size(); k-- > 0;) {
      if (++index[k] < axes[k].labels.size()) break;
      index[k] = 0;
    }
  }

  plan.name = plan.runs.front().config.experiment;
  plan.dir = (fs::path(o.out_dir) / plan.name).string();
  // Packs train `jobs` at a time: one per core on the CPU (each with --threads threads), one
  // at a time on a GPU, which parallelizes inside.
  bool all_cpu = true;
  for (const auto& r : plan.runs) all_cpu = all_cpu && r.config.device.is_cpu();
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int jobs = o.jobs > 0 ? o.jobs : all_cpu ? std::max(1, cores / std::max(1, o.threads)) : 1;
  std::vector<const RunConfig*> configs;
  for (const auto& r : plan.runs) configs.push_back(&r.config);
  if (o.shard_count > 0) {
    // This process's share: a split that depends on the config and N only (never on --jobs
    // or the machine), so that every shard of one command agrees on it; packed here as usual.
    if (o.shard_index < 0 || o.shard_index >= o.shard_count) {
      throw ConfigError(fmt::format("--shard {}/{}: K must be in [0, N)", o.shard_index, o.shard_count));
    }
    const std::vector<std::size_t> mine = shard_runs(configs.size(), o.shard_count)[o.shard_index];
    std::vector<const RunConfig*> mine_configs;
    for (const std::size_t i : mine) mine_configs.push_back(configs[i]);
    plan.packs = plan_packs(mine_configs, jobs);
    for (auto& pack : plan.packs) {
      for (auto& i : pack.runs) i = mine[i];
    }
  } else {
    plan.packs = plan_packs(configs, jobs);
  }
  plan.jobs = std::max(1, std::min<int>(jobs, static_cast<int>(plan.packs.size())));
  plan.resolved = YAML::Clone(plan.runs.front().config.resolved);
  if (!axes.empty()) plan.resolved["sweep"] = YAML::Clone(tree0["sweep"]);

  // The pilot stage: its own plan, trained first into DIR/<experiment>/pilot; each run reads
  // the pilot run whose kept sweep values are its own.
  if (!o.pilot_stage && tree0["pilot"].IsDefined() && !tree0["pilot"].IsNull()) {
    const std::vector<std::string> keep = pilot_keep(tree0, base);
    ExperimentOptions po = o;
    po.pilot_stage = true;
    po.overwrite = false;
    po.shard_count = 0;  // every shard needs its runs' pilots: the pilot stage is not split
    po.shard_index = 0;
    plan.pilot = std::make_shared<ExperimentPlan>(plan_experiment(po, reg));
    plan.pilot->name = plan.name + "/pilot";
    plan.pilot->dir = (fs::path(plan.dir) / "pilot").string();
    auto kept_values = [&](const std::vector<std::pair<std::string, std::string>>& swept) {
      std::string key;
      for (const auto& k : keep) {
        for (const auto& [name, value] : swept) {
          if (name == k) key += name + "=" + value + "\n";
        }
      }
      return key;
    };
    std::map<std::string, std::string> pilot_of;
    for (const auto& r : plan.pilot->runs) pilot_of[kept_values(r.swept)] = (fs::path(plan.pilot->dir) / "runs" / r.id).string();
    for (auto& r : plan.runs) {
      const auto it = pilot_of.find(kept_values(r.swept));
      if (it == pilot_of.end()) {  // the pilot sweep is made of the same values: never expected
        base.fail("pilot", tree0["pilot"].Mark(), "has no pilot run for run " + r.id);
      }
      r.config.pilot_run = it->second;
    }
    plan.resolved["pilot"] = YAML::Clone(tree0["pilot"]);
  }
  return plan;
}

namespace {
std::string yaml_text(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return std::string(out.c_str()) + "\n";
}

/// Keys that say how runs train, not what they compute: a shared folder may be continued with
/// other values, and a checkpoint resumed under them. (`report` is not one: experiment.yaml
/// keeps the layout the report reads; `richlazy report --x/--metrics` redraws it otherwise.)
bool ignored_key(const std::string& path) { return path == "train.pack" || path == "train.checkpoint_every"; }

void differences(const YAML::Node& a, const YAML::Node& b, const std::string& path, std::vector<std::string>& out) {
  if (ignored_key(path)) return;
  auto text = [](const YAML::Node& n) { return n.IsDefined() && !n.IsNull() ? node_text(n) : std::string("not set"); };
  if (!a.IsDefined() || !b.IsDefined()) {  // (a missing key's node throws on any other question)
    if (text(a) != text(b)) out.push_back(fmt::format("{}: was {}, now {}", path, text(a), text(b)));
    return;
  }
  if (a.IsMap() && b.IsMap()) {
    std::vector<std::string> keys;
    for (const auto& kv : a) keys.push_back(kv.first.Scalar());
    for (const auto& kv : b) {
      if (std::find(keys.begin(), keys.end(), kv.first.Scalar()) == keys.end()) keys.push_back(kv.first.Scalar());
    }
    for (const auto& k : keys) differences(a[k], b[k], path.empty() ? k : path + "." + k, out);
    return;
  }
  if (a.IsSequence() && b.IsSequence() && a.size() == b.size()) {
    for (std::size_t i = 0; i < a.size(); ++i) differences(a[i], b[i], fmt::format("{}[{}]", path, i), out);
    return;
  }
  if (text(a) != text(b)) out.push_back(fmt::format("{}: was {}, now {}", path, text(a), text(b)));
}
}  // namespace

std::vector<std::string> config_differences(const YAML::Node& before, const YAML::Node& now) {
  std::vector<std::string> out;
  // Both as the text experiment.yaml holds, read back: the same values compare equal however
  // they were written.
  differences(YAML::Load(yaml_text(before)), YAML::Load(yaml_text(now)), "", out);
  return out;
}

std::string run_identity(const RunConfig& config) {
  YAML::Node tree = YAML::Clone(config.resolved_tree());
  if (tree["train"].IsMap()) {
    tree["train"].remove("pack");
    tree["train"].remove("checkpoint_every");
  }
  tree.remove("report");
  return yaml_text(tree);
}

void check_output_folder(const ExperimentPlan& plan, const ExperimentOptions& o) {
  if (!fs::exists(plan.dir)) return;
  const fs::path yaml = fs::path(plan.dir) / "experiment.yaml";
  if (shares_folder(o)) {
    std::error_code ec;
    if (fs::is_directory(plan.dir) && fs::is_empty(plan.dir, ec)) return;
    if (!fs::is_directory(plan.dir) || !fs::is_regular_file(yaml)) {
      throw ConfigError(fmt::format("{}: not an experiment folder richlazy wrote (it has no experiment.yaml), so "
                                    "--resume will not write into it; move it away, or write elsewhere with --out DIR",
                                    plan.dir));
    }
    YAML::Node before;
    try {
      before = YAML::LoadFile(yaml.string());
    } catch (const YAML::Exception& e) {
      throw ConfigError(fmt::format("{}:{}:{}: not valid YAML: {}", yaml.string(), e.mark.line + 1, e.mark.column + 1,
                                    e.msg));
    }
    const std::vector<std::string> diffs = config_differences(before, plan.resolved);
    if (!diffs.empty()) {
      std::string list;
      for (std::size_t i = 0; i < diffs.size() && i < 5; ++i) list += (i ? "; " : "") + diffs[i];
      if (diffs.size() > 5) list += fmt::format("; and {} more", diffs.size() - 5);
      throw ConfigError(fmt::format("{}: the folder holds this experiment made with another config, so its runs "
                                    "will not be continued with this one ({}); run the config it was made with, "
                                    "start over with --overwrite instead of --resume, or write elsewhere with --out DIR",
                                    yaml.string(), list));
    }
    return;
  }
  if (!o.overwrite) {
    throw ConfigError(fmt::format(
        "{}: the output folder already exists; pass --resume to continue it (complete runs are kept), "
        "--overwrite to replace it, or --out DIR to write elsewhere",
        plan.dir));
  }
  // --overwrite deletes only what richlazy wrote: an experiment folder has its experiment.yaml.
  if (!fs::is_directory(plan.dir) || !fs::is_regular_file(fs::path(plan.dir) / "experiment.yaml")) {
    throw ConfigError(fmt::format(
        "{}: not an experiment folder richlazy wrote (it has no experiment.yaml), so --overwrite will not "
        "delete it; move it away, or write elsewhere with --out DIR",
        plan.dir));
  }
}

void prepare_shared_folder(const ExperimentPlan& plan, const ExperimentOptions& o) {
  check_output_folder(plan, o);
  const fs::path dir(plan.dir);
  if (!fs::exists(dir / "experiment.yaml")) {
    // Made whole in a folder of its own and renamed into place, so that a process that
    // starts at the same moment sees either no folder or one with its experiment.yaml. When
    // another process wins the rename, its folder is compared like any existing one.
    std::string me = FolderLock::holder_text();
    std::replace(me.begin(), me.end(), ' ', '-');
    const fs::path staging = dir.parent_path() / fmt::format(".{}.new-{}", dir.filename().string(), me);
    fs::remove_all(staging);
    fs::create_directories(staging / "runs");
    write_file_atomic((staging / "experiment.yaml").string(), yaml_text(plan.resolved));
    std::error_code ec, cleanup;
    fs::rename(staging, dir, ec);  // (replaces an empty folder; fails when another process made it first)
    fs::remove_all(staging, cleanup);
    if (ec && !fs::exists(dir / "experiment.yaml")) {
      throw ConfigError(fmt::format("{}: cannot create the experiment folder: {}", plan.dir, ec.message()));
    }
    check_output_folder(plan, o);  // the winner's config, when it was another process
  }
  fs::create_directories(dir / "runs");
}

std::string lock_file(const ExperimentPlan& plan) {
  const fs::path dir(plan.dir);
  return (dir.parent_path() / ("." + dir.filename().string() + ".lock")).string();
}

// ===========================================================================================
// Running

namespace {

/// Progress line and log lines, shared by the worker threads. Progress counts network
/// iterations: an iteration of a pack of E networks is E of them.
class Reporter {
 public:
  Reporter(const ExperimentPlan& plan, const ExperimentOptions& o, int jobs)
      : plan_(plan),
        quiet_(o.quiet),
        jobs_(jobs),
        line_(!o.quiet && ProgressLine::stderr_is_terminal()),
        start_(std::chrono::steady_clock::now()),
        done_steps_(plan.packs.size(), 0) {
    for (const auto& p : plan.packs) {
      for (const std::size_t i : p.runs) total_ += plan.runs[i].config.train.iterations;
    }
  }

  void log(const std::string& text) {
    if (quiet_) return;
    std::lock_guard<std::mutex> lock(mu_);
    line_.clear();
    std::fprintf(stderr, "%s\n", text.c_str());
  }

  void step(std::size_t pack, int64_t step, double loss) {
    std::lock_guard<std::mutex> lock(mu_);
    const Pack& p = plan_.packs[pack];
    done_steps_[pack] = step * static_cast<int64_t>(p.runs.size());
    if (!line_.enabled()) return;
    const double elapsed = seconds();
    int64_t done = 0;
    for (auto s : done_steps_) done += s;
    const double rate = done / std::max(elapsed, 1e-9);
    const double eta = (total_ - done) / std::max(rate, 1e-9);
    const auto& r = plan_.runs[p.runs.front()];
    if (jobs_ > 1) {
      line_.update(fmt::format("[{}/{} runs done, {} jobs] {:.0f} it/s  time left {}", finished_runs_,
                               plan_.runs.size(), jobs_, rate, format_duration(eta)));
    } else if (p.runs.size() == 1) {
      line_.update(fmt::format("[run {}/{} {}] step {}/{}  loss {:.4f}  {:.0f} it/s  time left {}",
                               p.runs.front() + 1, plan_.runs.size(), r.id, step, r.config.train.iterations,
                               loss, rate, format_duration(eta)));
    } else {
      line_.update(fmt::format("[pack {}/{}, {} runs] step {}/{}  loss {:.4f}  {:.0f} it/s  time left {}",
                               pack + 1, plan_.packs.size(), p.runs.size(), step, r.config.train.iterations,
                               loss, rate, format_duration(eta)));
    }
  }

  void finished(std::size_t pack) {
    std::lock_guard<std::mutex> lock(mu_);
    const Pack& p = plan_.packs[pack];
    done_steps_[pack] = plan_.runs[p.runs.front()].config.train.iterations * static_cast<int64_t>(p.runs.size());
    finished_runs_ += p.runs.size();
  }

  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  const ExperimentPlan& plan_;
  bool quiet_;
  int jobs_;
  ProgressLine line_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::vector<int64_t> done_steps_;
  int64_t total_ = 0;
  std::size_t finished_runs_ = 0;
};

/// One run's initial weights, made alone (in a one-network model) before its pack is built,
/// so that a run whose initialization fails (its pilot did not end ok, no scale matches a
/// loss) fails alone instead of failing its pack.
struct MemberInit {
  std::shared_ptr<models::Model> model;
  std::vector<init::InitReport> reports;
  std::string error;  ///< first line of what went wrong; empty when it worked
};

MemberInit init_member(const RunConfig& rc) {
  MemberInit m;
  try {
    m.model = rc.model->build(1);
    m.reports = init::apply_initializers(*m.model, rc.init, rc.seed, 0, rc.pilot_run);
  } catch (const std::exception& e) {
    m.error = e.what();
    m.error = m.error.substr(0, m.error.find('\n'));
    m.model.reset();
  }
  return m;
}

/// Appends a line to a run's history.log: when and by which process it was started,
/// resumed and finished, so that anyone can check that a run was finished exactly once.
void note_history(const fs::path& run_dir, const std::string& text) {
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  const std::time_t now = std::time(nullptr);
  char when[32] = {0};
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const std::string line = fmt::format("{} {}: {}\n", when, FolderLock::holder_text(), text);
  const int fd = ::open((run_dir / "history.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;  // the history is a record, not a result: its loss fails nothing
  const ssize_t written = ::write(fd, line.data(), line.size());
  (void)written;
  ::close(fd);
}

/// A run's metric columns: its hooks', then a task sequence's (metrics.csv's, then the summary's).
std::vector<std::string> result_columns(const RunConfig& config, const std::vector<NamedHook>& hooks) {
  std::vector<std::string> columns;
  for (const auto& h : hooks) columns.push_back(h.name);
  if (config.train.curriculum) {
    for (const auto& c : config.train.curriculum->row_columns()) columns.push_back(c);
    for (const auto& c : config.train.curriculum->summary_columns()) columns.push_back(c);
  }
  return columns;
}

/// Trains one pack and writes the folder of every member, exactly as solo runs would.
/// `inits` holds each member's initial weights (init_member); `states`, when not empty, the
/// checkpoints (all at one step) the members continue from.
std::vector<RunResult> run_pack(std::size_t pack_index, const Pack& pack, std::vector<MemberInit> inits,
                                const std::vector<MemberState>& states, ExperimentPlan& plan, Reporter& reporter) {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t E = static_cast<int64_t>(pack.runs.size());
  std::vector<PlannedRun*> members;
  for (const std::size_t i : pack.runs) members.push_back(&plan.runs[i]);
  const RunConfig& first = members.front()->config;
  std::vector<fs::path> dirs;
  std::vector<RunResult> results(E);
  double initial_seconds = 0;  // measuring the initial state (counted as metric time)
  // Hooks are stateful: each pack makes its own. Made here so that their columns are known
  // if training fails; a failure to make them fails the pack, as any other failure does.
  std::vector<NamedHook> hooks;
  std::string hooks_error;
  try {
    hooks = first.make_metrics();
  } catch (const std::exception& e) {
    hooks_error = e.what();
  }
  std::vector<std::string> columns = result_columns(first, hooks);
  for (int64_t e = 0; e < E; ++e) {
    dirs.push_back(fs::path(plan.dir) / "runs" / members[e]->id);
    results[e].id = members[e]->id;
    results[e].swept = members[e]->swept;
    results[e].columns = columns;
    results[e].final_values.assign(columns.size(), std::nan(""));
    results[e].initial_values.assign(columns.size(), std::nan(""));
    results[e].pack = static_cast<int64_t>(pack_index);
    results[e].pack_size = E;
    results[e].index = static_cast<int64_t>(pack.runs[e]);
    results[e].trained_by = FolderLock::holder_text();
  }
  const int64_t resumed_from = states.empty() ? 0 : checkpoint_step(states.front());
  bool resume_failed = false;  // then the runs stay unfinished, their checkpoints kept
  auto prefix = [&](int64_t e) {
    return fmt::format("[{}/{}] {}", pack.runs[e] + 1, plan.runs.size(), members[e]->id);
  };
  try {
    if (!hooks_error.empty()) throw std::runtime_error("cannot make the metric hooks: " + hooks_error);
    for (int64_t e = 0; e < E; ++e) {
      fs::create_directories(dirs[e] / "weights");
      write_file_atomic((dirs[e] / "config.yaml").string(), yaml_text(members[e]->config.resolved_tree()));
      note_history(dirs[e], resumed_from > 0 ? fmt::format("resumed from the checkpoint at step {}", resumed_from)
                                             : std::string("started"));
      results[e].resumed_from = resumed_from;
    }
    std::shared_ptr<models::Model> model = first.model->build(E);
    for (int64_t e = 0; e < E; ++e) {
      // Each member from its own config and streams, as its solo run (made by init_member).
      torch::NoGradGuard no_grad;
      for (const auto& p : first.model->parameters()) model->weight(p.name)[e].copy_(inits[e].model->weight(p.name)[0]);
      results[e].init = std::move(inits[e].reports);
      inits[e].model.reset();
      std::string lines = prefix(e) + ": initial weights";
      for (const auto& rep : results[e].init) lines += "\n    " + init::format_init_report(rep);
      reporter.log(lines);
    }
    model->to(first.device);
    const auto params = first.model->parameters();
    auto save_weights = [&](const std::string& when) {
      for (const auto& p : params) {
        const torch::Tensor w = model->weight(p.name).detach().to(torch::kCPU);
        for (int64_t e = 0; e < E; ++e) {
          write_npy((dirs[e] / "weights" / (p.name + "_" + when + ".npy")).string(), w[e]);
        }
      }
    };
    save_weights("init");

    std::vector<uint64_t> seeds;
    std::vector<const OptimizerBuilder*> optimizers;
    for (const auto* m : members) {
      seeds.push_back(m->config.seed);
      optimizers.push_back(m->config.optimizer.get());
    }
    Trainer trainer(*model, *first.task, seeds, optimizers, std::move(hooks), first.train,
                    first.device);
    {
      // The initial state, for every run: the probe trials' loss, hidden-norm ratio and the
      // recurrent weight's gradient norm. Nothing here draws from a random stream or moves a
      // weight, so training is the same with or without it.
      const auto m0 = std::chrono::steady_clock::now();
      const torch::Tensor host = metrics::initial_state(*model, *first.task, trainer.probe(), params);
      for (int64_t e = 0; e < E; ++e) {
        results[e].init_loss = host[0][e].item<double>();
        results[e].init_hidden_norm_ratio = host[1][e].item<double>();
        results[e].init_grad_norm = host[2][e].item<double>();
      }
      initial_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - m0).count();
    }
    if (!states.empty()) {
      try {
        trainer.resume(states);
      } catch (const std::exception& ex) {
        resume_failed = true;
        throw std::runtime_error(fmt::format("cannot resume from its checkpoint: {}", ex.what()));
      }
      // metrics.csv as of the checkpoint (a killed process may have logged rows after it).
      for (int64_t e = 0; e < E; ++e) write_file_atomic((dirs[e] / "metrics.csv").string(), trainer.log(e).csv());
      reporter.log(fmt::format("pack {}/{}: {} run{} resumed from the checkpoint at step {}", pack_index + 1,
                               plan.packs.size(), E, E == 1 ? "" : "s", resumed_from));
    }
    std::vector<std::string> identities;
    for (const auto* m : members) identities.push_back(run_identity(m->config));
    double checkpoint_seconds = 0;
    const TrainOutcome outcome = trainer.run(
        [&](int64_t step, double loss) { reporter.step(pack_index, step, loss); },
        [&](int64_t e, const MetricLog& log) {
          write_file_atomic((dirs[e] / "metrics.csv").string(), log.csv());
        },
        [&](int64_t) {
          const auto c0 = std::chrono::steady_clock::now();
          for (int64_t e = 0; e < E; ++e) {
            write_checkpoint(checkpoint_path(dirs[e].string()), trainer.checkpoint(e), identities[e]);
          }
          checkpoint_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
        });
    save_weights("final");
    if (first.device.is_cuda() && first.train.cuda_graph) {
      const std::string graph =
          trainer.graph_replayed() ? "replayed"
          : trainer.graph_error().empty() ? "not used: too few iterations to record one"
                                          : "not used: " + trainer.graph_error();
      reporter.log(fmt::format("pack {}/{}: CUDA graph {}", pack_index + 1, plan.packs.size(), graph));
      for (auto& r : results) r.cuda_graph = graph;
    }
    for (int64_t e = 0; e < E; ++e) {
      RunResult& r = results[e];
      const MemberOutcome& m = outcome.members[e];
      r.status = m.status;
      r.reason = m.reason;
      r.steps_done = m.steps_done;
      const MetricLog& log = trainer.log(e);
      if (!log.rows.empty()) {
        // metrics.csv's columns, then a task sequence's summary (forgetting, ...).
        std::copy(log.rows.back().begin(), log.rows.back().end(), r.final_values.begin());
        if (log.steps.front() == 0) std::copy(log.rows.front().begin(), log.rows.front().end(), r.initial_values.begin());
        if (first.train.curriculum) {
          const std::vector<double> extra = first.train.curriculum->summary(log);
          std::copy(extra.begin(), extra.end(), r.final_values.begin() + static_cast<std::ptrdiff_t>(log.columns.size()));
        }
      }
      // The pack's cost, shared among its members.
      r.metric_seconds = (outcome.hook_seconds + initial_seconds) / E;
      const int64_t iterations = outcome.iterations_run - resumed_from;  // this process's
      if (iterations > 0) {
        r.ms_per_iteration =
            (outcome.train_seconds - outcome.hook_seconds - checkpoint_seconds) / iterations * 1000.0 / E;
      }
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    for (auto& r : results) r.status = "failed: " + what;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  for (int64_t e = 0; e < E; ++e) {
    RunResult& result = results[e];
    result.wall_seconds = wall;
    if (resume_failed) {
      // Not finished, and nothing lost: the run keeps its checkpoint and has no summary.json.
      note_history(dirs[e], result.status);
      reporter.log(fmt::format("{}: {}; it stays unfinished: delete {} to start it over", prefix(e), result.status,
                               checkpoint_path(dirs[e].string())));
      continue;
    }
    try {
      fs::create_directories(dirs[e]);
      write_file_atomic((dirs[e] / "summary.json").string(), run_summary_json(result, members[e]->config));
      // Complete: its checkpoint is no longer needed, unless it failed (--retry-failed resumes it).
      std::error_code ec;
      if (result.status.rfind("failed", 0) != 0) fs::remove(checkpoint_path(dirs[e].string()), ec);
      note_history(dirs[e], "finished: " + result.status);
    } catch (const std::exception& ex) {
      result.status = std::string("failed: ") + ex.what();
    }
    std::string line = fmt::format("{}: {} in {}", prefix(e), result.status, format_duration(result.wall_seconds));
    for (std::size_t i = 0; i < result.columns.size(); ++i) {
      line += fmt::format(", {} {}", result.columns[i], format_metric(result.final_values[i]));
    }
    reporter.log(line);
  }
  return results;
}

/// A run that failed before training (its initialization): its config.yaml and summary.json
/// are written as for any run, its metrics are NaN.
RunResult failed_run(const PlannedRun& run, std::size_t index, std::size_t pack_index, const std::string& why,
                     const ExperimentPlan& plan, Reporter& reporter) {
  RunResult r;
  r.id = run.id;
  r.swept = run.swept;
  r.status = "failed: " + why;
  r.pack = static_cast<int64_t>(pack_index);
  r.index = static_cast<int64_t>(index);
  r.trained_by = FolderLock::holder_text();
  try {  // the columns its pack logs, NaN
    r.columns = result_columns(run.config, run.config.make_metrics());
  } catch (const std::exception&) {
  }
  r.final_values.assign(r.columns.size(), std::nan(""));
  r.initial_values.assign(r.columns.size(), std::nan(""));
  const fs::path dir = fs::path(plan.dir) / "runs" / run.id;
  try {
    fs::create_directories(dir);
    write_file_atomic((dir / "config.yaml").string(), yaml_text(run.config.resolved_tree()));
    write_file_atomic((dir / "summary.json").string(), run_summary_json(r, run.config));
    note_history(dir, "finished: " + r.status);
  } catch (const std::exception& e) {
    r.status = std::string("failed: ") + e.what();
  }
  reporter.log(fmt::format("[{}/{}] {}: {}", index + 1, plan.runs.size(), run.id, r.status));
  return r;
}

/// "pack 2/3 (4 networks): rank-1_seed-0, rank-1_seed-1, ..." for every pack of more than one.
std::string describe_packs(const ExperimentPlan& plan) {
  std::string out;
  for (std::size_t k = 0; k < plan.packs.size(); ++k) {
    const Pack& pack = plan.packs[k];
    if (pack.runs.size() < 2) continue;
    std::vector<std::string> ids;
    for (const std::size_t i : pack.runs) ids.push_back(plan.runs[i].id);
    out += fmt::format("\n  pack {}/{} ({} networks trained together): {}", k + 1, plan.packs.size(),
                       pack.runs.size(), join_names(ids));
  }
  return out;
}
}  // namespace

namespace {
/// Whether a run's folder holds its summary.json (read back), and so needs no training. With
/// `retry_failed`, a run that failed before `started` (this process's start) does not count
/// as complete; one that failed since (retried by another process) does, so that processes
/// sharing the folder retry it once, not once each.
bool run_complete(const fs::path& run_dir, bool retry_failed, fs::file_time_type started) {
  std::error_code ec;
  const fs::path summary = run_dir / "summary.json";
  if (!fs::exists(summary, ec)) return false;
  try {
    const RunResult r = run_result_from_json(read_file(summary.string()));
    const bool failed = r.status.rfind("failed", 0) == 0;
    return !(retry_failed && failed && fs::last_write_time(summary, ec) < started);
  } catch (const std::exception&) {
    return false;  // unreadable (a disk that filled up): trained again
  }
}
}  // namespace

ExperimentResult run_experiment(ExperimentPlan& plan, const ExperimentOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  keep_freed_memory();
  // TF32 matrix products on a GPU only when the config asks (exact float32 by default).
  at::globalContext().setAllowTF32CuBLAS(plan.runs.front().config.tf32);
  const bool shared = shares_folder(o);
  const fs::file_time_type started = fs::file_time_type::clock::now();
  // --overwrite: the old results move aside and are deleted only once the new run has ended,
  // so a rerun that is killed leaves them (in the folder named in the log).
  fs::path replaced;
  if (shared) {
    // A shared folder keeps the experiment.yaml it was made with (after comparing it).
    prepare_shared_folder(plan, o);
  } else {
    check_output_folder(plan, o);
    if (o.overwrite && fs::exists(plan.dir)) {
      const fs::path dir(plan.dir);
      replaced = dir.parent_path() / fmt::format(".{}.replaced-{}", dir.filename().string(), static_cast<long>(getpid()));
      fs::remove_all(replaced);
      fs::rename(dir, replaced);
    }
    fs::create_directories(fs::path(plan.dir) / "runs");
    write_file_atomic((fs::path(plan.dir) / "experiment.yaml").string(), yaml_text(plan.resolved));
  }
  if (plan.pilot) {
    ExperimentOptions po = o;
    po.overwrite = false;
    po.shard_count = 0;
    po.shard_index = 0;
    po.resume = shared;           // the pilot folder is shared as the experiment's is
    po.wait_for_locked = shared;  // each shard needs the pilots: it waits for those another trains
    po.retry_failed = false;      // every waiting process would retry a failed pilot in turn
    run_experiment(*plan.pilot, po);  // ends by gathering the pilot folder
    const GatherResult gathered = gather(plan.pilot->dir);
    std::size_t bad = 0;
    for (const auto& r : gathered.complete.runs) bad += r.status != "ok";
    if (bad > 0 && !o.quiet) {
      std::fputs(fmt::format("richlazy: warning: {} of {} pilot runs did not end ok (see {}/summary.csv); the runs "
                             "that read them will fail\n",
                             bad, gathered.complete.runs.size(), plan.pilot->dir)
                     .c_str(),
                 stderr);
    }
  }

  Reporter reporter(plan, o, plan.jobs);
  std::size_t share = 0;
  for (const auto& p : plan.packs) share += p.runs.size();
  const std::size_t packed = share - plan.packs.size();
  reporter.log(fmt::format("experiment {}: {}{} run{}{}, {} at a time -> {}{}", plan.name,
                           o.shard_count > 0 ? fmt::format("shard {}/{}: {} of {} ", o.shard_index, o.shard_count,
                                                           share, plan.runs.size())
                                             : std::string(),
                           o.shard_count > 0 ? std::string() : std::to_string(share), share == 1 ? "" : "s",
                           packed == 0 ? std::string()
                                       : fmt::format(" in {} pack{}", plan.packs.size(), plan.packs.size() == 1 ? "" : "s"),
                           plan.jobs, plan.dir, describe_packs(plan)));
  if (!replaced.empty()) {
    reporter.log(fmt::format("replacing the earlier results; they stay in {} until this run ends", replaced.string()));
  }
  ExperimentResult result;
  std::vector<RunResult> finished(plan.runs.size());
  std::mutex summary_mu;
  const std::string summary_path = (fs::path(plan.dir) / "summary.csv").string();
  auto finish_pack = [&](std::size_t k) {
    // Claim the pack's runs: each is trained by the one process holding its lock, and only
    // while it is not complete. Runs another process holds are left to it.
    std::vector<std::unique_ptr<FolderLock>> locks;
    std::vector<std::size_t> claimed;
    for (const std::size_t i : plan.packs[k].runs) {
      const PlannedRun& run = plan.runs[i];
      const std::string lock_path = run_lock_path(plan.dir, run.id);
      std::string previous;
      std::unique_ptr<FolderLock> lock;
      try {
        lock = FolderLock::try_lock(lock_path, &previous);
        if (!lock && o.wait_for_locked) {
          reporter.log(fmt::format("[{}/{}] {}: waiting for {}, which is training it", i + 1, plan.runs.size(),
                                   run.id, FolderLock::describe_holder(previous)));
          lock = std::make_unique<FolderLock>(lock_path, run.id, FolderLock::Mode::exclusive, /*wait=*/true);
          previous.clear();
        }
      } catch (const std::exception& e) {
        // (in a worker thread: an exception here would end the process)
        reporter.log(fmt::format("[{}/{}] {}: not trained: {}", i + 1, plan.runs.size(), run.id, e.what()));
        std::lock_guard<std::mutex> guard(summary_mu);
        ++result.skipped_locked;
        continue;
      }
      if (!lock) {
        reporter.log(fmt::format("[{}/{}] {}: being trained by {}; left to it", i + 1, plan.runs.size(), run.id,
                                 FolderLock::describe_holder(previous)));
        std::lock_guard<std::mutex> guard(summary_mu);
        ++result.skipped_locked;
        continue;
      }
      if (run_complete(fs::path(plan.dir) / "runs" / run.id, o.retry_failed, started)) {
        std::lock_guard<std::mutex> guard(summary_mu);
        ++result.skipped_complete;
        continue;  // its lock is released here
      }
      if (!previous.empty()) {
        reporter.log(fmt::format("[{}/{}] {}: taking it over from {}, which did not finish it", i + 1,
                                 plan.runs.size(), run.id, FolderLock::describe_holder(previous)));
      }
      locks.push_back(std::move(lock));
      claimed.push_back(i);
    }
    // Members whose initialization fails fail alone; the others train as the pack, grouped by
    // the step of the checkpoint they continue from (0: none).
    std::map<int64_t, std::pair<Pack, std::vector<MemberInit>>> groups;
    std::map<int64_t, std::vector<MemberState>> group_states;
    std::vector<RunResult> done;
    std::vector<std::size_t> done_runs;
    for (const std::size_t i : claimed) {
      MemberInit m = init_member(plan.runs[i].config);
      if (!m.error.empty()) {
        done.push_back(failed_run(plan.runs[i], i, k, "initialization: " + m.error, plan, reporter));
        done_runs.push_back(i);
        continue;
      }
      const fs::path dir = fs::path(plan.dir) / "runs" / plan.runs[i].id;
      std::string why;
      std::optional<MemberState> state =
          read_checkpoint(checkpoint_path(dir.string()), run_identity(plan.runs[i].config), &why);
      if (!why.empty()) reporter.log(fmt::format("[{}/{}] {}: {}; it starts over", i + 1, plan.runs.size(), plan.runs[i].id, why));
      const int64_t step = state ? checkpoint_step(*state) : 0;
      if (state && (step <= 0 || step >= plan.runs[i].config.train.iterations)) {
        reporter.log(fmt::format("[{}/{}] {}: its checkpoint is at step {} of {}; it starts over", i + 1,
                                 plan.runs.size(), plan.runs[i].id, step, plan.runs[i].config.train.iterations));
        state.reset();
      }
      auto& g = groups[state ? step : 0];
      g.first.runs.push_back(i);
      g.second.push_back(std::move(m));
      if (state) group_states[step].push_back(std::move(*state));
    }
    for (auto& [step, group] : groups) {
      const std::vector<MemberState> states = step > 0 ? std::move(group_states[step]) : std::vector<MemberState>{};
      std::vector<RunResult> trained = run_pack(k, group.first, std::move(group.second), states, plan, reporter);
      for (std::size_t m = 0; m < trained.size(); ++m) {
        done.push_back(std::move(trained[m]));
        done_runs.push_back(group.first.runs[m]);
      }
      if (step > 0) {
        std::lock_guard<std::mutex> guard(summary_mu);
        result.resumed += trained.size();
      }
    }
    reporter.finished(k);
    locks.clear();  // after every summary.json is written
    std::lock_guard<std::mutex> lock(summary_mu);
    for (std::size_t m = 0; m < done.size(); ++m) finished[done_runs[m]] = std::move(done[m]);
    if (shared) return;  // summary.csv is gathered from the folder at the end
    ExperimentResult partial;
    for (const auto& r : finished) {
      if (!r.id.empty()) partial.runs.push_back(r);
    }
    try {
      write_file_atomic(summary_path, summary_csv(plan.sweep_keys, partial));
    } catch (const std::exception& e) {
      reporter.log(std::string("warning: ") + e.what());
    }
  };

  // Every pack computes with the same number of threads (LibTorch's pool and OpenBLAS's),
  // whatever --jobs is: summation order depends on it, and with it the last bits of every
  // result. One thread per pack also keeps parallel packs from oversubscribing the cores.
  const int torch_threads = at::get_num_threads();
  at::set_num_threads(std::max(1, o.threads));
  const int blas_threads = set_blas_threads(std::max(1, o.threads));
  if (plan.jobs == 1) {
    for (std::size_t k = 0; k < plan.packs.size(); ++k) finish_pack(k);
  } else {
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> workers;
    for (int j = 0; j < plan.jobs; ++j) {
      workers.emplace_back([&] {
        for (std::size_t k = next++; k < plan.packs.size(); k = next++) finish_pack(k);
      });
    }
    for (auto& w : workers) w.join();
  }
  at::set_num_threads(torch_threads);
  if (blas_threads > 0) set_blas_threads(blas_threads);
  for (auto& r : finished) {
    if (!r.id.empty()) result.runs.push_back(std::move(r));
  }
  // summary.csv lists every complete run in the folder, whichever process trained it.
  try {
    gather_and_write(plan.dir);
  } catch (const std::exception& e) {
    reporter.log(std::string("warning: ") + e.what());
  }
  if (!replaced.empty()) {
    std::error_code ec;
    fs::remove_all(replaced, ec);
    if (ec) reporter.log(fmt::format("warning: could not delete the earlier results in {}: {}", replaced.string(), ec.message()));
  }
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace richlazy::train
