// init/matched_loss.cpp: `norm: {matched_loss: SPEC}`, an initial matrix scaled so that the
// initial network's loss equals that of the network whose weight SPEC initializes instead.
// Comparing two structures at one Frobenius norm can hide a difference in how wrong the
// initial network is (issue 13: io_aligned_low_rank started from a 3x larger loss); at one
// initial loss the two start equally far from the solution, and only their structure differs.
#include <richlazy/init/norm.h>

#include <richlazy/init/initializer.h>
#include <richlazy/models/model.h>
#include <richlazy/tasks/scoring.h>
#include <richlazy/tasks/task.h>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace richlazy::init {

std::optional<double> matching_scale(const std::function<double(double)>& loss, double target) {
  // A log grid of scales around 1: the loss is not monotone in the scale in general (a
  // wrongly signed shortcut grows with it, a missing recurrence shrinks with it), so every
  // crossing of the target is found and the one nearest to scale 1 (in log scale) is refined.
  const double at_one = loss(1.0) - target;  // the network at the reference's norm, once
  if (at_one == 0) return 1.0;
  std::vector<double> log_c, f;
  for (int k = -kMatchingGridSteps; k <= kMatchingGridSteps; ++k) {
    log_c.push_back(static_cast<double>(k) / kMatchingGridPerOctave);
    f.push_back(k == 0 ? at_one : loss(std::exp2(log_c.back())) - target);
  }
  double best_distance = std::numeric_limits<double>::infinity();
  std::optional<std::size_t> exact, bracket;  // a grid point on the target; a sign change after index i
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == 0 && std::abs(log_c[i]) < best_distance) {
      best_distance = std::abs(log_c[i]);
      exact = i;
      bracket.reset();
    }
    if (i + 1 == f.size() || !std::isfinite(f[i]) || !std::isfinite(f[i + 1]) || f[i] == 0 || f[i + 1] == 0 ||
        (f[i] < 0) == (f[i + 1] < 0)) {
      continue;
    }
    const double distance = std::min(std::abs(log_c[i]), std::abs(log_c[i + 1]));
    if (distance < best_distance) {
      best_distance = distance;
      bracket = i;
      exact.reset();
    }
  }
  if (exact) return std::exp2(log_c[*exact]);
  if (!bracket) return std::nullopt;
  double lo = log_c[*bracket], hi = log_c[*bracket + 1], f_lo = f[*bracket];
  for (int it = 0; it < 60 && hi - lo > 1e-12; ++it) {
    const double mid = 0.5 * (lo + hi);
    const double f_mid = loss(std::exp2(mid)) - target;
    if (f_mid == 0) return std::exp2(mid);
    if (!std::isfinite(f_mid)) break;
    if ((f_mid < 0) == (f_lo < 0)) {
      lo = mid;
      f_lo = f_mid;
    } else {
      hi = mid;
    }
  }
  return std::exp2(0.5 * (lo + hi));
}

namespace {

/// A new CPU generator in the same state as `gen`: it draws what `gen` would draw next. Not
/// at::Generator::clone(), which leaks the copy in LibTorch 1.13 (its raw incref leaves the
/// weak count at 0, so the last release never frees it; LeakSanitizer reports it).
at::Generator copy_generator(const at::Generator& gen) {
  at::Generator copy = at::make_generator<at::CPUGeneratorImpl>();
  copy.set_state(gen.get_state());
  return copy;
}

/// The raw matrix, first brought to the reference's Frobenius norm, then scaled by the
/// factor (nearest to 1) at which the initial network's loss on `trials` trials equals the
/// reference network's on the same trials. The reference matrix is drawn from the start of
/// this parameter's stream, so it is the matrix a run whose spec is the reference gets; the
/// trials come from the same stream after it.
class MatchedLoss final : public Initializer {
 public:
  MatchedLoss(const InitTarget& t, std::unique_ptr<Initializer> raw, std::unique_ptr<Initializer> reference,
              std::string reference_text)
      : param_(t.param), task_(t.task), model_(t.model), raw_(std::move(raw)), reference_(std::move(reference)),
        reference_text_(std::move(reference_text)), others_(other_parameters(t)) {}

  std::vector<std::string> depends_on() const override {
    std::vector<std::string> deps = others_;
    for (const auto* init : {raw_.get(), reference_.get()}) {
      for (const auto& d : init->depends_on()) {
        if (std::find(deps.begin(), deps.end(), d) == deps.end()) deps.push_back(d);
      }
    }
    return deps;
  }

  torch::Tensor make(const InitInputs& in) const override {
    const at::Generator start = copy_generator(in.gen);
    const torch::Tensor w = raw_->make(in);
    at::Generator gen = copy_generator(start);
    const torch::Tensor reference = reference_->make(InitInputs{gen, in.initialized, in.pilot_run});
    const double reference_norm = reference.norm().item<double>();
    const torch::Tensor base = scaled_to_norm(w, reference_norm);

    torch::NoGradGuard no_grad;
    const std::shared_ptr<models::Model> net = initial_network(*model_, in, others_, task_);
    torch::Tensor p = net->weight(param_)[0];
    const tasks::TrialBatch trials = tasks::stack_members({task_->sample(kMatchingTrials, gen)});
    auto loss_of = [&](const torch::Tensor& m) {
      p.copy_(m.reshape(p.sizes()));
      return tasks::task_loss(task_->loss(), net->forward(trials.inputs).logits, trials)[0].item<double>();
    };
    const double target = loss_of(reference);
    if (!std::isfinite(target)) {
      throw std::runtime_error(fmt::format("{} norm matched_loss: the reference {} has a loss that is not finite",
                                           param_, reference_text_));
    }
    double lowest = std::numeric_limits<double>::infinity(), highest = -lowest;
    const std::optional<double> c = matching_scale(
        [&](double scale) {
          const double l = loss_of(base * scale);
          if (std::isfinite(l)) {
            lowest = std::min(lowest, l);
            highest = std::max(highest, l);
          }
          return l;
        },
        target);
    if (!c) {
      throw std::runtime_error(fmt::format(
          "{} norm matched_loss: no scale between 2^-{} and 2^{} times the reference's Frobenius norm ({:.4g}) "
          "gives the reference {}'s initial loss {:.4g} (losses from {:.4g} to {:.4g})",
          param_, kMatchingGridSteps / kMatchingGridPerOctave, kMatchingGridSteps / kMatchingGridPerOctave,
          reference_norm, reference_text_, target, lowest, highest));
    }
    return base * *c;
  }

 private:
  std::string param_;
  const tasks::Task* task_;
  const models::ModelBuilder* model_;
  std::unique_ptr<Initializer> raw_, reference_;
  std::string reference_text_;
  std::vector<std::string> others_;
};
}  // namespace

std::unique_ptr<Initializer> matched_loss_initializer(Params& p, const InitTarget& t,
                                                      std::unique_ptr<Initializer> raw) {
  Params norm = p.child_undeclared("norm", {{"matched_loss", "", "the reference initializer spec"}});
  if (!t.registry) throw std::logic_error("matched_loss: InitTarget has no registry");
  if (t.shapes.empty() || !t.task || !t.model) {
    p.fail_bare("norm", "{matched_loss: ...} simulates the run's network on its task; describe it with --config, "
                        "not --spec");
  }
  const YAML::Node spec = norm.node()["matched_loss"];
  if (!spec.IsMap()) norm.fail("matched_loss", "must be an initializer spec, e.g. {name: low_rank, rank: 1}");
  Params reference = norm.child_undeclared("matched_loss", {});
  std::unique_ptr<Initializer> ref = t.registry->create(reference, t);
  norm.finish();
  return std::make_unique<MatchedLoss>(t, std::move(raw), std::move(ref), node_text(reference.resolved()));
}

}  // namespace richlazy::init
