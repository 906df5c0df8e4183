// tasks/builtin.cpp: the tasks that ship with richlazy, and TrialBatch helpers.
#include <richlazy/tasks/perceptual_decision.h>
#include <richlazy/tasks/task.h>

namespace richlazy::tasks {

TrialBatch TrialBatch::to(const torch::Device& device) const {
  return {inputs.to(device), targets.to(device), mask.to(device)};
}

void register_builtin_tasks(TaskRegistry& registry) { register_perceptual_decision(registry); }

}  // namespace richlazy::tasks
