// richlazy/core/folder_lock.h: an exclusive lock on an output folder, so that two processes
// never write into the same experiment. The lock is an flock(2) on a lock file that names its
// holder (host and process id): the kernel releases it when the holder exits, however it
// exits, so a lock left behind by a dead process is no lock at all; a file it left is reused.
#pragma once

#include <string>

namespace richlazy {

class FolderLock {
 public:
  /// Locks `lock_path` (created if missing, with its folder) for `what` (e.g. the experiment
  /// folder, for messages). Throws ConfigError "<what> is in use by process <pid> on <host>
  /// (lock file <lock_path>)" when another process holds it.
  FolderLock(std::string lock_path, const std::string& what);
  ~FolderLock();  ///< removes the lock file and releases the lock
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  /// "<host> <pid>" of this process, as written into lock files.
  static std::string holder_text();

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace richlazy
