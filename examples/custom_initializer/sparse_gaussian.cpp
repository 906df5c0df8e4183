// sparse_gaussian.cpp: sparse random connectivity, a typical user-defined initializer.
// Each connection exists with probability `density`; existing ones are N(0, g^2 / (density *
// fan_in)), so the expected Frobenius norm matches the dense Gaussian with the same gain.
#include "sparse_gaussian.h"

#include <torch/torch.h>

#include <cmath>

namespace my_lab {

namespace {
class SparseGaussian final : public richlazy::init::Initializer {
 public:
  SparseGaussian(richlazy::Params& p, const richlazy::init::InitTarget& t)
      : rows_(t.rows),
        cols_(t.cols),
        density_(p.get_double_above("density", 0.0)),
        gain_(p.get_double_above("gain", 0.0)) {
    p.require(density_ <= 1.0, "density", "must be in (0, 1]");
  }

  torch::Tensor make(const richlazy::init::InitInputs& in) const override {
    const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
    const torch::Tensor mask = torch::rand({rows_, cols_}, in.gen, f64).lt(density_);
    const double scale = gain_ / std::sqrt(density_ * static_cast<double>(cols_));
    return torch::randn({rows_, cols_}, in.gen, f64) * scale * mask.to(torch::kDouble);
  }

 private:
  int64_t rows_, cols_;
  double density_, gain_;
};
}  // namespace

void register_sparse_gaussian(richlazy::init::InitializerRegistry& registry) {
  registry.add({"sparse_gaussian",
                "sparse Gaussian: each connection with probability density, N(0, g^2/(density*fan_in))",
                {{"density", "0.1", "connection probability in (0, 1]"},
                 {"gain", "1.25", "gain g"}},
                [](richlazy::Params& p, const richlazy::init::InitTarget& t)
                    -> std::unique_ptr<richlazy::init::Initializer> {
                  return std::make_unique<SparseGaussian>(p, t);
                }});
}

}  // namespace my_lab
