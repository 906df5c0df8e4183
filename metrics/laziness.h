// richlazy/metrics/laziness.h: the measures of PAPER.md section 5, as plain functions.
// The metric hooks (rep_alignment, kernel_alignment, sign_similarity, ...) call these; tests
// and benchmarks call them directly. Functions on stacks take the member axis first and
// measure each member on its own.
#pragma once

#include <richlazy/models/model.h>

#include <string>
#include <vector>

namespace richlazy::metrics {

/// <A, B>_F / (||A||_F ||B||_F), computed in float64. NaN when either is zero.
double frobenius_cosine(const torch::Tensor& a, const torch::Tensor& b);

/// The same for each member of two stacks [E, ...]: [E] float64.
torch::Tensor member_cosine(const torch::Tensor& a, const torch::Tensor& b);

/// Representation kernels K_R = H H^T of hidden states H [E, P, N]: [E, P, P].
torch::Tensor representation_kernel(const torch::Tensor& hidden);

/// Fraction of entries whose sign (-1, 0, +1) is the same in `before` and `after`, per member
/// of stacks [..., E, ...] with the member axis at `member_dim`: [E] float64.
torch::Tensor sign_similarity(const torch::Tensor& before, const torch::Tensor& after,
                              int64_t member_dim = 0);

/// The empirical tangent kernel K = J J^T of every member from its factors, [E, R, R], rows
/// ordered (step, trial, class) like the reference's loops. Built block by block from batched
/// Gram matrices of the errors at steps s, s' and of the activities at s, s', never forming
/// the Jacobian.
torch::Tensor tangent_kernel(const models::KernelFactors& factors);

/// The same kernels by definition: one backward pass per logit y[t, ., b, k] (t in `steps`,
/// all trials of `inputs` [T, E, B, n_in], all classes; one pass serves every member) into a
/// preallocated Jacobian [E, R, numel of one member's param], then J J^T. The reference's
/// method; slow, for tests, benchmarks and models without factors.
torch::Tensor tangent_kernel_bruteforce(models::Model& model, const std::string& param,
                                        const torch::Tensor& inputs,
                                        const std::vector<int64_t>& steps);

/// The fast kernels when the model provides factors, the brute-force ones otherwise.
torch::Tensor tangent_kernel(models::Model& model, const std::string& param,
                             const torch::Tensor& inputs, const std::vector<int64_t>& steps);

/// The cross kernel K_AB = J_A J_B^T of every member between two sets of factors of the same
/// parameter (e.g. two tasks' probe trials, each through its own readout head), [E, R_A, R_B]
/// float64, rows ordered as tangent_kernel orders them; tangent_cross_kernel(f, f) is
/// tangent_kernel(f). By blocks of step pairs, without the Jacobians.
torch::Tensor tangent_cross_kernel(const models::KernelFactors& a, const models::KernelFactors& b);
/// The overlap of two kernels' tangent spaces, ||K_AB||_F^2 / (||K_AA||_F ||K_BB||_F) per
/// member ([E] float64): the cosine between the parameter-space operators J_A^T J_A and
/// J_B^T J_B, in [0, 1]; 1 when both sets of trials move the parameter in the same directions,
/// 0 when the gradients of one are orthogonal to those of the other (kernel_overlap).
torch::Tensor kernel_overlap(const models::KernelFactors& a, const models::KernelFactors& b);
/// Kernel-task alignment of each member: y^T K y / (||y||^2 tr K) for kernels K [E, R, R]
/// and targets y [E, R], in float64 ([E]). In [0, 1] for a positive semi-definite K: the
/// fraction of the kernel's trace along the targets. `centred`: the same with K and y centred
/// over the rows (H K H and H y, H = I - 1 1^T / R), which discounts the common mode.
/// `frobenius`: divided by ||K||_F instead of tr K, the cosine between K and y y^T
/// (Cristianini et al. 2002's kernel-target alignment). NaN where y or the norm of K is zero.
torch::Tensor kernel_task_alignment(const torch::Tensor& kernels, const torch::Tensor& targets,
                                    bool centred = false, bool frobenius = false);

/// The population tangent kernel of `model` w.r.t. the sum over `params`
/// (Model::population_kernel), [E, O d, O d] float64; throws std::logic_error when the model
/// has none.
torch::Tensor population_kernel(const models::Model& model, const std::vector<std::string>& params);

/// The target vector y of a tangent kernel's rows (step i of `steps`, trial b, output k, as
/// tangent_kernel orders them) for trials `targets` in the member layout: one-hot class
/// labels [T, E, B] (classification) or values [T, E, B, O] (regression): [E, R] float64.
torch::Tensor kernel_targets(const torch::Tensor& targets, const std::vector<int64_t>& steps,
                             int64_t outputs);

}  // namespace richlazy::metrics
