// richlazy/models/linear2.h: the two-layer linear network of PAPER.md section 7.
// f(x) = w_2^T W_1 x: W_1 [E, h, d] (role input), w_2 [E, n_out, h] (role readout; n_out = 1
// for the teacher-student task), no biases. Applied at every step of the inputs, so it runs
// on any task. Options set the initial scale of each layer (Frobenius norms W_1_norm,
// w_2_norm, applied after the layers' initializers) and `balanced`, which gives w_2(0) the
// norm ||W_1(0)||_F: the trace of the balanced condition W_1 W_1^T = w_2 w_2^T of two-layer
// linear networks (exactly balanced when W_1(0) has rank 1 and w_2(0) lies along its left
// singular vector).
#pragma once

#include <richlazy/models/model.h>

namespace richlazy::models {

class Linear2 final : public Model {
 public:
  Linear2(int64_t inputs, int64_t hidden, int64_t outputs, int64_t members = 1);

  /// hidden = W_1 x [T, E, B, h], logits = w_2 hidden [T, E, B, n_out].
  ModelOutput forward(const torch::Tensor& inputs) override;
  int64_t hidden_size() const override { return w_1_.size(1); }
  /// For whitened inputs: W_1: (w_2 w_2^T) (x) I_d; w_2: I_O (x) W_1^T W_1 ([E, O d, O d],
  /// rows (output k, input i)). For one output, ||w_2||^2 I + W_1^T W_1 over both layers.
  std::optional<torch::Tensor> population_kernel(const std::string& param) const override;

 private:
  torch::Tensor w_1_, w_2_;
};

/// Registers "linear2".
void register_linear2(ModelRegistry& registry);

}  // namespace richlazy::models
