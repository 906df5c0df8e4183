// tasks/scoring.cpp: losses, accuracy and chunked evaluation.
#include <richlazy/tasks/scoring.h>

#include <torch/torch.h>

#include <cmath>

namespace richlazy::tasks {

using torch::indexing::Slice;

torch::Tensor masked_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                   const torch::Tensor& mask) {
  const int64_t classes = logits.size(-1);
  const torch::Tensor per_step = torch::nn::functional::cross_entropy(
      logits.reshape({-1, classes}), targets.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  const torch::Tensor m = mask.reshape({-1}).to(per_step.dtype());
  return (per_step * m).sum() / m.sum();
}

torch::Tensor masked_mse(const torch::Tensor& outputs, const torch::Tensor& targets,
                         const torch::Tensor& mask) {
  const torch::Tensor per_step = (outputs - targets).pow(2).mean(-1);  // [T, B]
  const torch::Tensor m = mask.to(per_step.dtype());
  return (per_step * m).sum() / m.sum();
}

torch::Tensor task_loss(LossKind kind, const torch::Tensor& logits, const TrialBatch& batch) {
  return kind == LossKind::cross_entropy ? masked_cross_entropy(logits, batch.targets, batch.mask)
                                         : masked_mse(logits, batch.targets, batch.mask);
}

double decision_accuracy(const torch::Tensor& logits, const torch::Tensor& targets,
                         const DecisionWindow& w) {
  const torch::Tensor pred = logits.index({Slice(w.begin, w.end)}).argmax(-1);
  return pred.eq(targets.index({Slice(w.begin, w.end)})).to(torch::kDouble).mean().item<double>();
}

std::pair<double, double> evaluate(const Task& task,
                                   const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                   const TrialBatch& batch, int64_t chunk) {
  torch::NoGradGuard no_grad;
  const bool classify = task.loss() == LossKind::cross_entropy;
  double loss_sum = 0, weight_sum = 0, correct = 0, decisions = 0;
  const DecisionWindow w = task.decision();
  for (int64_t begin = 0; begin < batch.size(); begin += chunk) {
    const TrialBatch part = batch.slice(begin, std::min(batch.size(), begin + chunk));
    const torch::Tensor logits = forward(part.inputs);
    const double weight = part.mask.sum().item<double>();
    loss_sum += task_loss(task.loss(), logits, part).item<double>() * weight;
    weight_sum += weight;
    if (classify) {
      const double n = static_cast<double>((w.end - w.begin) * part.size());
      correct += decision_accuracy(logits, part.targets, w) * n;
      decisions += n;
    }
  }
  return {loss_sum / weight_sum, classify ? correct / decisions : std::nan("")};
}

}  // namespace richlazy::tasks
