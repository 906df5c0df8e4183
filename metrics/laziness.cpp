// metrics/laziness.cpp: alignment, sign similarity and the tangent kernel.
#include <richlazy/metrics/laziness.h>

#include <richlazy/core/member_matmul.h>

#include <torch/torch.h>

#include <cmath>

namespace richlazy::metrics {

double frobenius_cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return member_cosine(a.unsqueeze(0), b.unsqueeze(0)).item<double>();
}

torch::Tensor member_cosine(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor x = a.detach().to(torch::kDouble).flatten(1),
                      y = b.detach().to(torch::kDouble).flatten(1);
  return (x * y).sum(1) / (x.norm(2, 1) * y.norm(2, 1));
}

torch::Tensor representation_kernel(const torch::Tensor& hidden) {
  return member_mm(hidden, hidden.transpose(1, 2));
}

torch::Tensor sign_similarity(const torch::Tensor& before, const torch::Tensor& after,
                              int64_t member_dim) {
  return torch::sign(before)
      .eq(torch::sign(after))
      .movedim(member_dim, 0)
      .flatten(1)
      .to(torch::kDouble)
      .mean(1);
}

torch::Tensor tangent_kernel(const models::KernelFactors& f) {
  torch::NoGradGuard no_grad;
  // errors [T, E, S, O, B, N], activity [T, E, B, N]
  const int64_t T = f.errors.size(0), E = f.errors.size(1), S = f.errors.size(2),
                O = f.errors.size(3), B = f.errors.size(4), N = f.errors.size(5);
  const int64_t per_step = B * O;  // rows of one output step
  torch::Tensor kernel = torch::zeros({E, S * per_step, S * per_step}, f.errors.options());

  // Rows are (i, b, k) with output step t = steps[i]; the error at step s is zero for t < s,
  // so the rows that see step s are the suffix of output steps >= s.
  std::vector<int64_t> first(T, S);
  std::vector<torch::Tensor> errors(T);
  std::vector<bool> active(T, false);
  // A step counts when any member's activity there is not zero (NaN is "not zero": one
  // diverged member must not switch a step off for the others).
  const torch::Tensor any_activity = f.activity.ne(0).reshape({T, -1}).any(1).to(torch::kCPU);
  for (int64_t s = 0; s < T; ++s) {
    for (int64_t i = 0; i < S; ++i) {
      if (f.steps[i] >= s) {
        first[s] = i;
        break;
      }
    }
    active[s] = first[s] < S && any_activity[s].item<bool>();
    if (!active[s]) continue;  // no row sees step s, or W multiplies zero there (h_{-1} = 0)
    // [E, S', O, B, N] -> (i, b, k) rows of each member: [E, S' * B * O, N]
    errors[s] = f.errors[s].slice(1, first[s]).permute({0, 1, 3, 2, 4}).reshape({E, -1, N});
  }
  // Gram matrices of the activities of every (step, trial): [E, T*B, T*B].
  const torch::Tensor a = models::member_rows(f.activity);
  const torch::Tensor gram_a = member_mm(a, a.transpose(1, 2));

  for (int64_t s = 0; s < T; ++s) {
    if (!active[s]) continue;
    for (int64_t s2 = s; s2 < T; ++s2) {
      if (!active[s2]) continue;
      // K[r, r'] += <e_s^r, e_s2^r'> <a_s^b(r), a_s2^b(r')>, for the rows seeing s and s2.
      torch::Tensor block = member_mm(errors[s], errors[s2].transpose(1, 2));
      const int64_t rows = S - first[s], cols = S - first[s2];
      const torch::Tensor g = gram_a.slice(1, s * B, (s + 1) * B).slice(2, s2 * B, (s2 + 1) * B);
      block.view({E, rows, B, O, cols, B, O}).mul_(g.reshape({E, 1, B, 1, 1, B, 1}));
      kernel.slice(1, first[s] * per_step).slice(2, first[s2] * per_step).add_(block);
      if (s2 != s) {
        kernel.slice(1, first[s2] * per_step).slice(2, first[s] * per_step).add_(block.transpose(1, 2));
      }
    }
  }
  return kernel.mul_(f.scale * f.scale);
}

torch::Tensor tangent_kernel_bruteforce(models::Model& model, const std::string& param,
                                        const torch::Tensor& inputs,
                                        const std::vector<int64_t>& steps) {
  torch::AutoGradMode enable(true);
  const torch::Tensor w = model.weight(param);
  const torch::Tensor logits = model.forward(inputs).logits;  // [T, E, B, O]
  const int64_t E = logits.size(1), B = logits.size(2), O = logits.size(3);
  const int64_t rows = static_cast<int64_t>(steps.size()) * B * O;
  torch::Tensor kernel = torch::empty({E, rows, rows}, w.options());
  for (int64_t e = 0; e < E; ++e) {
    torch::Tensor jacobian = torch::empty({rows, w[e].numel()}, w.options());
    int64_t row = 0;
    for (const int64_t t : steps) {
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t k = 0; k < O; ++k) {
          // Members never interact, so the gradient of member e's logit lives in w[e].
          const auto grad = torch::autograd::grad({logits.index({t, e, b, k})}, {w}, {},
                                                  /*retain_graph=*/true);
          jacobian[row++].copy_(grad[0][e].reshape({-1}));
        }
      }
    }
    torch::NoGradGuard no_grad;
    kernel[e].copy_(torch::matmul(jacobian, jacobian.t()));
  }
  return kernel;
}

torch::Tensor tangent_kernel(models::Model& model, const std::string& param,
                             const torch::Tensor& inputs, const std::vector<int64_t>& steps) {
  if (auto factors = model.kernel_factors(param, inputs, steps)) return tangent_kernel(*factors);
  return tangent_kernel_bruteforce(model, param, inputs, steps);
}

}  // namespace richlazy::metrics
