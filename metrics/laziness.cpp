// metrics/laziness.cpp: alignment, sign similarity and the tangent kernel.
#include <richlazy/metrics/laziness.h>

#include <richlazy/core/member_matmul.h>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

namespace richlazy::metrics {

double frobenius_cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return member_cosine(a.unsqueeze(0), b.unsqueeze(0)).item<double>();
}

torch::Tensor member_cosine(const torch::Tensor& a, const torch::Tensor& b) {
  // One member at a time: the float64 copies of a pack's kernels (R^2 entries each) would
  // otherwise all be alive at once.
  const int64_t E = a.size(0);
  torch::Tensor out = torch::empty({E}, a.options().dtype(torch::kDouble));
  for (int64_t e = 0; e < E; ++e) {
    const torch::Tensor x = a[e].detach().to(torch::kDouble), y = b[e].detach().to(torch::kDouble);
    out[e] = (x * y).sum() / (x.norm() * y.norm());
  }
  return out;
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
    // No row sees step s, or W multiplies zero there (h_{-1} = 0).
    active[s] = first[s] < S && any_activity[s].item<bool>();
  }
  const torch::Tensor activity_rows = models::member_rows(f.activity);  // [E, T*B, N]

  // On the CPU a few members at a time, so that a chunk's errors and a step pair's block (up
  // to R x R per member) stay cache-sized (measured: 10-35% faster than whole packs at 2,304
  // rows); on a GPU all members at once.
  const int64_t R = S * per_step;
  const int64_t chunk = f.errors.device().is_cpu() ? std::max<int64_t>(1, (int64_t{16} << 20) / (4 * R * R)) : E;
  std::vector<torch::Tensor> errors(T);
  for (int64_t c0 = 0; c0 < E; c0 += chunk) {
    const int64_t c = std::min(chunk, E - c0);
    for (int64_t s = 0; s < T; ++s) {
      // [c, S', O, B, N] -> (i, b, k) rows of each member: [c, S' * B * O, N]
      if (active[s]) {
        errors[s] = f.errors[s].narrow(0, c0, c).slice(1, first[s]).permute({0, 1, 3, 2, 4}).reshape({c, -1, N});
      }
    }
    // Gram matrices of the activities of every (step, trial): [c, T*B, T*B].
    const torch::Tensor a = activity_rows.narrow(0, c0, c);
    const torch::Tensor gram_a = member_mm(a, a.transpose(1, 2));
    const torch::Tensor k = kernel.narrow(0, c0, c);
    for (int64_t s = 0; s < T; ++s) {
      if (!active[s]) continue;
      for (int64_t s2 = s; s2 < T; ++s2) {
        if (!active[s2]) continue;
        // K[r, r'] += <e_s^r, e_s2^r'> <a_s^b(r), a_s2^b(r')>, for the rows seeing s and s2.
        torch::Tensor block = member_mm(errors[s], errors[s2].transpose(1, 2));
        const int64_t rows = S - first[s], cols = S - first[s2];
        const torch::Tensor g = gram_a.slice(1, s * B, (s + 1) * B).slice(2, s2 * B, (s2 + 1) * B);
        block.view({c, rows, B, O, cols, B, O}).mul_(g.reshape({c, 1, B, 1, 1, B, 1}));
        k.slice(1, first[s] * per_step).slice(2, first[s2] * per_step).add_(block);
        if (s2 != s) k.slice(1, first[s2] * per_step).slice(2, first[s] * per_step).add_(block.transpose(1, 2));
      }
    }
  }
  return kernel.mul_(f.scale * f.scale);
}

torch::Tensor tangent_cross_kernel(const models::KernelFactors& a, const models::KernelFactors& b) {
  torch::NoGradGuard no_grad;
  // errors [T, E, S, O, B, N] -> per step s, rows (i, b, k): [E, S * B * O, N]
  auto rows = [](const torch::Tensor& errors, int64_t s) {
    const torch::Tensor e = errors[s];  // [E, S, O, B, N]
    return e.permute({0, 1, 3, 2, 4}).reshape({e.size(0), -1, e.size(4)});
  };
  const int64_t E = a.errors.size(1);
  const int64_t Sa = a.errors.size(2), Oa = a.errors.size(3), Ba = a.errors.size(4);
  const int64_t Sb = b.errors.size(2), Ob = b.errors.size(3), Bb = b.errors.size(4);
  torch::Tensor kernel = torch::zeros({E, Sa * Ba * Oa, Sb * Bb * Ob}, a.errors.options().dtype(torch::kDouble));
  const torch::Tensor view = kernel.view({E, Sa, Ba, Oa, Sb, Bb, Ob});
  for (int64_t s = 0; s < a.errors.size(0); ++s) {
    const torch::Tensor act_a = a.activity[s];  // [E, Ba, N]
    if (!act_a.ne(0).any().item<bool>()) continue;  // W multiplies zero there (h_{-1} = 0)
    const torch::Tensor err_a = rows(a.errors, s);
    for (int64_t s2 = 0; s2 < b.errors.size(0); ++s2) {
      const torch::Tensor act_b = b.activity[s2];
      if (!act_b.ne(0).any().item<bool>()) continue;
      // K[r, r'] += <e_s^r, e_s2^r'> <a_s^b(r), a_s2^b(r')>
      const torch::Tensor errors = member_mm(err_a, rows(b.errors, s2).transpose(1, 2)).to(torch::kDouble);
      const torch::Tensor activity = member_mm(act_a, act_b.transpose(1, 2)).to(torch::kDouble);  // [E, Ba, Bb]
      view.add_(errors.view({E, Sa, Ba, Oa, Sb, Bb, Ob}) * activity.view({E, 1, Ba, 1, 1, Bb, 1}));
    }
  }
  return kernel.mul_(a.scale * b.scale);
}

torch::Tensor kernel_overlap(const models::KernelFactors& a, const models::KernelFactors& b) {
  const torch::Tensor cross = tangent_cross_kernel(a, b);
  const torch::Tensor ka = tangent_kernel(a).to(torch::kDouble), kb = tangent_kernel(b).to(torch::kDouble);
  auto norm = [](const torch::Tensor& k) { return k.flatten(1).norm(2, 1); };
  const torch::Tensor n = cross.flatten(1).norm(2, 1);
  const torch::Tensor denominator = norm(ka) * norm(kb);
  // NaN (not -NaN, as 0/0 gives) where either kernel is zero.
  return torch::where(denominator > 0, n * n / denominator, torch::full_like(denominator, std::nan("")));
}

torch::Tensor tangent_kernel_bruteforce(models::Model& model, const std::string& param,
                                        const torch::Tensor& inputs,
                                        const std::vector<int64_t>& steps) {
  torch::AutoGradMode enable(true);
  const torch::Tensor w = model.weight(param);
  const torch::Tensor logits = model.forward(inputs).logits;  // [T, E, B, O]
  const int64_t E = logits.size(1), B = logits.size(2), O = logits.size(3);
  const int64_t rows = static_cast<int64_t>(steps.size()) * B * O;
  torch::Tensor jacobian = torch::empty({E, rows, w[0].numel()}, w.options());
  int64_t row = 0;
  for (const int64_t t : steps) {
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t k = 0; k < O; ++k) {
        // Members never interact, so one backward pass of the sum over members gives every
        // member's gradient of its own logit, in its own slice of w.
        const auto grad = torch::autograd::grad({logits.index({t, torch::indexing::Slice(), b, k}).sum()}, {w},
                                                {}, /*retain_graph=*/true);
        jacobian.select(1, row++).copy_(grad[0].reshape({E, -1}));
      }
    }
  }
  torch::NoGradGuard no_grad;
  return torch::bmm(jacobian, jacobian.transpose(1, 2));
}

torch::Tensor tangent_kernel(models::Model& model, const std::string& param,
                             const torch::Tensor& inputs, const std::vector<int64_t>& steps) {
  if (auto factors = model.kernel_factors(param, inputs, steps)) return tangent_kernel(*factors);
  return tangent_kernel_bruteforce(model, param, inputs, steps);
}

}  // namespace richlazy::metrics

namespace richlazy::metrics {

torch::Tensor population_kernel(const models::Model& model, const std::vector<std::string>& params) {
  torch::Tensor k;
  for (const auto& param : params) {
    const std::optional<torch::Tensor> kp = model.population_kernel(param);
    if (!kp) throw std::logic_error("the model has no population kernel for " + param);
    k = k.defined() ? k + *kp : *kp;
  }
  return k;
}

torch::Tensor kernel_task_alignment(const torch::Tensor& kernels, const torch::Tensor& targets, bool centred,
                                    bool frobenius) {
  // One member at a time, in float64, as member_cosine does.
  const int64_t E = kernels.size(0);
  torch::Tensor out = torch::empty({E}, kernels.options().dtype(torch::kDouble));
  for (int64_t e = 0; e < E; ++e) {
    torch::Tensor k = kernels[e].detach().to(torch::kDouble);
    torch::Tensor y = targets[e].detach().to(k.device(), torch::kDouble);
    torch::Tensor scale;
    if (centred) {
      // y^T H K H y = yc^T K yc with yc = H y; tr(H K H) = tr K - 1^T K 1 / R.
      y = y - y.mean();
      if (frobenius) {
        k = k - k.mean(0, true) - k.mean(1, true) + k.mean();  // H K H
      } else {
        scale = k.diagonal().sum() - k.sum() / static_cast<double>(k.size(0));
      }
    }
    if (!scale.defined()) scale = frobenius ? k.norm() : k.diagonal().sum();
    out[e] = torch::matmul(y, torch::matmul(k, y)) / (y.dot(y) * scale);
  }
  return out;
}

torch::Tensor kernel_targets(const torch::Tensor& targets, const std::vector<int64_t>& steps, int64_t outputs) {
  const torch::Tensor index = torch::tensor(steps, torch::TensorOptions().dtype(torch::kLong)).to(targets.device());
  const torch::Tensor t = targets.index_select(0, index);  // [S, E, B] or [S, E, B, O]
  torch::Tensor y;
  if (t.dim() == 3) {
    y = torch::one_hot(t, outputs).to(torch::kDouble);  // [S, E, B, O]
  } else {
    y = t.to(torch::kDouble);
  }
  // Rows (step, trial, output) of each member: [E, S * B * O].
  return y.permute({1, 0, 2, 3}).reshape({y.size(1), -1});
}

}  // namespace richlazy::metrics
