// richlazy/tasks/embedded_task.h: one task of a sequence (train.phases) in the network's shared
// input space. A sequence's tasks share one network: each task has its own input channels
// (channels [offset, offset + n) of the network's inputs, zero while another task runs) and
// its own readout head (a range of the network's outputs, chosen by the trainer with
// Model::select_outputs). An EmbeddedTask draws the trials of its task and places their
// inputs in its channels; its outputs are the task's own, read from its head.
#pragma once

#include <richlazy/tasks/task.h>

#include <memory>
#include <string>

namespace richlazy::tasks {

class EmbeddedTask final : public Task {
 public:
  /// `task` with its inputs at channels [input_offset, input_offset + task->input_size()) of
  /// `total_inputs`; `channel_names` names all of them (for tables).
  EmbeddedTask(std::shared_ptr<const Task> task, std::string label, int64_t input_offset, int64_t total_inputs,
               std::vector<std::string> channel_names);

  /// The sequence's label of the task (e.g. "2AF"): the suffix of its metric columns.
  std::string name() const override { return label_; }
  int64_t input_size() const override { return total_inputs_; }
  int64_t output_size() const override { return task_->output_size(); }
  int64_t steps() const override { return task_->steps(); }
  double dt_ms() const override { return task_->dt_ms(); }
  DecisionWindow decision() const override { return task_->decision(); }
  std::vector<std::string> input_names() const override { return channel_names_; }
  std::vector<std::string> output_names() const override { return task_->output_names(); }
  TrialBatch sample(int64_t batch, at::Generator& gen) const override;
  TrialBatch sample_members(int64_t batch, const std::vector<at::Generator*>& gens) const override;
  LossKind loss() const override { return task_->loss(); }
  int64_t default_batch_size() const override { return task_->default_batch_size(); }
  std::optional<TrialBatch> held_out() const override;

  const Task& inner() const { return *task_; }
  int64_t input_offset() const { return input_offset_; }

 private:
  /// inputs [..., n] -> [..., total] with the task's channels in place.
  TrialBatch embed(TrialBatch batch) const;

  std::shared_ptr<const Task> task_;
  std::string label_;
  int64_t input_offset_, total_inputs_;
  std::vector<std::string> channel_names_;
};

}  // namespace richlazy::tasks
