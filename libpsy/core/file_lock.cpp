#include "libpsy/core/file_lock.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"

namespace psy {

namespace {

std::string read_holder(int fd) {
  char buf[256] = {0};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string s = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

}  // namespace

FolderLock::FolderLock(const std::string& folder, const std::string& what) {
  make_dirs(folder);
  const std::string path = folder + "/" + file_name();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path + ": cannot open the run folder's lock file (" + std::strerror(errno) + ")", kExitFailure);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = read_holder(fd_);
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw Error("run folder '" + folder + "' is in use by another psy process" +
                      (holder.empty() ? std::string() : " (" + holder + ")") +
                      ": wait for it to finish, or use another output folder",
                  kExitFailure);
    throw Error(path + ": cannot lock (" + std::strerror(err) + ")", kExitFailure);
  }
  const std::string note = "pid " + std::to_string(::getpid()) + ": " + what + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    const ssize_t written = ::pwrite(fd_, note.data(), note.size(), 0);
    (void)written;  // the note only improves the message a second process prints
  }
}

FolderLock::FolderLock(FolderLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace psy
