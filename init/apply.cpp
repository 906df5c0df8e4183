// init/apply.cpp: initializer planning and application.
#include <richlazy/init/apply.h>

#include <richlazy/core/config_error.h>
#include <richlazy/core/seeding.h>
#include <richlazy/metrics/effective_rank.h>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join
#include <torch/torch.h>

#include <algorithm>

namespace richlazy::init {

std::vector<InitStep> plan_initializers(Params& init_section,
                                        const std::vector<models::ParameterInfo>& parameters,
                                        const InitializerRegistry& registry,
                                        const tasks::Task* task,
                                        const models::ModelBuilder* model,
                                        bool pilot) {
  std::vector<std::string> names;
  for (const auto& p : parameters) names.push_back(p.name);
  for (const auto& key : init_section.user_keys()) {
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      std::string rule = "is not a parameter of this model";
      const std::string guess = closest_name(key, names);
      if (!guess.empty()) rule += fmt::format(" (did you mean '{}'?)", guess);
      init_section.fail_key(key, rule + "; its parameters: " + models::describe_parameters(parameters));
    }
  }

  std::map<std::string, std::vector<int64_t>> shapes;
  std::vector<std::pair<std::string, std::string>> roles;
  for (const auto& info : parameters) {
    shapes[info.name] = info.shape;
    roles.emplace_back(info.name, info.role);
  }
  std::vector<InitStep> steps;
  for (const auto& info : parameters) {
    const int64_t cols = info.shape.size() > 1 ? info.shape.at(1) : 1;
    const InitTarget target{info.name, info.shape.at(0), cols, &registry, task, shapes, roles, model, pilot};
    InitStep step;
    step.param = info.name;
    step.role = info.role;
    step.shape = info.shape;
    if (init_section.has(info.name)) {
      Params spec = init_section.child_undeclared(info.name, {});
      // `--set init.W_rec.gain=1.5` alone keeps the model's default initializer.
      if (!spec.has("name")) fill_missing_keys(spec.node(), YAML::Load(info.default_init));
      step.initializer = registry.create(spec, target);
      step.spec = node_text(spec.resolved());
    } else {
      Params spec(YAML::Load(info.default_init), init_section.key_path(info.name),
                  init_section.source_ptr(), {});
      step.initializer = registry.create(spec, target);
      init_section.set_resolved(info.name, spec.resolved());
      step.spec = node_text(spec.resolved());
    }
    if (model) {
      step.adjustment = model->init_adjustment(info.name);
      if (step.adjustment) step.spec += " + " + step.adjustment->description;
    }
    steps.push_back(std::move(step));
  }

  // Stable topological order: a parameter comes after those its initializer depends on.
  std::vector<InitStep> ordered;
  std::vector<bool> placed(steps.size(), false);
  while (ordered.size() < steps.size()) {
    bool progress = false;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (placed[i]) continue;
      bool ready = true;
      std::vector<std::string> deps = steps[i].initializer->depends_on();
      if (steps[i].adjustment) deps.insert(deps.end(), steps[i].adjustment->depends_on.begin(), steps[i].adjustment->depends_on.end());
      for (const auto& dep : deps) {
        if (std::find(names.begin(), names.end(), dep) == names.end()) {
          init_section.fail_bare(steps[i].param,
                                 fmt::format("depends on '{}', which is not a parameter of this "
                                             "model; its parameters: {}",
                                             dep, models::describe_parameters(parameters)));
        }
        for (std::size_t j = 0; j < steps.size(); ++j) {
          if (steps[j].param == dep && !placed[j]) ready = false;
        }
      }
      if (ready) {
        placed[i] = true;
        ordered.push_back(steps[i]);
        progress = true;
      }
    }
    if (!progress) {
      for (std::size_t i = 0; i < steps.size(); ++i) {
        if (!placed[i]) {
          std::string why;
          for (const auto& s : steps) {
            if (s.adjustment && !s.adjustment->depends_on.empty()) {
              why += fmt::format("; {} after its initializer ({}) needs {} first", s.param, s.adjustment->description,
                                 join_names(s.adjustment->depends_on));
            }
          }
          init_section.fail_bare(steps[i].param, "has initializers that depend on each other in a cycle" + why);
        }
      }
    }
  }
  return ordered;
}

void require_finite_float32(const torch::Tensor& value, const std::string& param, const std::string& spec) {
  if (torch::isfinite(value.to(torch::kFloat)).all().item<bool>()) return;
  throw ConfigError(fmt::format("init.{} {}: the initial matrix has entries that are not finite in float32 "
                                "(largest |entry| {:.3g}); choose a smaller norm or scale",
                                param, spec, value.abs().max().item<double>()));
}

std::vector<InitReport> apply_initializers(models::Model& model, const std::vector<InitStep>& plan,
                                           uint64_t seed, int64_t member, const std::string& pilot_run) {
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> done;
  std::vector<InitReport> reports;
  for (const auto& step : plan) {
    at::Generator gen = stream_generator(seed, "init/" + step.param);
    torch::Tensor value = step.initializer->make(InitInputs{gen, done, pilot_run});
    if (step.adjustment && value.dim() == 2) value = step.adjustment->apply(value.to(torch::kDouble), done);
    torch::Tensor param = model.weight(step.param)[member];
    // A vector parameter is filled as a [rows, 1] matrix.
    const int64_t rows = param.size(0), cols = param.dim() > 1 ? param.size(1) : 1;
    if (value.dim() != 2 || value.size(0) != rows || value.size(1) != cols) {
      throw std::logic_error(fmt::format("initializer for {} returned shape {}, expected {}x{}",
                                         step.param, fmt::join(value.sizes(), "x"), rows, cols));
    }
    require_finite_float32(value, step.param, step.spec);
    param.copy_(value.reshape(param.sizes()));
    done[step.param] = param.detach().to(torch::kCPU, torch::kDouble).reshape({rows, cols});
    const auto m = metrics::spectrum_measures(done[step.param]);
    const auto eig = metrics::eigenvalue_measures(done[step.param]);
    reports.push_back({step.param, step.role, step.spec, rows, cols, m.rank, m.frobenius_norm,
                       m.roy_vetterli, eig.spectral_radius, eig.erank_eig});
  }
  return reports;
}

std::string InitTarget::parameter_with_role(const std::string& role) const {
  for (const auto& [name, r] : roles) {
    if (r == role) return name;
  }
  return "";
}

std::string InitTarget::describe_parameters() const {
  std::vector<std::string> names;
  for (const auto& [name, role] : roles) names.push_back(role.empty() ? name : fmt::format("{} ({})", name, role));
  for (const auto& [name, shape] : shapes) {  // parameters given without roles
    bool listed = false;
    for (const auto& [n, role] : roles) listed = listed || n == name;
    if (!listed) names.push_back(name);
  }
  return join_names(names);
}

std::string format_init_report(const InitReport& r) {
  std::string out = fmt::format("{} [{} x {}] {}: rank {}, Frobenius norm {:.4f}, effective rank (Roy-Vetterli) {:.2f}",
                                r.param, r.rows, r.cols, r.spec, r.rank, r.frobenius_norm, r.erank_roy_vetterli);
  if (!std::isnan(r.spectral_radius)) {
    out += fmt::format(", spectral radius {:.4f}, erank_eig {:.4f}", r.spectral_radius, r.erank_eig);
  }
  return out;
}

}  // namespace richlazy::init
