// tests/tasks/teacher_student_test.cpp: the linear teacher-student task and linear2.
#include "task_test_util.h"

#include <richlazy/core/seeding.h>
#include <richlazy/models/linear2.h>
#include <richlazy/tasks/scoring.h>
#include <richlazy/tasks/teacher_student.h>

using namespace richlazy;
using namespace richlazy::testing;

namespace {
const tasks::TeacherStudent& as_ts(const tasks::Task& t) {
  return dynamic_cast<const tasks::TeacherStudent&>(t);
}
}  // namespace

TEST_CASE("teacher-student targets are w*^T F x exactly without noise", "[tasks]") {
  const auto task = make_task("{name: teacher_student, dim: 20, kappa: 4}");
  const auto& ts = as_ts(*task);
  REQUIRE(ts.teacher().norm().item<double>() == Approx(1.0).epsilon(1e-14));
  REQUIRE(torch::allclose(ts.beta(), torch::matmul(ts.features().t(), ts.teacher()), 0, 1e-14));
  at::Generator gen = make_generator(51);
  const tasks::TrialBatch b = task->sample(500, gen);
  REQUIRE(b.inputs.sizes() == torch::IntArrayRef({1, 500, 20}));
  REQUIRE(b.targets.sizes() == torch::IntArrayRef({1, 500, 1}));
  const torch::Tensor clean = b.trial_vars.at("clean_target");
  REQUIRE(torch::equal(b.targets.reshape({-1}), clean.to(torch::kFloat)));
  // w*^T F x from the float32 inputs, to float32 rounding.
  const torch::Tensor x = b.inputs[0].to(torch::kDouble);
  const torch::Tensor wfx = torch::matmul(torch::matmul(x, ts.features().t()), ts.teacher());
  REQUIRE(testing::max_abs_diff(wfx, clean) < 1e-5);
  REQUIRE(task->loss() == tasks::LossKind::mean_squared_error);
}

TEST_CASE("teacher-student features have condition number kappa", "[tasks]") {
  for (double kappa : {1.0, 3.0, 10.0}) {
    const auto task = make_task("{name: teacher_student, dim: 30, kappa: " + std::to_string(kappa) + "}");
    const torch::Tensor s = torch::linalg_svdvals(as_ts(*task).features());
    REQUIRE((s.max() / s.min()).item<double>() == Approx(kappa).epsilon(1e-10));
    // Half of the singular values are kappa, the other half 1.
    REQUIRE(s.sub(kappa).abs().lt(1e-10).sum().item<int64_t>() == (kappa == 1.0 ? 30 : 15));
  }
}

TEST_CASE("teacher-student noise, fixed training sets and teacher seeds", "[tasks]") {
  const auto noisy = make_task("{name: teacher_student, noise: 0.5}");
  at::Generator gen = make_generator(52);
  const tasks::TrialBatch b = noisy->sample(20000, gen);
  const torch::Tensor residual = b.targets.reshape({-1}).to(torch::kDouble) - b.trial_vars.at("clean_target");
  REQUIRE(within_5se(residual.std().item<double>(), 0.5, 0.5 / std::sqrt(2.0 * 20000)));

  const auto fixed = make_task("{name: teacher_student, train_size: 10}");
  at::Generator g1 = make_generator(1), g2 = make_generator(2);
  const auto whole1 = fixed->sample(32, g1), whole2 = fixed->sample(10, g2);
  REQUIRE(whole1.size() == 10);  // batch >= the set: the whole set, full-batch descent
  REQUIRE(torch::equal(whole1.inputs, whole2.inputs));
  const auto part = fixed->sample(4, g1);
  for (int64_t j = 0; j < 4; ++j) {
    const int64_t i = part.trial_vars.at("index")[j].item<int64_t>();
    REQUIRE(torch::equal(part.inputs[0][j], whole1.inputs[0][i]));
  }
  const auto other = make_task("{name: teacher_student, teacher_seed: 1}");
  REQUIRE_FALSE(torch::equal(as_ts(*other).teacher(), as_ts(*make_task("{name: teacher_student}")).teacher()));
}

TEST_CASE("linear2 computes w_2^T W_1 x and learns the teacher", "[models]") {
  models::Linear2 net(3, 2, 1);
  {
    torch::NoGradGuard g;
    net.weight("W_1").copy_(torch::tensor({1.0f, 0.0f, 2.0f, 0.0f, -1.0f, 1.0f}).reshape({1, 2, 3}));
    net.weight("w_2").copy_(torch::tensor({3.0f, 0.5f}).reshape({1, 1, 2}));
  }
  // x = (1, 2, 3): W_1 x = (7, 1); w_2 . (7, 1) = 21.5.
  const auto out = net.forward(torch::tensor({1.0f, 2.0f, 3.0f}).reshape({1, 1, 1, 3}));
  REQUIRE(out.hidden.flatten()[0].item<float>() == 7.0f);
  REQUIRE(out.logits.item<float>() == 21.5f);

  const auto task = make_task("{name: teacher_student, dim: 10}");
  models::Linear2 student(10, 20, 1);
  at::Generator init = make_generator(7);
  {
    torch::NoGradGuard g;
    student.weight("W_1").copy_(torch::randn({1, 20, 10}, init, torch::kFloat) * 0.1);
    student.weight("w_2").copy_(torch::randn({1, 1, 20}, init, torch::kFloat) * 0.1);
  }
  torch::optim::SGD opt(student.parameters(), torch::optim::SGDOptions(0.05));
  at::Generator gen = make_generator(8);
  double first = 0, last = 0;
  for (int i = 0; i < 1500; ++i) {
    const auto batch = tasks::stack_members({task->sample(64, gen)});
    const torch::Tensor loss = tasks::task_loss(task->loss(), student.forward(batch.inputs).logits, batch).sum();
    if (i == 0) first = loss.item<double>();
    last = loss.item<double>();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  REQUIRE(first > 0.5);  // E[y^2] = |beta|^2 = 1 for kappa = 1
  REQUIRE(last < 1e-4);
}
