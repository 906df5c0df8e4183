// core/sweep_keys.cpp: swept-key names.
#include <richlazy/core/sweep_keys.h>

namespace richlazy {

std::string short_key(const std::string& key) {
  const auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

bool is_seed_key(const std::string& key) {
  const std::string last = short_key(key);
  return last.size() >= 4 && last.compare(last.size() - 4, 4, "seed") == 0;
}

}  // namespace richlazy
