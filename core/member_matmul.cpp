// core/member_matmul.cpp: per-member products through the BLAS's sgemm.
#include <richlazy/core/member_matmul.h>

#include <torch/torch.h>

#include <algorithm>
#include <climits>
#include <dlfcn.h>

namespace richlazy {

namespace {
/// Fortran BLAS sgemm, column-major: C = alpha op(A) op(B) + beta C.
using SgemmFn = void (*)(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                         const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                         const float* beta, float* c, const int* ldc);

/// The sgemm LibTorch's own BLAS provides (looked up once; nullptr when the process has none
/// exported, e.g. a BLAS linked statically into LibTorch).
SgemmFn sgemm() {
  static const SgemmFn fn = reinterpret_cast<SgemmFn>(::dlsym(RTLD_DEFAULT, "sgemm_"));
  return fn;
}

/// A row-major matrix X [r, c] as BLAS sees X^T in column-major order: no copy, just the
/// transpose flag and leading dimension its strides allow. ok = false when they allow neither.
struct Operand {
  char op = 'N';
  int ld = 1;
  bool ok = false;
};

Operand transposed_operand(int64_t r, int64_t c, int64_t stride_r, int64_t stride_c) {
  Operand o;
  // Strides of size-1 dimensions are arbitrary: any leading dimension >= the minimum works.
  const bool rows_unit = c == 1 || stride_c == 1;
  const bool cols_unit = r == 1 || stride_r == 1;
  if (rows_unit && (r == 1 || stride_r >= std::max<int64_t>(1, c))) {
    // Row-major X is column-major X^T [c, r] with leading dimension stride_r.
    o.op = 'N';
    o.ld = static_cast<int>(r == 1 ? std::max<int64_t>(1, c) : stride_r);
    o.ok = stride_r <= INT_MAX;
  } else if (cols_unit && (c == 1 || stride_c >= std::max<int64_t>(1, r))) {
    // Column-major X [r, c] with leading dimension stride_c, transposed by BLAS.
    o.op = 'T';
    o.ld = static_cast<int>(c == 1 ? std::max<int64_t>(1, r) : stride_c);
    o.ok = stride_c <= INT_MAX;
  }
  return o;
}

bool fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }
}  // namespace

bool member_matmul_uses_blas(const torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b) {
  if (!sgemm()) return false;
  for (const torch::Tensor* t : {&out, &a, &b}) {
    if (!t->device().is_cpu() || t->scalar_type() != torch::kFloat || t->dim() != 3 || t->is_conj()) return false;
  }
  const int64_t m = a.size(1), k = a.size(2), n = b.size(2);
  if (!fits_int(m) || !fits_int(n) || !fits_int(k) || m == 0 || n == 0 || k == 0) return false;
  // out must be row-major so that out^T is a plain column-major matrix for BLAS.
  const Operand c = transposed_operand(m, n, out.stride(1), out.stride(2));
  return c.ok && c.op == 'N' && transposed_operand(m, k, a.stride(1), a.stride(2)).ok &&
         transposed_operand(k, n, b.stride(1), b.stride(2)).ok;
}

void member_addmm_(const torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b, double beta,
                   double alpha) {
  TORCH_CHECK(out.dim() == 3 && a.dim() == 3 && b.dim() == 3, "member_addmm_: operands must be [E, rows, cols]");
  TORCH_CHECK(a.size(0) == out.size(0) && b.size(0) == out.size(0) && a.size(1) == out.size(1) &&
                  b.size(2) == out.size(2) && a.size(2) == b.size(1),
              "member_addmm_: shapes ", out.sizes(), " = ", a.sizes(), " x ", b.sizes(), " do not match");
  if (!member_matmul_uses_blas(out, a, b)) {
    torch::Tensor o = out;
    if (beta == 0) {
      at::bmm_out(o, a, b);
      if (alpha != 1) o.mul_(alpha);
    } else {
      o.baddbmm_(a, b, beta, alpha);
    }
    return;
  }
  // Row-major C = A B is column-major C^T = B^T A^T.
  const int64_t E = out.size(0);
  const int m = static_cast<int>(out.size(1)), n = static_cast<int>(out.size(2)), k = static_cast<int>(a.size(2));
  const Operand oa = transposed_operand(m, k, a.stride(1), a.stride(2));
  const Operand ob = transposed_operand(k, n, b.stride(1), b.stride(2));
  const int ldc = static_cast<int>(m == 1 ? std::max(1, n) : out.stride(1));
  const float al = static_cast<float>(alpha), be = static_cast<float>(beta);
  const float* pa = a.data_ptr<float>();
  const float* pb = b.data_ptr<float>();
  float* pc = out.data_ptr<float>();
  const SgemmFn gemm = sgemm();
  for (int64_t e = 0; e < E; ++e) {
    gemm(&ob.op, &oa.op, &n, &m, &k, &al, pb + e * b.stride(0), &ob.ld, pa + e * a.stride(0), &oa.ld, &be,
         pc + e * out.stride(0), &ldc);
  }
}

torch::Tensor member_mm(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor out = torch::empty({a.size(0), a.size(1), b.size(2)}, a.options());
  member_addmm_(out, a, b, 0.0, 1.0);
  return out;
}

}  // namespace richlazy
