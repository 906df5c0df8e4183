// init/torch_default.cpp: PyTorch's default nn.Linear weight initialization.
#include <richlazy/init/initializer.h>
#include <richlazy/init/norm.h>

#include <torch/torch.h>

#include <cmath>

namespace richlazy::init {

namespace {
/// nn.Linear's reset_parameters: kaiming_uniform_(a = sqrt(5)), i.e. U(-b, b) with
/// b = 1 / sqrt(fan_in). The reference keeps this for W_in and W_out.
class TorchDefault final : public Initializer {
 public:
  explicit TorchDefault(const InitTarget& t) : rows_(t.rows), cols_(t.cols) {}

  torch::Tensor make(const InitInputs& in) const override {
    const double bound = 1.0 / std::sqrt(static_cast<double>(cols_));
    // Drawn in float32 like nn.Linear, so a seed gives PyTorch's exact values.
    return torch::empty({rows_, cols_}, torch::TensorOptions().dtype(torch::kFloat))
        .uniform_(-bound, bound, in.gen)
        .to(torch::kDouble);
  }

 private:
  int64_t rows_, cols_;
};
}  // namespace

void register_torch_default(InitializerRegistry& registry) {
  registry.add({"torch_default",
                "PyTorch's default nn.Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))",
                {},
                [](Params&, const InitTarget& t) -> std::unique_ptr<Initializer> {
                  return std::make_unique<TorchDefault>(t);
                }});
}

}  // namespace richlazy::init
