// core/blas_check.cpp: BLAS throughput probe.
#include <richlazy/core/blas_check.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <dlfcn.h>
#include <link.h>

namespace richlazy {

namespace {
int find_blas(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  const std::string name = info->dlpi_name ? info->dlpi_name : "";
  const auto slash = name.rfind('/');
  const std::string base = name.substr(slash == std::string::npos ? 0 : slash + 1);
  if (base.rfind("libblas", 0) == 0 || base.rfind("libopenblas", 0) == 0 ||
      base.rfind("libmkl", 0) == 0 || base.rfind("libblis", 0) == 0) {
    char resolved[PATH_MAX];
    *out = ::realpath(name.c_str(), resolved) ? resolved : name;
    return 1;
  }
  return 0;
}
}  // namespace

BlasReport check_blas() {
  BlasReport r;
  dl_iterate_phdr(find_blas, &r.library);
  r.reference = r.library.find("/blas/libblas") != std::string::npos;

  // Measured with one thread, as runs compute, and as the fastest of many single products,
  // so that another busy process (a parallel test, a second run) cannot fake a slow BLAS.
  const int blas_threads = set_blas_threads(1);
  // LibTorch's own pool too: a LibTorch with MKL inside (PyPI's) sizes MKL's threads by it, and
  // a product spread over busy cores looked like a slow BLAS.
  const int torch_threads = at::get_num_threads();
  at::set_num_threads(1);
  torch::NoGradGuard no_grad;
  const auto a = torch::ones({32, 300});
  const auto b = torch::ones({300, 300});
  auto c = torch::matmul(a, b);  // warm-up: first touch, thread pools
  double best = 1e9;
  const auto start = std::chrono::steady_clock::now();
  for (int rep = 0; rep < 200; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    c = torch::matmul(a, b);
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
    if (std::chrono::duration<double>(t1 - start).count() > 0.05) break;
  }
  if (blas_threads > 0) set_blas_threads(blas_threads);
  at::set_num_threads(torch_threads);
  r.gflops = 2.0 * 32 * 300 * 300 / best / 1e9;
  r.slow = r.reference || r.gflops < kSlowBlasGflops;
  return r;
}

std::string blas_warning(const BlasReport& r) {
  if (!r.slow) return "";
  std::string why = r.reference ? fmt::format("the netlib reference BLAS is loaded ({})", r.library)
                                : fmt::format("matrix products are slow ({})",
                                              r.library.empty() ? "BLAS library unknown" : r.library);
  return fmt::format(
      "warning: slow BLAS: a [32,300]x[300,300] float32 product ran at {:.1f} GFLOP/s; {}. "
      "Training will be many times slower than it should. Install OpenBLAS "
      "(apt-get install libopenblas0-pthread) so that LibTorch uses it.",
      r.gflops, why);
}

int set_blas_threads(int threads) {
  using GetFn = int (*)();
  using SetFn = void (*)(int);
  auto get = reinterpret_cast<GetFn>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  auto set = reinterpret_cast<SetFn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (!get || !set) return -1;
  const int previous = get();
  set(threads);
  return previous;
}

}  // namespace richlazy
