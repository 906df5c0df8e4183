// tasks/teacher_student.cpp: linear teacher-student regression.
#include <richlazy/tasks/teacher_student.h>

#include <richlazy/core/limits.h>
#include <richlazy/core/random_matrix.h>
#include <richlazy/core/seeding.h>

#include <fmt/format.h>
#include <torch/torch.h>

namespace richlazy::tasks {

TeacherStudent::TeacherStudent(const TeacherStudentOptions& o) : options_(o) {
  at::Generator gen = stream_generator(o.teacher_seed, "teacher");
  const int64_t d = o.dim;
  const torch::Tensor u = random_orthogonal(d, gen), v = random_orthogonal(d, gen);
  torch::Tensor s = torch::ones({d}, torch::kDouble);
  s.slice(0, 0, d / 2).fill_(o.kappa);
  features_ = torch::matmul(u * s.unsqueeze(0), v.t());
  const torch::Tensor w = torch::randn({d}, gen, torch::kDouble);
  teacher_ = w / w.norm();
  beta_ = torch::matmul(features_.t(), teacher_);
  if (o.train_size > 0) {
    at::Generator data = stream_generator(o.teacher_seed, "teacher/train_set");
    train_x_ = torch::randn({o.train_size, d}, data, torch::kDouble);
    train_noise_ = torch::randn({o.train_size}, data, torch::kDouble) * o.noise;
  }
}

std::vector<std::string> TeacherStudent::input_names() const {
  std::vector<std::string> names;
  for (int64_t i = 0; i < options_.dim; ++i) names.push_back("x" + std::to_string(i));
  return names;
}

TrialBatch TeacherStudent::make_batch(const torch::Tensor& x, const torch::Tensor& noise) const {
  const int64_t B = x.size(0);
  const torch::Tensor clean = torch::matmul(x, beta_);  // w*^T F x
  TrialBatch out;
  out.inputs = x.to(torch::kFloat).unsqueeze(0);
  out.targets = (clean + noise).to(torch::kFloat).reshape({1, B, 1});
  out.mask = torch::ones({1, B});
  out.trial_vars = {{"clean_target", clean}};
  return out;
}

TrialBatch TeacherStudent::sample(int64_t batch, at::Generator& gen) const {
  if (options_.train_size == 0) {
    const torch::Tensor x = torch::randn({batch, options_.dim}, gen, torch::kDouble);
    return make_batch(x, torch::randn({batch}, gen, torch::kDouble) * options_.noise);
  }
  const torch::Tensor idx = batch >= options_.train_size
                                ? torch::arange(options_.train_size, torch::kLong)
                                : torch::randint(0, options_.train_size, {batch}, gen, torch::kLong);
  TrialBatch out = make_batch(train_x_.index_select(0, idx), train_noise_.index_select(0, idx));
  out.trial_vars["index"] = idx;
  return out;
}

void register_teacher_student(TaskRegistry& registry) {
  registry.add(
      {"teacher_student",
       "linear teacher-student regression (PAPER.md section 7): y = w*^T F x, x ~ N(0, I_d), F "
       "with condition number kappa; mean squared error",
       {{"dim", "50", "input dimension d, >= 2"},
        {"kappa", "1.0", "condition number of F: singular values kappa (top half) and 1"},
        {"noise", "0.0", "standard deviation of the label noise"},
        {"train_size", "0", "0: fresh samples every batch; n: a fixed training set of n samples"},
        {"teacher_seed", "0", "seed of F, w* and the fixed training set"}},
       [](Params& p) -> std::unique_ptr<Task> {
         TeacherStudentOptions o;
         o.dim = p.get_int("dim", 2, 10000);  // its QR takes minutes beyond
         o.kappa = p.get_double("kappa", 1.0);
         o.noise = p.get_double("noise", 0.0);
         o.train_size = p.get_int("train_size", 0, 100000000);
         o.teacher_seed = static_cast<uint64_t>(p.get_int("teacher_seed", 0));
         // The teacher's F is d x d and a fixed training set n x d, both float64.
         const double d = static_cast<double>(o.dim);
         const std::string shortfall =
             memory_shortfall(8.0 * (d * d + static_cast<double>(o.train_size) * (d + 1)));
         if (!shortfall.empty()) {
           p.fail_bare(o.train_size > 0 ? "train_size" : "dim",
                       fmt::format("(dim {}, train_size {}) {}", o.dim, o.train_size, shortfall));
         }
         return std::make_unique<TeacherStudent>(o);
       }});
}

}  // namespace richlazy::tasks
