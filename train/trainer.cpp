// train/trainer.cpp: the training loop.
#include <richlazy/train/trainer.h>

#include <richlazy/core/seeding.h>
#include <richlazy/tasks/scoring.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>

namespace richlazy::train {

using torch::indexing::Slice;

std::string MetricLog::csv() const {
  std::string out = "step";
  for (const auto& c : columns) out += "," + c;
  out += "\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out += std::to_string(steps[i]);
    for (double v : rows[i]) out += fmt::format(",{}", v);
    out += "\n";
  }
  return out;
}

Trainer::Trainer(models::Model& model, const tasks::Task& task,
                 const OptimizerBuilder& optimizer, std::vector<NamedHook> hooks,
                 TrainSettings settings, torch::Device device, uint64_t seed)
    : model_(model),
      task_(task),
      optimizer_(optimizer.make(model.parameters())),
      hooks_(std::move(hooks)),
      settings_(settings),
      device_(device),
      seed_(seed) {
  for (const auto& h : hooks_) log_.columns.push_back(h.name);
  at::Generator gen = stream_generator(seed_, "probe");
  probe_ = std::make_unique<metrics::Probe>(
      task_.sample(settings_.probe_trials, gen).to(device_),
      std::min(settings_.kernel_trials, settings_.probe_trials));
  test_ = std::make_unique<metrics::EvaluationSet>(task_, seed_, settings_.test_trials, device_);
}

metrics::HookContext Trainer::context() {
  return metrics::HookContext{model_, task_, device_, *probe_, *test_};
}

double Trainer::accuracy_of(const torch::Tensor& logits, const tasks::TrialBatch& batch) const {
  if (task_.loss() != tasks::LossKind::cross_entropy) return std::nan("");
  return tasks::decision_accuracy(logits, batch.targets, task_.decision());
}

std::pair<double, double> Trainer::train_step(const tasks::TrialBatch& batch) {
  model_.train();
  const models::ModelOutput out = model_.forward(batch.inputs);
  const torch::Tensor loss = tasks::task_loss(task_.loss(), out.logits, batch);
  const double loss_value = loss.item<double>();
  const double accuracy = accuracy_of(out.logits.detach(), batch);
  if (!std::isfinite(loss_value)) return {loss_value, accuracy};
  optimizer_->zero_grad();
  loss.backward();
  optimizer_->step();
  return {loss_value, accuracy};
}

void Trainer::log_row(int64_t step, double loss, double accuracy) {
  const auto t0 = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  const metrics::StepInfo info{step, settings_.iterations, loss, accuracy};
  const metrics::HookContext ctx = context();
  std::vector<double> row;
  row.reserve(hooks_.size());
  for (auto& h : hooks_) row.push_back(h.hook->on_step(info, ctx));
  log_.steps.push_back(step);
  log_.rows.push_back(std::move(row));
  hook_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TrainOutcome Trainer::run(const ProgressFn& on_progress, const RowFn& on_row) {
  const auto t0 = std::chrono::steady_clock::now();
  TrainOutcome outcome;
  {
    torch::NoGradGuard no_grad;
    const metrics::HookContext ctx = context();
    for (auto& h : hooks_) h.hook->on_train_begin(ctx);
  }
  std::vector<metrics::MetricHook*> every_update;  // hooks on their own schedule
  for (auto& h : hooks_) {
    if (h.hook->iteration_every() > 0) every_update.push_back(h.hook.get());
  }
  at::Generator gen = stream_generator(seed_, "train");
  double loss_sum = 0, acc_sum = 0;
  int64_t count = 0;
  for (int64_t it = 0; it < settings_.iterations; ++it) {
    const tasks::TrialBatch batch = task_.sample(settings_.batch_size, gen).to(device_);
    if (it == 0) {
      // Step 0 is scored on the first batch before the first update; the hooks see the
      // initial network, and the update below uses the same forward pass's batch.
      torch::NoGradGuard no_grad;
      const models::ModelOutput out = model_.forward(batch.inputs);
      const double loss0 = tasks::task_loss(task_.loss(), out.logits, batch).item<double>();
      log_row(0, loss0, accuracy_of(out.logits, batch));
      if (on_row) on_row(log_);
    }
    const auto [loss, acc] = train_step(batch);
    loss_sum += loss;
    acc_sum += acc;
    ++count;
    if (!std::isfinite(loss)) {
      outcome.status = "diverged";
      outcome.reason = fmt::format("the training loss became {} at step {}", loss, it);
      outcome.steps_done = it;
      if (it > 0) {  // step 0 already has its row
        log_row(it, loss_sum / count, acc_sum / count);
        if (on_row) on_row(log_);
      }
      break;
    }
    const int64_t step = it + 1;
    outcome.steps_done = step;
    if (!every_update.empty()) {
      const auto h0 = std::chrono::steady_clock::now();
      torch::NoGradGuard no_grad;
      const metrics::HookContext ctx = context();
      for (auto* h : every_update) {
        if (step % h->iteration_every() == 0) h->on_iteration(step, ctx);
      }
      hook_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - h0).count();
    }
    if (step % settings_.log_every == 0 || step == settings_.iterations) {
      log_row(step, loss_sum / count, acc_sum / count);
      loss_sum = acc_sum = 0;
      count = 0;
      if (on_row) on_row(log_);
    }
    if (on_progress) on_progress(step, loss);
  }
  outcome.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  outcome.hook_seconds = hook_seconds_;
  return outcome;
}

}  // namespace richlazy::train
