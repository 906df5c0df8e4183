// richlazy/tasks/scoring.h: how a task scores a network's outputs (loss and accuracy).
#pragma once

#include <richlazy/tasks/task.h>

#include <functional>
#include <utility>

namespace richlazy::tasks {

/// Mean cross-entropy over the steps where mask == 1. logits [T, B, O], targets [T, B],
/// mask [T, B]. With an all-ones mask this is PyTorch's CrossEntropyLoss on the flattened
/// [T*B, O] logits, as in the reference.
torch::Tensor masked_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                   const torch::Tensor& mask);

/// Mean squared error over the outputs of the steps where mask == 1. outputs and targets
/// [T, B, O], mask [T, B].
torch::Tensor masked_mse(const torch::Tensor& outputs, const torch::Tensor& targets,
                         const torch::Tensor& mask);

/// The task's loss of `logits` on `batch` (a differentiable 0-dim tensor).
torch::Tensor task_loss(LossKind kind, const torch::Tensor& logits, const TrialBatch& batch);

/// Fraction of (decision step, trial) pairs where argmax(logits) equals the target.
double decision_accuracy(const torch::Tensor& logits, const torch::Tensor& targets,
                         const DecisionWindow& window);

/// Loss and accuracy (NaN for regression) of `forward` on `batch`, evaluated in chunks of
/// `chunk` trials without gradients; the loss is the mean over all scored steps.
std::pair<double, double> evaluate(const Task& task,
                                   const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                   const TrialBatch& batch, int64_t chunk = 1000);

}  // namespace richlazy::tasks
