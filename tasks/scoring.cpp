// tasks/scoring.cpp: losses, accuracy and chunked evaluation, per member.
#include <richlazy/tasks/scoring.h>

#include <torch/torch.h>

#include <cmath>

namespace richlazy::tasks {

using torch::indexing::Slice;

namespace {
/// sum over steps and trials of values * mask, / sum of mask: [T, E, B] -> [E]. Each member's
/// T*B terms are summed as one contiguous row, so a member's sum is the same, to the last
/// bit, in a pack of any size (a strided reduction over [T, E, B] would change its order).
torch::Tensor masked_mean(const torch::Tensor& values, const torch::Tensor& mask) {
  const int64_t E = values.size(1);
  const torch::Tensor v = values.transpose(0, 1).reshape({E, -1});
  const torch::Tensor m = mask.to(values.dtype()).transpose(0, 1).reshape({E, -1});
  return (v * m).sum(1) / m.sum(1);
}
}  // namespace

torch::Tensor masked_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                   const torch::Tensor& mask) {
  // -log softmax(y)[target] with the classes as the outer axis: LibTorch's CPU log_softmax
  // over a short innermost axis (3 classes) is ~20x slower than over an outer one.
  const torch::Tensor log_p = torch::log_softmax(logits.movedim(-1, 0), 0);  // [O, T, E, B]
  const torch::Tensor per_step = -log_p.gather(0, targets.unsqueeze(0)).squeeze(0);
  return masked_mean(per_step, mask);
}

torch::Tensor masked_mse(const torch::Tensor& outputs, const torch::Tensor& targets,
                         const torch::Tensor& mask) {
  return masked_mean((outputs - targets).pow(2).mean(-1), mask);
}

torch::Tensor task_loss(LossKind kind, const torch::Tensor& logits, const TrialBatch& batch) {
  return kind == LossKind::cross_entropy ? masked_cross_entropy(logits, batch.targets, batch.mask)
                                         : masked_mse(logits, batch.targets, batch.mask);
}

torch::Tensor decision_accuracy(const torch::Tensor& logits, const torch::Tensor& targets,
                                const DecisionWindow& w) {
  const torch::Tensor pred = logits.index({Slice(w.begin, w.end)}).argmax(-1);
  return pred.eq(targets.index({Slice(w.begin, w.end)})).to(torch::kDouble).mean(torch::IntArrayRef{0, 2});
}

std::pair<torch::Tensor, torch::Tensor> evaluate(
    const Task& task, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
    const TrialBatch& batch, int64_t chunk) {
  torch::NoGradGuard no_grad;
  const bool classify = task.loss() == LossKind::cross_entropy;
  const DecisionWindow w = task.decision();
  const int64_t trials = batch.inputs.size(2);
  torch::Tensor loss_sum, weight_sum, correct;
  for (int64_t begin = 0; begin < trials; begin += chunk) {
    const TrialBatch part = member_trials(batch, begin, std::min(trials, begin + chunk));
    const torch::Tensor logits = forward(part.inputs);
    const torch::Tensor weight = part.mask.to(torch::kDouble).sum(torch::IntArrayRef{0, 2});
    const torch::Tensor loss = task_loss(task.loss(), logits, part).to(torch::kDouble) * weight;
    loss_sum = loss_sum.defined() ? loss_sum + loss : loss;
    weight_sum = weight_sum.defined() ? weight_sum + weight : weight;
    if (classify) {
      // Every chunk but the last has `chunk` trials: weight accuracies by their trial count.
      const torch::Tensor c = decision_accuracy(logits, part.targets, w) * static_cast<double>(part.inputs.size(2));
      correct = correct.defined() ? correct + c : c;
    }
  }
  const torch::Tensor accuracy =
      classify ? correct / static_cast<double>(trials) : torch::full_like(loss_sum, std::nan(""));
  return {loss_sum / weight_sum, accuracy};
}

}  // namespace richlazy::tasks
