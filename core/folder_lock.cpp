// core/folder_lock.cpp: flock-based locks on output folders and runs.
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

namespace {
std::string read_note(int fd) {
  std::string note(256, '\0');
  const ssize_t n = ::pread(fd, note.data(), note.size() - 1, 0);
  note.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!note.empty() && (note.back() == '\n' || note.back() == ' ' || note.back() == '\0')) note.pop_back();
  return note;
}
}  // namespace

std::string FolderLock::holder_text() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "unknown-host");
  return fmt::format("{} {}", host, static_cast<long>(getpid()));
}

std::string FolderLock::describe_holder(const std::string& note) {
  const auto space = note.find(' ');
  if (space == std::string::npos) return "another process";
  return fmt::format("process {} on {}", note.substr(space + 1), note.substr(0, space));
}

int FolderLock::acquire(const std::string& what, Mode mode, bool wait, std::string* holder) {
  const fs::path parent = fs::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  const int op = (mode == Mode::shared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
  // Retried when the file was replaced between open and flock (an exclusive holder removed
  // it on release and another process made a new one): the lock must be on the file at the path.
  // A waiting process sees the file replaced once per holder before it: no limit then.
  for (int attempt = 0; wait || attempt < 100; ++attempt) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw ConfigError(fmt::format("{}: cannot create the lock file {}: {}", what, path_, std::strerror(errno)));
    }
    int rc;
    do {
      rc = ::flock(fd, op);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int err = errno;
      const std::string note = read_note(fd);
      ::close(fd);
      if (err != EWOULDBLOCK) {
        throw ConfigError(fmt::format("{}: cannot lock {}: {}", what, path_, std::strerror(err)));
      }
      if (holder) *holder = note;
      return 0;
    }
    struct stat held {}, now {};
    if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      // The note left by an earlier exclusive holder that never released it (killed).
      if (holder) *holder = read_note(fd);
      if (mode == Mode::exclusive) {
        const std::string me = holder_text() + "\n";
        const bool noted =
            ::ftruncate(fd, 0) == 0 && ::pwrite(fd, me.data(), me.size(), 0) == static_cast<ssize_t>(me.size());
        (void)noted;  // without its note the lock still holds; messages then say "another process"
      }
      fd_ = fd;
      mode_ = mode;
      return 1;
    }
    ::close(fd);
  }
  throw ConfigError(fmt::format("{}: cannot lock {}: it keeps being replaced", what, path_));
}

FolderLock::FolderLock(std::string lock_path, const std::string& what, Mode mode, bool wait)
    : path_(std::move(lock_path)) {
  std::string holder;
  if (acquire(what, mode, wait, &holder) == 1) return;
  throw ConfigError(fmt::format("{} is in use by {} (lock file {}); wait for it to finish, or write elsewhere "
                                "with --out DIR",
                                what, describe_holder(holder), path_));
}

std::unique_ptr<FolderLock> FolderLock::try_lock(const std::string& lock_path, std::string* previous) {
  std::unique_ptr<FolderLock> lock(new FolderLock());
  lock->path_ = lock_path;
  std::string holder;
  const int got = lock->acquire(lock_path, Mode::exclusive, false, &holder);
  if (previous) *previous = holder;
  if (got == 1) return lock;
  return nullptr;
}

FolderLock::~FolderLock() {
  if (fd_ < 0) return;
  // An exclusive holder removes the file while still holding it, so no one locks a file about
  // to vanish; shared holders leave it (others may still hold it).
  if (mode_ == Mode::exclusive) ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace richlazy
