// richlazy/models/ctrnn.h: the paper's continuous-time RNN (PAPER.md section 2).
//   h_t = act((1 - a) h_{t-1} + a (W_in x_t + W_rec h_{t-1})),  h_0 = 0,  a = dt / tau
//   y_t = W_out h_t
// No biases. The reference (Liu et al. 2024, after Yang's nn-brain CTRNN) uses ReLU,
// N = 300 and dt = tau = 100 ms, so a = 1.
#pragma once

#include <richlazy/models/model.h>

namespace richlazy::models {

enum class Activation { relu, tanh };

struct CTRNNOptions {
  int64_t inputs = 3;
  int64_t hidden_size = 300;
  int64_t outputs = 3;
  double alpha = 1.0;  ///< dt / tau, in (0, 1]
  Activation activation = Activation::relu;
  /// Standard deviation of the Gaussian noise added to each unit's pre-activation at every
  /// step of a training update (model.noise_std); 0 = none.
  double noise_std = 0.0;
  /// Dale's law kept during training: W_rec = |V| D with D = diag(dale_signs) fixed, so that
  /// every column (a presynaptic unit's outgoing weights) keeps its sign (see constrain_).
  bool dale_train = false;
  /// +1 (excitatory) or -1 (inhibitory) per presynaptic unit, [N] float32; undefined
  /// without Dale's law.
  torch::Tensor dale_signs;
};

/// Runs E networks on inputs [T, E, B, n_in] with w_in [E, N, n_in], w_rec [E, N, N] and
/// w_out [E, n_out, N]: logits [T, E, B, n_out] and hidden states [T, E, B, N]. A fused
/// forward pass (one product per member and step, written in place) and, under autograd, a
/// hand-written backpropagation through time: one autograd node instead of a few per step.
/// `noise` (optional, [T, E, B, N] standard normals) times `noise_std` is added to the
/// pre-activation of every step: u_t = (1 - a) h_{t-1} + a (W_in x_t + W_rec h_{t-1}) + noise_std xi_t.
ModelOutput ctrnn_forward(const torch::Tensor& inputs, const torch::Tensor& w_in,
                          const torch::Tensor& w_rec, const torch::Tensor& w_out, double alpha,
                          Activation activation, const torch::Tensor& noise = {}, double noise_std = 0.0);

/// The same network recorded op by op for autograd: the reference that the fused path is
/// tested against.
ModelOutput ctrnn_forward_reference(const torch::Tensor& inputs, const torch::Tensor& w_in,
                                    const torch::Tensor& w_rec, const torch::Tensor& w_out,
                                    double alpha, Activation activation, const torch::Tensor& noise = {},
                                    double noise_std = 0.0);

/// W = D |W| for D = diag(signs) over the columns (presynaptic units): the reflection that
/// keeps Dale's law, in place on w [E, N, N]. An update of V in W = |V| D with V kept
/// non-negative (V := |V| after each update, which leaves W unchanged) is exactly this
/// applied to the same update of W: the gradient, and every optimizer's state, with respect
/// to V is that with respect to W times the fixed sign of each entry.
void dale_reflect_(const torch::Tensor& w, const torch::Tensor& signs);

/// |W| D, then (with `balance`) each row's inhibitory weights scaled so that they cancel its
/// excitatory ones (sum_j W_ij = 0 where the row has both), then (with radius > 0) the whole
/// matrix scaled to spectral radius `radius`: the E/I version of an initial W [N, N] float64.
torch::Tensor dale_initial(const torch::Tensor& w, const torch::Tensor& signs, bool balance, double radius);

/// Parameters: W_in [E, N, n_in] (input), W_rec [E, N, N] (recurrent), W_out [E, n_out, N]
/// (readout).
class CTRNN final : public Model {
 public:
  explicit CTRNN(const CTRNNOptions& options, int64_t members = 1);

  ModelOutput forward(const torch::Tensor& inputs) override;
  ModelOutput forward_noisy(const torch::Tensor& inputs, const torch::Tensor& noise) override;
  int64_t hidden_size() const override { return options_.hidden_size; }
  void select_outputs(int64_t offset, int64_t count) override;
  double noise_std() const override { return options_.noise_std; }
  /// With Dale's law in training, dale_reflect_ on W_rec.
  void constrain_() override;
  /// Exact factors for "W_rec": the backward recursion of the training step run once for all
  /// (step, class) targets and members; the activity at step s is h[s-1] (zero at s = 0) and
  /// the scale is alpha.
  std::optional<KernelFactors> kernel_factors(const std::string& param, const torch::Tensor& inputs,
                                              const std::vector<int64_t>& steps) override;
  const CTRNNOptions& options() const { return options_; }

 private:
  /// The readout rows of the selected head (all of W_out unless select_outputs narrowed it).
  torch::Tensor readout() const;

  CTRNNOptions options_;
  torch::Tensor w_in_, w_rec_, w_out_;
  torch::Tensor dale_signs_;  ///< [1, 1, N] buffer (moves with the model), or undefined
  int64_t head_offset_ = 0, head_count_ = -1;  ///< -1: the whole readout
};

/// Registers "ctrnn".
void register_ctrnn(ModelRegistry& registry);

}  // namespace richlazy::models
