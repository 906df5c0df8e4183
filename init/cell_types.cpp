// init/cell_types.cpp: cell-type block model.
#include <richlazy/init/cell_types.h>
#include <richlazy/init/matrix_file.h>

#include <richlazy/core/config_error.h>
#include <richlazy/core/config_source.h>
#include <richlazy/init/initializer.h>
#include <richlazy/init/norm.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace richlazy::init {

namespace {
constexpr double kFloatMax = static_cast<double>(std::numeric_limits<float>::max());
constexpr int64_t kMaxClasses = 1000;  // tables in the literature have tens of classes
}  // namespace

namespace {
CellTypeTable read_cell_types(const std::string& path) {
  require_data_file(path);
  const YAML::Node root = load_yaml_file(path);
  if (!root.IsMap()) {
    throw ConfigError(fmt::format("{}: a cell-type table is a YAML map with classes, connection_probability "
                                  "and synaptic_weight",
                                  path));
  }
  auto fail = [&](const YAML::Node& at, const std::string& what) -> void {
    const YAML::Mark m = at.Mark();
    if (m.is_null()) throw ConfigError(fmt::format("{}: {}", path, what));
    throw ConfigError(fmt::format("{}:{}:{}: {}", path, m.line + 1, m.column + 1, what));
  };
  CellTypeTable table;
  const YAML::Node classes = root["classes"];
  if (!classes.IsDefined() || !classes.IsSequence() || classes.size() == 0) fail(root, "classes must be a non-empty list");
  for (const auto& c : classes) {
    if (!c.IsMap() || !c["name"].IsDefined() || !c["name"].IsScalar() || !c["fraction"].IsDefined() ||
        !c["fraction"].IsScalar()) {
      fail(c, "each class needs a name and a fraction");
    }
    double f = 0;
    if (!YAML::convert<double>::decode(c["fraction"], f) || !std::isfinite(f) || !(f >= 0) ||
        f > kFloatMax) {
      fail(c["fraction"], "fraction must be a finite number >= 0");
    }
    table.names.push_back(c["name"].Scalar());
    table.fractions.push_back(f);
  }
  double total = 0;
  for (double f : table.fractions) total += f;
  if (!(total > 0)) fail(classes, "the fractions add up to 0");
  for (double& f : table.fractions) f /= total;
  const int64_t n = static_cast<int64_t>(table.names.size());
  if (n > kMaxClasses) fail(classes, fmt::format("{} classes; a table holds at most {}", n, kMaxClasses));
  auto matrix = [&](const char* key, bool probability) {
    const YAML::Node m = root[key];
    if (!m.IsDefined() || !m.IsMap()) fail(root, std::string(key) + " must map each class to a row");
    torch::Tensor out = torch::zeros({n, n}, torch::kDouble);
    for (int64_t i = 0; i < n; ++i) {
      const YAML::Node row = m[table.names[i]];
      if (!row.IsDefined() || !row.IsSequence() || static_cast<int64_t>(row.size()) != n) {
        fail(row.IsDefined() ? row : m, fmt::format("{}.{} must be a list of {} numbers", key, table.names[i], n));
      }
      for (int64_t j = 0; j < n; ++j) {
        double v = 0;
        if (!YAML::convert<double>::decode(row[j], v) || !std::isfinite(v) || std::abs(v) > kFloatMax ||
            (probability && (v < 0 || v > 1))) {
          fail(row[j], fmt::format("{}.{}[{}] must be a {}", key, table.names[i], j,
                                   probability ? "probability in [0, 1]" : "finite number within float32's range"));
        }
        out[i][j] = v;
      }
    }
    return out;
  };
  table.probability = matrix("connection_probability", true);
  table.weight = matrix("synaptic_weight", false);
  return table;
}

}  // namespace

CellTypeTable load_cell_types(const std::string& path) {
  try {
    return read_cell_types(path);
  } catch (const YAML::Exception& e) {
    // A shape the checks above did not foresee: still one message naming the file.
    throw ConfigError(fmt::format("{}: not a valid cell-type table ({})", path, e.msg));
  }
}

CellTypeSample sample_cell_types(const CellTypeTable& table, int64_t n, bool expected, at::Generator& gen) {
  const torch::Tensor fractions = torch::tensor(table.fractions, torch::kDouble);
  CellTypeSample out;
  out.labels = torch::multinomial(fractions, n, /*replacement=*/true, gen);
  // A[a, b] = table[class(a)][class(b)] is indexed [pre][post]; W[post, pre] is its transpose.
  auto expand = [&](const torch::Tensor& t) {
    return t.index_select(0, out.labels).index_select(1, out.labels).t().contiguous();
  };
  const torch::Tensor p = expand(table.probability), w = expand(table.weight);
  out.matrix = expected ? p * w : torch::bernoulli(p, gen) * w;
  return out;
}

namespace {
class CellTypes final : public Initializer {
 public:
  CellTypes(CellTypeTable table, int64_t n, bool expected)
      : table_(std::move(table)), n_(n), expected_(expected) {}
  torch::Tensor make(const InitInputs& in) const override {
    return sample_cell_types(table_, n_, expected_, in.gen).matrix;
  }

 private:
  CellTypeTable table_;
  int64_t n_;
  bool expected_;
};
}  // namespace

void register_cell_types(InitializerRegistry& registry) {
  registry.add(
      {"cell_types",
       "cell-type block model: class labels drawn by fraction, W[i, j] = Bernoulli(p[c(j)][c(i)]) "
       "* w[c(j)][c(i)] from a YAML table of classes",
       with_norm_options({{"table", "", "YAML table (format of v1_cell_classes.yaml, rows = "
                                        "presynaptic); relative to the config file"},
                          {"expected", "false", "use p * w instead of samples (an exactly "
                                                "low-rank block matrix)"}},
                         "auto"),
       [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
         const std::string path = config_path(p, "table");
         CellTypeTable table;
         try {
           table = load_cell_types(path);
         } catch (const ConfigError& e) {
           p.fail_bare("table", std::string("cannot be used: ") + e.what());
         }
         if (t.rows != t.cols) {
           p.fail_bare("name", fmt::format("cell_types builds square matrices; {} is {} x {}", t.param, t.rows, t.cols));
         }
         const bool expected = p.get_bool("expected");
         return with_norm(p, t, std::make_unique<CellTypes>(std::move(table), t.rows, expected));
       }});
}

}  // namespace richlazy::init
