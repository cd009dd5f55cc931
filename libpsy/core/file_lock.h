// An exclusive lock on a folder for the life of a process: flock on a lock file inside it, so
// two psy processes never write one run folder at once (the second gets one clear line). The
// kernel drops the lock when the process ends, even by kill -9; the lock file itself stays.
#pragma once
#include <string>

namespace psy {

class FolderLock {
 public:
  // Creates `folder` when missing and takes `folder`/.psy.lock without waiting. Throws psy::Error
  // (exit code 1) naming the folder and the holder ("pid N: psy train") when another process has it.
  // `what` ("psy train") is written into the lock file for that message.
  FolderLock(const std::string& folder, const std::string& what);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  FolderLock(FolderLock&& other) noexcept;
  FolderLock& operator=(FolderLock&&) = delete;

  static const char* file_name() { return ".psy.lock"; }

 private:
  int fd_ = -1;
};

}  // namespace psy
