// metrics/laziness.cpp: alignment, sign similarity and the tangent kernel.
#include <richlazy/metrics/laziness.h>

#include <torch/torch.h>

#include <cmath>

namespace richlazy::metrics {

double frobenius_cosine(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor x = a.detach().to(torch::kDouble), y = b.detach().to(torch::kDouble);
  return ((x * y).sum() / (x.norm() * y.norm())).item<double>();
}

torch::Tensor representation_kernel(const torch::Tensor& hidden) {
  return torch::matmul(hidden, hidden.t());
}

double sign_similarity(const torch::Tensor& before, const torch::Tensor& after) {
  return torch::sign(before).eq(torch::sign(after)).to(torch::kDouble).mean().item<double>();
}

torch::Tensor tangent_kernel(const models::KernelFactors& f) {
  torch::NoGradGuard no_grad;
  const int64_t S = f.errors.size(0), O = f.errors.size(1), T = f.errors.size(2),
                B = f.errors.size(3), N = f.errors.size(4);
  const int64_t per_step = B * O;  // rows of one output step
  torch::Tensor kernel = torch::zeros({S * per_step, S * per_step}, f.errors.options());

  // Rows are (i, b, k) with output step t = steps[i]; the error at step s is zero for t < s,
  // so the rows that see step s are the suffix of output steps >= s.
  std::vector<int64_t> first(T, S);
  std::vector<torch::Tensor> errors(T);
  std::vector<bool> active(T, false);
  const torch::Tensor activity_norms = f.activity.reshape({T, -1}).norm(2, 1).to(torch::kCPU);
  for (int64_t s = 0; s < T; ++s) {
    for (int64_t i = 0; i < S; ++i) {
      if (f.steps[i] >= s) {
        first[s] = i;
        break;
      }
    }
    active[s] = first[s] < S && activity_norms[s].item<double>() > 0;
    if (!active[s]) continue;  // no row sees step s, or W multiplies zero there (h_{-1} = 0)
    // [S', O, B, N] -> (i, b, k) rows: [S' * B * O, N]
    errors[s] = f.errors.slice(0, first[s]).select(2, s).permute({0, 2, 1, 3}).reshape({-1, N});
  }
  // Gram matrix of the activities of every (step, trial): [T*B, T*B].
  const torch::Tensor a = f.activity.reshape({T * B, N});
  const torch::Tensor gram_a = torch::matmul(a, a.t());

  for (int64_t s = 0; s < T; ++s) {
    if (!active[s]) continue;
    for (int64_t s2 = s; s2 < T; ++s2) {
      if (!active[s2]) continue;
      // K[r, r'] += <e_s^r, e_s2^r'> <a_s^b(r), a_s2^b(r')>, for the rows seeing s and s2.
      torch::Tensor block = torch::matmul(errors[s], errors[s2].t());
      const int64_t rows = S - first[s], cols = S - first[s2];
      const torch::Tensor g = gram_a.slice(0, s * B, (s + 1) * B).slice(1, s2 * B, (s2 + 1) * B);
      block.view({rows, B, O, cols, B, O}).mul_(g.view({1, B, 1, 1, B, 1}));
      kernel.slice(0, first[s] * per_step).slice(1, first[s2] * per_step).add_(block);
      if (s2 != s) kernel.slice(0, first[s2] * per_step).slice(1, first[s] * per_step).add_(block.t());
    }
  }
  return kernel.mul_(f.scale * f.scale);
}

torch::Tensor tangent_kernel_bruteforce(models::Model& model, const std::string& param,
                                        const torch::Tensor& inputs,
                                        const std::vector<int64_t>& steps) {
  torch::AutoGradMode enable(true);
  const torch::Tensor w = model.weight(param);
  const torch::Tensor logits = model.forward(inputs).logits;  // [T, B, O]
  const int64_t B = logits.size(1), O = logits.size(2);
  torch::Tensor jacobian =
      torch::empty({static_cast<int64_t>(steps.size()) * B * O, w.numel()}, w.options());
  int64_t row = 0;
  for (const int64_t t : steps) {
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t k = 0; k < O; ++k) {
        const auto grad = torch::autograd::grad({logits.index({t, b, k})}, {w}, {},
                                                /*retain_graph=*/true);
        jacobian[row++].copy_(grad[0].reshape({-1}));
      }
    }
  }
  torch::NoGradGuard no_grad;
  return torch::matmul(jacobian, jacobian.t());
}

torch::Tensor tangent_kernel(models::Model& model, const std::string& param,
                             const torch::Tensor& inputs, const std::vector<int64_t>& steps) {
  if (auto factors = model.kernel_factors(param, inputs, steps)) return tangent_kernel(*factors);
  return tangent_kernel_bruteforce(model, param, inputs, steps);
}

}  // namespace richlazy::metrics
