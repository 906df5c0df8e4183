// tests/train/optimizer_test.cpp: the pack optimizers against torch.optim, member by member,
// and the mask that freezes a diverged member.
#include "../test_common.h"

#include <richlazy/train/optimizer.h>

#include <cmath>

using namespace richlazy;

namespace {
/// Runs `steps` updates of a pack of E members (member e with `specs[e]`) and of each member
/// alone with `reference(e, params)`, on the same gradients; returns the largest difference
/// relative to the weights' scale.
template <class Reference>
double pack_vs_torch(const std::vector<std::string>& specs, int steps, const Reference& reference) {
  torch::manual_seed(21);
  const int64_t E = static_cast<int64_t>(specs.size());
  // Two parameters of different shapes, as [E, ...] tensors, and their per-step gradients.
  std::vector<torch::Tensor> pack{torch::randn({E, 5, 4}).requires_grad_(), torch::randn({E, 3}).requires_grad_()};
  std::vector<torch::Tensor> initial;
  for (const auto& p : pack) initial.push_back(p.detach().clone());
  std::vector<std::vector<torch::Tensor>> grads;
  for (int s = 0; s < steps; ++s) grads.push_back({torch::randn({E, 5, 4}), torch::randn({E, 3})});
  std::vector<std::unique_ptr<train::OptimizerBuilder>> builders;
  std::vector<const train::OptimizerBuilder*> members;
  for (const auto& spec : specs) {
    builders.push_back(testing::make_optimizer(spec));
    members.push_back(builders.back().get());
  }
  // Member alone: leaf copies of its slices, updated by torch.optim.
  std::vector<std::vector<torch::Tensor>> alone(E);
  for (int64_t e = 0; e < E; ++e) {
    for (const auto& p : pack) alone[e].push_back(p.detach()[e].clone().requires_grad_());
  }
  const auto optimizer = members.front()->make(pack, members);
  std::vector<std::unique_ptr<torch::optim::Optimizer>> torch_opts;
  for (int64_t e = 0; e < E; ++e) torch_opts.push_back(reference(e, alone[e]));
  const torch::Tensor all = torch::ones({E}, torch::kBool);
  for (int s = 0; s < steps; ++s) {
    optimizer->zero_grad();
    for (std::size_t i = 0; i < pack.size(); ++i) pack[i].mutable_grad() = grads[s][i].clone();
    optimizer->step(all);
    for (int64_t e = 0; e < E; ++e) {
      torch_opts[e]->zero_grad();
      for (std::size_t i = 0; i < pack.size(); ++i) alone[e][i].mutable_grad() = grads[s][i][e].clone();
      torch_opts[e]->step();
    }
  }
  double worst = 0;
  for (int64_t e = 0; e < E; ++e) {
    for (std::size_t i = 0; i < pack.size(); ++i) {
      const torch::Tensor a = pack[i].detach()[e], b = alone[e][i].detach();
      REQUIRE((b - initial[i][e]).abs().max().item<double>() > 1e-3);  // it moved
      worst = std::max(worst, (a - b).abs().max().item<double>() / b.abs().max().item<double>());
    }
  }
  return worst;
}
}  // namespace

TEST_CASE("SGD on a pack follows torch.optim.SGD for each member's own hyperparameters", "[train]") {
  const std::vector<std::string> specs{"{name: sgd}", "{name: sgd, lr: 0.1, momentum: 0}",
                                       "{name: sgd, lr: 0.05, momentum: 0.5, weight_decay: 0.01}",
                                       "{name: sgd, lr: 0.02, momentum: 0.9, nesterov: true}"};
  const double diff = pack_vs_torch(specs, 6, [](int64_t e, const std::vector<torch::Tensor>& p) {
    const std::vector<torch::optim::SGDOptions> options{
        torch::optim::SGDOptions(0.003).momentum(0.9), torch::optim::SGDOptions(0.1),
        torch::optim::SGDOptions(0.05).momentum(0.5).weight_decay(0.01),
        torch::optim::SGDOptions(0.02).momentum(0.9).nesterov(true)};
    return std::make_unique<torch::optim::SGD>(p, options[e]);
  });
  REQUIRE(diff < 1e-6);
}

TEST_CASE("Adam on a pack follows torch.optim.Adam for each member's own hyperparameters", "[train]") {
  const std::vector<std::string> specs{"{name: adam}", "{name: adam, lr: 0.01, beta1: 0.5, beta2: 0.9}",
                                       "{name: adam, lr: 0.003, eps: 0.001, weight_decay: 0.1}"};
  const double diff = pack_vs_torch(specs, 6, [](int64_t e, const std::vector<torch::Tensor>& p) {
    const std::vector<torch::optim::AdamOptions> options{
        torch::optim::AdamOptions(0.001), torch::optim::AdamOptions(0.01).betas({0.5, 0.9}),
        torch::optim::AdamOptions(0.003).eps(0.001).weight_decay(0.1)};
    return std::make_unique<torch::optim::Adam>(p, options[e]);
  });
  REQUIRE(diff < 1e-5);
}

TEST_CASE("a frozen member keeps its weights exactly, even under non-finite gradients", "[train]") {
  for (const char* spec : {"{name: sgd}", "{name: adam}"}) {
    INFO(spec);
    torch::manual_seed(5);
    torch::Tensor w = torch::randn({3, 4, 4}).requires_grad_();
    torch::Tensor twin = w.detach().clone().requires_grad_();
    const auto b = testing::make_optimizer(spec);
    const auto masked = b->make({w}, {b.get(), b.get(), b.get()});
    const auto plain = b->make({twin}, {b.get(), b.get(), b.get()});
    const torch::Tensor before = w.detach().clone();
    const torch::Tensor active = torch::tensor({true, false, true});
    for (int s = 0; s < 3; ++s) {
      torch::Tensor g = torch::randn({3, 4, 4});
      g[1] = std::nan("");  // the frozen member's gradient is not finite
      if (s == 1) g[1][0][0] = INFINITY;
      w.mutable_grad() = g.clone();
      twin.mutable_grad() = g.clone();
      masked->step(active);
      plain->step(torch::ones({3}, torch::kBool));
    }
    REQUIRE(torch::equal(w.detach()[1], before[1]));
    // The active members moved exactly as without a mask.
    REQUIRE(torch::equal(w.detach()[0], twin.detach()[0]));
    REQUIRE(torch::equal(w.detach()[2], twin.detach()[2]));
    REQUIRE_FALSE(torch::equal(w.detach()[0], before[0]));
  }
}
