// metrics/probe.cpp: probe trials and their cached hidden states.
#include <richlazy/metrics/probe.h>

#include <richlazy/tasks/member_streams.h>
#include <richlazy/tasks/scoring.h>

#include <torch/torch.h>

#include <stdexcept>

namespace richlazy::metrics {

tasks::TrialBatch draw_member_trials(const tasks::Task& task, const std::vector<uint64_t>& seeds,
                                     const std::string& stream, int64_t trials, torch::Device device) {
  return tasks::MemberStreams(seeds, stream).draw(task, trials).to(device);
}

Probe::Probe(tasks::TrialBatch trials, int64_t kernel_trials)
    : trials_(std::move(trials)), kernel_trials_(kernel_trials) {
  // The steps each member's probe trials score ([T, E]); a pack's kernels share their rows,
  // so every member must score the same steps, as every built-in task does.
  const torch::Tensor scored = trials_.mask.gt(0).any(2).to(torch::kCPU);
  if (!scored.eq(scored.select(1, 0).unsqueeze(1)).all().item<bool>()) {
    throw std::runtime_error(
        "the networks of this pack score different steps of their probe trials (the task scores "
        "different steps in different trials), so their tangent kernels cannot share rows; train "
        "them with --pack 1");
  }
  for (int64_t t = 0; t < scored.size(0); ++t) {
    if (scored[t][0].item<bool>()) kernel_steps_.push_back(t);
  }
}

torch::Tensor Probe::kernel_inputs() const { return trials_.inputs.slice(2, 0, kernel_trials_); }

const torch::Tensor& Probe::hidden(models::Model& model, int64_t step) {
  if (step != cached_step_ || !hidden_.defined()) {
    torch::NoGradGuard no_grad;
    hidden_ = model.forward(trials_.inputs).hidden;
    cached_step_ = step;
  }
  return hidden_;
}

EvaluationSet::EvaluationSet(const tasks::Task& task, std::vector<uint64_t> seeds, int64_t trials,
                             torch::Device device, std::string stream)
    : task_(task), seeds_(std::move(seeds)), trials_(trials), device_(device), stream_(std::move(stream)) {}

const std::pair<torch::Tensor, torch::Tensor>& EvaluationSet::scores(models::Model& model, int64_t step) {
  if (!set_) {
    std::optional<tasks::TrialBatch> held_out = task_.held_out();
    if (held_out) {
      set_ = tasks::shared_by_members(held_out->to(device_), static_cast<int64_t>(seeds_.size()));
    } else {
      set_ = draw_member_trials(task_, seeds_, stream_, trials_, device_);
    }
  }
  if (step != cached_step_) {
    cached_ = tasks::evaluate(
        task_, [&](const torch::Tensor& x) { return model.forward(x).logits; }, *set_);
    cached_step_ = step;
  }
  return cached_;
}

}  // namespace richlazy::metrics
