// init/norm.cpp: common initializer options and helpers.
#include <richlazy/init/norm.h>

#include <richlazy/core/config_error.h>
#include <richlazy/metrics/effective_rank.h>
#include <richlazy/models/model.h>
#include <richlazy/tasks/task.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <filesystem>
#include <stdexcept>

namespace richlazy::init {

std::vector<ParamSpec> with_norm_options(std::vector<ParamSpec> specs, const std::string& default_norm) {
  bool has_gain = false, has_norm = false;
  for (const auto& s : specs) {
    has_gain = has_gain || s.name == "gain";
    has_norm = has_norm || s.name == "norm";
  }
  if (!has_norm) {
    specs.push_back({"norm", default_norm,
                     "Frobenius norm: a number, auto (gain * sqrt(rows), the reference Gaussian's "
                     "expected norm) or none (keep the initializer's own scale); or "
                     "{spectral_radius: r} (largest |eigenvalue|, square matrices) or "
                     "{spectral_norm: s} (largest singular value), or {matched_loss: SPEC} (the initial "
                     "network's loss equals that with SPEC, e.g. {name: low_rank, rank: 1}, in its place)"});
  }
  if (!has_gain) specs.push_back({"gain", "1.25", "gain g of the reference norm g * sqrt(rows)"});
  return specs;
}

InitializerRegistry::InitializerRegistry(std::string kind)
    : Registry(std::move(kind),
               CommonOptions{[](std::vector<ParamSpec> specs) { return with_norm_options(std::move(specs), "none"); },
                             [](Params& p, std::unique_ptr<Initializer> raw, const InitTarget& t) {
                               return apply_norm(p, t, std::move(raw));
                             }}) {}

torch::Tensor scaled_to_norm(const torch::Tensor& matrix, double norm) {
  const double current = matrix.norm().item<double>();
  if (!(current > 0)) throw std::runtime_error("cannot rescale an all-zero matrix to a norm");
  return matrix * (norm / current);
}

torch::Tensor scaled_to_spectral_radius(const torch::Tensor& matrix, double radius) {
  const torch::Tensor w = matrix.to(torch::kDouble);
  if (w.dim() != 2 || w.size(0) != w.size(1)) {
    throw std::runtime_error("a spectral radius needs a square matrix");
  }
  const double current = metrics::eigenvalue_measures(w).spectral_radius;  // the same measure every run logs
  if (std::isnan(current)) throw std::runtime_error("cannot rescale a matrix with entries that are not finite");
  // A nilpotent matrix (every eigenvalue 0; e.g. a rank-1 u v^T with v orthogonal to u) has
  // no spectral radius to rescale. Its computed eigenvalues are not 0 but rounding, amplified
  // by the matrix being defective: about sqrt(eps) ||W|| = 1e-8 ||W|| for a Jordan block of
  // size 2, eps^(1/3) = 6e-6 ||W|| of size 3. Below 1e-5 ||W||_F a radius cannot be told from
  // rounding, and rescaling it would blow up the matrix by 1e5 or more.
  const double frobenius = w.norm().item<double>();
  if (!(current > kNilpotentTolerance * frobenius)) {
    throw std::runtime_error(fmt::format("cannot rescale to spectral radius {}: the matrix's spectral radius is "
                                         "{:.3g} (Frobenius norm {:.3g}), numerically nilpotent",
                                         radius, current, frobenius));
  }
  return matrix * (radius / current);
}

torch::Tensor scaled_to_spectral_norm(const torch::Tensor& matrix, double norm) {
  const double current = torch::linalg_svdvals(matrix.to(torch::kDouble)).max().item<double>();
  if (!(current > 0)) throw std::runtime_error("cannot rescale an all-zero matrix to a spectral norm");
  return matrix * (norm / current);
}

namespace {
enum class Scale { frobenius, spectral_radius, spectral_norm };

class Normalized final : public Initializer {
 public:
  Normalized(std::unique_ptr<Initializer> raw, Scale scale, double value)
      : raw_(std::move(raw)), scale_(scale), value_(value) {}
  torch::Tensor make(const InitInputs& in) const override {
    const torch::Tensor w = raw_->make(in);
    switch (scale_) {
      case Scale::spectral_radius: return scaled_to_spectral_radius(w, value_);
      case Scale::spectral_norm: return scaled_to_spectral_norm(w, value_);
      default: return scaled_to_norm(w, value_);
    }
  }
  std::vector<std::string> depends_on() const override { return raw_->depends_on(); }

 private:
  std::unique_ptr<Initializer> raw_;
  Scale scale_;
  double value_;
};

constexpr double kFloatMax = static_cast<double>(std::numeric_limits<float>::max());
}  // namespace

std::unique_ptr<Initializer> with_norm(Params&, const InitTarget&, std::unique_ptr<Initializer> raw) {
  return raw;
}

std::unique_ptr<Initializer> apply_norm(Params& p, const InitTarget& t, std::unique_ptr<Initializer> raw) {
  const double gain = p.get_double_above("gain", 0.0);
  const YAML::Node v = p.raw("norm");
  const std::string rule =
      "must be a number > 0, auto, none, {spectral_radius: r}, {spectral_norm: s} or {matched_loss: SPEC}";
  if (v.IsMap()) {
    if (v.size() != 1 || !v.begin()->first.IsScalar()) p.fail("norm", rule);
    const std::string kind = v.begin()->first.Scalar();
    if (kind == "matched_loss") return matched_loss_initializer(p, t, std::move(raw));
    if (kind != "spectral_radius" && kind != "spectral_norm") p.fail("norm", rule);
    double value = 0;
    const YAML::Node x = v.begin()->second;
    if (!x.IsScalar() || !YAML::convert<double>::decode(x, value) || !std::isfinite(value) || !(value > 0) ||
        value > kFloatMax) {
      p.fail("norm", fmt::format("{} must be a number > 0 within float32's range", kind));
    }
    if (kind == "spectral_radius" && t.rows != t.cols) {
      p.fail("norm", fmt::format("spectral_radius needs a square matrix, and this one is {} x {} (use "
                                 "spectral_norm)",
                                 t.rows, t.cols));
    }
    return std::make_unique<Normalized>(std::move(raw),
                                        kind == "spectral_radius" ? Scale::spectral_radius : Scale::spectral_norm,
                                        value);
  }
  if (!v.IsScalar()) p.fail("norm", rule);
  if (v.Scalar() == "none") return raw;
  double norm = 0;
  if (v.Scalar() == "auto") {
    norm = gain * std::sqrt(static_cast<double>(t.rows));
  } else if (!YAML::convert<double>::decode(v, norm) || !std::isfinite(norm) || !(norm > 0)) {
    p.fail("norm", rule);
  } else if (norm > kFloatMax) {
    // The matrix is float32: a larger Frobenius norm cannot be represented.
    p.fail("norm", fmt::format("must lie within float32's range (<= {:.6g})", kFloatMax));
  }
  return std::make_unique<Normalized>(std::move(raw), Scale::frobenius, norm);
}

std::vector<std::string> other_parameters(const InitTarget& t) {
  std::vector<std::string> others;
  for (const auto& [name, role] : t.roles) {
    if (name != t.param) others.push_back(name);
  }
  return others;
}

std::shared_ptr<models::Model> initial_network(const models::ModelBuilder& model, const InitInputs& in,
                                               const std::vector<std::string>& others, const tasks::Task* task) {
  std::shared_ptr<models::Model> net = model.build(1);
  if (task) models::select_task_outputs(*net, model, task->output_size());
  for (const auto& name : others) {
    torch::Tensor w = net->weight(name)[0];
    w.copy_(in.initialized.at(name).reshape(w.sizes()));
  }
  return net;
}

std::unique_ptr<Initializer> base_initializer(Params& p, const InitTarget& t) {
  if (!t.registry) throw std::logic_error("base_initializer: InitTarget has no registry");
  Params base = p.child("base", {});
  return t.registry->create(base, t);
}

std::string config_path(Params& p, const std::string& key) {
  const YAML::Node v = p.raw(key);
  if (v.IsNull()) return "";
  if (!v.IsScalar() || v.Scalar().empty()) p.fail(key, "must be a file path");
  const std::string value = v.Scalar();
  namespace fs = std::filesystem;
  if (fs::path(value).is_absolute()) return value;
  // Values written in the config file are relative to it; command-line ones to the cwd.
  if (!p.source().origin_of(p.key_path(key)).empty()) return value;
  return (fs::path(p.source().file()).parent_path() / value).string();
}

torch::Tensor truncate_rank(const torch::Tensor& w, int64_t rank) {
  const auto [u, s, vh] = torch::linalg_svd(w, /*full_matrices=*/false);
  using torch::indexing::Slice;
  return torch::matmul(u.index({Slice(), Slice(0, rank)}) * s.index({Slice(0, rank)}).unsqueeze(0),
                       vh.index({Slice(0, rank), Slice()}));
}

}  // namespace richlazy::init
