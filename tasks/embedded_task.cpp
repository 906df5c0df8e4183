// tasks/embedded_task.cpp: a task of a sequence in the network's shared input space.
#include <richlazy/tasks/embedded_task.h>

#include <torch/torch.h>

namespace richlazy::tasks {

EmbeddedTask::EmbeddedTask(std::shared_ptr<const Task> task, std::string label, int64_t input_offset,
                           int64_t total_inputs, std::vector<std::string> channel_names)
    : task_(std::move(task)),
      label_(std::move(label)),
      input_offset_(input_offset),
      total_inputs_(total_inputs),
      channel_names_(std::move(channel_names)) {
  if (input_offset_ < 0 || input_offset_ + task_->input_size() > total_inputs_ ||
      static_cast<int64_t>(channel_names_.size()) != total_inputs_) {
    throw std::logic_error("EmbeddedTask: its channels do not fit the network's inputs");
  }
}

TrialBatch EmbeddedTask::embed(TrialBatch batch) const {
  if (total_inputs_ == task_->input_size()) return batch;
  std::vector<int64_t> shape = batch.inputs.sizes().vec();
  shape.back() = total_inputs_;
  torch::Tensor inputs = torch::zeros(shape, batch.inputs.options());
  inputs.narrow(-1, input_offset_, task_->input_size()).copy_(batch.inputs);
  batch.inputs = std::move(inputs);
  return batch;
}

TrialBatch EmbeddedTask::sample(int64_t batch, at::Generator& gen) const { return embed(task_->sample(batch, gen)); }

TrialBatch EmbeddedTask::sample_members(int64_t batch, const std::vector<at::Generator*>& gens) const {
  return embed(task_->sample_members(batch, gens));
}

std::optional<TrialBatch> EmbeddedTask::held_out() const {
  std::optional<TrialBatch> set = task_->held_out();
  if (set) set = embed(std::move(*set));
  return set;
}

}  // namespace richlazy::tasks
