// tests/init/initializers_test.cpp: gaussian, low_rank and torch_default against PyTorch and
// NumPy (tests/reference/pytorch_reference.h) and against their definitions.
#include "../test_common.h"

#include "../reference/pytorch_reference.h"

#include <richlazy/core/registries.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/seeding.h>
#include <richlazy/init/apply.h>
#include <richlazy/init/norm.h>
#include <richlazy/core/npy.h>
#include <fmt/format.h>
#include <filesystem>
#include <richlazy/metrics/effective_rank.h>
#include <richlazy/models/ctrnn.h>

#include <cmath>

using namespace richlazy;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
torch::Tensor make(const std::string& spec, int64_t rows, int64_t cols, uint64_t seed) {
  const Registries reg = builtin_registries();
  Params p = testing::params_from(spec, "init.W");
  const auto init = reg.initializers.create(p, init::InitTarget{"W", rows, cols});
  at::Generator gen = make_generator(seed);
  const std::map<std::string, torch::Tensor> none;
  return init->make(init::InitInputs{gen, none});
}

void require_prefix(const torch::Tensor& t, const std::vector<double>& expected, double tol) {
  const torch::Tensor flat = t.flatten().to(torch::kDouble);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("entry " << i);
    REQUIRE(flat[static_cast<int64_t>(i)].item<double>() == Approx(expected[i]).margin(tol));
  }
}
}  // namespace

TEST_CASE("torch_default draws exactly what nn.Linear draws from the same generator", "[init]") {
  const torch::Tensor w = make("{name: torch_default}", 300, 3, reference::kTorchDefaultSeed);
  require_prefix(w, reference::kTorchDefault300x3First, 0.0);
  REQUIRE(w.sum().item<double>() == Approx(reference::kTorchDefault300x3Sum).epsilon(1e-12));
  REQUIRE(w.abs().max().item<double>() <= 1.0 / std::sqrt(3.0));
}

TEST_CASE("gaussian is PyTorch's float64 randn times gain / sqrt(fan_in)", "[init]") {
  const int64_t n = reference::kGaussianN;
  const torch::Tensor w = make("{name: gaussian, gain: 1.25}", n, n, reference::kGaussianSeed);
  require_prefix(w, reference::kGaussianFirst, 1e-15);
  REQUIRE(w.norm().item<double>() == Approx(reference::kGaussianFrobenius).epsilon(1e-13));
}

TEST_CASE("gaussian entries have variance g^2 / N", "[init]") {
  const int64_t n = 300;
  const double g = 1.5;
  const torch::Tensor w = make("{name: gaussian, gain: 1.5}", n, n, 42);
  const double count = static_cast<double>(n * n);
  const double var = g * g / n;
  // The sample variance of 90,000 normals has relative standard error sqrt(2/90000) = 0.47%;
  // allow 5 standard errors. The mean has standard error sqrt(var / 90000).
  REQUIRE(w.var().item<double>() == Approx(var).epsilon(5 * std::sqrt(2.0 / count)));
  REQUIRE(std::abs(w.mean().item<double>()) < 5 * std::sqrt(var / count));
}

TEST_CASE("low_rank equals the reference script's NumPy truncation", "[init]") {
  const int64_t n = reference::kGaussianN;
  const torch::Tensor w =
      make("{name: low_rank, rank: 5, gain: 1.25}", n, n, reference::kGaussianSeed);
  require_prefix(w, reference::kLowRankFirst, 1e-12);
  const auto m = metrics::spectrum_measures(w);
  for (std::size_t i = 0; i < reference::kLowRankSingularValues.size(); ++i) {
    REQUIRE(m.singular_values[i] == Approx(reference::kLowRankSingularValues[i]).margin(1e-10));
  }
}

TEST_CASE("low_rank has exactly rank r and the Frobenius norm of its Gaussian draw", "[init]") {
  const int64_t n = 300;
  const torch::Tensor full = make("{name: gaussian}", n, n, 9);
  for (int64_t r : {1, 30, 100, 300}) {
    INFO("rank " << r);
    const torch::Tensor w = make("{name: low_rank, rank: " + std::to_string(r) + "}", n, n, 9);
    REQUIRE(metrics::spectrum_measures(w).rank == r);
    // As stored in the float32 network too.
    REQUIRE(metrics::spectrum_measures(w.to(torch::kFloat)).rank == r);
    REQUIRE(w.norm().item<double>() == Approx(full.norm().item<double>()).epsilon(1e-12));
  }
  // Full rank keeps every triplet: it is the Gaussian draw itself.
  REQUIRE(testing::max_abs_diff(make("{name: low_rank, rank: 300}", n, n, 9), full) < 1e-12);
}

TEST_CASE("low_rank rejects ranks outside [1, min(rows, cols)]", "[init]") {
  REQUIRE_THROWS_WITH(make("{name: low_rank, rank: 500}", 300, 300, 0),
                      "test.yaml:1:24: init.W.rank must be an integer in [1, 300], got 500");
  REQUIRE_THROWS_WITH(make("{name: low_rank, rank: 0}", 300, 300, 0),
                      Contains("init.W.rank must be an integer in [1, 300], got 0"));
  REQUIRE_THROWS_WITH(make("{name: low_rank}", 300, 300, 0), Contains("init.W.rank is required"));
  REQUIRE_THROWS_WITH(make("{name: low_rank, rank: 2, gain: 0}", 300, 300, 0),
                      Contains("init.W.gain must be a number > 0, got 0"));
}

TEST_CASE("each parameter draws from its own stream derived from the seed", "[init]") {
  const Registries reg = builtin_registries();
  models::CTRNNOptions o;
  o.hidden_size = 20;
  auto plan_for = [&](const std::string& yaml) {
    Params p = testing::params_from(yaml, "init");
    const std::vector<models::ParameterInfo> params{
        {"W_in", {20, 3}, "{name: torch_default}", ""},
        {"W_out", {3, 20}, "{name: torch_default}", ""},
        {"W_rec", {20, 20}, "{name: gaussian, gain: 1.25}", ""}};
    return init::plan_initializers(p, params, reg.initializers);
  };
  auto a = std::make_shared<models::CTRNN>(o);
  auto b = std::make_shared<models::CTRNN>(o);
  const auto reports = init::apply_initializers(*a, plan_for("{W_rec: {name: low_rank, rank: 2}}"), 5);
  init::apply_initializers(*b, plan_for("{}"), 5);
  // W_in and W_out do not depend on how W_rec is initialized.
  REQUIRE(torch::equal(a->weight("W_in"), b->weight("W_in")));
  REQUIRE(torch::equal(a->weight("W_out"), b->weight("W_out")));
  REQUIRE_FALSE(torch::equal(a->weight("W_in")[0].slice(0, 0, 3), a->weight("W_out")[0].t()));
  REQUIRE(reports.size() == 3);
  REQUIRE(reports[2].param == "W_rec");
  REQUIRE(reports[2].rank == 2);
  REQUIRE(reports[2].frobenius_norm == Approx(b->weight("W_rec").norm().item<double>()).epsilon(1e-6));
  REQUIRE(reports[2].erank_roy_vetterli > 1.0);
  REQUIRE(reports[2].erank_roy_vetterli <= 2.0 + 1e-9);
  // A different seed gives different weights.
  auto c = std::make_shared<models::CTRNN>(o);
  init::apply_initializers(*c, plan_for("{}"), 6);
  REQUIRE_FALSE(torch::equal(c->weight("W_rec"), b->weight("W_rec")));
}

TEST_CASE("init names only parameters the model has", "[init]") {
  const Registries reg = builtin_registries();
  Params p = testing::params_from("{W_rc: {name: gaussian}}", "init");
  const std::vector<models::ParameterInfo> params{{"W_rec", {4, 4}, "{name: gaussian}", ""}};
  REQUIRE_THROWS_WITH(init::plan_initializers(p, params, reg.initializers),
                      "test.yaml:1:2: init.W_rc is not a parameter of this model (did you mean "
                      "'W_rec'?); its parameters: W_rec");
}

TEST_CASE("derived seeds separate streams and are stable", "[init]") {
  REQUIRE(derive_seed(0, "train") == derive_seed(0, "train"));
  REQUIRE(derive_seed(0, "train") != derive_seed(1, "train"));
  REQUIRE(derive_seed(0, "train") != derive_seed(0, "probe"));
  REQUIRE(derive_seed(0, "init/W_in") != derive_seed(0, "init/W_out"));
  at::Generator a = stream_generator(3, "x"), b = stream_generator(3, "x");
  REQUIRE(torch::equal(torch::randn({10}, a), torch::randn({10}, b)));
}

// ---- issue 12, item 3(c): `norm` comes from the registry, for every initializer ----------

namespace {
/// The README's example of an initializer written outside richlazy: it knows nothing of norm.
class Scaled final : public init::Initializer {
 public:
  Scaled(Params& p, const init::InitTarget& t) : rows_(t.rows), cols_(t.cols), sd_(p.get_double_above("sd", 0.0)) {}
  torch::Tensor make(const init::InitInputs& in) const override {
    return torch::randn({rows_, cols_}, in.gen, torch::kDouble) * sd_;
  }

 private:
  int64_t rows_, cols_;
  double sd_;
};

void register_scaled(init::InitializerRegistry& r) {
  r.add({"scaled", "i.i.d. N(0, sd^2)", {{"sd", "1.0", "standard deviation"}},
         [](Params& p, const init::InitTarget& t) -> std::unique_ptr<init::Initializer> {
           return std::make_unique<Scaled>(p, t);
         }});
}

torch::Tensor make_with(const init::InitializerRegistry& reg, const std::string& spec, int64_t rows, int64_t cols,
                        std::string* resolved = nullptr) {
  Params p = testing::params_from(spec, "init.W");
  const auto init = reg.create(p, init::InitTarget{"W", rows, cols, &reg});
  if (resolved) *resolved = node_text(p.resolved());
  at::Generator gen = make_generator(11);
  const std::map<std::string, torch::Tensor> none;
  return init->make(init::InitInputs{gen, none});
}

bool declares(const init::InitializerRegistry& reg, const std::string& entry, const std::string& key,
              const std::string& default_yaml) {
  for (const auto& s : reg.find(entry)->params) {
    if (s.name == key) return s.default_yaml == default_yaml;
  }
  return false;
}
}  // namespace

TEST_CASE("an initializer registered from outside takes norm from the registry", "[init]") {
  Registries with_builtins = builtin_registries();
  init::InitializerRegistry bare;  // a registry of one's own, without the built-ins
  for (init::InitializerRegistry* reg : {&with_builtins.initializers, &bare}) {
    register_scaled(*reg);
    // Listed with the entry's options (richlazy list initializers), default none.
    REQUIRE(declares(*reg, "scaled", "norm", "none"));
    REQUIRE(declares(*reg, "scaled", "gain", "1.25"));
    REQUIRE(declares(*reg, "scaled", "sd", "1.0"));

    // norm: none (the default) keeps the entry's own scale, bit for bit.
    std::string resolved;
    const torch::Tensor raw = make_with(*reg, "{name: scaled, sd: 3}", 40, 30, &resolved);
    at::Generator gen = make_generator(11);
    REQUIRE(torch::equal(raw, torch::randn({40, 30}, gen, torch::kDouble) * 3.0));
    REQUIRE(resolved == "{name: scaled, sd: 3, gain: 1.25, norm: none}");
    // A number is the Frobenius norm; auto is gain * sqrt(rows), the Gaussian control's.
    REQUIRE(make_with(*reg, "{name: scaled, sd: 3, norm: 21.6}", 40, 30).norm().item<double>() ==
            Approx(21.6).epsilon(1e-12));
    REQUIRE(make_with(*reg, "{name: scaled, sd: 3, norm: auto}", 40, 30).norm().item<double>() ==
            Approx(1.25 * std::sqrt(40.0)).epsilon(1e-12));
    REQUIRE(make_with(*reg, "{name: scaled, norm: auto, gain: 2}", 40, 30).norm().item<double>() ==
            Approx(2 * std::sqrt(40.0)).epsilon(1e-12));
    REQUIRE_THROWS_WITH(make_with(*reg, "{name: scaled, norm: -2}", 4, 4),
                        Contains("test.yaml:1:") && Contains(": init.W.norm must be a number > 0, auto, none, {spectral_radius: r}, "
                                                            "{spectral_norm: s} or {matched_loss: SPEC}, got -2"));
    REQUIRE_THROWS_WITH(make_with(*reg, "{name: scaled, nrom: 2}", 4, 4), Contains("nrom"));
  }
  // Wrappers build their base through the registry: the base gets its norm, the wrapper its own.
  const init::InitializerRegistry& reg = with_builtins.initializers;
  REQUIRE(make_with(reg, "{name: shuffled, base: {name: scaled, sd: 3, norm: 5}}", 30, 30).norm().item<double>() ==
          Approx(5).epsilon(1e-12));
  REQUIRE(make_with(reg, "{name: low_rank_of, rank: 2, base: {name: scaled, norm: 5}, norm: 7}", 30, 30)
              .norm()
              .item<double>() == Approx(7).epsilon(1e-12));
  // An entry may choose its default norm by declaring it; the registry still applies it.
  init::InitializerRegistry own;
  own.add({"unit", "scaled to norm 1 unless told otherwise",
           init::with_norm_options({{"sd", "1.0", "standard deviation"}}, "1"),
           [](Params& p, const init::InitTarget& t) -> std::unique_ptr<init::Initializer> {
             return std::make_unique<Scaled>(p, t);
           }});
  REQUIRE(make_with(own, "{name: unit, sd: 9}", 10, 10).norm().item<double>() == Approx(1).epsilon(1e-12));
  REQUIRE(make_with(own, "{name: unit, norm: 4}", 10, 10).norm().item<double>() == Approx(4).epsilon(1e-12));
}

TEST_CASE("built-in initializers get norm from the registry exactly once", "[init]") {
  // Every built-in entry lists norm (with its own default), as every outside one does.
  for (const auto& e : testing::registries().initializers.entries()) {
    INFO(e.name);
    bool has_norm = false;
    for (const auto& s : e.params) has_norm = has_norm || s.name == "norm";
    REQUIRE(has_norm);
  }
  // The paper's comparison: a low-rank matrix next to its Gaussian control, one norm.
  const init::InitializerRegistry& reg = testing::registries().initializers;
  const double g = make_with(reg, "{name: gaussian, norm: 21.6}", 300, 300).norm().item<double>();
  const double l = make_with(reg, "{name: low_rank, rank: 3, norm: 21.6}", 300, 300).norm().item<double>();
  REQUIRE(g == Approx(21.6).epsilon(1e-12));
  REQUIRE(l == Approx(21.6).epsilon(1e-12));
  // gaussian's default (none) is the reference draw itself, unscaled.
  at::Generator gen = make_generator(11);
  REQUIRE(torch::equal(make_with(reg, "{name: gaussian}", 20, 10), init::gaussian_draw(20, 10, 1.25, gen)));
}

// ---- issue 13, item 2: norm to a spectral radius or a spectral norm, for every initializer --

TEST_CASE("norm: {spectral_radius: r} and {spectral_norm: s} scale any initializer", "[init]") {
  Registries reg = builtin_registries();
  register_scaled(reg.initializers);  // one from outside, too
  auto radius = [](const torch::Tensor& w) { return torch::linalg_eigvals(w).abs().max().item<double>(); };
  auto top_singular = [](const torch::Tensor& w) { return torch::linalg_svdvals(w).max().item<double>(); };
  for (const std::string name : {"gaussian", "scaled", "low_rank, rank: 5", "orthogonal"}) {
    INFO(name);
    const torch::Tensor raw = make_with(reg.initializers, "{name: " + name + "}", 60, 60);
    const torch::Tensor w = make_with(reg.initializers, "{name: " + name + ", norm: {spectral_radius: 0.9}}", 60, 60);
    REQUIRE(radius(w) == Approx(0.9).epsilon(1e-10));
    // Only the scale changes: the same draw times one number.
    REQUIRE(torch::allclose(w, raw * (0.9 / radius(raw)), 1e-12, 1e-14));
    const torch::Tensor s = make_with(reg.initializers, "{name: " + name + ", norm: {spectral_norm: 2}}", 60, 60);
    REQUIRE(top_singular(s) == Approx(2).epsilon(1e-10));
  }
  // The Dale-signed connectome, at the radius the stable-regime controls use.
  const std::string connectome = "{name: connectome, file: " + testing::data_dir() + "/celegans/Gs.npy, inhibitory_mask: " +
                                 testing::data_dir() + "/celegans/emask.npy, norm: {spectral_radius: 0.9}}";
  const torch::Tensor c = make_with(reg.initializers, connectome, 279, 279);
  REQUIRE(radius(c) == Approx(0.9).epsilon(1e-10));
  REQUIRE(metrics::eigenvalue_measures(c).spectral_radius == Approx(0.9).epsilon(1e-10));
  // A spectral norm applies to any shape; a spectral radius only to square matrices.
  REQUIRE(top_singular(make_with(reg.initializers, "{name: gaussian, norm: {spectral_norm: 3}}", 40, 3)) ==
          Approx(3).epsilon(1e-10));
  REQUIRE_THROWS_WITH(make_with(reg.initializers, "{name: gaussian, norm: {spectral_radius: 1}}", 40, 3),
                      Contains("init.W.norm spectral_radius needs a square matrix, and this one is 40 x 3 (use "
                               "spectral_norm)"));
  for (const std::string bad : {"{spectral_radius: -1}", "{spectral_radius: .inf}", "{spectral_norm: x}",
                                "{spectral_radius: 1e40}"}) {
    INFO(bad);
    REQUIRE_THROWS_WITH(make_with(reg.initializers, "{name: gaussian, norm: " + bad + "}", 4, 4),
                        Contains("init.W.norm spectral_") && Contains("must be a number > 0 within float32's range"));
  }
  for (const std::string bad : {"{frobenius: 1}", "{spectral_radius: 1, spectral_norm: 2}", "{}", "[1]"}) {
    INFO(bad);
    REQUIRE_THROWS_WITH(make_with(reg.initializers, "{name: gaussian, norm: " + bad + "}", 4, 4),
                        Contains("init.W.norm must be a number > 0, auto, none, {spectral_radius: r}, "
                                 "{spectral_norm: s} or {matched_loss: SPEC}"));
  }
  // matched_loss simulates the run's network: outside a run there is none.
  REQUIRE_THROWS_WITH(make_with(reg.initializers, "{name: gaussian, norm: {matched_loss: {name: low_rank, rank: 1}}}", 10, 10),
                      Contains("init.W.norm {matched_loss: ...} simulates the run's network on its task"));
  // A nilpotent matrix has no spectral radius to scale: a clear error, not an infinite matrix.
  const torch::Tensor nilpotent = torch::tensor({{0.0, 1.0}, {0.0, 0.0}}, torch::kDouble);
  REQUIRE_THROWS_WITH(init::scaled_to_spectral_radius(nilpotent, 1.0), Contains("numerically nilpotent"));
}

// ---- issue 13, item 3: solution_aligned --------------------------------------------------

TEST_CASE("solution_aligned keeps a run's learned directions and turns its input side by an angle", "[init]") {
  testing::TempDir tmp;
  fs::create_directories(tmp.file("run/weights"));
  at::Generator gen = make_generator(21);
  const torch::Tensor w0 = torch::randn({30, 30}, gen, torch::kDouble);
  const torch::Tensor w1 = w0 + torch::randn({30, 30}, gen, torch::kDouble) * 0.1;
  write_npy(tmp.file("run/weights/W_init.npy"), w0.to(torch::kFloat));
  write_npy(tmp.file("run/weights/W_final.npy"), w1.to(torch::kFloat));
  const torch::Tensor dw = w1.to(torch::kFloat).to(torch::kDouble) - w0.to(torch::kFloat).to(torch::kDouble);
  const auto [u, s, vh] = torch::linalg_svd(dw, false);
  const torch::Tensor u3 = u.slice(1, 0, 3), v3 = vh.slice(0, 0, 3).t();
  const init::InitializerRegistry& reg = testing::registries().initializers;
  const std::string spec = "{name: solution_aligned, run: " + tmp.file("run") + ", rank: 3";

  // Angle 0, norm none: dW's own top-3 part, signs included.
  const torch::Tensor own = make_with(reg, spec + ", norm: none}", 30, 30);
  REQUIRE(torch::allclose(own, init::truncate_rank(dw, 3), 1e-10, 1e-12));
  // Default norm: auto, low_rank's scale gain * sqrt(rows).
  REQUIRE(make_with(reg, spec + "}", 30, 30).norm().item<double>() == Approx(1.25 * std::sqrt(30.0)).epsilon(1e-12));
  for (const double angle : {30.0, 60.0, 90.0}) {
    INFO(angle);
    const torch::Tensor w = make_with(reg, spec + fmt::format(", angle: {}, norm: none}}", angle), 30, 30);
    // The same singular values and output-side vectors (nothing outside span(U_3)) ...
    REQUIRE(torch::allclose(torch::linalg_svdvals(w).slice(0, 0, 3), s.slice(0, 0, 3), 1e-10, 1e-12));
    REQUIRE(torch::allclose(torch::matmul(torch::eye(30, torch::kDouble) - u3.matmul(u3.t()), w),
                            torch::zeros({30, 30}, torch::kDouble), 1e-10, 1e-10));
    // ... and input-side vectors at exactly that angle: V'^T V = cos(angle) I.
    const torch::Tensor v_new = torch::matmul(w.t(), u3) / s.slice(0, 0, 3).unsqueeze(0);  // [30, 3]
    const double c = angle == 90.0 ? 0.0 : std::cos(angle * M_PI / 180.0);
    REQUIRE(torch::allclose(v_new.t().matmul(v3), c * torch::eye(3, torch::kDouble), 1e-9, 1e-10));
  }
  REQUIRE_THROWS_WITH(make_with(reg, spec + ", angle: 91}", 30, 30), Contains("init.W.angle must be a number in [0, 90]"));
  REQUIRE_THROWS_WITH(make_with(reg, "{name: solution_aligned, run: " + tmp.file("run") + ", rank: 16, angle: 10}", 30, 30),
                      Contains("init.W.angle > 0 needs 2 x rank <= 30"));
  REQUIRE_THROWS_WITH(make_with(reg, "{name: solution_aligned, run: " + tmp.file("nowhere") + ", rank: 1}", 30, 30),
                      Contains("is not a finished run's folder with weights/W_{init,final}.npy") &&
                          Contains("W_init.npy: no such file"));
  REQUIRE_THROWS_WITH(make_with(reg, spec + "}", 20, 30), Contains("but W is 20 x 30"));
}

TEST_CASE("a defective nilpotent matrix is refused rather than blown up to a spectral radius", "[init]") {
  // u v^T with v orthogonal to u: eigenvalues 0, computed as about 1e-9 of its norm; and a
  // Jordan block of size 3 in another basis, computed as about 6e-6 of its norm.
  at::Generator gen = make_generator(4);
  const torch::Tensor q = std::get<0>(torch::linalg_qr(torch::randn({10, 10}, gen, torch::kDouble)));
  const torch::Tensor rank1 = torch::outer(q.select(1, 0), q.select(1, 1));
  const torch::Tensor j3 = torch::diag(torch::ones({2}, torch::kDouble), 1);  // 3 x 3, nilpotent of index 3
  const torch::Tensor p = torch::randn({3, 3}, gen, torch::kDouble) + 3 * torch::eye(3, torch::kDouble);
  const torch::Tensor similar = torch::matmul(p, torch::matmul(j3, torch::inverse(p)));
  for (const torch::Tensor& m : {rank1, similar}) {
    REQUIRE_THROWS_WITH(init::scaled_to_spectral_radius(m, 1.0), Contains("numerically nilpotent"));
  }
  // A genuine small eigenvalue (1e-3 of the norm) is scaled.
  const torch::Tensor small = rank1 + 1e-3 * torch::outer(q.select(1, 0), q.select(1, 0));
  REQUIRE(torch::linalg_eigvals(init::scaled_to_spectral_radius(small, 1.0)).abs().max().item<double>() ==
          Approx(1.0).epsilon(1e-6));
}
