// tests/models/ctrnn_test.cpp: the CTRNN forward pass against a hand computation.
#include "../test_common.h"

#include <richlazy/models/ctrnn.h>

using namespace richlazy;
using namespace richlazy::models;

TEST_CASE("CTRNN forward equals a hand computation on a tiny network", "[models]") {
  CTRNNOptions o;
  o.inputs = 1;
  o.hidden_size = 2;
  o.outputs = 1;
  CTRNN net(o);
  {
    torch::NoGradGuard g;
    net.weight("W_in").copy_(torch::tensor({{1.0f}, {-1.0f}}));
    net.weight("W_rec").copy_(torch::tensor({{0.5f, 1.0f}, {2.0f, 0.0f}}));
    net.weight("W_out").copy_(torch::tensor({{1.0f, 3.0f}}));
  }
  // x = 1, 2, -1 (one trial). By hand, with h_0 = 0 and alpha = 1:
  //   h1 = relu([1, -1])                       = [1, 0]
  //   h2 = relu([2, -2] + [0.5*1 + 0, 2*1])    = relu([2.5, 0]) = [2.5, 0]
  //   h3 = relu([-1, 1] + [1.25, 5])           = [0.25, 6]
  //   y_t = h_t[0] + 3 h_t[1]                  = 1, 2.5, 18.25
  const torch::Tensor x = torch::tensor({1.0f, 2.0f, -1.0f}).reshape({3, 1, 1});
  const ModelOutput out = net.forward(x);
  REQUIRE(out.hidden.sizes() == torch::IntArrayRef({3, 1, 2}));
  REQUIRE(out.logits.sizes() == torch::IntArrayRef({3, 1, 1}));
  const torch::Tensor h = torch::tensor({1.0f, 0.0f, 2.5f, 0.0f, 0.25f, 6.0f}).reshape({3, 1, 2});
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
  const ModelOutput out = net.forward(torch::tensor({4.0f, 0.0f}).reshape({2, 1, 1}));
  REQUIRE(torch::allclose(out.hidden.flatten(), torch::tensor({2.0f, 3.0f})));
}

TEST_CASE("CTRNN unroll is shape-generic: an ensemble equals its members run alone", "[models]") {
  torch::manual_seed(1);
  const int64_t T = 5, B = 4, I = 3, N = 6, M = 3;
  const torch::Tensor x = torch::randn({T, B, I});
  const torch::Tensor w_in = torch::randn({M, N, I});
  const torch::Tensor w_rec = torch::randn({M, N, N}) / 3.0;
  // inputs [T, 1, B, I] broadcast over the M networks: hidden [T, M, B, N].
  const torch::Tensor all = ctrnn_unroll(x.unsqueeze(1), w_in, w_rec, 1.0, Activation::relu);
  REQUIRE(all.sizes() == torch::IntArrayRef({T, M, B, N}));
  for (int64_t m = 0; m < M; ++m) {
    const torch::Tensor one = ctrnn_unroll(x, w_in[m], w_rec[m], 1.0, Activation::relu);
    REQUIRE(torch::allclose(all.select(1, m), one, 1e-5, 1e-6));
  }
}

TEST_CASE("the fused BPTT gives autograd's values and gradients", "[models]") {
  for (const double alpha : {1.0, 0.3}) {
    for (const Activation act : {Activation::relu, Activation::tanh}) {
      INFO("alpha " << alpha << " activation " << (act == Activation::relu ? "relu" : "tanh"));
      torch::manual_seed(2);
      const int64_t T = 6, B = 5, I = 3, N = 12;
      auto make = [&](std::vector<int64_t> shape, double scale) {
        return (torch::randn(shape, torch::kDouble) * scale).requires_grad_();
      };
      const torch::Tensor x = make({T, B, I}, 1.0), w_in = make({N, I}, 0.5), w_rec = make({N, N}, 0.4);
      const torch::Tensor weights = torch::randn({T, B, N}, torch::kDouble);
      auto grads = [&](const torch::Tensor& h) {
        return torch::autograd::grad({(h * weights).sum()}, {x, w_in, w_rec});
      };
      const torch::Tensor fused = ctrnn_unroll(x, w_in, w_rec, alpha, act);
      const torch::Tensor ref = ctrnn_unroll_reference(x, w_in, w_rec, alpha, act);
      REQUIRE(torch::allclose(fused, ref, 1e-12, 1e-12));
      const auto g_fused = grads(fused);
      const auto g_ref = grads(ref);
      for (std::size_t i = 0; i < 3; ++i) {
        INFO("gradient " << i);
        REQUIRE(torch::allclose(g_fused[i], g_ref[i], 1e-10, 1e-12));
      }
      torch::NoGradGuard no_grad;  // the no-grad forward is the fused one too
      REQUIRE(torch::allclose(ctrnn_unroll(x, w_in, w_rec, alpha, act), ref, 1e-12, 1e-12));
    }
  }
}
