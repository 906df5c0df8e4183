// apps/cmd_init.cpp: `richlazy init describe`.
#include <richlazy/apps/commands.h>

#include <richlazy/core/atomic_file.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/npy.h>
#include <richlazy/core/seeding.h>
#include <richlazy/init/matrix_file.h>
#include <richlazy/metrics/effective_rank.h>
#include <richlazy/metrics/probe.h>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <optional>
#include <tuple>
#include <utility>

namespace richlazy::apps {

namespace {
constexpr int64_t kDefaultDescribeSize = 300;  ///< --spec without --size or a matrix file

/// A matrix and the parameter name it was built for.
struct Built {
  std::string param;
  torch::Tensor matrix;
  /// With --config: the initial network's loss, hidden-norm ratio and recurrent gradient norm
  /// on the run's probe trials, as its summary.json's initial_state gives them.
  std::optional<std::array<double, 3>> initial_state;
  int64_t probe_trials = 0;
  uint64_t seed = 0;
};

/// The shape of the matrix file a file-based spec reads (its `file:`, or its base's for a
/// wrapper such as `{name: shuffled, base: {name: connectome, file: X.npy}}`); nullopt when
/// the spec names no file or the file cannot be read (the initializer then says why, in
/// place). Paths on the command line are relative to the working directory.
std::optional<std::pair<int64_t, int64_t>> file_shape(const YAML::Node& spec) {
  if (!spec.IsMap()) return std::nullopt;
  const YAML::Node file = spec["file"];
  if (!file.IsDefined()) {
    const YAML::Node base = spec["base"];
    return base.IsDefined() ? file_shape(base) : std::nullopt;
  }
  if (!file.IsScalar() || file.Scalar().empty()) return std::nullopt;
  const YAML::Node format = spec["format"];
  const YAML::Node names_file = spec["names_file"];
  try {
    std::vector<std::string> names;
    if (names_file.IsDefined() && names_file.IsScalar() && !names_file.Scalar().empty()) {
      names = init::load_names(names_file.Scalar());
    }
    const std::string fmt_name = format.IsDefined() && format.IsScalar() ? format.Scalar() : "auto";
    const torch::Tensor m = init::load_matrix(file.Scalar(), fmt_name, names);
    return std::make_pair(m.size(0), m.size(1));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Built matrix_from_spec(const InitDescribeArgs& a, const Registries& reg) {
  auto source = std::make_shared<ConfigSource>(a.spec_origin);
  source->set_positions(!a.spec_tree);
  const YAML::Node node = a.spec_tree ? YAML::Clone(*a.spec_tree) : load_yaml_text(a.spec, a.spec_origin);
  Params p(node, "", source, {});
  // The parameter only names the random stream ("init/<param>") here.
  const std::string param = a.param.empty() ? "W_rec" : a.param;
  // Without --size: the shape of the matrix file a file-based initializer reads, else 300.
  int64_t rows = a.size > 0 ? a.size : kDefaultDescribeSize, cols = rows;
  if (a.size <= 0) {
    if (const auto shape = file_shape(node)) std::tie(rows, cols) = *shape;
  }
  const init::InitTarget target{param, rows, cols, &reg.initializers, nullptr, {}, {}};
  const auto initializer = reg.initializers.create(p, target);
  if (!initializer->depends_on().empty()) {
    throw ConfigError(fmt::format("{}: this initializer needs other parameters ({}); "
                                  "describe it with --config instead",
                                  a.spec_origin, join_names(initializer->depends_on())));
  }
  at::Generator gen = stream_generator(static_cast<uint64_t>(std::max<int64_t>(a.seed, 0)),
                                       "init/" + param);
  const std::map<std::string, torch::Tensor> none;
  const torch::Tensor value = initializer->make(init::InitInputs{gen, none});
  init::require_finite_float32(value, param, a.spec_tree ? node_text(node) : a.spec);
  return {param, value.to(torch::kFloat)};
}

Built matrix_from_config(const InitDescribeArgs& a, const Registries& reg) {
  train::ExperimentOptions o;
  o.config_path = a.config_path;
  o.sets = a.sets;
  o.device = "cpu";
  train::ExperimentPlan plan = train::plan_experiment(o, reg);
  const train::RunConfig& rc = plan.runs.front().config;
  const auto parameters = rc.model->parameters();
  std::string param = a.param;
  if (param.empty()) {  // the model's recurrent weight
    const models::ParameterInfo* recurrent = models::find_role(parameters, models::roles::kRecurrent);
    if (!recurrent) {
      throw ConfigError(fmt::format("{}: the model has no recurrent weight; name one with --param: {}",
                                    a.config_path, models::describe_parameters(parameters)));
    }
    param = recurrent->name;
  }
  if (!models::find_parameter(parameters, param)) {
    throw ConfigError(fmt::format("--param {}: the model of {} has no such parameter; its "
                                  "parameters: {}",
                                  param, a.config_path, models::describe_parameters(parameters)));
  }
  const auto model = rc.model->build();
  models::select_task_outputs(*model, *rc.model, rc.task->output_size());  // a sequence's first task
  const uint64_t seed = a.seed >= 0 ? static_cast<uint64_t>(a.seed) : rc.seed;
  init::apply_initializers(*model, rc.init, seed);
  torch::Tensor w = model->weight(param)[0].detach().clone();
  // The initial state on the probe trials this seed's run would draw.
  metrics::Probe probe(metrics::draw_member_trials(*rc.task, {seed}, "probe", rc.train.probe_trials, torch::kCPU),
                       rc.train.kernel_trials);
  const torch::Tensor state = metrics::initial_state(*model, *rc.task, probe, parameters);
  return {param, w.dim() == 1 ? w.unsqueeze(1) : w,  // a vector as one column
          std::array<double, 3>{state[0][0].item<double>(), state[1][0].item<double>(), state[2][0].item<double>()},
          rc.train.probe_trials, seed};
}
}  // namespace

InitDescription describe_initializer(const InitDescribeArgs& a, const Registries& reg) {
  const Built built = a.config_path.empty() ? matrix_from_spec(a, reg) : matrix_from_config(a, reg);
  const torch::Tensor& w = built.matrix;
  const metrics::SpectrumMeasures m = metrics::spectrum_measures(w);
  const metrics::EigenvalueMeasures eig = metrics::eigenvalue_measures(w);  // NaN unless square
  const double spectral_radius = eig.spectral_radius;
  std::vector<double> top(m.singular_values.begin(),
                          m.singular_values.begin() +
                              std::min<std::size_t>(10, m.singular_values.size()));

  std::string out = fmt::format("{} [{} x {}]\n", built.param, w.size(0), w.size(1));
  out += fmt::format("  rank                           {}\n", m.rank);
  out += fmt::format("  Frobenius norm                 {:.6g}\n", m.frobenius_norm);
  out += fmt::format("  spectral radius                {:.6g}\n", spectral_radius);
  out += fmt::format("  largest singular values        {:.4g}\n", fmt::join(top, ", "));
  out += fmt::format("  effective rank (Roy-Vetterli)  {:.6g}\n", m.roy_vetterli);
  out += fmt::format("  nuclear / (spectral * n)       {:.6g}\n", m.nuclear_ratio);
  out += fmt::format("  participation ratio            {:.6g}\n", m.participation_ratio);
  out += fmt::format("  stable rank                    {:.6g}\n", m.stable_rank);
  out += fmt::format("  eigenvalue erank (erank_eig)   {:.6g}\n", eig.erank_eig);
  if (built.initial_state) {
    const auto& [loss, ratio, grad] = *built.initial_state;
    out += fmt::format("the initial network on its run's {} probe trials (seed {}):\n", built.probe_trials, built.seed);
    out += fmt::format("  loss                           {:.6g}\n", loss);
    out += fmt::format("  hidden norm, last / first step {:.6g}\n", ratio);
    out += fmt::format("  recurrent gradient norm        {:.6g}\n", grad);
  }
  nlohmann::ordered_json j{{"shape", {w.size(0), w.size(1)}},
                           {"rank", m.rank},
                           {"frobenius_norm", m.frobenius_norm},
                           {"spectral_radius", spectral_radius},
                           {"singular_values", top},
                           {"erank_roy_vetterli", m.roy_vetterli},
                           {"erank_nuclear_ratio", m.nuclear_ratio},
                           {"participation_ratio", m.participation_ratio},
                           {"stable_rank", m.stable_rank},
                           {"erank_eig", eig.erank_eig}};
  if (built.initial_state) {
    // As in a run's summary.json (NaN as null).
    j["initial_state"] = {{"loss", (*built.initial_state)[0]},
                          {"hidden_norm_ratio", (*built.initial_state)[1]},
                          {"grad_norm_rec", (*built.initial_state)[2]}};
  }
  return {built.param, w, std::move(j), std::move(out)};
}

int command_init_describe(const InitDescribeArgs& a, const Registries& reg) {
  const InitDescription d = describe_initializer(a, reg);
  std::fputs(d.text.c_str(), stdout);
  if (!a.npy_path.empty()) write_npy(a.npy_path, d.matrix);
  if (!a.json_path.empty()) write_file_atomic(a.json_path, d.json.dump(2) + "\n");
  return 0;
}

}  // namespace richlazy::apps
