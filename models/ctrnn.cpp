// models/ctrnn.cpp: continuous-time RNN.
#include <richlazy/models/ctrnn.h>

#include <torch/torch.h>

namespace richlazy::models {

namespace {

torch::Tensor activate(const torch::Tensor& pre, Activation activation) {
  return activation == Activation::relu ? torch::relu(pre) : torch::tanh(pre);
}

/// The recurrence written op by op: shape-generic (ensembles), differentiable by autograd.
torch::Tensor unroll_generic(const torch::Tensor& inputs, const torch::Tensor& w_in,
                             const torch::Tensor& w_rec, double alpha, Activation activation) {
  // The input drive of every step in one product: [T, ..., B, N].
  const torch::Tensor drive = torch::matmul(inputs, w_in.transpose(-1, -2));
  const torch::Tensor w_rec_t = w_rec.transpose(-1, -2);
  const int64_t T = inputs.size(0);
  std::vector<torch::Tensor> states;
  states.reserve(T);
  torch::Tensor h;
  for (int64_t t = 0; t < T; ++t) {
    // h_0 = 0, so the first step has no recurrent term.
    torch::Tensor pre = t == 0 ? drive[t] : drive[t] + torch::matmul(h, w_rec_t);
    if (alpha != 1.0) pre = t == 0 ? alpha * pre : (1.0 - alpha) * h + alpha * pre;
    h = activate(pre, activation);
    states.push_back(h);
  }
  return torch::stack(states, 0);
}

/// Forward pass of one network (2-D weights, inputs [T, B, n_in]) into a preallocated
/// [T, B, N] tensor, without autograd bookkeeping.
torch::Tensor unroll_fused(const torch::Tensor& inputs, const torch::Tensor& w_in,
                           const torch::Tensor& w_rec, double alpha, Activation activation) {
  const int64_t T = inputs.size(0), B = inputs.size(1), N = w_rec.size(0);
  const torch::Tensor drive =
      torch::matmul(inputs.reshape({T * B, inputs.size(2)}), w_in.t()).reshape({T, B, N});
  torch::Tensor hidden = torch::empty({T, B, N}, drive.options());
  const torch::Tensor w_rec_t = w_rec.t();
  for (int64_t t = 0; t < T; ++t) {
    torch::Tensor pre = t == 0 ? drive[0] : torch::addmm(drive[t], hidden[t - 1], w_rec_t);
    if (alpha != 1.0) pre = t == 0 ? pre.mul_(alpha) : pre.mul_(alpha).add_(hidden[t - 1], 1.0 - alpha);
    torch::Tensor out = hidden[t];
    if (activation == Activation::relu) {
      torch::relu_out(out, pre);
    } else {
      torch::tanh_out(out, pre);
    }
  }
  return hidden;
}

/// Backpropagation through time written out by hand (1.7x faster than recording every step
/// for autograd at the paper's size). With u_t the pre-activation and h_t = act(u_t):
///   du_t   = (dH_t + (1 - a) du_{t+1} + a du_{t+1} W_rec) * act'(u_t)
///   dW_rec = a * sum_{t >= 1} du_t^T h_{t-1},   dW_in = a * sum_t du_t^T x_t
/// The weight gradients are each one product over all steps and trials.
class CTRNNUnroll : public torch::autograd::Function<CTRNNUnroll> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& inputs,
                               const torch::Tensor& w_in, const torch::Tensor& w_rec, double alpha,
                               int64_t activation) {
    const auto act = static_cast<Activation>(activation);
    torch::Tensor hidden = unroll_fused(inputs, w_in, w_rec, alpha, act);
    ctx->save_for_backward({inputs, w_in, w_rec, hidden});
    ctx->saved_data["alpha"] = alpha;
    ctx->saved_data["activation"] = activation;
    return hidden;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& w_in = saved[1];
    const torch::Tensor& w_rec = saved[2];
    const torch::Tensor& hidden = saved[3];
    const double alpha = ctx->saved_data["alpha"].toDouble();
    const auto act = static_cast<Activation>(ctx->saved_data["activation"].toInt());
    const torch::Tensor d_hidden = grads[0];
    const int64_t T = hidden.size(0), B = hidden.size(1), N = hidden.size(2);

    // act'(u_t) from the saved outputs: relu -> h > 0, tanh -> 1 - h^2.
    const torch::Tensor slope = act == Activation::relu ? hidden.gt(0).to(hidden.dtype())
                                                        : 1.0 - hidden * hidden;
    torch::Tensor du = torch::empty_like(hidden);
    torch::Tensor carry;
    for (int64_t t = T - 1; t >= 0; --t) {
      torch::Tensor total = d_hidden[t];
      if (t < T - 1) {
        total = torch::addmm(total, carry, w_rec, 1.0, alpha);
        if (alpha != 1.0) total.add_(carry, 1.0 - alpha);
      }
      torch::Tensor out = du[t];
      torch::mul_out(out, total, slope[t]);
      carry = out;
    }
    const torch::Tensor du_flat = du.reshape({T * B, N});
    const torch::Tensor x_flat = x.reshape({T * B, x.size(2)});
    torch::Tensor d_w_rec =
        T > 1 ? torch::matmul(du_flat.slice(0, B).t(), hidden.reshape({T * B, N}).slice(0, 0, (T - 1) * B))
              : torch::zeros_like(w_rec);
    torch::Tensor d_w_in = torch::matmul(du_flat.t(), x_flat);
    if (alpha != 1.0) {
      d_w_rec.mul_(alpha);
      d_w_in.mul_(alpha);
    }
    torch::Tensor d_x;
    if (x.requires_grad()) d_x = (torch::matmul(du_flat, w_in) * alpha).reshape(x.sizes());
    return {d_x, d_w_in, d_w_rec, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor ctrnn_unroll(const torch::Tensor& inputs, const torch::Tensor& w_in,
                           const torch::Tensor& w_rec, double alpha, Activation activation) {
  const bool one_network = inputs.dim() == 3 && w_in.dim() == 2 && w_rec.dim() == 2;
  if (!one_network) return unroll_generic(inputs, w_in, w_rec, alpha, activation);
  const bool needs_grad = torch::GradMode::is_enabled() &&
                          (inputs.requires_grad() || w_in.requires_grad() || w_rec.requires_grad());
  if (!needs_grad) return unroll_fused(inputs, w_in, w_rec, alpha, activation);
  return CTRNNUnroll::apply(inputs, w_in, w_rec, alpha, static_cast<int64_t>(activation));
}

torch::Tensor ctrnn_unroll_reference(const torch::Tensor& inputs, const torch::Tensor& w_in,
                                     const torch::Tensor& w_rec, double alpha,
                                     Activation activation) {
  return unroll_generic(inputs, w_in, w_rec, alpha, activation);
}

CTRNN::CTRNN(const CTRNNOptions& options) : options_(options) {
  w_in_ = register_parameter("W_in", torch::zeros({options.hidden_size, options.inputs}));
  w_rec_ = register_parameter("W_rec", torch::zeros({options.hidden_size, options.hidden_size}));
  w_out_ = register_parameter("W_out", torch::zeros({options.outputs, options.hidden_size}));
}

ModelOutput CTRNN::forward(const torch::Tensor& inputs) {
  torch::Tensor hidden =
      ctrnn_unroll(inputs, w_in_, w_rec_, options_.alpha, options_.activation);
  torch::Tensor logits = torch::matmul(hidden, w_out_.t());
  return {std::move(logits), std::move(hidden)};
}

std::optional<KernelFactors> CTRNN::kernel_factors(const std::string& param,
                                                   const torch::Tensor& inputs,
                                                   const std::vector<int64_t>& steps) {
  if (param != "W_rec" || steps.empty()) return std::nullopt;
  torch::NoGradGuard no_grad;
  const double a = options_.alpha;
  const torch::Tensor hidden = ctrnn_unroll(inputs, w_in_, w_rec_, a, options_.activation);
  const int64_t T = hidden.size(0), B = hidden.size(1), N = hidden.size(2);
  const int64_t S = static_cast<int64_t>(steps.size()), O = w_out_.size(0);
  const torch::Tensor slope = options_.activation == Activation::relu
                                  ? hidden.gt(0).to(hidden.dtype())
                                  : 1.0 - hidden * hidden;
  KernelFactors f;
  f.steps = steps;
  f.scale = a;
  f.activity = torch::zeros_like(hidden);
  if (T > 1) f.activity.slice(0, 1).copy_(hidden.slice(0, 0, T - 1));
  f.errors = torch::zeros({S, O, T, B, N}, hidden.options());
  // g = dy[target] / dh[s] for every target (output step i, class k) and trial at once:
  // [S, O, B, N]. Walking back from the last step, each target's readout row enters at its
  // own step, and g flows back through u[s] = (1-a) h[s-1] + a (W_in x + W_rec h[s-1]).
  torch::Tensor g = torch::zeros({S, O, B, N}, hidden.options());
  const torch::Tensor readout = w_out_.detach().unsqueeze(1);  // [O, 1, N]
  for (int64_t s = T - 1; s >= 0; --s) {
    for (int64_t i = 0; i < S; ++i) {
      if (steps[i] == s) g[i] += readout;
    }
    const torch::Tensor e = g * slope[s];  // dy / du[s]
    f.errors.select(2, s).copy_(e);
    if (s > 0) {
      torch::Tensor next = torch::matmul(e.reshape({S * O * B, N}), w_rec_.detach()).reshape(e.sizes());
      g = a == 1.0 ? next : next.mul_(a).add_(e, 1.0 - a);
    }
  }
  return f;
}

namespace {
class CTRNNBuilder final : public ModelBuilder {
 public:
  explicit CTRNNBuilder(CTRNNOptions o) : o_(o) {}

  std::vector<ParameterInfo> parameters() const override {
    return {{"W_in", {o_.hidden_size, o_.inputs}, "{name: torch_default}", "input weights"},
            {"W_out", {o_.outputs, o_.hidden_size}, "{name: torch_default}", "readout weights"},
            {"W_rec", {o_.hidden_size, o_.hidden_size}, "{name: gaussian, gain: 1.25}",
             "recurrent weights"}};
  }
  std::shared_ptr<Model> build() const override { return std::make_shared<CTRNN>(o_); }

 private:
  CTRNNOptions o_;
};
}  // namespace

void register_ctrnn(ModelRegistry& registry) {
  registry.add(
      {"ctrnn",
       "continuous-time RNN of the paper: h = act((1-a) h + a (W_in x + W_rec h)), y = W_out h, "
       "no biases, a = dt/tau",
       {{"hidden_size", "300", "number of recurrent units N"},
        {"tau_ms", "100", "time constant, ms; alpha = task dt_ms / tau_ms must be <= 1"},
        {"activation", "relu", "relu | tanh"}},
       [](Params& p, const TaskShape& task) -> std::unique_ptr<ModelBuilder> {
         CTRNNOptions o;
         o.inputs = task.inputs;
         o.outputs = task.outputs;
         o.hidden_size = p.get_int("hidden_size", 1, 100000);
         const double tau = p.get_double_above("tau_ms", 0.0);
         p.require(task.dt_ms <= tau, "tau_ms",
                   "must be >= the task's dt_ms (" + format_number(task.dt_ms) +
                       ") so that alpha = dt/tau <= 1");
         o.alpha = task.dt_ms / tau;
         o.activation = p.get_choice("activation", {"relu", "tanh"}) == "relu"
                            ? Activation::relu
                            : Activation::tanh;
         return std::make_unique<CTRNNBuilder>(o);
       }});
}

}  // namespace richlazy::models
