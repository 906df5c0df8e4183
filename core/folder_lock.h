// richlazy/core/folder_lock.h: locks on output folders and on the runs inside them, so that
// two processes never write the same files. A lock is an flock(2) on a lock file that names its
// holder (host and process id): the kernel releases it when the holder exits, however it
// exits, so a lock left behind by a dead process is no lock at all; the file it left (with its
// note) is taken over, and the taker is told whose it was. On NFS, Linux implements flock as a
// POSIX lock on the server, which releases a crashed client's locks when its lease expires.
#pragma once

#include <memory>
#include <string>

namespace richlazy {

class FolderLock {
 public:
  enum class Mode {
    exclusive,  ///< one holder; the file names it
    shared,     ///< any number of shared holders, no exclusive one (processes that share a folder)
  };

  /// Locks `lock_path` (created if missing, with its folder) for `what` (e.g. the experiment
  /// folder, for messages). Throws ConfigError "<what> is in use by process <pid> on <host>
  /// (lock file <lock_path>)" when another process holds it in a conflicting mode, unless
  /// `wait`, which blocks until it is free.
  FolderLock(std::string lock_path, const std::string& what, Mode mode = Mode::exclusive, bool wait = false);
  ~FolderLock();  ///< releases the lock (an exclusive holder also removes the file)
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  /// An exclusive lock on `lock_path` if no one holds it, else null. `previous` (when given)
  /// receives the note ("<host> <pid>") of the file's earlier holder: the process holding it
  /// when null is returned, or a dead holder whose lock was taken over (empty when none).
  static std::unique_ptr<FolderLock> try_lock(const std::string& lock_path, std::string* previous = nullptr);

  /// "<host> <pid>" of this process, as written into lock files.
  static std::string holder_text();
  /// "process <pid> on <host>" for a note, or "another process" when it is empty.
  static std::string describe_holder(const std::string& note);

 private:
  FolderLock() = default;
  /// 1 locked, 0 held by someone else (its note in *holder), throws on other errors.
  int acquire(const std::string& what, Mode mode, bool wait, std::string* holder);
  std::string path_;
  Mode mode_ = Mode::exclusive;
  int fd_ = -1;
};

}  // namespace richlazy
