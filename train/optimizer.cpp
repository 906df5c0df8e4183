// train/optimizer.cpp: SGD and Adam from LibTorch, configured by name.
#include <richlazy/train/optimizer.h>

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

namespace richlazy::train {

namespace {
class SgdBuilder final : public OptimizerBuilder {
 public:
  explicit SgdBuilder(Params& p)
      : options_(p.get_double_above("lr", 0.0)) {
    options_.momentum(p.get_double("momentum", 0.0, 1.0));
    options_.weight_decay(p.get_double("weight_decay", 0.0));
    options_.nesterov(p.get_bool("nesterov"));
    p.require(!options_.nesterov() || options_.momentum() > 0, "nesterov",
              "needs momentum > 0");
  }
  std::unique_ptr<torch::optim::Optimizer> make(
      const std::vector<torch::Tensor>& parameters) const override {
    return std::make_unique<torch::optim::SGD>(parameters, options_);
  }

 private:
  torch::optim::SGDOptions options_;
};

class AdamBuilder final : public OptimizerBuilder {
 public:
  explicit AdamBuilder(Params& p) : options_(p.get_double_above("lr", 0.0)) {
    const double b1 = p.get_double("beta1", 0.0, 1.0);
    const double b2 = p.get_double("beta2", 0.0, 1.0);
    p.require(b1 < 1.0, "beta1", "must be < 1");
    p.require(b2 < 1.0, "beta2", "must be < 1");
    options_.betas({b1, b2});
    options_.eps(p.get_double_above("eps", 0.0));
    options_.weight_decay(p.get_double("weight_decay", 0.0));
  }
  std::unique_ptr<torch::optim::Optimizer> make(
      const std::vector<torch::Tensor>& parameters) const override {
    return std::make_unique<torch::optim::Adam>(parameters, options_);
  }

 private:
  torch::optim::AdamOptions options_;
};
}  // namespace

void register_builtin_optimizers(OptimizerRegistry& registry) {
  registry.add({"sgd", "stochastic gradient descent with momentum (PyTorch semantics)",
                {{"lr", "0.003", "learning rate"},
                 {"momentum", "0.9", "momentum in [0, 1]"},
                 {"weight_decay", "0", "L2 penalty, >= 0"},
                 {"nesterov", "false", "Nesterov momentum"}},
                [](Params& p) -> std::unique_ptr<OptimizerBuilder> {
                  return std::make_unique<SgdBuilder>(p);
                }});
  registry.add({"adam", "Adam (Kingma & Ba 2015)",
                {{"lr", "0.001", "learning rate"},
                 {"beta1", "0.9", "first-moment decay in [0, 1)"},
                 {"beta2", "0.999", "second-moment decay in [0, 1)"},
                 {"eps", "1e-8", "denominator term, > 0"},
                 {"weight_decay", "0", "L2 penalty, >= 0"}},
                [](Params& p) -> std::unique_ptr<OptimizerBuilder> {
                  return std::make_unique<AdamBuilder>(p);
                }});
}

}  // namespace richlazy::train
