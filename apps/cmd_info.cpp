// apps/cmd_info.cpp: `richlazy info`: what this build runs on.
#include <richlazy/apps/commands.h>

#include <richlazy/core/blas_check.h>
#include <richlazy/core/device.h>
#include <richlazy/train/summary.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdio>
#include <thread>

namespace richlazy::apps {

int command_info() {
  const auto line = [](const char* label, const std::string& value) { return fmt::format("{:<16}{}\n", label, value); };
  std::string out = line("version", train::version_string());
  out += line("built with CUDA", built_with_cuda() ? "yes" : "no (a CPU-only LibTorch)");
  const std::vector<std::string> devices = cuda_device_descriptions();
  out += line("CUDA available", cuda_available() ? fmt::format("yes, {} device{}", devices.size(), devices.size() == 1 ? "" : "s")
                                                 : std::string("no (device: auto trains on the CPU)"));
  for (const auto& d : devices) out += "  device " + d + "\n";
  const BlasReport blas = check_blas();
  out += line("CPU BLAS", fmt::format("{} ({:.0f} GFLOP/s on one thread{})",
                                      blas.library.empty() ? std::string("inside LibTorch") : blas.library, blas.gflops,
                                      blas.slow ? ", slow" : ""));
  out += line("CPU cores", fmt::format("{} (a run's packs use --threads T threads each, default 1)",
                                       std::thread::hardware_concurrency()));
  std::fputs(out.c_str(), stdout);
  if (blas.slow) std::fprintf(stderr, "richlazy: %s\n", blas_warning(blas).c_str());
  return 0;
}

}  // namespace richlazy::apps
