// core/blas_check.cpp: BLAS throughput probe.
#include <richlazy/core/blas_check.h>

#include <fmt/format.h>
#include <torch/torch.h>

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

  torch::NoGradGuard no_grad;
  const auto a = torch::ones({32, 300});
  const auto b = torch::ones({300, 300});
  auto c = torch::matmul(a, b);  // warm-up: thread pools, first-touch
  c = torch::matmul(a, b);
  const double flops = 2.0 * 32 * 300 * 300;
  int reps = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (reps < 200 && elapsed < 0.03) {
    c = torch::matmul(a, b);
    ++reps;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  r.gflops = flops * reps / elapsed / 1e9;
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
