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

double noise_std(double sigma, double dt_ms) { return sigma / std::sqrt(dt_ms); }

void register_builtin_tasks(TaskRegistry& registry) {
  register_perceptual_decision(registry);
  register_delay_match_sample(registry);
  register_context_decision(registry);
  register_sequential_images(registry);
  register_teacher_student(registry);
}

}  // namespace richlazy::tasks
