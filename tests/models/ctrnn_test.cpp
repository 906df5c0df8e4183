// tests/models/ctrnn_test.cpp: the CTRNN forward pass against a hand computation, the fused
// pass against autograd, and a pack of networks against its members run alone.
#include "../test_common.h"

#include <richlazy/models/ctrnn.h>
#include <richlazy/models/linear2.h>
#include <richlazy/tasks/scoring.h>

using namespace richlazy;
using namespace richlazy::models;

namespace {
/// Random weights [E, ...] for a CTRNN, requiring gradients.
struct Weights {
  torch::Tensor w_in, w_rec, w_out;
};
Weights random_weights(int64_t E, int64_t I, int64_t N, int64_t O, torch::ScalarType dtype, uint64_t seed) {
  torch::manual_seed(seed);
  auto make = [&](std::vector<int64_t> shape, double scale) {
    return (torch::randn(shape, dtype) * scale).requires_grad_();
  };
  return {make({E, N, I}, 0.5), make({E, N, N}, 1.3 / std::sqrt(static_cast<double>(N))),
          make({E, O, N}, 1.0 / std::sqrt(static_cast<double>(N)))};
}
}  // namespace

TEST_CASE("CTRNN forward equals a hand computation on a tiny network", "[models]") {
  CTRNNOptions o;
  o.inputs = 1;
  o.hidden_size = 2;
  o.outputs = 1;
  CTRNN net(o);
  {
    torch::NoGradGuard g;
    net.weight("W_in").copy_(torch::tensor({{1.0f}, {-1.0f}}).unsqueeze(0));
    net.weight("W_rec").copy_(torch::tensor({{0.5f, 1.0f}, {2.0f, 0.0f}}).unsqueeze(0));
    net.weight("W_out").copy_(torch::tensor({{1.0f, 3.0f}}).unsqueeze(0));
  }
  // x = 1, 2, -1 (one trial). By hand, with h_0 = 0 and alpha = 1:
  //   h1 = relu([1, -1])                       = [1, 0]
  //   h2 = relu([2, -2] + [0.5*1 + 0, 2*1])    = relu([2.5, 0]) = [2.5, 0]
  //   h3 = relu([-1, 1] + [1.25, 5])           = [0.25, 6]
  //   y_t = h_t[0] + 3 h_t[1]                  = 1, 2.5, 18.25
  const torch::Tensor x = torch::tensor({1.0f, 2.0f, -1.0f}).reshape({3, 1, 1, 1});
  const ModelOutput out = net.forward(x);
  REQUIRE(out.hidden.sizes() == torch::IntArrayRef({3, 1, 1, 2}));
  REQUIRE(out.logits.sizes() == torch::IntArrayRef({3, 1, 1, 1}));
  const torch::Tensor h = torch::tensor({1.0f, 0.0f, 2.5f, 0.0f, 0.25f, 6.0f}).reshape({3, 1, 1, 2});
  REQUIRE(torch::allclose(out.hidden, h));
  REQUIRE(torch::allclose(out.logits.flatten(), torch::tensor({1.0f, 2.5f, 18.25f})));
}

TEST_CASE("CTRNN leak: alpha < 1 mixes the previous state", "[models]") {
  CTRNNOptions o;
  o.inputs = 1;
  o.hidden_size = 1;
  o.outputs = 1;
  o.alpha = 0.5;
  CTRNN net(o);
  {
    torch::NoGradGuard g;
    net.weight("W_in").fill_(1.0);
    net.weight("W_rec").fill_(2.0);
    net.weight("W_out").fill_(1.0);
  }
  // h1 = relu(0.5 * 4) = 2; h2 = relu(0.5 * 2 + 0.5 * (0 + 2 * 2)) = 3.
  const ModelOutput out = net.forward(torch::tensor({4.0f, 0.0f}).reshape({2, 1, 1, 1}));
  REQUIRE(torch::allclose(out.hidden.flatten(), torch::tensor({2.0f, 3.0f})));
}

TEST_CASE("the fused pass gives autograd's values and gradients, every member", "[models]") {
  // float64 takes ATen's batched products, float32 the direct BLAS path.
  for (const auto dtype : {torch::kDouble, torch::kFloat}) {
    for (const double alpha : {1.0, 0.3}) {
      for (const Activation act : {Activation::relu, Activation::tanh}) {
        INFO("alpha " << alpha << (act == Activation::relu ? " relu " : " tanh ") << dtype);
        const int64_t T = 6, E = 3, B = 5, I = 3, N = 12, O = 2;
        const Weights w = random_weights(E, I, N, O, dtype, 2);
        const torch::Tensor x = torch::randn({T, E, B, I}, dtype).requires_grad_();
        const torch::Tensor on_logits = torch::randn({T, E, B, O}, dtype);
        const torch::Tensor on_hidden = torch::randn({T, E, B, N}, dtype);
        auto grads = [&](const ModelOutput& out, bool through_hidden) {
          torch::Tensor f = (out.logits * on_logits).sum();
          if (through_hidden) f = f + (out.hidden * on_hidden).sum();
          return torch::autograd::grad({f}, {x, w.w_in, w.w_rec, w.w_out}, {}, /*retain_graph=*/true);
        };
        const ModelOutput fused = ctrnn_forward(x, w.w_in, w.w_rec, w.w_out, alpha, act);
        const ModelOutput ref = ctrnn_forward_reference(x, w.w_in, w.w_rec, w.w_out, alpha, act);
        const double tol = dtype == torch::kDouble ? 1e-12 : 1e-5;
        REQUIRE(torch::allclose(fused.hidden, ref.hidden, tol, tol));
        REQUIRE(torch::allclose(fused.logits, ref.logits, tol, tol));
        for (const bool through_hidden : {false, true}) {
          const auto g_fused = grads(fused, through_hidden);
          const auto g_ref = grads(ref, through_hidden);
          for (std::size_t i = 0; i < g_ref.size(); ++i) {
            INFO("gradient " << i << (through_hidden ? " (logits and states)" : " (logits)"));
            REQUIRE(torch::allclose(g_fused[i], g_ref[i], dtype == torch::kDouble ? 1e-10 : 1e-4, tol));
          }
        }
        torch::NoGradGuard no_grad;  // the no-grad forward is the fused one too
        REQUIRE(torch::allclose(ctrnn_forward(x, w.w_in, w.w_rec, w.w_out, alpha, act).logits, ref.logits, tol, tol));
      }
    }
  }
}

TEST_CASE("a pack of networks computes each member exactly as that network alone", "[models]") {
  // The gradients come from the training loss, whose gradient reaches the logits in a
  // class-major layout (the case where a pack once handed the BLAS other operands than a
  // solo run). N = 24 is not a multiple of the BLAS's blocking; N = 200 makes a member large
  // enough that the CPU passes go one member at a time (their cache-sized chunks).
  for (const int64_t N : {24, 200}) {
    INFO("N " << N);
    const int64_t T = 8, E = 3, B = 16, I = 3, O = 3;
    const Weights w = random_weights(E, I, N, O, torch::kFloat, 7);
    const torch::Tensor x = torch::randn({T, E, B, I});
    const torch::Tensor targets = torch::randint(0, O, {T, E, B}, torch::kLong), mask = torch::ones({T, E, B});
    const ModelOutput pack = ctrnn_forward(x, w.w_in, w.w_rec, w.w_out, 1.0, Activation::relu);
    const torch::Tensor loss = tasks::masked_cross_entropy(pack.logits, targets, mask);
    const auto g_pack = torch::autograd::grad({loss.sum()}, {w.w_in, w.w_rec, w.w_out});
    for (int64_t e = 0; e < E; ++e) {
      auto one = [&](const torch::Tensor& t) { return t.detach().narrow(0, e, 1).requires_grad_(); };
      const torch::Tensor w_in = one(w.w_in), w_rec = one(w.w_rec), w_out = one(w.w_out);
      const ModelOutput solo = ctrnn_forward(x.narrow(1, e, 1), w_in, w_rec, w_out, 1.0, Activation::relu);
      // The same products on the same data: identical, not just close.
      REQUIRE(torch::equal(pack.logits.narrow(1, e, 1), solo.logits));
      REQUIRE(torch::equal(pack.hidden.narrow(1, e, 1), solo.hidden));
      const torch::Tensor solo_loss =
          tasks::masked_cross_entropy(solo.logits, targets.narrow(1, e, 1), mask.narrow(1, e, 1));
      REQUIRE(torch::equal(loss.narrow(0, e, 1), solo_loss));
      const auto g_solo = torch::autograd::grad({solo_loss.sum()}, {w_in, w_rec, w_out});
      for (std::size_t i = 0; i < 3; ++i) {
        INFO("gradient " << i);
        REQUIRE(torch::equal(g_pack[i].narrow(0, e, 1), g_solo[i]));
      }
    }
  }
}

TEST_CASE("linear2 runs every member on its own inputs", "[models]") {
  Linear2 net(4, 5, 2, /*members=*/2);
  {
    torch::NoGradGuard g;
    net.weight("W_1").copy_(torch::randn({2, 5, 4}));
    net.weight("w_2").copy_(torch::randn({2, 2, 5}));
  }
  const torch::Tensor x = torch::randn({1, 2, 3, 4});
  const ModelOutput out = net.forward(x);
  REQUIRE(out.logits.sizes() == torch::IntArrayRef({1, 2, 3, 2}));
  for (int64_t e = 0; e < 2; ++e) {
    const torch::Tensor expected =
        torch::matmul(torch::matmul(x[0][e], net.weight("W_1")[e].t()), net.weight("w_2")[e].t());
    REQUIRE(torch::allclose(out.logits[0][e], expected, 1e-5, 1e-6));
  }
}
