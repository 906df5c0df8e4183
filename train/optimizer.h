// richlazy/train/optimizer.h: optimizers by name (`train.optimizer: {name: sgd, ...}`).
#pragma once

#include <richlazy/core/registry.h>

#include <torch/optim/optimizer.h>

#include <memory>
#include <vector>

namespace richlazy::train {

/// Validated optimizer options; makes a fresh optimizer over given parameters.
class OptimizerBuilder {
 public:
  virtual ~OptimizerBuilder() = default;
  virtual std::unique_ptr<torch::optim::Optimizer> make(
      const std::vector<torch::Tensor>& parameters) const = 0;
};

using OptimizerRegistry = Registry<OptimizerBuilder>;

/// Registers "sgd" (the paper's: lr 0.003, momentum 0.9) and "adam".
void register_builtin_optimizers(OptimizerRegistry& registry);

}  // namespace richlazy::train
