// train/optimizer.cpp: SGD and Adam over packs of networks, with PyTorch's update rules.
#include <richlazy/train/optimizer.h>

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace richlazy::train {

void Optimizer::zero_grad() {
  // Dropped rather than zeroed: the next backward pass then writes them instead of adding.
  for (auto& p : parameters_) p.mutable_grad() = torch::Tensor();
}

torch::Tensor Optimizer::per_member(const std::vector<double>& values, const torch::Tensor& param) {
  std::vector<int64_t> shape(param.dim(), 1);
  shape[0] = static_cast<int64_t>(values.size());
  return torch::tensor(values, torch::kDouble).to(param.options()).view(shape);
}

bool Optimizer::known_all_active(const torch::Tensor& active) {
  // Reading a CPU tensor costs nothing; reading a GPU one would wait for the device.
  return active.device().is_cpu() && active.all().item<bool>();
}

void Optimizer::masked_descent(torch::Tensor& param, const torch::Tensor& neg_lr, const torch::Tensor& direction,
                               const torch::Tensor& active, bool all_active) {
  if (all_active) {
    param.addcmul_(direction, neg_lr);
    return;
  }
  std::vector<int64_t> shape(param.dim(), 1);
  shape[0] = param.size(0);
  // A frozen member keeps its weights bit for bit, even where its direction is inf or NaN;
  // the others get exactly the arithmetic of the unmasked update.
  at::where_out(param, active.view(shape), param.addcmul(direction, neg_lr), param);
}

namespace {
/// The builders of a pack as `Builder`s (the experiment packs runs of one optimizer only).
template <class Builder>
std::vector<const Builder*> same_kind(const std::vector<const OptimizerBuilder*>& members) {
  std::vector<const Builder*> out;
  for (const auto* m : members) {
    const auto* b = dynamic_cast<const Builder*>(m);
    if (!b) throw std::logic_error("a pack mixes optimizers of different kinds");
    out.push_back(b);
  }
  return out;
}

struct SgdOptions {
  double lr, momentum, weight_decay;
  bool nesterov;
};

/// torch.optim.SGD (dampening 0) per member:
///   g = grad + wd p;  b = g (first step) or momentum b + g;  d = g + momentum b (Nesterov) or b;
///   p -= lr d.  Without momentum d = g.
class Sgd final : public Optimizer {
 public:
  Sgd(std::vector<torch::Tensor> params, const std::vector<SgdOptions>& o) : Optimizer(std::move(params)) {
    std::vector<double> lr, momentum, wd, nesterov;
    for (const auto& m : o) {
      lr.push_back(m.lr);
      momentum.push_back(m.momentum);
      wd.push_back(m.weight_decay);
      nesterov.push_back(m.nesterov ? 1.0 : 0.0);
      any_momentum_ = any_momentum_ || m.momentum != 0;
      any_decay_ = any_decay_ || m.weight_decay != 0;
      any_nesterov_ = any_nesterov_ || m.nesterov;
    }
    for (const auto& p : parameters_) {
      neg_lr_.push_back(-per_member(lr, p));
      momentum_.push_back(per_member(momentum, p));
      decay_.push_back(per_member(wd, p));
      nesterov_.push_back(per_member(nesterov, p).to(torch::kBool));
    }
    buffers_.resize(parameters_.size());
  }

  void step(const torch::Tensor& active) override {
    torch::NoGradGuard no_grad;
    const bool all_active = known_all_active(active);
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
      torch::Tensor& p = parameters_[i];
      if (!p.grad().defined()) continue;
      torch::Tensor g = p.grad();
      if (any_decay_) g = g + decay_[i] * p;
      torch::Tensor direction = g;
      if (any_momentum_) {
        torch::Tensor& b = buffers_[i];
        if (!b.defined()) {
          b = g.clone();
        } else {
          b.mul_(momentum_[i]).add_(g);
        }
        direction = b;
        if (any_nesterov_) direction = torch::where(nesterov_[i], g + momentum_[i] * b, b);
      }
      masked_descent(p, neg_lr_[i], direction, active, all_active);
    }
  }

  bool supports_checkpoints() const override { return true; }
  std::map<std::string, torch::Tensor> state() const override {
    std::map<std::string, torch::Tensor> s;  // buffers exist after the first update with momentum
    for (std::size_t i = 0; i < buffers_.size(); ++i) {
      if (buffers_[i].defined()) s["momentum_buffer/" + std::to_string(i)] = buffers_[i];
    }
    return s;
  }
  void load_state(const std::map<std::string, torch::Tensor>& state) override {
    for (std::size_t i = 0; i < buffers_.size(); ++i) {
      const auto it = state.find("momentum_buffer/" + std::to_string(i));
      buffers_[i] = it == state.end() ? torch::Tensor() : it->second.to(parameters_[i].device()).clone();
    }
  }

 private:
  bool any_momentum_ = false, any_decay_ = false, any_nesterov_ = false;
  std::vector<torch::Tensor> neg_lr_, momentum_, decay_, nesterov_, buffers_;
};

struct AdamOptions {
  double lr, beta1, beta2, eps, weight_decay;
};

/// torch.optim.Adam (amsgrad off) per member, with t the number of updates so far:
///   g = grad + wd p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
///   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
/// Constants are computed in float64 and cast to the parameters' type, as PyTorch casts its
/// Python scalars; the bias corrections are computed on the device (no transfer per update).
class Adam final : public Optimizer {
 public:
  Adam(std::vector<torch::Tensor> params, const std::vector<AdamOptions>& o) : Optimizer(std::move(params)) {
    std::vector<double> lr, b1, b2, one_minus_b1, one_minus_b2, eps, wd;
    for (const auto& m : o) {
      lr.push_back(m.lr);
      b1.push_back(m.beta1);
      b2.push_back(m.beta2);
      one_minus_b1.push_back(1.0 - m.beta1);
      one_minus_b2.push_back(1.0 - m.beta2);
      eps.push_back(m.eps);
      wd.push_back(m.weight_decay);
      any_decay_ = any_decay_ || m.weight_decay != 0;
    }
    for (const auto& p : parameters_) {
      const auto f64 = p.options().dtype(torch::kDouble);
      lr_.push_back(per_member(lr, p).to(f64));
      beta1_.push_back(per_member(b1, p));
      beta2_.push_back(per_member(b2, p));
      beta1_f64_.push_back(per_member(b1, p).to(f64));
      beta2_f64_.push_back(per_member(b2, p).to(f64));
      one_minus_beta1_.push_back(per_member(one_minus_b1, p));
      one_minus_beta2_.push_back(per_member(one_minus_b2, p));
      eps_.push_back(per_member(eps, p));
      decay_.push_back(per_member(wd, p));
      m_.push_back(torch::zeros_like(p));
      v_.push_back(torch::zeros_like(p));
    }
  }

  void step(const torch::Tensor& active) override {
    torch::NoGradGuard no_grad;
    const bool all_active = known_all_active(active);
    // The update count lives on the device (a recorded CUDA graph replays its increment).
    if (!t_.defined()) t_ = torch::zeros({}, active.options().dtype(torch::kDouble));
    t_.add_(1);
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
      torch::Tensor& p = parameters_[i];
      if (!p.grad().defined()) continue;
      torch::Tensor g = p.grad();
      if (any_decay_) g = g + decay_[i] * p;
      m_[i].mul_(beta1_[i]).add_(g * one_minus_beta1_[i]);
      v_[i].mul_(beta2_[i]).addcmul_(g, g * one_minus_beta2_[i]);
      const torch::Tensor neg_step = (-lr_[i] / (1.0 - beta1_f64_[i].pow(t_))).to(p.scalar_type());
      const torch::Tensor root_c2 = (1.0 - beta2_f64_[i].pow(t_)).sqrt().to(p.scalar_type());
      const torch::Tensor denom = v_[i].sqrt() / root_c2 + eps_[i];
      masked_descent(p, neg_step, m_[i] / denom, active, all_active);
    }
  }

  bool supports_checkpoints() const override { return true; }
  std::map<std::string, torch::Tensor> state() const override {
    std::map<std::string, torch::Tensor> s;
    for (std::size_t i = 0; i < m_.size(); ++i) {
      s["exp_avg/" + std::to_string(i)] = m_[i];
      s["exp_avg_sq/" + std::to_string(i)] = v_[i];
    }
    if (t_.defined()) s["step"] = t_;
    return s;
  }
  void load_state(const std::map<std::string, torch::Tensor>& state) override {
    for (std::size_t i = 0; i < m_.size(); ++i) {
      m_[i].copy_(state.at("exp_avg/" + std::to_string(i)));
      v_[i].copy_(state.at("exp_avg_sq/" + std::to_string(i)));
    }
    const auto it = state.find("step");
    t_ = it == state.end() ? torch::Tensor() : it->second.to(m_.front().device()).clone();
  }

 private:
  bool any_decay_ = false;
  torch::Tensor t_;  ///< updates so far, float64 scalar on the device
  std::vector<torch::Tensor> lr_, beta1_, beta2_, beta1_f64_, beta2_f64_, one_minus_beta1_,
      one_minus_beta2_, eps_, decay_, m_, v_;
};

class SgdBuilder final : public OptimizerBuilder {
 public:
  explicit SgdBuilder(Params& p) {
    o_.lr = p.get_double_above("lr", 0.0);
    o_.momentum = p.get_double("momentum", 0.0, 1.0);
    o_.weight_decay = p.get_double("weight_decay", 0.0);
    o_.nesterov = p.get_bool("nesterov");
    p.require(!o_.nesterov || o_.momentum > 0, "nesterov", "needs momentum > 0");
  }
  std::unique_ptr<Optimizer> make(const std::vector<torch::Tensor>& parameters,
                                  const std::vector<const OptimizerBuilder*>& members) const override {
    std::vector<SgdOptions> o;
    for (const auto* m : same_kind<SgdBuilder>(members)) o.push_back(m->o_);
    return std::make_unique<Sgd>(parameters, o);
  }

 private:
  SgdOptions o_{};
};

class AdamBuilder final : public OptimizerBuilder {
 public:
  explicit AdamBuilder(Params& p) {
    o_.lr = p.get_double_above("lr", 0.0);
    o_.beta1 = p.get_double("beta1", 0.0, 1.0);
    o_.beta2 = p.get_double("beta2", 0.0, 1.0);
    p.require(o_.beta1 < 1.0, "beta1", "must be < 1");
    p.require(o_.beta2 < 1.0, "beta2", "must be < 1");
    o_.eps = p.get_double_above("eps", 0.0);
    o_.weight_decay = p.get_double("weight_decay", 0.0);
  }
  std::unique_ptr<Optimizer> make(const std::vector<torch::Tensor>& parameters,
                                  const std::vector<const OptimizerBuilder*>& members) const override {
    std::vector<AdamOptions> o;
    for (const auto* m : same_kind<AdamBuilder>(members)) o.push_back(m->o_);
    return std::make_unique<Adam>(parameters, o);
  }

 private:
  AdamOptions o_{};
};
}  // namespace

void register_builtin_optimizers(OptimizerRegistry& registry) {
  registry.add({"sgd", "stochastic gradient descent with momentum (PyTorch semantics)",
                {{"lr", "0.003", "learning rate"},
                 {"momentum", "0.9", "momentum in [0, 1]"},
                 {"weight_decay", "0", "L2 penalty, >= 0"},
                 {"nesterov", "false", "Nesterov momentum"}},
                [](Params& p) -> std::unique_ptr<OptimizerBuilder> {
                  return std::make_unique<SgdBuilder>(p);
                }});
  registry.add({"adam", "Adam (Kingma & Ba 2015; PyTorch semantics, amsgrad off)",
                {{"lr", "0.001", "learning rate"},
                 {"beta1", "0.9", "first-moment decay in [0, 1)"},
                 {"beta2", "0.999", "second-moment decay in [0, 1)"},
                 {"eps", "1e-8", "denominator term, > 0"},
                 {"weight_decay", "0", "L2 penalty, >= 0"}},
                [](Params& p) -> std::unique_ptr<OptimizerBuilder> {
                  return std::make_unique<AdamBuilder>(p);
                }});
}

}  // namespace richlazy::train
