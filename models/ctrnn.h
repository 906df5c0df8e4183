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

/// Unrolls the recurrence over time. Shape-generic so that ensembles of networks can be
/// trained in one tensor: inputs [T, ..., B, n_in], w_in [..., N, n_in], w_rec [..., N, N]
/// (leading "..." dims broadcast) give hidden states [T, ..., B, N]. For one network
/// (2-D weights) it runs a fused forward pass and, under autograd, a hand-written
/// backpropagation through time (one autograd node instead of a few per step).
torch::Tensor ctrnn_unroll(const torch::Tensor& inputs, const torch::Tensor& w_in,
                           const torch::Tensor& w_rec, double alpha, Activation activation);

/// The same recurrence recorded op by op for autograd: the reference that the fused path
/// is tested against (and the path ensembles take).
torch::Tensor ctrnn_unroll_reference(const torch::Tensor& inputs, const torch::Tensor& w_in,
                                     const torch::Tensor& w_rec, double alpha,
                                     Activation activation);

class CTRNN final : public Model {
 public:
  explicit CTRNN(const CTRNNOptions& options);

  ModelOutput forward(const torch::Tensor& inputs) override;
  int64_t hidden_size() const override { return options_.hidden_size; }
  /// Exact factors for "W_rec": one backward recursion over all (step, class) targets at
  /// once; the activity at step s is h[s-1] (zero at s = 0) and the scale is alpha.
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
