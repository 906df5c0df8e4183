// train/packing.cpp: grouping a sweep's runs into packs.
#include <richlazy/train/packing.h>

#include <algorithm>
#include <map>

namespace richlazy::train {

std::string pack_key(const RunConfig& config) {
  return config.pack_key ? *config.pack_key : compute_pack_key(config);
}

namespace {
/// Appends an unambiguous text of `node` (every scalar length-prefixed), leaving out the keys
/// `skip` says to at each path. Walking the tree is much faster than cloning and emitting it.
void append_key(const YAML::Node& node, const std::string& path, std::string& out) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      out += std::to_string(node.Scalar().size()) + ':' + node.Scalar();
      return;
    case YAML::NodeType::Sequence:
      out += '[';
      for (const auto& item : node) append_key(item, path + "[]", out);
      out += ']';
      return;
    case YAML::NodeType::Map:
      out += '{';
      for (const auto& kv : node) {
        const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
        const std::string child = path.empty() ? key : path + "." + key;
        if (child == "seed" || child == "init") continue;
        // The optimizer's hyperparameters are per member; its name is not.
        if (path == "train.optimizer" && key != "name") continue;
        append_key(kv.first, path + "{}", out);
        append_key(kv.second, child, out);
      }
      out += '}';
      return;
    default:
      out += '~';
  }
}
}  // namespace

std::string compute_pack_key(const RunConfig& config) {
  std::string out;
  append_key(config.resolved, "", out);
  return out;
}

namespace {
int64_t weights_per_network(const RunConfig& config) {
  int64_t weights = 0;
  for (const auto& p : config.model->parameters()) {
    int64_t n = 1;
    for (const int64_t d : p.shape) n *= d;
    weights += n;
  }
  return weights;
}

/// Whether the run logs the tangent-kernel alignment (its metrics as resolved).
bool logs_kernel(const RunConfig& config) {
  const YAML::Node names = config.resolved["metrics"]["names"];
  if (!names.IsSequence()) return false;
  for (const auto& item : names) {
    const YAML::Node name = item.IsMap() ? item["name"] : item;
    if (name.IsDefined() && name.IsScalar() &&
        (name.Scalar() == "kernel_alignment" || name.Scalar() == "kernel_task_alignment")) {
      return true;
    }
  }
  return false;
}
}  // namespace

int64_t member_bytes(const RunConfig& config) {
  // The hidden size, read off the parameters: the largest output dimension of a weight.
  int64_t hidden = 1;
  for (const auto& p : config.model->parameters()) hidden = std::max(hidden, p.shape.front());
  const int64_t T = config.task->steps();
  int64_t floats = 8 * weights_per_network(config) + 2 * T * config.train.probe_trials * hidden;
  if (logs_kernel(config)) {
    const int64_t rows = T * config.train.kernel_trials * config.task->output_size();
    floats += 3 * rows * rows;
    if (config.model->has_population_kernel() && config.task->whitened_gaussian_inputs()) {
      // The population kernels: (O d)^2 float64 each, the initial one, the current one and a sum.
      const int64_t side = config.task->output_size() * config.task->input_size();
      floats += 2 * 3 * side * side;
    }
  }
  return 4 * floats;
}

int64_t auto_pack_limit(const RunConfig& config) {
  if (!config.device.is_cpu()) return 256;
  const int64_t by_weights = kAutoPackWeightBudget / std::max<int64_t>(1, weights_per_network(config));
  const int64_t by_memory = kAutoPackMemoryBudget / std::max<int64_t>(1, member_bytes(config));
  return std::clamp<int64_t>(std::min(by_weights, by_memory), 1, 64);
}

std::vector<Pack> plan_packs(const std::vector<const RunConfig*>& runs, int jobs) {
  std::vector<std::string> keys;
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string key = pack_key(*runs[i]);
    if (!groups.count(key)) keys.push_back(key);
    groups[key].push_back(i);
  }
  std::vector<Pack> packs;
  for (const auto& key : keys) {
    const std::vector<std::size_t>& group = groups[key];
    const RunConfig& first = *runs[group.front()];
    const bool automatic = first.pack == 0;
    int64_t limit = automatic ? auto_pack_limit(first) : first.pack;
    const int64_t n = static_cast<int64_t>(group.size());
    // Keep every core busy: auto on the CPU makes at least `jobs` packs of a group.
    if (automatic && first.device.is_cpu() && limit > 1) limit = std::min<int64_t>(limit, (n + jobs - 1) / jobs);
    limit = std::max<int64_t>(1, limit);
    const int64_t count = (n + limit - 1) / limit;
    // Even sizes: 10 runs in packs of at most 8 are 5 + 5, not 8 + 2.
    std::size_t next = 0;
    for (int64_t k = 0; k < count; ++k) {
      const int64_t size = n / count + (k < n % count ? 1 : 0);
      Pack pack;
      for (int64_t m = 0; m < size; ++m) pack.runs.push_back(group[next++]);
      packs.push_back(std::move(pack));
    }
  }
  return packs;
}

std::vector<std::vector<std::size_t>> shard_runs(std::size_t runs, int shards) {
  const std::size_t count = static_cast<std::size_t>(std::max(1, shards));
  std::vector<std::vector<std::size_t>> out(count);
  for (std::size_t i = 0; i < runs; ++i) out[i * count / runs].push_back(i);
  return out;
}

}  // namespace richlazy::train
