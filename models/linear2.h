// richlazy/models/linear2.h: the two-layer linear network of PAPER.md section 7.
// f(x) = w_2^T W_1 x: W_1 [E, h, d] (role input), w_2 [E, n_out, h] (role readout; n_out = 1
// for the teacher-student task), no biases. Applied at every step of the inputs, so it runs
// on any task.
#pragma once

#include <richlazy/models/model.h>

namespace richlazy::models {

class Linear2 final : public Model {
 public:
  Linear2(int64_t inputs, int64_t hidden, int64_t outputs, int64_t members = 1);

  /// hidden = W_1 x [T, E, B, h], logits = w_2 hidden [T, E, B, n_out].
  ModelOutput forward(const torch::Tensor& inputs) override;
  int64_t hidden_size() const override { return w_1_.size(1); }

 private:
  torch::Tensor w_1_, w_2_;
};

/// Registers "linear2".
void register_linear2(ModelRegistry& registry);

}  // namespace richlazy::models
