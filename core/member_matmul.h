// richlazy/core/member_matmul.h: one matrix product per member of a pack.
// A pack of E networks (models/model.h) multiplies E pairs of small matrices at every step.
// ATen's bmm does that on the CPU with about 3 us of bookkeeping per member (it slices and
// re-checks each pair), more than the product itself costs for the small networks packs are
// for; on the CPU in float32 these functions call the process's BLAS sgemm directly, once per
// member, and elsewhere (GPU, float64, unusual strides) they are torch::baddbmm.
#pragma once

#include <torch/types.h>

namespace richlazy {

/// out[e] = beta * out[e] + alpha * a[e] b[e] for every member e, in place: out [E, m, n],
/// a [E, m, k], b [E, k, n]. Any of them may be a view with free batch strides, and a and b
/// may be transposed views. With beta = 0, out's old values are ignored (not multiplied).
void member_addmm_(const torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
                   double beta = 1.0, double alpha = 1.0);

/// a[e] b[e] for every member e: [E, m, n].
torch::Tensor member_mm(const torch::Tensor& a, const torch::Tensor& b);

/// Whether member_addmm_ would take the direct BLAS path for these operands (for tests and
/// benchmarks). Results agree to rounding either way; bit for bit only for operands of the
/// same layout (a BLAS may round a product with a transposed operand differently), which is
/// why callers that must give a pack's members the bits of their solo runs pass operands
/// whose layout does not depend on the number of members.
bool member_matmul_uses_blas(const torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b);

}  // namespace richlazy
