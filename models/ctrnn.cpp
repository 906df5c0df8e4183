// models/ctrnn.cpp: continuous-time RNN.
#include <richlazy/models/ctrnn.h>

#include <richlazy/core/config_error.h>
#include <richlazy/core/limits.h>
#include <richlazy/core/member_matmul.h>
#include <richlazy/init/matrix_file.h>
#include <richlazy/init/norm.h>

#include <fmt/format.h>

#include <torch/torch.h>

namespace richlazy::models {

namespace {

torch::Tensor activate(const torch::Tensor& pre, Activation activation) {
  return activation == Activation::relu ? torch::relu(pre) : torch::tanh(pre);
}

/// The recurrence written op by op: differentiable by autograd, the reference.
torch::Tensor unroll_generic(const torch::Tensor& inputs, const torch::Tensor& w_in,
                             const torch::Tensor& w_rec, double alpha, Activation activation,
                             const torch::Tensor& noise, double noise_std) {
  // The input drive of every step: [T, E, B, N] (the member axes broadcast).
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
    if (noise.defined()) pre = pre + noise_std * noise[t];
    h = activate(pre, activation);
    states.push_back(h);
  }
  return torch::stack(states, 0);
}

/// How many members the fused passes process at a time: on the CPU as many as keep a chunk's
/// states, their gradients and weights (~2 T B N + 2 N^2 floats per member) within 1 MiB, so
/// that each step's data stay in the core's cache between the operations of a step (measured:
/// a pack of 64 networks of 64 units trained 1.3x faster in chunks); on a GPU all of them.
/// Members are independent, so results do not depend on it.
int64_t member_chunk(int64_t E, int64_t T, int64_t B, int64_t N, const torch::Device& device) {
  if (!device.is_cpu()) return E;
  constexpr int64_t kBudgetBytes = 1 << 20;
  const int64_t per_member = 4 * (2 * T * B * N + 2 * N * N);
  return std::max<int64_t>(1, std::min<int64_t>(E, kBudgetBytes / per_member));
}

/// The recurrence of the members of one chunk, in place: hidden [C, T, B, N] (member-major)
/// holds the input drive of every step on entry and the states on return; w_rec_t [C, N, N]
/// is W_rec^T.
void unroll_in_place(const torch::Tensor& hidden, const torch::Tensor& w_rec_t, double alpha,
                     Activation activation) {
  const int64_t T = hidden.size(1);
  for (int64_t t = 0; t < T; ++t) {
    torch::Tensor out = hidden.select(1, t);  // [C, B, N]
    if (t > 0) {
      const torch::Tensor previous = hidden.select(1, t - 1);
      member_addmm_(out, previous, w_rec_t);
      if (alpha != 1.0) out.mul_(alpha).add_(previous, 1.0 - alpha);
    } else if (alpha != 1.0) {
      out.mul_(alpha);
    }
    if (activation == Activation::relu) {
      out.relu_();
    } else {
      out.tanh_();
    }
  }
}

/// Forward pass without autograd bookkeeping: hidden states [T, E, B, N], a view of a
/// member-major [E, T, B, N] tensor (each member's states are one matrix of T*B rows, which
/// the gradients' products take without copying), and, when `w_out` is defined, the logits
/// [T, E, B, O] (a view of member-major storage too). Each step adds its recurrent product to
/// the input drive in place; recurrent noise (when `noise` [T, E, B, N] is defined) joins the
/// input drive as noise_std / alpha times it, so that the pre-activation gets noise_std times it.
std::pair<torch::Tensor, torch::Tensor> unroll_fused(const torch::Tensor& inputs, const torch::Tensor& w_in,
                                                     const torch::Tensor& w_rec, const torch::Tensor& w_out,
                                                     double alpha, Activation activation,
                                                     const torch::Tensor& noise = {}, double noise_std = 0.0) {
  const int64_t T = inputs.size(0), E = inputs.size(1), B = inputs.size(2), N = w_rec.size(1);
  torch::Tensor hidden = torch::empty({E, T, B, N}, w_rec.options());
  const torch::Tensor x_rows = member_rows(inputs);
  // The transposed weights as contiguous copies: BLAS multiplies by a transposed operand up
  // to 2x slower at these sizes (measured with OpenBLAS), far more than the copy costs.
  const torch::Tensor w_in_t = w_in.transpose(1, 2).contiguous();
  const torch::Tensor w_rec_t = w_rec.transpose(1, 2).contiguous();
  torch::Tensor logits, w_out_t;
  if (w_out.defined()) {
    logits = torch::empty({E, T * B, w_out.size(1)}, w_rec.options());
    w_out_t = w_out.transpose(1, 2).contiguous();
  }
  const int64_t C = member_chunk(E, T, B, N, w_rec.device());
  for (int64_t c0 = 0; c0 < E; c0 += C) {
    const int64_t c = std::min(C, E - c0);
    const torch::Tensor h = hidden.narrow(0, c0, c);
    member_addmm_(h.view({c, T * B, N}), x_rows.narrow(0, c0, c), w_in_t.narrow(0, c0, c), 0.0, 1.0);
    if (noise.defined()) h.add_(noise.narrow(1, c0, c).transpose(0, 1), noise_std / alpha);
    unroll_in_place(h, w_rec_t.narrow(0, c0, c), alpha, activation);
    if (w_out.defined()) {
      member_addmm_(logits.narrow(0, c0, c), h.view({c, T * B, N}), w_out_t.narrow(0, c0, c), 0.0, 1.0);
    }
  }
  return {hidden.transpose(0, 1), logits.defined() ? member_unrows(logits, T, B) : logits};
}

/// Backpropagation through time, in place, from the last step back: d[t] ([T, E, R, B, N],
/// the gradient that reaches h_t from outside the recurrence, for R targets at once) becomes
/// du_t, the gradient at the pre-activation u_t (h_t = act(u_t), hidden [T, E, B, N]):
///   du_t = (d[t] + (1 - a) du_{t+1} + a du_{t+1} W_rec) * act'(u_t)
/// The training step's backward pass (R = 1) and the tangent kernel's factors (R = every
/// output step and class) are this one recursion. d may be a view (e.g. of member-major
/// storage); each step's [R, B, N] block of a member must be contiguous.
void backprop_through_time(const torch::Tensor& d, const torch::Tensor& hidden,
                           const torch::Tensor& w_rec, double alpha, Activation activation) {
  const int64_t T = d.size(0), E = d.size(1), N = d.size(-1);
  for (int64_t t = T - 1; t >= 0; --t) {
    torch::Tensor du = d[t];  // [E, R, B, N]
    if (t < T - 1) {
      const torch::Tensor next = d[t + 1];
      member_addmm_(du.view({E, -1, N}), next.view({E, -1, N}), w_rec, 1.0, alpha);
      if (alpha != 1.0) du.add_(next, 1.0 - alpha);
    }
    // times act'(u_t), from h_t: relu -> [h_t > 0], tanh -> 1 - h_t^2 (fused, in place).
    const torch::Tensor h = hidden[t].unsqueeze(1);  // [E, 1, B, N]
    if (activation == Activation::relu) {
      at::threshold_backward_out(du, du, h, 0);
    } else {
      at::tanh_backward_out(du, du, h);
    }
  }
}

/// The fused forward pass, readout included, and backpropagation through time as one
/// autograd node (1.7x faster than recording every step for autograd at the paper's size).
/// The gradient reaching the hidden states is du = dy W_out (+ dh); with du_t from
/// backprop_through_time, each weight gradient is one product per member over all steps and
/// trials:  dW_out = dy^T h,  dW_rec = a * sum_{t >= 1} du_t^T h_{t-1},  dW_in = a * sum_t du_t^T x_t.
class CTRNNFused : public torch::autograd::Function<CTRNNFused> {
 public:
  static torch::autograd::tensor_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& inputs,
                                              const torch::Tensor& w_in, const torch::Tensor& w_rec,
                                              const torch::Tensor& w_out, double alpha, int64_t activation,
                                              const torch::Tensor& noise, double noise_std) {
    // The noise is a constant of the step: the saved states hold its effect, and the
    // gradients below are those of the noisy network (act'(u_t) is read from h_t).
    // (No noise arrives as an empty tensor: autograd functions take no undefined tensors.)
    const auto [hidden, logits] = unroll_fused(inputs, w_in, w_rec, w_out, alpha, static_cast<Activation>(activation),
                                               noise.numel() > 0 ? noise : torch::Tensor(), noise_std);
    ctx->save_for_backward({inputs, w_in, w_rec, w_out, hidden});
    ctx->saved_data["alpha"] = alpha;
    ctx->saved_data["activation"] = activation;
    ctx->set_materialize_grads(false);  // an unused output's gradient stays undefined
    return {logits, hidden};
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& w_in = saved[1];
    const torch::Tensor& w_rec = saved[2];
    const torch::Tensor& w_out = saved[3];
    const torch::Tensor& hidden = saved[4];  // [T, E, B, N] view of member-major storage
    const double alpha = ctx->saved_data["alpha"].toDouble();
    const auto act = static_cast<Activation>(ctx->saved_data["activation"].toInt());
    const int64_t T = hidden.size(0), E = hidden.size(1), B = hidden.size(2), N = hidden.size(3);
    const torch::Tensor h_steps = hidden.transpose(0, 1);  // [E, T, B, N], contiguous
    const torch::Tensor x_rows = member_rows(x);
    torch::Tensor dy, dh;  // gradients reaching the logits and the states, member-major rows
    // Contiguous whatever layout autograd hands us (a view when E = 1, a copy otherwise):
    // the BLAS must see the same operands in a pack as alone, or its result differs in the
    // last bits (OpenBLAS rounds NN and NT products differently).
    if (grads[0].defined()) dy = member_rows(grads[0]).contiguous();
    if (grads[1].defined()) dh = member_rows(grads[1]).contiguous();

    torch::Tensor d_w_in = torch::empty_like(w_in), d_w_rec = torch::empty_like(w_rec);
    torch::Tensor d_w_out = torch::zeros_like(w_out), d_x;
    if (x.requires_grad()) d_x = torch::empty({E, T * B, x.size(3)}, x.options());
    // One chunk of members at a time, in a buffer the chunks share: du = dy W_out (+ dh),
    // then the recursion turns it into the gradients at the pre-activations, in place.
    const int64_t C = member_chunk(E, T, B, N, w_rec.device());
    const torch::Tensor buffer = torch::empty({C, T, B, N}, hidden.options());
    for (int64_t c0 = 0; c0 < E; c0 += C) {
      const int64_t c = std::min(C, E - c0);
      const torch::Tensor du = buffer.narrow(0, 0, c);
      const torch::Tensor du_rows = du.view({c, T * B, N});
      const torch::Tensor h = h_steps.narrow(0, c0, c);
      if (dy.defined()) {
        member_addmm_(du_rows, dy.narrow(0, c0, c), w_out.narrow(0, c0, c), 0.0, 1.0);
        member_addmm_(d_w_out.narrow(0, c0, c), dy.narrow(0, c0, c).transpose(1, 2), h.view({c, T * B, N}), 0.0,
                      1.0);
        if (dh.defined()) du_rows.add_(dh.narrow(0, c0, c));
      } else if (dh.defined()) {
        du_rows.copy_(dh.narrow(0, c0, c));
      } else {
        du_rows.zero_();
      }
      backprop_through_time(du.transpose(0, 1).unsqueeze(2), h.transpose(0, 1), w_rec.narrow(0, c0, c), alpha, act);
      if (T > 1) {
        member_addmm_(d_w_rec.narrow(0, c0, c), du.slice(1, 1).reshape({c, (T - 1) * B, N}).transpose(1, 2),
                      h.slice(1, 0, T - 1).reshape({c, (T - 1) * B, N}), 0.0, alpha);
      } else {
        d_w_rec.narrow(0, c0, c).zero_();
      }
      member_addmm_(d_w_in.narrow(0, c0, c), du_rows.transpose(1, 2), x_rows.narrow(0, c0, c), 0.0, alpha);
      if (d_x.defined()) member_addmm_(d_x.narrow(0, c0, c), du_rows, w_in.narrow(0, c0, c), 0.0, alpha);
    }
    return {d_x.defined() ? member_unrows(d_x, T, B) : d_x, d_w_in, d_w_rec, d_w_out, torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

ModelOutput ctrnn_forward(const torch::Tensor& inputs, const torch::Tensor& w_in, const torch::Tensor& w_rec,
                          const torch::Tensor& w_out, double alpha, Activation activation, const torch::Tensor& noise,
                          double noise_std) {
  const torch::Tensor none = noise.defined() ? torch::Tensor() : torch::empty({0}, w_rec.options());
  const auto out = CTRNNFused::apply(inputs, w_in, w_rec, w_out, alpha, static_cast<int64_t>(activation),
                                     noise.defined() ? noise : none, noise.defined() ? noise_std : 0.0);
  return {out[0], out[1]};
}

ModelOutput ctrnn_forward_reference(const torch::Tensor& inputs, const torch::Tensor& w_in,
                                    const torch::Tensor& w_rec, const torch::Tensor& w_out, double alpha,
                                    Activation activation, const torch::Tensor& noise, double noise_std) {
  torch::Tensor hidden = unroll_generic(inputs, w_in, w_rec, alpha, activation, noise, noise_std);
  torch::Tensor logits = torch::matmul(hidden, w_out.transpose(-1, -2));
  return {std::move(logits), std::move(hidden)};
}

CTRNN::CTRNN(const CTRNNOptions& options, int64_t members) : Model(members), options_(options) {
  const int64_t E = members, N = options.hidden_size;
  w_in_ = register_parameter("W_in", torch::zeros({E, N, options.inputs}));
  w_rec_ = register_parameter("W_rec", torch::zeros({E, N, N}));
  w_out_ = register_parameter("W_out", torch::zeros({E, options.outputs, N}));
  if (options.dale_signs.defined()) {
    dale_signs_ = register_buffer("dale_signs", options.dale_signs.to(torch::kFloat).reshape({1, 1, N}).clone());
  }
}

torch::Tensor CTRNN::readout() const {
  return head_count_ < 0 ? w_out_ : w_out_.narrow(1, head_offset_, head_count_);
}

ModelOutput CTRNN::forward(const torch::Tensor& inputs) {
  return ctrnn_forward(inputs, w_in_, w_rec_, readout(), options_.alpha, options_.activation);
}

ModelOutput CTRNN::forward_noisy(const torch::Tensor& inputs, const torch::Tensor& noise) {
  if (!noise.defined() || options_.noise_std == 0.0) return forward(inputs);
  return ctrnn_forward(inputs, w_in_, w_rec_, readout(), options_.alpha, options_.activation, noise,
                       options_.noise_std);
}

void CTRNN::select_outputs(int64_t offset, int64_t count) {
  const int64_t O = options_.outputs;
  if (offset < 0 || count < 1 || offset + count > O) {
    throw std::logic_error(fmt::format("outputs [{}, {}) of a readout of {}", offset, offset + count, O));
  }
  head_offset_ = offset;
  head_count_ = offset == 0 && count == O ? -1 : count;
}

void CTRNN::constrain_() {
  if (!options_.dale_train) return;
  torch::NoGradGuard no_grad;
  dale_reflect_(w_rec_, dale_signs_);
}

void dale_reflect_(const torch::Tensor& w, const torch::Tensor& signs) {
  w.abs_().mul_(signs.reshape({1, 1, -1}));
}

torch::Tensor dale_initial(const torch::Tensor& w, const torch::Tensor& signs, bool balance, double radius) {
  const torch::Tensor d = signs.to(w.scalar_type()).reshape({1, -1});
  torch::Tensor out = w.abs() * d;
  if (balance) {
    // Row i: excitatory input sum_{j in E} W_ij, inhibitory sum_{j in I} |W_ij|; the latter
    // scaled to the former where both are positive.
    const torch::Tensor excitatory = (out * d.gt(0)).sum(1, true);
    const torch::Tensor inhibitory = (out.abs() * d.lt(0)).sum(1, true);
    const torch::Tensor both = excitatory.gt(0).logical_and(inhibitory.gt(0));
    const torch::Tensor scale = torch::where(both, excitatory / inhibitory.clamp_min(1e-300), torch::ones_like(excitatory));
    out = torch::where(d.lt(0).expand_as(out), out * scale, out);
  }
  if (radius > 0) {
    // A radius far below the norm (excitation and inhibition nearly cancelling, e.g. a
    // balanced rank-1 matrix) would blow the matrix up: refused beyond what a dense random
    // matrix of that radius has, ||W||_F = r sqrt(N), ten times over.
    const double now = torch::linalg_eigvals(out).abs().max().item<double>();
    const double n = static_cast<double>(out.size(0));
    const double norm = out.norm().item<double>();
    if (!(now > 0) || norm * radius / now > 10.0 * radius * std::sqrt(n)) {
      throw ConfigError(fmt::format(
          "model.ei_spectral_radius: the E/I initial W_rec has spectral radius {:.3g} and Frobenius norm {:.3g}; "
          "scaled to radius {} its norm would be {:.3g}, over 10 r sqrt(N) = {:.3g} (its eigenvalues nearly "
          "cancel): drop ei_spectral_radius (or ei_balance) for this initialization",
          now, norm, format_number(radius), now > 0 ? norm * radius / now : std::numeric_limits<double>::infinity(),
          10.0 * radius * std::sqrt(n)));
    }
    out = out * (radius / now);
  }
  return out;
}

std::optional<KernelFactors> CTRNN::kernel_factors(const std::string& param,
                                                   const torch::Tensor& inputs,
                                                   const std::vector<int64_t>& steps) {
  if (param != "W_rec" || steps.empty()) return std::nullopt;
  torch::NoGradGuard no_grad;
  const double a = options_.alpha;
  const torch::Tensor hidden =
      unroll_fused(inputs, w_in_.detach(), w_rec_.detach(), torch::Tensor(), a, options_.activation).first;
  const int64_t T = hidden.size(0), E = hidden.size(1), B = hidden.size(2), N = hidden.size(3);
  const int64_t S = static_cast<int64_t>(steps.size()), O = readout().size(1);
  KernelFactors f;
  f.steps = steps;
  f.scale = a;
  f.activity = torch::zeros_like(hidden);
  if (T > 1) f.activity.slice(0, 1).copy_(hidden.slice(0, 0, T - 1));
  // Target (output step i, class k) enters the recursion at its own step with its readout
  // row, dy / dh = W_out[k], for every trial; the recursion carries it back to the earlier
  // steps, through u[s] = (1-a) h[s-1] + a (W_in x + W_rec h[s-1]).
  f.errors = torch::zeros({T, E, S, O, B, N}, hidden.options());
  const torch::Tensor readout = this->readout().detach().unsqueeze(2);  // [E, O, 1, N]
  for (int64_t i = 0; i < S; ++i) f.errors[steps[i]].select(1, i).copy_(readout.expand({E, O, B, N}));
  // A member at a time on the CPU (as many as fit the cache budget), all of them on a GPU.
  const int64_t chunk = member_chunk(E, T, S * O * B, N, hidden.device());
  const torch::Tensor errors = f.errors.view({T, E, S * O, B, N}), w_rec = w_rec_.detach();
  for (int64_t c0 = 0; c0 < E; c0 += chunk) {
    const int64_t c = std::min(chunk, E - c0);
    backprop_through_time(errors.narrow(1, c0, c), hidden.narrow(1, c0, c), w_rec.narrow(0, c0, c), a,
                          options_.activation);
  }
  return f;
}

namespace {
/// How the initial W_rec gets its E/I signs (model.dale: init | train).
struct DaleInit {
  bool balance = false;
  double radius = 0;        ///< 0: keep the scale
  std::string description;  ///< for the init log line
};

class CTRNNBuilder final : public ModelBuilder {
 public:
  CTRNNBuilder(CTRNNOptions o, std::optional<DaleInit> dale) : o_(std::move(o)), dale_(std::move(dale)) {}

  bool output_heads() const override { return true; }

  std::optional<InitAdjustment> init_adjustment(const std::string& param) const override {
    if (param != "W_rec" || !dale_) return std::nullopt;
    InitAdjustment a;
    a.description = dale_->description;
    a.apply = [signs = o_.dale_signs, d = *dale_](const torch::Tensor& value, const std::map<std::string, torch::Tensor>&) {
      return dale_initial(value, signs.to(torch::kDouble), d.balance, d.radius);
    };
    return a;
  }

  std::vector<ParameterInfo> parameters() const override {
    return {{"W_in", {o_.hidden_size, o_.inputs}, "{name: torch_default}", "input weights", roles::kInput},
            {"W_out", {o_.outputs, o_.hidden_size}, "{name: torch_default}", "readout weights",
             roles::kReadout},
            {"W_rec", {o_.hidden_size, o_.hidden_size}, "{name: gaussian, gain: 1.25}",
             "recurrent weights", roles::kRecurrent}};
  }
  std::shared_ptr<Model> build(int64_t members) const override {
    return std::make_shared<CTRNN>(o_, members);
  }

 private:
  CTRNNOptions o_;
  std::optional<DaleInit> dale_;
};

/// The E/I signs of model.dale: -1 for the units the mask marks 1 (or the last
/// round(fraction N) units), +1 for the others, [N] float32.
torch::Tensor dale_signs(Params& p, int64_t N) {
  const std::string mask_file = init::config_path(p, "inhibitory_mask");
  torch::Tensor inhibitory;
  if (!mask_file.empty()) {
    p.require(!p.has("inhibitory_fraction"), "inhibitory_fraction",
              "and inhibitory_mask both choose the inhibitory units: keep one");
    torch::Tensor mask;
    try {
      mask = init::load_vector(mask_file);
    } catch (const ConfigError& e) {
      p.fail_bare("inhibitory_mask", std::string("cannot be used: ") + e.what());
    }
    if (mask.ne(0).logical_and(mask.ne(1)).any().item<bool>()) {
      p.fail_bare("inhibitory_mask", mask_file + " must hold 0 (excitatory) or 1 (inhibitory) per unit");
    }
    if (mask.numel() != N) {
      p.fail_bare("inhibitory_mask", fmt::format("{} has {} entries for hidden_size {}", mask_file, mask.numel(), N));
    }
    inhibitory = mask.ne(0);
  } else {
    const double fraction = p.get_double("inhibitory_fraction", 0.0, 1.0);
    const auto count = static_cast<int64_t>(std::llround(fraction * static_cast<double>(N)));
    inhibitory = torch::zeros({N}, torch::kBool);
    if (count > 0) inhibitory.slice(0, N - count).fill_(true);
  }
  const int64_t count = inhibitory.sum().item<int64_t>();
  if (count == 0 || count == N) {
    const std::string key = mask_file.empty() ? "inhibitory_fraction" : "inhibitory_mask";
    p.fail_bare(key, fmt::format("gives {} inhibitory units of {}: Dale's law needs units of both kinds", count, N));
  }
  return torch::where(inhibitory, torch::full({N}, -1.0f), torch::full({N}, 1.0f));
}
}  // namespace

void register_ctrnn(ModelRegistry& registry) {
  registry.add(
      {"ctrnn",
       "continuous-time RNN of the paper: h = act((1-a) h + a (W_in x + W_rec h)), y = W_out h, "
       "no biases, a = dt/tau",
       {{"hidden_size", "300", "number of recurrent units N"},
        {"tau_ms", "100", "time constant, ms; alpha = task dt_ms / tau_ms must be <= 1"},
        {"activation", "relu", "relu | tanh"},
        {"noise_std", "0", "std of the Gaussian noise added to each unit's pre-activation at every step of a "
                           "training update, from the run's \"noise\" stream (0 = none; metrics and tests "
                           "see the noise-free network)"},
        {"dale", "none", "Dale's law: none | init (the initial W_rec gets E/I signs per presynaptic unit: "
                         "W = |W_init| D) | train (the same, and kept in training: W = |V| D)"},
        {"inhibitory_fraction", "0.2", "with dale: the fraction of inhibitory units (the last ones)"},
        {"inhibitory_mask", "null", "with dale: a file of 0/1 per unit (1 = inhibitory), instead of the fraction"},
        {"ei_balance", "false", "with dale: scale each row's inhibitory weights to cancel its excitatory ones"},
        {"ei_spectral_radius", "null", "with dale: then scale W_rec to this spectral radius"}},
       [](Params& p, const TaskShape& task) -> std::unique_ptr<ModelBuilder> {
         CTRNNOptions o;
         o.inputs = task.inputs;
         o.outputs = task.outputs;
         o.hidden_size = p.get_int("hidden_size", 1, kMaxUnits);
         const double tau = p.get_double_above("tau_ms", 0.0);
         p.require(task.dt_ms <= tau, "tau_ms",
                   "must be >= the task's dt_ms (" + format_number(task.dt_ms) +
                       ") so that alpha = dt/tau <= 1");
         o.alpha = task.dt_ms / tau;
         o.activation = p.get_choice("activation", {"relu", "tanh"}) == "relu"
                            ? Activation::relu
                            : Activation::tanh;
         o.noise_std = p.get_double("noise_std", 0.0, 1e6);
         const std::string dale = p.get_choice("dale", {"none", "init", "train"});
         std::optional<DaleInit> d;
         if (dale == "none") {
           for (const char* key : {"inhibitory_fraction", "inhibitory_mask", "ei_balance", "ei_spectral_radius"}) {
             p.require(!p.has(key), key, "needs dale: init or train");
           }
         } else {
           o.dale_signs = dale_signs(p, o.hidden_size);
           o.dale_train = dale == "train";
           d = DaleInit{};
           d->balance = p.get_bool("ei_balance");
           if (!p.raw("ei_spectral_radius").IsNull()) d->radius = p.get_double_above("ei_spectral_radius", 0.0);
           const int64_t inhibitory = o.dale_signs.lt(0).sum().item<int64_t>();
           d->description = fmt::format("model.dale: {} ({} of {} units inhibitory{}{})", dale, inhibitory,
                                        o.hidden_size, d->balance ? ", E/I balanced" : "",
                                        d->radius > 0 ? ", spectral radius " + format_number(d->radius) : "");
         }
         return std::make_unique<CTRNNBuilder>(o, d);
       }});
}

}  // namespace richlazy::models
