// tests/models/dale_noise_test.cpp: Dale's law in training (W = |V| D) and recurrent noise.
// The reflection the trainer applies is the |V| D parametrization exactly, the fast tangent
// kernel is the kernel with respect to V, no weight changes sign in 10,000 updates (while an
// unconstrained run's do), the E/I initialization has its signs, balance and radius; the noisy
// fused pass equals the noisy reference and the noise comes from its own stream.
#include "../run_compare.h"
#include "../test_common.h"

#include <richlazy/core/npy.h>
#include <richlazy/metrics/laziness.h>
#include <richlazy/models/ctrnn.h>

#include <cmath>
#include <filesystem>

using namespace richlazy;
using namespace richlazy::models;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
torch::Tensor column_signs(int64_t N, int64_t inhibitory) {
  torch::Tensor d = torch::ones({N}, torch::kDouble);
  d.slice(0, N - inhibitory).fill_(-1.0);
  return d;
}

torch::Tensor run_weight(const testing::Ran& ran, std::size_t run, const std::string& file) {
  return read_npy(ran.plan.dir + "/runs/" + ran.plan.runs.at(run).id + "/weights/" + file + ".npy");
}
}  // namespace

TEST_CASE("reflecting W after each update is SGD with momentum on V in W = |V| D", "[models][dale]") {
  // A smooth loss of W; 60 steps with momentum, once on V (autograd through |V| D, V folded
  // back to |V| after each step, which leaves W alone) and once on W followed by the reflection.
  torch::manual_seed(11);
  const int64_t N = 6;
  const torch::Tensor d = column_signs(N, 2);
  const torch::Tensor target = torch::randn({N, N}, torch::kDouble);
  const torch::Tensor x = torch::randn({N, 4}, torch::kDouble);
  auto loss_of = [&](const torch::Tensor& w) { return (torch::tanh(torch::matmul(w, x)) - target.narrow(1, 0, 4)).pow(2).sum(); };
  const torch::Tensor w0 = torch::randn({N, N}, torch::kDouble).abs() * d.unsqueeze(0);
  const double lr = 0.2, mu = 0.9;
  torch::Tensor v = w0.abs().clone(), buf_v = torch::zeros_like(v);
  torch::Tensor w = w0.clone().unsqueeze(0), buf_w = torch::zeros_like(w);
  int64_t reflected = 0;
  for (int step = 0; step < 60; ++step) {
    {
      torch::Tensor vv = v.clone().requires_grad_();
      const torch::Tensor g = torch::autograd::grad({loss_of(vv.abs() * d.unsqueeze(0))}, {vv})[0];
      buf_v = mu * buf_v + g;
      v = (v - lr * buf_v).abs();
    }
    {
      torch::Tensor ww = w[0].clone().requires_grad_();
      const torch::Tensor g = torch::autograd::grad({loss_of(ww)}, {ww})[0];
      buf_w = mu * buf_w + g.unsqueeze(0);
      const torch::Tensor stepped = w - lr * buf_w;
      reflected += (stepped * d.reshape({1, 1, N})).lt(0).sum().item<int64_t>();
      w = stepped;
      dale_reflect_(w, d);
    }
    REQUIRE(testing::max_abs_diff(w[0], v * d.unsqueeze(0)) < 1e-10);
  }
  REQUIRE(reflected > 0);  // the test did cross zero, where the reflection acts
}

TEST_CASE("with Dale's law the fast tangent kernel is the kernel with respect to V", "[models][dale]") {
  torch::manual_seed(4);
  CTRNNOptions o;
  o.inputs = 3;
  o.hidden_size = 8;
  o.outputs = 2;
  o.dale_train = true;
  o.dale_signs = column_signs(8, 3).to(torch::kFloat);
  CTRNN net(o);
  {
    torch::NoGradGuard g;
    net.weight("W_in").copy_(torch::randn({1, 8, 3}));
    net.weight("W_rec").copy_(torch::randn({1, 8, 8}).abs() * 0.4 * o.dale_signs.reshape({1, 1, 8}));
    net.weight("W_out").copy_(torch::randn({1, 2, 8}) * 0.5);
  }
  const torch::Tensor x = torch::randn({5, 1, 3, 3});
  const std::vector<int64_t> steps{2, 3, 4};
  // Brute force: J with respect to V, W_rec = |V| D, one backward pass per logit.
  const torch::Tensor v = net.weight("W_rec").detach().abs().clone().requires_grad_();
  const torch::Tensor w_rec = v.abs() * o.dale_signs.reshape({1, 1, 8});
  const auto out = ctrnn_forward_reference(x, net.weight("W_in").detach(), w_rec, net.weight("W_out").detach(), 1.0,
                                           Activation::relu);
  std::vector<torch::Tensor> rows;
  for (int64_t t : steps) {
    for (int64_t b = 0; b < 3; ++b) {
      for (int64_t k = 0; k < 2; ++k) rows.push_back(torch::autograd::grad({out.logits[t][0][b][k]}, {v}, {}, true)[0].flatten());
    }
  }
  const torch::Tensor j = torch::stack(rows).to(torch::kDouble);
  const torch::Tensor brute = torch::matmul(j, j.t());
  const torch::Tensor fast = metrics::tangent_kernel(net, "W_rec", x, steps)[0].to(torch::kDouble);
  REQUIRE(testing::max_abs_diff(fast, brute) < 1e-5 * brute.abs().max().item<double>());
}

TEST_CASE("a spectral radius that would blow the E/I matrix up is refused", "[models][dale]") {
  // Balanced rank 1: |u| (|v| d')^T with sum(|v| d') = 0; with |u| constant its one
  // eigenvalue, sum_j (|v| d')_j |u_j|, is zero (to rounding) whatever its norm.
  torch::manual_seed(5);
  const int64_t N = 32;
  const torch::Tensor d = column_signs(N, 8);
  const torch::Tensor u = torch::ones({N, 1}, torch::kDouble), v = torch::randn({1, N}, torch::kDouble);
  REQUIRE_THROWS_WITH(dale_initial(u * v, d, true, 1.25), Contains("its eigenvalues nearly cancel"));
  REQUIRE_THROWS_WITH(dale_initial(torch::zeros({N, N}, torch::kDouble), d, false, 1.25),
                      Contains("spectral radius 0"));
  REQUIRE_NOTHROW(dale_initial(u * v, d, false, 1.25));  // unbalanced, its Perron root is large
}

TEST_CASE("the E/I initialization: signs per presynaptic unit, balance and spectral radius", "[models][dale]") {
  torch::manual_seed(2);
  const int64_t N = 50;
  const torch::Tensor d = column_signs(N, 10);
  const torch::Tensor w = torch::randn({N, N}, torch::kDouble) / std::sqrt(50.0);
  const torch::Tensor plain = dale_initial(w, d, false, 0);
  REQUIRE(torch::equal(plain.abs(), w.abs()));
  REQUIRE((plain * d.unsqueeze(0)).ge(0).all().item<bool>());
  const torch::Tensor balanced = dale_initial(w, d, true, 1.5);
  REQUIRE((balanced * d.unsqueeze(0)).ge(0).all().item<bool>());
  REQUIRE(balanced.sum(1).abs().max().item<double>() < 1e-12 * balanced.abs().max().item<double>() * N);
  REQUIRE(torch::linalg_eigvals(balanced).abs().max().item<double>() == Approx(1.5).epsilon(1e-9));
}

TEST_CASE("Dale law holds through 10000 updates and without it signs change", "[models][dale][train]") {
  // A small, fast-moving network: lr 0.05 moves many weights across zero in 10,000 updates.
  const char* yaml = R"(experiment: dale
task: {name: 2AF}
model: {name: ctrnn, hidden_size: 16, dale: train, inhibitory_fraction: 0.25}
init: {W_rec: {name: gaussian, gain: 1.0}}
train: {iterations: 10000, batch_size: 4, optimizer: {name: sgd, lr: 0.05, momentum: 0.9}}
metrics: {every: 5000, probe_trials: 8, kernel_trials: 2, names: [loss, sign_similarity]}
sweep: {model.dale: [train, init]}
)";
  testing::TempDir tmp;
  const auto ran = testing::run_config(tmp, yaml, "1");
  const torch::Tensor d = column_signs(16, 4).to(torch::kFloat).unsqueeze(0);
  for (std::size_t r = 0; r < 2; ++r) {
    INFO(ran.plan.runs[r].id);
    REQUIRE(ran.result.runs[r].status == "ok");
    // The E/I initialization is the same for both: |W_gaussian| D.
    const torch::Tensor w0 = run_weight(ran, r, "W_rec_init");
    REQUIRE((w0 * d).gt(0).all().item<bool>());
  }
  REQUIRE(torch::equal(run_weight(ran, 0, "W_rec_init"), run_weight(ran, 1, "W_rec_init")));
  const torch::Tensor constrained = run_weight(ran, 0, "W_rec_final");
  const torch::Tensor free = run_weight(ran, 1, "W_rec_final");
  REQUIRE((constrained * d).lt(0).sum().item<int64_t>() == 0);  // no weight changed sign
  REQUIRE((free * d).lt(0).sum().item<int64_t>() > 0);          // and the test can tell
  REQUIRE_FALSE(torch::equal(constrained, run_weight(ran, 0, "W_rec_init")));
}

TEST_CASE("Dale options are validated: mask file, fraction, and no Dale keys without dale", "[models][dale]") {
  testing::TempDir tmp;
  auto error_of = [&](const std::string& model) {
    const std::string yaml = "experiment: e\ntask: {name: 2AF}\nmodel: " + model + "\n";
    return testing::config_error_of(
        [&] { train::plan_experiment(testing::experiment_options(tmp, yaml), testing::registries()); });
  };
  REQUIRE_THAT(error_of("{name: ctrnn, hidden_size: 8, ei_balance: true}"), Contains("model.ei_balance needs dale: init or train"));
  testing::write_text(tmp.file("mask.txt"), "0\n1\n0\n");
  REQUIRE_THAT(error_of("{name: ctrnn, hidden_size: 8, dale: train, inhibitory_mask: mask.txt}"),
               Contains("has 3 entries for hidden_size 8"));
  fs::create_directories(tmp.file("masks.npy"));
  REQUIRE_THAT(error_of("{name: ctrnn, hidden_size: 8, dale: train, inhibitory_mask: masks.npy}"),
               Contains("model.inhibitory_mask cannot be used: ") && Contains("masks.npy: is a folder, not a data file"));
  REQUIRE_THAT(error_of("{name: ctrnn, hidden_size: 8, dale: train, inhibitory_mask: .}"),
               Contains("is a folder, not a data file"));
  testing::write_text(tmp.file("bad.txt"), "0\n2\n0\n0\n0\n0\n0\n0\n");
  REQUIRE_THAT(error_of("{name: ctrnn, hidden_size: 8, dale: train, inhibitory_mask: bad.txt}"),
               Contains("must hold 0 (excitatory) or 1 (inhibitory)"));
  REQUIRE_THAT(error_of("{name: ctrnn, hidden_size: 8, dale: train, inhibitory_fraction: 1.5}"),
               Contains("model.inhibitory_fraction"));
  REQUIRE_THAT(error_of("{name: ctrnn, hidden_size: 8, dale: always}"), Contains("model.dale"));
  REQUIRE_THAT(error_of("{name: ctrnn, noise_std: -1}"), Contains("model.noise_std"));
  REQUIRE_THAT(error_of("{name: ctrnn, hidden_size: 8, dale: train, inhibitory_fraction: 0.01}"),
               Contains("gives 0 inhibitory units of 8: Dale's law needs units of both kinds"));
  testing::write_text(tmp.file("all.txt"), "1\n1\n1\n1\n1\n1\n1\n1\n");
  REQUIRE_THAT(error_of("{name: ctrnn, hidden_size: 8, dale: init, inhibitory_mask: all.txt}"),
               Contains("gives 8 inhibitory units of 8"));
  testing::write_text(tmp.file("good.txt"), "0\n1\n0\n0\n0\n0\n0\n1\n");
  REQUIRE(error_of("{name: ctrnn, hidden_size: 8, dale: train, inhibitory_mask: good.txt}") == "(no error)");
}

TEST_CASE("the noisy fused pass equals the noisy reference, gradients included", "[models][noise]") {
  for (const double alpha : {1.0, 0.4}) {
    INFO("alpha " << alpha);
    torch::manual_seed(8);
    const int64_t T = 5, E = 2, B = 3, I = 2, N = 9, O = 2;
    const torch::Tensor w_in = (torch::randn({E, N, I}) * 0.5).requires_grad_();
    const torch::Tensor w_rec = (torch::randn({E, N, N}) * 0.4).requires_grad_();
    const torch::Tensor w_out = (torch::randn({E, O, N}) * 0.3).requires_grad_();
    const torch::Tensor x = torch::randn({T, E, B, I});
    const torch::Tensor noise = torch::randn({T, E, B, N});
    const auto fused = ctrnn_forward(x, w_in, w_rec, w_out, alpha, Activation::relu, noise, 0.3);
    const auto ref = ctrnn_forward_reference(x, w_in, w_rec, w_out, alpha, Activation::relu, noise, 0.3);
    REQUIRE(torch::allclose(fused.hidden, ref.hidden, 1e-5, 1e-5));
    const torch::Tensor on = torch::randn({T, E, B, O});
    const auto gf = torch::autograd::grad({(fused.logits * on).sum()}, {w_in, w_rec, w_out});
    const auto gr = torch::autograd::grad({(ref.logits * on).sum()}, {w_in, w_rec, w_out});
    for (int i = 0; i < 3; ++i) REQUIRE(torch::allclose(gf[i], gr[i], 1e-4, 1e-5));
    // The first step by hand: u_0 = a W_in x_0 + noise_std xi_0.
    const torch::Tensor u0 = alpha * torch::matmul(x[0], w_in.detach().transpose(1, 2)) + 0.3 * noise[0];
    REQUIRE(testing::max_abs_diff(fused.hidden[0], torch::relu(u0)) < 1e-5);
  }
}

TEST_CASE("recurrent noise comes from its own stream and is reproducible", "[train][noise]") {
  const char* yaml = R"(experiment: noise
task: {name: 2AF}
model: {name: ctrnn, hidden_size: 20}
train: {iterations: 30, batch_size: 8}
metrics: {every: 10, probe_trials: 8, kernel_trials: 2, names: [loss, accuracy, dw_rec]}
sweep: {model.noise_std: [0, 0.5]}
)";
  testing::TempDir t1, t2;
  const auto ran = testing::run_config(t1, yaml, "1");
  const auto again = testing::run_config(t2, yaml, "2");  // packed together this time
  // The runs differ in noise only: the same initial weights, the same step-0 row (scored
  // before any update, without noise); the noisy one is reproducible and not the quiet one.
  REQUIRE(torch::equal(run_weight(ran, 0, "W_rec_init"), run_weight(ran, 1, "W_rec_init")));
  const auto& quiet = ran.result.runs[0];
  const auto& noisy = ran.result.runs[1];
  REQUIRE(quiet.initial_values == noisy.initial_values);
  REQUIRE_FALSE(torch::equal(run_weight(ran, 0, "W_rec_final"), run_weight(ran, 1, "W_rec_final")));
  REQUIRE(testing::max_abs_diff(run_weight(ran, 1, "W_rec_final"), run_weight(again, 1, "W_rec_final")) < 1e-6);
}
