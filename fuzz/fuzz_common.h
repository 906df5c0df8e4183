// fuzz/fuzz_common.h: what the libFuzzer targets share.
// The readers under test take a path, so each input is written to a file of this process's
// own (its pid in the name, under $TMPDIR or /dev/shm) and read back through the public API.
// A fresh name per input (a counter), because load_matrix caches its results by path.
// Only richlazy::ConfigError is an expected rejection; anything else that escapes is a finding
// (libFuzzer reports the uncaught exception as a crash, with its type and message).
#pragma once

#include <richlazy/core/config_error.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#include <unistd.h>

namespace richlazy_fuzz {

inline std::string temp_dir() {
  if (const char* d = std::getenv("TMPDIR"); d != nullptr && *d != '\0') return d;
  return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

/// Writes `bytes` to a new file named after `target`, this pid and a counter, ending in
/// `extension`; removed by the destructor.
class TempFile {
 public:
  TempFile(const std::string& target, const std::string& bytes, const std::string& extension = "") {
    static unsigned long counter = 0;
    path_ = temp_dir() + "/richlazy-fuzz-" + target + "-" + std::to_string(getpid()) + "-" +
            std::to_string(counter++) + extension;
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (f == nullptr) {
      std::perror(path_.c_str());
      std::abort();
    }
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
    std::fclose(f);
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Splits `text` at lines that are exactly `delimiter` (the fuzz input's way to carry several
/// files or strings).
inline std::vector<std::string> split_at_lines(const std::string& text, const std::string& delimiter) {
  std::vector<std::string> parts(1);
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    const bool last = end == std::string::npos;
    if (last) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    if (line == delimiter) {
      parts.emplace_back();
    } else {
      parts.back() += line;
      if (!last) parts.back() += '\n';
    }
    if (last) break;
    pos = end + 1;
  }
  return parts;
}

}  // namespace richlazy_fuzz
