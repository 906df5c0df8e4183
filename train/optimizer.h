// richlazy/train/optimizer.h: optimizers by name (`train.optimizer: {name: sgd, ...}`).
// An optimizer updates the parameters of a pack of E networks (models/model.h) in a few
// whole-tensor operations, each member with its own hyperparameters and its own state, with
// PyTorch's update rules: member e follows exactly the trajectory of torch.optim on that
// network alone. Members that diverged are frozen by a device-side mask, so an update needs
// nothing from the host.
#pragma once

#include <richlazy/core/registry.h>

#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace richlazy::train {

class Optimizer {
 public:
  explicit Optimizer(std::vector<torch::Tensor> parameters) : parameters_(std::move(parameters)) {}
  virtual ~Optimizer() = default;
  /// One update of the members whose entry of `active` ([E] bool, on the parameters' device)
  /// is true; the others keep their weights exactly (even where their gradients are not
  /// finite).
  virtual void step(const torch::Tensor& active) = 0;
  /// Clears the gradients before the next backward pass.
  void zero_grad();

  /// The state an update depends on besides the weights (momentum buffers, moments, the
  /// update count), for checkpoints (train.checkpoint_every): tensors with a leading member
  /// dimension [E, ...], or 0-dimensional ones that are the pack's (equal for members at the
  /// same step). load_state restores what state() returned (the trainer stacks members'
  /// entries again, possibly from other packs; a member whose state lacks an entry that
  /// others have gets zeros there, so zeros must mean "fresh"). An optimizer declares that it does this
  /// (supports_checkpoints); runs with checkpoints refuse one that does not, rather than
  /// resume it with its state lost.
  virtual std::map<std::string, torch::Tensor> state() const { return {}; }
  virtual void load_state(const std::map<std::string, torch::Tensor>& state) { (void)state; }
  virtual bool supports_checkpoints() const { return false; }
  const std::vector<torch::Tensor>& parameters() const { return parameters_; }

 protected:
  /// A per-member value [E] as a tensor that broadcasts against `param` [E, ...].
  static torch::Tensor per_member(const std::vector<double>& values, const torch::Tensor& param);
  /// param <- param + neg_lr * direction (neg_lr = -lr per member) for the active members;
  /// the others keep theirs. `all_active`: the host knows every member is active (then no
  /// mask is applied; the arithmetic is the same).
  static void masked_descent(torch::Tensor& param, const torch::Tensor& neg_lr, const torch::Tensor& direction,
                             const torch::Tensor& active, bool all_active);
  /// Whether every member is active, when the host can tell without waiting for a GPU.
  static bool known_all_active(const torch::Tensor& active);

  std::vector<torch::Tensor> parameters_;
};

/// Validated options of one run's optimizer.
class OptimizerBuilder {
 public:
  virtual ~OptimizerBuilder() = default;
  /// The optimizer of a pack: member e of every parameter [E, ...] uses `members[e]`'s
  /// hyperparameters. Every entry of `members` comes from the same registry entry as this
  /// builder (runs with different optimizers are never packed together).
  virtual std::unique_ptr<Optimizer> make(const std::vector<torch::Tensor>& parameters,
                                          const std::vector<const OptimizerBuilder*>& members) const = 0;
  /// The optimizer of one network (a pack of one).
  std::unique_ptr<Optimizer> make(const std::vector<torch::Tensor>& parameters) const {
    return make(parameters, {this});
  }
};

using OptimizerRegistry = Registry<OptimizerBuilder>;

/// Registers "sgd" (the paper's: lr 0.003, momentum 0.9) and "adam".
void register_builtin_optimizers(OptimizerRegistry& registry);

}  // namespace richlazy::train
