// core/folder_lock.cpp: flock-based exclusive locks on output folders.
#include <richlazy/core/folder_lock.h>

#include <richlazy/core/config_error.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace richlazy {

namespace fs = std::filesystem;

std::string FolderLock::holder_text() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "unknown-host");
  return fmt::format("{} {}", host, static_cast<long>(getpid()));
}

FolderLock::FolderLock(std::string lock_path, const std::string& what) : path_(std::move(lock_path)) {
  const fs::path parent = fs::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  // Retried when the file was replaced between open and flock (its holder removed it on
  // release and another process made a new one): the lock must be on the file at the path.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw ConfigError(fmt::format("{}: cannot create the lock file {}: {}", what, path_, std::strerror(errno)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      std::string holder(256, '\0');
      const ssize_t n = ::pread(fd, holder.data(), holder.size() - 1, 0);
      ::close(fd);
      if (err != EWOULDBLOCK) {
        throw ConfigError(fmt::format("{}: cannot lock {}: {}", what, path_, std::strerror(err)));
      }
      holder.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      const auto space = holder.find(' ');
      const std::string who = space == std::string::npos
                                  ? std::string("another process")
                                  : fmt::format("process {} on {}", holder.substr(space + 1), holder.substr(0, space));
      throw ConfigError(fmt::format("{} is in use by {} (lock file {}); wait for it to finish, or write elsewhere "
                                    "with --out DIR",
                                    what, who, path_));
    }
    struct stat held {}, now {};
    if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      const std::string me = holder_text() + "\n";
      const bool noted =
          ::ftruncate(fd, 0) == 0 && ::pwrite(fd, me.data(), me.size(), 0) == static_cast<ssize_t>(me.size());
      (void)noted;  // without its note the lock still holds; messages then say "another process"
      fd_ = fd;
      return;
    }
    ::close(fd);
  }
  throw ConfigError(fmt::format("{}: cannot lock {}: it keeps being replaced", what, path_));
}

FolderLock::~FolderLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still holding it, so no one locks a file about to vanish
  ::close(fd_);
}

}  // namespace richlazy
