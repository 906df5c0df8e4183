// models/linear2.cpp: two-layer linear network.
#include <richlazy/models/linear2.h>

#include <richlazy/core/limits.h>

#include <torch/torch.h>

namespace richlazy::models {

Linear2::Linear2(int64_t inputs, int64_t hidden, int64_t outputs, int64_t members) : Model(members) {
  w_1_ = register_parameter("W_1", torch::zeros({members, hidden, inputs}));
  w_2_ = register_parameter("w_2", torch::zeros({members, outputs, hidden}));
}

ModelOutput Linear2::forward(const torch::Tensor& inputs) {
  torch::Tensor hidden = member_linear(inputs, w_1_);
  torch::Tensor logits = member_linear(hidden, w_2_);
  return {std::move(logits), std::move(hidden)};
}

namespace {
class Linear2Builder final : public ModelBuilder {
 public:
  Linear2Builder(int64_t inputs, int64_t hidden, int64_t outputs)
      : inputs_(inputs), hidden_(hidden), outputs_(outputs) {}
  std::vector<ParameterInfo> parameters() const override {
    // A small initial scale, as in the theory (gradient descent from near zero).
    return {{"W_1", {hidden_, inputs_}, "{name: gaussian, gain: 0.1}", "first layer", roles::kInput},
            {"w_2", {outputs_, hidden_}, "{name: gaussian, gain: 0.1}", "readout", roles::kReadout}};
  }
  std::shared_ptr<Model> build(int64_t members) const override {
    return std::make_shared<Linear2>(inputs_, hidden_, outputs_, members);
  }

 private:
  int64_t inputs_, hidden_, outputs_;
};
}  // namespace

void register_linear2(ModelRegistry& registry) {
  registry.add({"linear2",
                "two-layer linear network f(x) = w_2^T W_1 x, no biases (PAPER.md section 7)",
                {{"hidden_size", "100", "hidden width h"}},
                [](Params& p, const TaskShape& task) -> std::unique_ptr<ModelBuilder> {
                  return std::make_unique<Linear2Builder>(task.inputs, p.get_int("hidden_size", 1, kMaxUnits),
                                                          task.outputs);
                }});
}

}  // namespace richlazy::models
