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
};

/// Runs E networks on inputs [T, E, B, n_in] with w_in [E, N, n_in], w_rec [E, N, N] and
/// w_out [E, n_out, N]: logits [T, E, B, n_out] and hidden states [T, E, B, N]. A fused
/// forward pass (one product per member and step, written in place) and, under autograd, a
/// hand-written backpropagation through time: one autograd node instead of a few per step.
ModelOutput ctrnn_forward(const torch::Tensor& inputs, const torch::Tensor& w_in,
                          const torch::Tensor& w_rec, const torch::Tensor& w_out, double alpha,
                          Activation activation);

/// The same network recorded op by op for autograd: the reference that the fused path is
/// tested against.
ModelOutput ctrnn_forward_reference(const torch::Tensor& inputs, const torch::Tensor& w_in,
                                    const torch::Tensor& w_rec, const torch::Tensor& w_out,
                                    double alpha, Activation activation);

/// Parameters: W_in [E, N, n_in] (input), W_rec [E, N, N] (recurrent), W_out [E, n_out, N]
/// (readout).
class CTRNN final : public Model {
 public:
  explicit CTRNN(const CTRNNOptions& options, int64_t members = 1);

  ModelOutput forward(const torch::Tensor& inputs) override;
  int64_t hidden_size() const override { return options_.hidden_size; }
  /// Exact factors for "W_rec": the backward recursion of the training step run once for all
  /// (step, class) targets and members; the activity at step s is h[s-1] (zero at s = 0) and
  /// the scale is alpha.
  std::optional<KernelFactors> kernel_factors(const std::string& param, const torch::Tensor& inputs,
                                              const std::vector<int64_t>& steps) override;
  const CTRNNOptions& options() const { return options_; }

 private:
  CTRNNOptions options_;
  torch::Tensor w_in_, w_rec_, w_out_;
};

/// Registers "ctrnn".
void register_ctrnn(ModelRegistry& registry);

}  // namespace richlazy::models
