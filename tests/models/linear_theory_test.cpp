// tests/models/linear_theory_test.cpp: the linear theory's tools (PAPER.md section 7):
// linear2's exact population tangent kernel, the kernel metrics on it, the initial scales
// and balance of linear2, and the report's x axis for multi-factor sweeps.
#include "../run_compare.h"
#include "../test_common.h"

#include <richlazy/core/npy.h>
#include <richlazy/core/seeding.h>
#include <richlazy/metrics/laziness.h>
#include <richlazy/models/linear2.h>
#include <richlazy/report/experiment_data.h>
#include <richlazy/tasks/teacher_student.h>
#include <richlazy/train/experiment.h>

#include <yaml-cpp/yaml.h>

#include <cmath>

using namespace richlazy;
using Catch::Matchers::Contains;

namespace {
/// A linear2 pack with Gaussian weights drawn from `seed`.
models::Linear2 random_linear2(int64_t d, int64_t h, int64_t outputs, int64_t members, uint64_t seed) {
  models::Linear2 net(d, h, outputs, members);
  at::Generator gen = make_generator(seed);
  torch::NoGradGuard g;
  net.weight("W_1").copy_(torch::randn({members, h, d}, gen, torch::kFloat) * 0.4);
  net.weight("w_2").copy_(torch::randn({members, outputs, h}, gen, torch::kFloat) * 0.6);
  return net;
}

double value_of(const train::RunResult& run, const std::string& column) {
  for (std::size_t i = 0; i < run.columns.size(); ++i) {
    if (run.columns[i] == column) return run.final_values[i];
  }
  FAIL("no column " << column);
  return 0;
}
}  // namespace

TEST_CASE("linear2's population kernel is |w_2|^2 I + W_1^T W_1 and the sampled kernel is X M X^T", "[models][metrics]") {
  const int64_t d = 5, h = 7, E = 2;
  models::Linear2 net = random_linear2(d, h, 1, E, 3);
  const torch::Tensor w1 = net.weight("W_1").detach().to(torch::kDouble), w2 = net.weight("w_2").detach().to(torch::kDouble);
  const torch::Tensor m1 = *net.population_kernel("W_1"), m2 = *net.population_kernel("w_2");
  REQUIRE(m1.sizes() == torch::IntArrayRef({E, d, d}));
  for (int64_t e = 0; e < E; ++e) {
    REQUIRE(testing::max_abs_diff(m1[e], w2[e].norm().pow(2) * torch::eye(d, torch::kDouble)) < 1e-12);
    REQUIRE(testing::max_abs_diff(m2[e], torch::matmul(w1[e].t(), w1[e])) < 1e-12);
  }
  REQUIRE_FALSE(net.population_kernel("W_rec").has_value());
  // Autograd's kernel of any inputs equals X M X^T for each layer (float32 rounding).
  at::Generator gen = make_generator(4);
  const torch::Tensor x = torch::randn({1, E, 40, d}, gen, torch::kFloat);
  for (const char* param : {"W_1", "w_2"}) {
    const torch::Tensor sampled = metrics::tangent_kernel_bruteforce(net, param, x, {0}).to(torch::kDouble);
    const torch::Tensor m = *net.population_kernel(param);
    for (int64_t e = 0; e < E; ++e) {
      const torch::Tensor xe = x[0][e].to(torch::kDouble);
      const torch::Tensor expected = torch::matmul(torch::matmul(xe, m[e]), xe.t());
      INFO(param);
      REQUIRE(testing::max_abs_diff(sampled[e], expected) < 1e-4 * expected.abs().max().item<double>());
    }
  }
  // Several outputs: rows (output k, input i); K[(b, k), (b', k')] = x_b^T M[(k, .), (k', .)] x_b'.
  models::Linear2 multi = random_linear2(4, 6, 3, 1, 5);
  const torch::Tensor xm = torch::randn({1, 1, 10, 4}, gen, torch::kFloat);
  for (const char* param : {"W_1", "w_2"}) {
    const torch::Tensor sampled = metrics::tangent_kernel_bruteforce(multi, param, xm, {0})[0].to(torch::kDouble);
    const torch::Tensor m = (*multi.population_kernel(param))[0].reshape({3, 4, 3, 4});
    const torch::Tensor xe = xm[0][0].to(torch::kDouble);
    const torch::Tensor expected = torch::einsum("bi,kilj,cj->bkcl", {xe, m, xe}).reshape({30, 30});
    INFO(param);
    REQUIRE(testing::max_abs_diff(sampled, expected) < 1e-4 * expected.abs().max().item<double>());
  }
}

TEST_CASE("the expected initial cosine of W_1^T W_1 with beta beta^T over random teachers is sqrt(PR) / d", "[models][metrics]") {
  // A closed form for PAPER.md section 7's theorem (derived here): beta's direction is uniform on the sphere
  // (F has Haar singular vectors), so E[beta^T A beta / |beta|^2] = tr A / d and the cosine's
  // mean is tr A / (d |A|_F) = sqrt(PR) / d, PR = (sum s^2)^2 / sum s^4, for every kappa.
  const int64_t d = 10, h = 12;
  models::Linear2 net(d, h, 1, 1);
  at::Generator gen = make_generator(11);
  const torch::Tensor u = std::get<0>(torch::linalg_qr(torch::randn({h, h}, gen, torch::kDouble)));
  const torch::Tensor v = std::get<0>(torch::linalg_qr(torch::randn({d, d}, gen, torch::kDouble)));
  const torch::Tensor s = torch::pow(torch::arange(1, d + 1, torch::kDouble), -1.0);  // a decaying spectrum
  {
    torch::NoGradGuard g;
    net.weight("W_1")[0].copy_(torch::matmul(u.slice(1, 0, d) * s, v.t()));
  }
  const double pr = std::pow(s.pow(2).sum().item<double>(), 2) / s.pow(4).sum().item<double>();
  const double predicted = std::sqrt(pr) / static_cast<double>(d);
  const torch::Tensor kernel = metrics::population_kernel(net, {"w_2"});
  for (double kappa : {1.0, 10.0}) {
    const int n = 600;
    std::vector<double> cosines;
    for (int i = 0; i < n; ++i) {
      tasks::TeacherStudentOptions o;
      o.dim = d;
      o.kappa = kappa;
      o.teacher_seed = static_cast<uint64_t>(i);
      const tasks::TeacherStudent task(o);
      cosines.push_back(metrics::kernel_task_alignment(kernel, task.beta().unsqueeze(0), false, true).item<double>());
    }
    const torch::Tensor c = torch::tensor(cosines, torch::kDouble);
    const double mean = c.mean().item<double>(), sem = c.std().item<double>() / std::sqrt(static_cast<double>(n));
    INFO("kappa " << kappa << ": mean " << mean << " +- " << sem << ", predicted " << predicted);
    REQUIRE(std::abs(mean - predicted) < 4 * sem);
    REQUIRE(sem < 0.05 * predicted);  // a test with power to see a wrong formula
    // One teacher, by hand: the Frobenius and the trace normalization of the metric.
    tasks::TeacherStudentOptions o;
    o.dim = d;
    o.kappa = kappa;
    const torch::Tensor beta = tasks::TeacherStudent(o).beta();
    const torch::Tensor a = torch::matmul(net.weight("W_1")[0].detach().to(torch::kDouble).t(),
                                          net.weight("W_1")[0].detach().to(torch::kDouble));
    const double quad = torch::dot(beta, torch::mv(a, beta)).item<double>(), b2 = beta.dot(beta).item<double>();
    REQUIRE(metrics::kernel_task_alignment(kernel, beta.unsqueeze(0), false, true).item<double>() ==
            Approx(quad / (b2 * a.norm().item<double>())).epsilon(1e-12));
    REQUIRE(metrics::kernel_task_alignment(kernel, beta.unsqueeze(0), false, false).item<double>() ==
            Approx(quad / (b2 * a.trace().item<double>())).epsilon(1e-12));
  }
}

TEST_CASE("the sampled kernel metrics converge to the population ones as the kernel trials grow", "[metrics][train]") {
  // The same training (seed, teacher, batches) measured with 12 and 1,500 kernel trials. The
  // sampled cosine's expectation differs from the population one by O(d / n) (E <X A X^T,
  // X B X^T> = n (n + 1) tr AB + n tr A tr B) and its spread is O(1 / sqrt(n)): with d = 4
  // the errors were 1e-6 to 0.006 at n = 1,500 and 6e-6 to 0.044 at n = 12.
  const std::string yaml = R"(experiment: conv
task: {name: teacher_student, dim: 4, kappa: 3}
model: {name: linear2, hidden_size: 6, W_1_norm: 0.2, balanced: true}
train: {iterations: 150, batch_size: 32, optimizer: {name: sgd, lr: 0.05, momentum: 0}}
metrics:
  every: 150
  probe_trials: 1500
  kernel_trials: KT
  names: [loss,
          {name: kernel_alignment, param: [W_1, w_2], population: false, as: ka_sampled},
          {name: kernel_alignment, param: [W_1, w_2], as: ka_population},
          {name: kernel_alignment, param: w_2, population: false, as: ka1_sampled},
          {name: kernel_alignment, param: w_2, population: true, as: ka1_population},
          {name: kernel_task_alignment, param: [W_1, w_2], population: false, as: kta_sampled},
          {name: kernel_task_alignment, param: [W_1, w_2], as: kta_population},
          {name: kernel_task_alignment, param: w_2, normalize: frobenius, population: false, as: ktc_sampled},
          {name: kernel_task_alignment, param: w_2, normalize: frobenius, as: ktc_population}]
)";
  auto error_at = [&](int64_t trials) {
    std::string text = yaml;
    text.replace(text.find("KT"), 2, std::to_string(trials));
    testing::TempDir run_dir;
    const testing::Ran ran = testing::run_config(run_dir, text, "1");
    const train::RunResult& run = ran.result.runs.at(0);
    REQUIRE(run.status == "ok");
    REQUIRE(value_of(run, "ka_population") < 0.999);  // the kernel moved: the comparison means something
    std::vector<double> errors;
    for (const char* m : {"ka", "ka1", "kta", "ktc"}) {
      const double sampled = value_of(run, std::string(m) + "_sampled"), exact = value_of(run, std::string(m) + "_population");
      INFO(m << " at " << trials << " trials: sampled " << sampled << ", population " << exact);
      REQUIRE(std::isfinite(sampled));
      errors.push_back(std::abs(sampled - exact));
    }
    return errors;
  };
  const std::vector<double> few = error_at(12), many = error_at(1500);
  for (std::size_t i = 0; i < few.size(); ++i) {
    INFO("metric " << i << ": error " << few[i] << " at 12 trials, " << many[i] << " at 1,500");
    REQUIRE(many[i] < 0.02);
    REQUIRE(many[i] < few[i]);
  }
}

TEST_CASE("linear2 options W_1_norm and w_2_norm and balanced set the initial scale of each layer", "[models][init]") {
  testing::TempDir tmp;
  const std::string base = R"(experiment: scales
task: {name: teacher_student, dim: 8}
train: {iterations: 1, batch_size: 8}
metrics: {every: 1, probe_trials: 8, kernel_trials: 4, names: [loss]}
)";
  auto initial = [&](const std::string& model, const char* param) {
    testing::TempDir run_dir;
    const testing::Ran ran = testing::run_config(run_dir, base + "model: " + model + "\n", "1");
    return read_npy(ran.plan.dir + "/runs/" + ran.result.runs.at(0).id + "/weights/" + param + "_init.npy")
        .to(torch::kDouble);
  };
  const torch::Tensor w1_plain = initial("{name: linear2, hidden_size: 6}", "W_1");
  const torch::Tensor w2_plain = initial("{name: linear2, hidden_size: 6}", "w_2");
  const std::string balanced = "{name: linear2, hidden_size: 6, W_1_norm: 0.05, balanced: true}";
  const torch::Tensor w1 = initial(balanced, "W_1"), w2 = initial(balanced, "w_2");
  REQUIRE(w1.norm().item<double>() == Approx(0.05).epsilon(1e-6));
  REQUIRE(w2.norm().item<double>() == Approx(0.05).epsilon(1e-6));  // ||w_2|| = ||W_1||_F
  // Rescaled, not redrawn: the directions are the initializers'.
  REQUIRE(metrics::frobenius_cosine(w1, w1_plain) == Approx(1.0).epsilon(1e-6));
  REQUIRE(metrics::frobenius_cosine(w2, w2_plain) == Approx(1.0).epsilon(1e-6));
  const torch::Tensor w2_set = initial("{name: linear2, hidden_size: 6, w_2_norm: 0.3}", "w_2");
  REQUIRE(w2_set.norm().item<double>() == Approx(0.3).epsilon(1e-6));
  // A rank-1 W_1 with balanced: ||w_2||^2 = ||W_1||_F^2 = tr W_1 W_1^T.
  {
    testing::TempDir run_dir;
    const testing::Ran ran = testing::run_config(
        run_dir, base + "model: {name: linear2, hidden_size: 6, W_1_norm: 0.2, balanced: true}\n"
                        "init: {W_1: {name: teacher_aligned}}\n", "1");
    const auto& init = ran.result.runs.at(0).init;
    REQUIRE(init.size() == 2);
    REQUIRE(init[0].param == "W_1");
    REQUIRE(init[0].rank == 1);
    REQUIRE(init[0].frobenius_norm == Approx(0.2).epsilon(1e-6));
    REQUIRE(init[1].frobenius_norm == Approx(0.2).epsilon(1e-6));
    REQUIRE_THAT(init[0].spec, Contains("model.W_1_norm: 0.2"));
    REQUIRE_THAT(init[1].spec, Contains("model.balanced: true"));
  }
  // Bad values name the key.
  auto error_of = [&](const std::string& model) {
    testing::TempDir run_dir;
    return testing::config_error_of([&] { testing::run_config(run_dir, base + "model: " + model + "\n", "1"); });
  };
  REQUIRE_THAT(error_of("{name: linear2, balanced: true, w_2_norm: 0.1}"),
               Contains("model.w_2_norm cannot be set with balanced: true"));
  REQUIRE_THAT(error_of("{name: linear2, W_1_norm: 0}"), Contains("model.W_1_norm must be a number > 0"));
  REQUIRE_THAT(error_of("{name: linear2, W_1_norm: -1}"), Contains("exp.yaml:"));
}

TEST_CASE("population kernels are refused where no closed form exists and report.x and report.metrics lay out the report", "[metrics][report]") {
  testing::TempDir tmp;
  const std::string ctrnn = R"(experiment: pop
model: {hidden_size: 8}
train: {iterations: 2}
metrics: {every: 1, probe_trials: 4, kernel_trials: 2, names: [{name: kernel_alignment, population: true}]}
)";
  const std::string error = testing::config_error_of([&] { testing::run_config(tmp, ctrnn, "1"); });
  REQUIRE_THAT(error, Contains("population needs a model with a closed-form population kernel (linear2)"));
  REQUIRE_THAT(error, Contains("exp.yaml:4:"));

  const std::string sweep = R"(experiment: axes
task: {name: teacher_student, dim: 4}
model: {name: linear2, hidden_size: 4}
train: {iterations: 2, batch_size: 4}
metrics: {every: 1, probe_trials: 4, kernel_trials: 2, names: [loss, kernel_alignment_both_placeholder]}
sweep:
  init.W_1: [{name: gaussian}, {name: low_rank, rank: 1}]
  task.kappa: [1, 2]
  task.teacher_seed: [0, 1]
REPORT)";
  auto config = [&](const std::string& report) {
    std::string text = sweep;
    text.replace(text.find("kernel_alignment_both_placeholder"), 33, "{name: kernel_alignment, param: [W_1, w_2]}");
    text.replace(text.find("REPORT"), 6, report);
    return text;
  };
  {
    testing::TempDir run_dir;
    const testing::Ran ran = testing::run_config(run_dir, config("report: {x: task.kappa, metrics: [loss]}\n"), "1");
    const report::ExperimentData data = report::load_experiment(ran.plan.dir);
    REQUIRE(data.x_key == "task.kappa");
    REQUIRE(data.report_metrics == std::vector<std::string>{"loss"});
    REQUIRE(data.series_keys == std::vector<std::string>{"init.W_1"});
    REQUIRE(data.seed_keys == std::vector<std::string>{"task.teacher_seed"});
    REQUIRE(data.groups.size() == 4);  // 2 kappas x 2 inits, each over 2 teachers
    for (const auto& g : data.groups) REQUIRE(g.runs.size() == 2);
    REQUIRE(data.model_name == "linear2");
    REQUIRE(data.task_name == "teacher_student");
  }
  {
    testing::TempDir run_dir;
    const testing::Ran ran = testing::run_config(run_dir, config(""), "1");
    REQUIRE(report::load_experiment(ran.plan.dir).x_key == "init.W_1");  // the default
  }
  testing::TempDir bad;
  REQUIRE_THAT(testing::config_error_of([&] { testing::run_config(bad, config("report: {x: task.dim}\n"), "1"); }),
               Contains("report.x must be a key of sweep: (init.W_1, task.kappa, task.teacher_seed)"));
  REQUIRE_THAT(testing::config_error_of([&] { testing::run_config(bad, config("report: {x: task.teacher_seed}\n"), "1"); }),
               Contains("report.x must not be a seed key"));
  REQUIRE_THAT(testing::config_error_of([&] { testing::run_config(bad, config("report: {y: 1}\n"), "1"); }),
               Contains("report.y"));
  REQUIRE_THAT(testing::config_error_of([&] { testing::run_config(bad, config("report: {metrics: [loss, dw_W1]}\n"), "1"); }),
               Contains("report.metrics must name logged metrics (loss, kernel_alignment); 'dw_W1' is not one"));
  // The report's layout is not swept, and a pilot stage (which sweeps fewer keys) ignores it.
  REQUIRE_THAT(testing::config_error_of([&] {
                 std::string text = config("");
                 text.replace(text.find("  task.teacher_seed"), 0, "  report.x: [task.kappa]\n");
                 testing::run_config(bad, text, "1");
               }),
               Contains("sweep.report.x cannot be swept"));
  {
    testing::TempDir run_dir;
    const std::string with_pilot = config("report: {x: task.kappa}\npilot: {set: {model.hidden_size: 3}}\n");
    const testing::Ran ran = testing::run_config(run_dir, with_pilot, "1");
    REQUIRE(ran.result.runs.size() == 8);
  }
  // A folder keeps the layout it was made with: another report section is a difference that
  // --resume refuses (richlazy report --x and --metrics redraw it instead).
  const std::vector<std::string> d =
      train::config_differences(YAML::Load("report: {x: task.kappa}"), YAML::Load("report: {x: init.W_1}"));
  REQUIRE(d == std::vector<std::string>{"report.x: was task.kappa, now init.W_1"});
  {
    testing::TempDir run_dir;
    const testing::Ran ran = testing::run_config(run_dir, config("report: {x: task.kappa}\n"), "1");
    REQUIRE(report::load_experiment(ran.plan.dir, "init.W_1").x_key == "init.W_1");  // richlazy report --x
    REQUIRE_THROWS_WITH(report::load_experiment(ran.plan.dir, "task.teacher_seed"),
                        Contains("--x: 'task.teacher_seed' is not a swept key of") &&
                            Contains("that is not a seed (init.W_1, task.kappa)"));
  }
}
