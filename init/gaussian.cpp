// init/gaussian.cpp: i.i.d. Gaussian weights, N(0, gain^2 / fan_in).
#include <richlazy/init/initializer.h>
#include <richlazy/init/norm.h>

#include <torch/torch.h>

#include <cmath>

namespace richlazy::init {

torch::Tensor gaussian_draw(int64_t rows, int64_t cols, double gain, at::Generator& gen) {
  return torch::randn({rows, cols}, gen, torch::TensorOptions().dtype(torch::kDouble)) *
         (gain / std::sqrt(static_cast<double>(cols)));
}

namespace {
/// W = gain * Z / sqrt(fan_in), Z i.i.d. N(0, 1): the reference's W0_Gauss
/// (Liu et al. 2024, gain 1.25 in the public code).
class Gaussian final : public Initializer {
 public:
  Gaussian(Params& p, const InitTarget& t)
      : rows_(t.rows), cols_(t.cols), gain_(p.get_double_above("gain", 0.0)) {}

  torch::Tensor make(const InitInputs& in) const override {
    return gaussian_draw(rows_, cols_, gain_, in.gen);
  }

 private:
  int64_t rows_, cols_;
  double gain_;
};
}  // namespace

void register_gaussian(InitializerRegistry& registry) {
  registry.add({"gaussian", "i.i.d. Gaussian entries N(0, gain^2 / fan_in)",
                {{"gain", "1.25", "gain g; entries have std g / sqrt(fan_in)"}},
                [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
                  return std::make_unique<Gaussian>(p, t);
                }});
}

}  // namespace richlazy::init
