// richlazy/tasks/scoring.h: how a task scores a network's outputs (loss and accuracy).
// Everything here takes the member layout ([T, E, B, ...], tasks/task.h: stack_members) and
// scores each of the E networks separately: results are [E] tensors on the outputs' device,
// so that training reads nothing back from a GPU until it logs.
#pragma once

#include <richlazy/tasks/task.h>

#include <functional>
#include <utility>

namespace richlazy::tasks {

/// Mean cross-entropy of each member over the steps where mask == 1: logits [T, E, B, O],
/// targets [T, E, B], mask [T, E, B] -> [E]. With an all-ones mask this is PyTorch's
/// CrossEntropyLoss on the member's flattened [T*B, O] logits, as in the reference.
torch::Tensor masked_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                   const torch::Tensor& mask);

/// Mean squared error of each member over the outputs of the steps where mask == 1: outputs
/// and targets [T, E, B, O], mask [T, E, B] -> [E].
torch::Tensor masked_mse(const torch::Tensor& outputs, const torch::Tensor& targets,
                         const torch::Tensor& mask);

/// The task's loss of each member, [E] (differentiable).
torch::Tensor task_loss(LossKind kind, const torch::Tensor& logits, const TrialBatch& batch);

/// Fraction of (decision step, trial) pairs where argmax(logits) equals the target, per
/// member: logits [T, E, B, O], targets [T, E, B] -> [E] float64.
torch::Tensor decision_accuracy(const torch::Tensor& logits, const torch::Tensor& targets,
                                const DecisionWindow& window);

/// Loss and accuracy (NaN for regression) of each member, [E] float64 each, of `forward` on
/// `batch` (member layout), evaluated in chunks of `chunk` trials without gradients; the
/// loss is the mean over all scored steps.
std::pair<torch::Tensor, torch::Tensor> evaluate(
    const Task& task, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
    const TrialBatch& batch, int64_t chunk = 1000);

}  // namespace richlazy::tasks
