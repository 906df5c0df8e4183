// tasks/builtin.cpp: the tasks that ship with richlazy, and TrialBatch helpers.
#include <richlazy/tasks/context_decision.h>
#include <richlazy/tasks/delay_match_sample.h>
#include <richlazy/tasks/perceptual_decision.h>
#include <richlazy/tasks/sequential_images.h>
#include <richlazy/tasks/task.h>
#include <richlazy/tasks/teacher_student.h>

#include <torch/torch.h>

#include <cmath>

namespace richlazy::tasks {

TrialBatch TrialBatch::to(const torch::Device& device) const {
  return {inputs.to(device), targets.to(device), mask.to(device), trial_vars};
}

TrialBatch TrialBatch::slice(int64_t begin, int64_t end) const {
  TrialBatch out{inputs.slice(1, begin, end), targets.slice(1, begin, end),
                 mask.slice(1, begin, end), {}};
  for (const auto& [name, v] : trial_vars) out.trial_vars[name] = v.slice(0, begin, end);
  return out;
}

TrialBatch Task::sample_members(int64_t batch, const std::vector<at::Generator*>& gens) const {
  std::vector<TrialBatch> batches;
  for (at::Generator* gen : gens) batches.push_back(sample(batch, *gen));
  return stack_members(batches);
}

TrialBatch stack_members(const std::vector<TrialBatch>& batches) {
  std::vector<torch::Tensor> inputs, targets, mask;
  for (const auto& b : batches) {
    inputs.push_back(b.inputs);
    targets.push_back(b.targets);
    mask.push_back(b.mask);
  }
  return {torch::stack(inputs, 1), torch::stack(targets, 1), torch::stack(mask, 1), {}};
}

TrialBatch member_trials(const TrialBatch& m, int64_t begin, int64_t end) {
  return {m.inputs.slice(2, begin, end), m.targets.slice(2, begin, end), m.mask.slice(2, begin, end), {}};
}

TrialBatch shared_by_members(const TrialBatch& b, int64_t members) {
  auto expand = [members](const torch::Tensor& t) {
    std::vector<int64_t> shape = t.sizes().vec();
    shape.insert(shape.begin() + 1, members);
    return t.unsqueeze(1).expand(shape);
  };
  return {expand(b.inputs), expand(b.targets), expand(b.mask), {}};
}

double noise_std(double sigma, double dt_ms) { return sigma / std::sqrt(dt_ms); }

void register_builtin_tasks(TaskRegistry& registry) {
  register_perceptual_decision(registry);
  register_delay_match_sample(registry);
  register_context_decision(registry);
  register_sequential_images(registry);
  register_teacher_student(registry);
}

}  // namespace richlazy::tasks
