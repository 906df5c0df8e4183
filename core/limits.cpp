// core/limits.cpp: size and memory checks before allocation.
#include <richlazy/core/limits.h>

#include <richlazy/core/config_error.h>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

namespace richlazy {

double physical_memory_bytes() {
  if (const char* env = std::getenv("RICHLAZY_MEMORY_LIMIT_GB")) {
    char* end = nullptr;
    const double gb = std::strtod(env, &end);
    if (end != env && gb > 0) return gb * 1024.0 * 1024.0 * 1024.0;
  }
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<double>(pages) * static_cast<double>(page);
}

std::string memory_shortfall(double bytes) {
  const double have = physical_memory_bytes();
  if (have <= 0 || bytes <= have) return "";
  auto size = [](double b) {
    constexpr double kMiB = 1024.0 * 1024.0;
    return b < 1024.0 * kMiB ? fmt::format("{:.0f} MiB", b / kMiB) : fmt::format("{:.1f} GiB", b / kMiB / 1024.0);
  };
  return fmt::format("needs {} of memory, more than this machine's {}", size(bytes), size(have));
}

void require_memory(double bytes, const std::string& what) {
  const std::string shortfall = memory_shortfall(bytes);
  if (!shortfall.empty()) throw ConfigError(what + " " + shortfall);
}

}  // namespace richlazy
