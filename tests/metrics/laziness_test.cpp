// tests/metrics/laziness_test.cpp: alignment, sign similarity, the tangent kernel (fast vs
// one backward pass per logit), effective-rank and path-length hooks, and the probe set.
#include "../test_common.h"

#include <richlazy/core/registries.h>
#include <richlazy/core/seeding.h>
#include <richlazy/init/apply.h>
#include <richlazy/metrics/effective_rank.h>
#include <richlazy/metrics/laziness.h>
#include <richlazy/metrics/probe.h>
#include <richlazy/models/ctrnn.h>
#include <richlazy/train/trainer.h>

#include <cmath>
#include <numeric>

using namespace richlazy;
using testing::registries;
using namespace richlazy::metrics;

namespace {
std::unique_ptr<tasks::Task> task_2af() {
  Params p = testing::params_from("{name: 2AF}", "task");
  return registries().tasks.create(p);
}

std::shared_ptr<models::CTRNN> random_ctrnn(int64_t inputs, int64_t hidden, int64_t outputs,
                                            double alpha, models::Activation act, uint64_t seed,
                                            int64_t members = 1) {
  models::CTRNNOptions o;
  o.inputs = inputs;
  o.hidden_size = hidden;
  o.outputs = outputs;
  o.alpha = alpha;
  o.activation = act;
  auto net = std::make_shared<models::CTRNN>(o, members);
  at::Generator gen = make_generator(seed);
  torch::NoGradGuard g;
  const int64_t E = members;
  net->weight("W_in").copy_(torch::randn({E, hidden, inputs}, gen, torch::kFloat));
  net->weight("W_rec").copy_(torch::randn({E, hidden, hidden}, gen, torch::kFloat) * (1.3 / std::sqrt(hidden)));
  net->weight("W_out").copy_(torch::randn({E, outputs, hidden}, gen, torch::kFloat) / std::sqrt(hidden));
  return net;
}

/// max |a - b| / max |b|: the kernels' largest difference relative to the kernel's scale.
double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return testing::max_abs_diff(a, b) / b.abs().max().item<double>();
}

std::vector<train::NamedHook> hooks(const std::vector<std::string>& specs, const tasks::Task& task) {
  const std::vector<models::ParameterInfo> params{{"W_in", {}, "", "", "input"},
                                                  {"W_out", {}, "", "", "readout"},
                                                  {"W_rec", {}, "", "", "recurrent"}};
  std::vector<train::NamedHook> out;
  for (const auto& spec : specs) {
    Params p = testing::params_from(spec, "metrics");
    const std::string name = p.node()["name"].Scalar();
    out.push_back({name, registries().metrics.create(p, MetricTarget{params, task})});
  }
  return out;
}

std::shared_ptr<models::Model> paper_net(const std::string& init_yaml, uint64_t seed) {
  Params mp = testing::params_from("{name: ctrnn}", "model");
  const auto builder = registries().models.create(mp, models::TaskShape{3, 3, 100});
  auto model = builder->build();
  Params ip = testing::params_from(init_yaml, "init");
  init::apply_initializers(*model, init::plan_initializers(ip, builder->parameters(), registries().initializers), seed);
  return model;
}
}  // namespace

TEST_CASE("alignment of a kernel with itself and with a positive multiple is 1", "[metrics]") {
  torch::manual_seed(0);
  const torch::Tensor a = torch::randn({6, 6});
  const torch::Tensor k = torch::matmul(a, a.t());
  REQUIRE(frobenius_cosine(k, k) == Approx(1.0).epsilon(1e-12));
  REQUIRE(frobenius_cosine(k, 2.5 * k) == Approx(1.0).epsilon(1e-12));
  REQUIRE(frobenius_cosine(k, -k) == Approx(-1.0).epsilon(1e-12));
  const torch::Tensor e1 = torch::zeros({2, 2}).index_put_({0, 0}, 1.0);
  const torch::Tensor e2 = torch::zeros({2, 2}).index_put_({1, 1}, 3.0);
  REQUIRE(frobenius_cosine(e1, e2) == 0.0);
  // <A, B> / (|A| |B|) by hand: A = [1 2; 3 4], B = [1 0; 0 1]: 5 / (sqrt(30) sqrt(2)).
  const torch::Tensor A = torch::tensor({1.0, 2.0, 3.0, 4.0}).reshape({2, 2});
  REQUIRE(frobenius_cosine(A, torch::eye(2)) == Approx(5.0 / std::sqrt(60.0)));
}

TEST_CASE("sign similarity counts unchanged signs, per member", "[metrics]") {
  const torch::Tensor before = torch::tensor({1.0, -2.0, 0.0, 3.0, 0.0});
  const torch::Tensor after = torch::tensor({2.0, -1.0, 0.0, -1.0, 0.5});
  // Two members: the pair above, and a member whose signs all flip.
  const torch::Tensor b = torch::stack({before, before.abs() + 1}, 1);  // member axis 1
  const torch::Tensor a = torch::stack({after, -(before.abs() + 1)}, 1);
  const torch::Tensor s = sign_similarity(b, a, /*member_dim=*/1);
  REQUIRE(s.sizes() == torch::IntArrayRef({2}));
  REQUIRE(s[0].item<double>() == Approx(3.0 / 5.0));
  REQUIRE(s[1].item<double>() == 0.0);
  REQUIRE(sign_similarity(b, b, 1).eq(1.0).all().item<bool>());
}

TEST_CASE("representation kernel is H H^T, and cosines are per member", "[metrics]") {
  const torch::Tensor h = torch::tensor({1.0f, 2.0f, 0.0f, 1.0f}).reshape({1, 2, 2});
  REQUIRE(torch::equal(representation_kernel(h), torch::tensor({5.0f, 2.0f, 2.0f, 1.0f}).reshape({1, 2, 2})));
  const torch::Tensor k = torch::randn({3, 4, 4}, torch::kDouble);
  const torch::Tensor c = member_cosine(k, k * torch::tensor({1.0, 2.0, -1.0}, torch::kDouble).view({3, 1, 1}));
  REQUIRE(torch::allclose(c, torch::tensor({1.0, 1.0, -1.0}, torch::kDouble), 1e-12, 1e-12));
}

TEST_CASE("the fast tangent kernel equals one backward pass per logit, small networks", "[metrics]") {
  for (const double alpha : {1.0, 0.4}) {
    for (const auto act : {models::Activation::relu, models::Activation::tanh}) {
      INFO("alpha " << alpha << (act == models::Activation::relu ? " relu" : " tanh"));
      // A pack of three networks, each with its own trials.
      auto net = random_ctrnn(3, 10, 2, alpha, act, 5, /*members=*/3);
      at::Generator gen = make_generator(6);
      const torch::Tensor x = torch::randn({5, 3, 4, 3}, gen, torch::kFloat);
      for (const std::vector<int64_t>& steps :
           {std::vector<int64_t>{0, 1, 2, 3, 4}, std::vector<int64_t>{4}, std::vector<int64_t>{1, 3}}) {
        INFO("steps " << steps.size());
        const auto factors = net->kernel_factors("W_rec", x, steps);
        REQUIRE(factors.has_value());
        const torch::Tensor fast = tangent_kernel(*factors);
        const torch::Tensor slow = tangent_kernel_bruteforce(*net, "W_rec", x, steps);
        REQUIRE(fast.sizes() == slow.sizes());
        REQUIRE(fast.size(0) == 3);
        REQUIRE(fast.size(1) == static_cast<int64_t>(steps.size()) * 4 * 2);
        for (int64_t e = 0; e < 3; ++e) REQUIRE(relative_difference(fast[e], slow[e]) < 1e-5);
      }
    }
  }
}

TEST_CASE("the fast tangent kernel equals the brute-force one at the paper's size", "[metrics]") {
  // N = 300, the first 32 of the 2AF probe trials, 8 steps x 32 trials x 3 classes = 768 rows.
  const auto task = task_2af();
  auto net = paper_net("{}", 0);
  at::Generator gen = stream_generator(0, "probe");
  const torch::Tensor x = task->sample(32, gen).inputs.unsqueeze(1);
  const std::vector<int64_t> steps{0, 1, 2, 3, 4, 5, 6, 7};
  const torch::Tensor fast = tangent_kernel(*net, "W_rec", x, steps)[0];
  const torch::Tensor slow = tangent_kernel_bruteforce(*net, "W_rec", x, steps)[0];
  REQUIRE(fast.sizes() == torch::IntArrayRef({768, 768}));
  REQUIRE(relative_difference(fast, slow) < 1e-4);
  REQUIRE(frobenius_cosine(fast, slow) == Approx(1.0).epsilon(1e-9));
}

TEST_CASE("a model without kernel factors falls back to the brute-force kernel", "[metrics]") {
  // ctrnn_unroll_reference has no factors; wrap it in a model that does not offer them.
  struct Plain final : models::Model {
    explicit Plain(std::shared_ptr<models::CTRNN> net) : Model(net->members()), net_(std::move(net)) {
      register_module("net", net_);
    }
    models::ModelOutput forward(const torch::Tensor& x) override { return net_->forward(x); }
    int64_t hidden_size() const override { return net_->hidden_size(); }
    std::shared_ptr<models::CTRNN> net_;
  };
  auto net = random_ctrnn(3, 8, 2, 1.0, models::Activation::relu, 9, /*members=*/2);
  Plain plain(net);
  at::Generator gen = make_generator(10);
  const torch::Tensor x = torch::randn({3, 2, 2, 3}, gen, torch::kFloat);
  REQUIRE_FALSE(plain.kernel_factors("net.W_rec", x, {0, 1, 2}).has_value());
  const torch::Tensor k = tangent_kernel(plain, "net.W_rec", x, {0, 1, 2});
  REQUIRE(k.abs().max().item<double>() > 0.01);  // a kernel worth comparing
  REQUIRE(relative_difference(k, tangent_kernel(*net, "W_rec", x, {0, 1, 2})) < 1e-5);
}

TEST_CASE("the measures of an unchanged network are those of identity", "[metrics]") {
  const auto task = task_2af();
  auto net = paper_net("{W_rec: {name: low_rank, rank: 30}}", 3);
  // lr = 0: nothing moves.
  const auto frozen = testing::make_optimizer("{name: sgd, lr: 1e-300, momentum: 0}");
  train::Trainer trainer(*net, *task, *frozen,
                         hooks({"{name: rep_alignment}", "{name: kernel_alignment}",
                                "{name: sign_similarity}", "{name: dw_rec}",
                                "{name: erank_delta_rec}", "{name: path_length_rec}",
                                "{name: erank_rec}", "{name: erank_rec, measure: stable_rank}"},
                               *task),
                         train::TrainSettings{4, 8, 2, 40, 8}, torch::kCPU, 3);
  trainer.run();
  const auto& last = trainer.log().rows.back();
  REQUIRE(last[0] == Approx(1.0).epsilon(1e-12));  // rep_alignment
  REQUIRE(last[1] == Approx(1.0).epsilon(1e-12));  // kernel_alignment
  REQUIRE(last[2] == 1.0);                         // sign_similarity
  REQUIRE(last[3] == 0.0);                         // dw_rec
  REQUIRE(last[4] == 0.0);                         // erank_delta_rec of a zero matrix
  REQUIRE(last[5] == 0.0);                         // path_length_rec
  const auto m = spectrum_measures(net->weight("W_rec")[0]);
  REQUIRE(last[6] == Approx(m.roy_vetterli));
  REQUIRE(last[6] == Approx(30.0).margin(1.0));    // a rank-30 Gaussian truncation
  REQUIRE(last[7] == Approx(m.stable_rank));
}

TEST_CASE("rep_alignment and sign_similarity match a direct computation on the probe", "[metrics]") {
  const auto task = task_2af();
  auto net = paper_net("{}", 4);
  torch::Tensor h0;
  train::Trainer trainer(*net, *task, *testing::make_optimizer("{name: sgd}"), hooks({"{name: rep_alignment}", "{name: sign_similarity}",
                                                                                    "{name: sign_similarity, window: all}"}, *task),
                         train::TrainSettings{30, 32, 30, 320, 32}, torch::kCPU, 4);
  {
    torch::NoGradGuard g;
    h0 = net->forward(trainer.probe().trials().inputs).hidden.clone();
  }
  trainer.run();
  torch::NoGradGuard g;
  const torch::Tensor h1 = net->forward(trainer.probe().trials().inputs).hidden;
  REQUIRE(h0.sizes() == torch::IntArrayRef({8, 1, 320, 300}));
  // Representation alignment at the last decision step (7), computed independently:
  // <H0 H0^T, H1 H1^T> = ||H0^T H1||^2, ||H H^T|| = ||H^T H||.
  const torch::Tensor a = h0[7][0].to(torch::kDouble), b = h1[7][0].to(torch::kDouble);
  const double expected = torch::matmul(a.t(), b).pow(2).sum().item<double>() /
                          (torch::matmul(a.t(), a).norm() * torch::matmul(b.t(), b).norm()).item<double>();
  REQUIRE(trainer.log().rows.back()[0] == Approx(expected).epsilon(1e-9));
  REQUIRE(trainer.log().rows.back()[0] < 1.0);
  // Sign similarity over the decision window [7, 8).
  const double same = torch::sign(h0[7]).eq(torch::sign(h1[7])).to(torch::kDouble).mean().item<double>();
  REQUIRE(same < 1.0);
  REQUIRE(trainer.log().rows.back()[1] == Approx(same).epsilon(1e-12));
  // ... and over every step of the trial with window: all.
  const double same_all = torch::sign(h0).eq(torch::sign(h1)).to(torch::kDouble).mean().item<double>();
  REQUIRE(same_all != Approx(same).epsilon(1e-6));
  REQUIRE(trainer.log().rows.back()[2] == Approx(same_all).epsilon(1e-12));
}

TEST_CASE("path length equals dw_rec for a single interval and exceeds it otherwise", "[metrics]") {
  const auto task = task_2af();
  auto run = [&](const std::string& path_spec, int64_t log_every) {
    auto net = paper_net("{}", 5);
    train::Trainer t(*net, *task, *testing::make_optimizer("{name: sgd}"), hooks({"{name: dw_rec}", path_spec}, *task),
                     train::TrainSettings{40, 16, log_every, 32, 8}, torch::kCPU, 5);
    t.run();
    return t.log().rows.back();
  };
  const auto single = run("{name: path_length_rec, every: 40}", 40);
  REQUIRE(single[1] == Approx(single[0]).epsilon(1e-7));
  const auto every_step = run("{name: path_length_rec}", 40);
  REQUIRE(every_step[1] > 1.05 * every_step[0]);  // momentum SGD does not move in a line
  // Its own schedule: logging the metrics more often does not change it.
  const auto logged_often = run("{name: path_length_rec}", 3);
  REQUIRE(logged_often[1] == Approx(every_step[1]).epsilon(1e-12));
  const auto coarse = run("{name: path_length_rec, every: 10}", 7);
  REQUIRE(coarse[1] <= every_step[1]);
  REQUIRE(coarse[1] >= single[1]);
}

TEST_CASE("the probe is drawn from its own stream, the same for every run of a seed", "[metrics]") {
  const auto task = task_2af();
  auto a = paper_net("{}", 6);
  auto b = paper_net("{W_rec: {name: low_rank, rank: 1}}", 6);
  train::Trainer ta(*a, *task, *testing::make_optimizer("{name: sgd}"), {}, train::TrainSettings{1, 8, 1, 320, 32}, torch::kCPU, 6);
  train::Trainer tb(*b, *task, *testing::make_optimizer("{name: sgd}"), {}, train::TrainSettings{1, 8, 1, 320, 32}, torch::kCPU, 6);
  train::Trainer tc(*b, *task, *testing::make_optimizer("{name: sgd}"), {}, train::TrainSettings{1, 8, 1, 320, 32}, torch::kCPU, 7);
  REQUIRE(torch::equal(ta.probe().trials().inputs, tb.probe().trials().inputs));
  REQUIRE_FALSE(torch::equal(ta.probe().trials().inputs, tc.probe().trials().inputs));
  REQUIRE(ta.probe().size() == 320);
  REQUIRE(ta.probe().kernel_inputs().sizes() == torch::IntArrayRef({8, 1, 32, 3}));
  REQUIRE(ta.probe().kernel_steps() == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
  // Exactly the trials of the seed's "probe" stream.
  at::Generator probe_gen = stream_generator(6, "probe");
  REQUIRE(torch::equal(task->sample(320, probe_gen).inputs, ta.probe().trials().inputs.select(1, 0)));
  // Not the training stream: the first training batch differs from the probe's first trials.
  at::Generator train_gen = stream_generator(6, "train");
  REQUIRE_FALSE(torch::equal(task->sample(32, train_gen).inputs,
                             ta.probe().trials().inputs.select(1, 0).slice(1, 0, 32)));
}

// ---- issue 13, item 1: kernel-task alignment ------------------------------------------------

TEST_CASE("kernel-task alignment of kernels with known answers, centred or not", "[metrics]") {
  at::Generator gen = make_generator(8);
  const torch::Tensor y = torch::randn({2, 12}, gen, torch::kDouble);
  // K = y y^T lies wholly along y: 1. K = I spreads evenly: 1 / R.
  const torch::Tensor along = torch::einsum("er,es->ers", {y, y});
  const torch::Tensor flat = torch::eye(12, torch::kDouble).expand({2, 12, 12});
  REQUIRE(torch::allclose(kernel_task_alignment(along, y), torch::ones({2}, torch::kDouble), 1e-12));
  REQUIRE(torch::allclose(kernel_task_alignment(flat, y), torch::full({2}, 1.0 / 12, torch::kDouble), 1e-12));
  // Centred: with an explicit H = I - 1 1^T / R, on a random positive semi-definite K.
  const torch::Tensor a = torch::randn({2, 12, 5}, gen, torch::kDouble);
  const torch::Tensor k = torch::matmul(a, a.transpose(1, 2)) + 3.0;  // a strong common mode
  const torch::Tensor h = torch::eye(12, torch::kDouble) - 1.0 / 12;
  const torch::Tensor c = kernel_task_alignment(k, y, true), u = kernel_task_alignment(k, y, false);
  for (int64_t e = 0; e < 2; ++e) {
    const torch::Tensor kc = torch::matmul(h, torch::matmul(k[e], h)), yc = torch::matmul(h, y[e]);
    const double expected = (torch::dot(yc, torch::mv(kc, yc)) / (yc.dot(yc) * kc.trace())).item<double>();
    REQUIRE(c[e].item<double>() == Approx(expected).epsilon(1e-12));
    const double plain = (torch::dot(y[e], torch::mv(k[e], y[e])) / (y[e].dot(y[e]) * k[e].trace())).item<double>();
    REQUIRE(u[e].item<double>() == Approx(plain).epsilon(1e-12));
    REQUIRE(c[e].item<double>() >= 0);
    REQUIRE(c[e].item<double>() <= 1);
  }
}

TEST_CASE("kernel targets follow the kernel's rows (step, trial, class)", "[metrics]") {
  // Class labels [T = 4, E = 2, B = 3] with 3 classes; the kernel scores steps 1 and 3.
  at::Generator gen = make_generator(2);
  const torch::Tensor labels = torch::randint(0, 3, {4, 2, 3}, gen, torch::kLong);
  const torch::Tensor y = kernel_targets(labels, {1, 3}, 3);
  REQUIRE(y.sizes() == torch::IntArrayRef({2, 2 * 3 * 3}));
  for (int64_t e = 0; e < 2; ++e) {
    for (int64_t i = 0; i < 2; ++i) {
      for (int64_t b = 0; b < 3; ++b) {
        for (int64_t k = 0; k < 3; ++k) {
          const int64_t t = i == 0 ? 1 : 3;
          const double want = labels[t][e][b].item<int64_t>() == k ? 1.0 : 0.0;
          REQUIRE(y[e][(i * 3 + b) * 3 + k].item<double>() == want);
        }
      }
    }
  }
  // Regression values [T, E, B, O] are used as they are.
  const torch::Tensor values = torch::randn({4, 2, 3, 1}, gen, torch::kFloat);
  REQUIRE(torch::equal(kernel_targets(values, {0, 2}, 1)[1],
                       values.index_select(0, torch::tensor({0, 2}, torch::kLong)).select(1, 1).flatten().to(torch::kDouble)));
}

TEST_CASE("kernel_task_alignment logs the alignment of the brute-force kernel with the probe's targets", "[metrics]") {
  const auto task = task_2af();
  auto net = paper_net("{W_rec: {name: low_rank, rank: 3}}", 5);
  train::Trainer trainer(*net, *task, *testing::make_optimizer("{name: sgd}"),
                         hooks({"{name: kernel_task_alignment}", "{name: kernel_task_alignment, centred: true}"}, *task),
                         train::TrainSettings{2, 8, 2, 40, 8}, torch::kCPU, 5);
  // Independently: one backward pass per logit, and the one-hot targets by a loop.
  const torch::Tensor x = trainer.probe().kernel_inputs();
  const auto& steps = trainer.probe().kernel_steps();
  const torch::Tensor k = tangent_kernel_bruteforce(*net, "W_rec", x, steps)[0].to(torch::kDouble);
  const torch::Tensor labels = trainer.probe().trials().targets;  // [T, 1, 40]
  const int64_t R = k.size(0), B = 8, O = 3;
  torch::Tensor y = torch::zeros({R}, torch::kDouble);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    for (int64_t b = 0; b < B; ++b) {
      y[(static_cast<int64_t>(i) * B + b) * O + labels[steps[i]][0][b].item<int64_t>()] = 1.0;
    }
  }
  const double expected = (torch::dot(y, torch::mv(k, y)) / (y.dot(y) * k.trace())).item<double>();
  const torch::Tensor yc = y - y.mean();
  const double centred =
      (torch::dot(yc, torch::mv(k, yc)) / (yc.dot(yc) * (k.trace() - k.sum() / static_cast<double>(R)))).item<double>();
  trainer.run();
  const auto& first = trainer.log().rows.front();
  REQUIRE(first[0] == Approx(expected).epsilon(1e-4));  // the fast kernel agrees to ~1e-5
  REQUIRE(first[1] == Approx(centred).epsilon(1e-4));
  REQUIRE(expected > 0);
  REQUIRE(expected < 1);
}

TEST_CASE("hidden_norm_ratio and grad_norm match direct computations on the probe at step 0", "[metrics]") {
  const auto task = task_2af();
  auto net = paper_net("{W_rec: {name: gaussian, norm: {spectral_radius: 1.5}}}", 6);
  train::Trainer trainer(*net, *task, *testing::make_optimizer("{name: sgd}"),
                         hooks({"{name: hidden_norm_ratio}", "{name: grad_norm}", "{name: grad_norm, param: W_out}"}, *task),
                         train::TrainSettings{2, 8, 2, 40, 8}, torch::kCPU, 6);
  const tasks::TrialBatch probe = trainer.probe().trials();
  double ratio = 0, grad_rec = 0, grad_out = 0, loss_by_hand = 0;
  {
    torch::AutoGradMode enable(true);
    const auto out = net->forward(probe.inputs);
    const torch::Tensor h = out.hidden.to(torch::kDouble);  // [T, 1, 40, 300]
    ratio = (h[h.size(0) - 1].norm() / h[0].norm()).item<double>();
    // Cross-entropy by hand: masked mean over (step, trial) of -log softmax at the target.
    const torch::Tensor logp = torch::log_softmax(out.logits.to(torch::kDouble), -1);
    const torch::Tensor picked = logp.gather(-1, probe.targets.unsqueeze(-1)).squeeze(-1);
    const torch::Tensor mask = probe.mask.to(torch::kDouble);
    const torch::Tensor loss = -(picked * mask).sum() / mask.sum();
    const auto g = torch::autograd::grad({loss}, {net->weight("W_rec"), net->weight("W_out")});
    grad_rec = g[0].norm().item<double>();
    grad_out = g[1].norm().item<double>();
    loss_by_hand = loss.item<double>();
  }
  // The functions run_pack uses for every run's initial state give the same values.
  const auto [loss0, grad0] = metrics::probe_loss_and_grad_norm(*net, *task, trainer.probe(), "W_rec");
  REQUIRE(loss0.item<double>() == Approx(loss_by_hand).epsilon(1e-5));
  REQUIRE(grad0.item<double>() == Approx(grad_rec).epsilon(1e-4));
  REQUIRE(metrics::hidden_norm_ratio(*net, trainer.probe(), 0).item<double>() == Approx(ratio).epsilon(1e-6));
  trainer.run();
  const auto& first = trainer.log().rows.front();
  REQUIRE(first[0] == Approx(ratio).epsilon(1e-6));
  REQUIRE(first[1] == Approx(grad_rec).epsilon(1e-4));
  REQUIRE(first[2] == Approx(grad_out).epsilon(1e-4));
  REQUIRE(grad_rec > 0);
}
