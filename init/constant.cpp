// init/constant.cpp: every entry the same value (biases start at zero).
#include <richlazy/init/initializer.h>
#include <richlazy/init/norm.h>

#include <torch/torch.h>

namespace richlazy::init {

namespace {
class Constant final : public Initializer {
 public:
  Constant(const InitTarget& t, double value) : rows_(t.rows), cols_(t.cols), value_(value) {}
  torch::Tensor make(const InitInputs&) const override {
    return torch::full({rows_, cols_}, value_, torch::TensorOptions().dtype(torch::kDouble));
  }

 private:
  int64_t rows_, cols_;
  double value_;
};
}  // namespace

void register_constant(InitializerRegistry& registry) {
  registry.add({"constant", "every entry equal to value (e.g. biases at zero); draws no random numbers",
                {{"value", "0", "the value of every entry"}},
                [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
                  const double value = p.get_double("value");
                  const YAML::Node norm = p.node()["norm"];
                  p.require(value != 0 || !norm.IsDefined() || (norm.IsScalar() && norm.Scalar() == "none"),
                            "norm", "must be none when value is 0 (an all-zero matrix has no norm to set)");
                  return std::make_unique<Constant>(t, value);
                }});
}

}  // namespace richlazy::init
