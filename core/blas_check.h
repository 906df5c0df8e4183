// richlazy/core/blas_check.h: detects a slow BLAS at start-up.
// Debian's LibTorch uses whatever libblas.so.3 the system provides. Without OpenBLAS that is
// the netlib reference BLAS, about 20x slower for our matrix products (measured: 6 vs 140
// GFLOP/s for [32,300]x[300,300]), which turns minutes of training into hours.
#pragma once

#include <string>

namespace richlazy {

struct BlasReport {
  double gflops = 0;        ///< measured float32 throughput of a [32,300]x[300,300] product
  std::string library;      ///< path of the loaded libblas/openblas/mkl library, or ""
  bool reference = false;   ///< the library is the netlib reference BLAS
  bool slow = false;        ///< warn the user (reference BLAS or gflops below threshold)
};

/// Throughput below which richlazy warns, GFLOP/s. OpenBLAS reaches 60-130 on one core
/// here, the reference BLAS 6.
constexpr double kSlowBlasGflops = 25.0;

/// Times [32,300]x[300,300] products on one thread for at most 50 ms, keeps the fastest,
/// and inspects the loaded libraries.
BlasReport check_blas();

/// The warning text for a slow report ("" when not slow).
std::string blas_warning(const BlasReport& report);

/// Sets the thread count of the BLAS library's own pool where it has one (OpenBLAS) and
/// returns the previous count, or -1 when the loaded BLAS has no such control. Runs trained
/// in parallel need this: two OpenBLAS pools on two cores oversubscribe them (measured:
/// 4x slower than running the runs one after another).
int set_blas_threads(int threads);

}  // namespace richlazy
