// richlazy/tasks/teacher_student.h: the linear teacher-student regression of PAPER.md §7.
// Whitened Gaussian inputs x ~ N(0, I_d); features z = F x where F has random orthogonal
// singular vectors and singular values kappa (top half) and 1 (bottom half); a random unit
// teacher w*; targets y = w*^T F x (+ optional label noise), i.e. y = beta^T x with
// beta = F^T w*. Mean squared error. The teacher (F, w*) and a fixed training set, if any,
// come from `teacher_seed`, so sweeps over the network's initialization share the task.
#pragma once

#include <richlazy/tasks/task.h>

namespace richlazy::tasks {

struct TeacherStudentOptions {
  int64_t dim = 50;           ///< input dimension d
  double kappa = 1.0;         ///< condition number of F (1 = isotropic)
  double noise = 0.0;         ///< std of the label noise
  int64_t train_size = 0;     ///< 0: fresh samples every batch; n: a fixed set of n samples
  uint64_t teacher_seed = 0;  ///< seed of F, w* and the fixed training set
};

class TeacherStudent final : public Task {
 public:
  explicit TeacherStudent(const TeacherStudentOptions& options);

  std::string name() const override { return "teacher_student"; }
  int64_t input_size() const override { return options_.dim; }
  int64_t output_size() const override { return 1; }
  int64_t steps() const override { return 1; }
  double dt_ms() const override { return 100; }
  DecisionWindow decision() const override { return {0, 1}; }
  std::vector<std::string> input_names() const override;
  std::vector<std::string> output_names() const override { return {"y"}; }
  /// inputs [1, B, d]; targets [1, B, 1] = beta^T x + noise. With a fixed training set a
  /// batch at least as large as the set is the whole set (full-batch gradient descent),
  /// otherwise trials are drawn from it uniformly with replacement.
  TrialBatch sample(int64_t batch, at::Generator& gen) const override;
  LossKind loss() const override { return LossKind::mean_squared_error; }
  std::optional<LinearTeacher> linear_teacher() const override {
    return LinearTeacher{features_, teacher_, beta_};
  }
  /// Fresh N(0, I) inputs in every batch and probe; not with a fixed training set, whose
  /// probe trials are its own samples.
  bool whitened_gaussian_inputs() const override { return options_.train_size == 0; }

  const torch::Tensor& features() const { return features_; }  ///< F [d, d], float64
  const torch::Tensor& teacher() const { return teacher_; }    ///< w* [d], unit norm
  const torch::Tensor& beta() const { return beta_; }          ///< F^T w* [d]

 private:
  TrialBatch make_batch(const torch::Tensor& x, const torch::Tensor& noise) const;

  TeacherStudentOptions options_;
  torch::Tensor features_, teacher_, beta_;
  torch::Tensor train_x_, train_noise_;
};

/// Registers "teacher_student".
void register_teacher_student(TaskRegistry& registry);

}  // namespace richlazy::tasks
