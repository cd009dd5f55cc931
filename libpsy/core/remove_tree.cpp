#include "libpsy/core/remove_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace psy {

namespace {

// Empties the folder open as `dir_fd` (closed here), depth first; returns 0 or an errno.
int empty_folder(int dir_fd) {
  DIR* dir = fdopendir(dir_fd);
  if (dir == nullptr) {
    int err = errno;
    close(dir_fd);
    return err;
  }
  int first_error = 0;
  while (dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (fstatat(dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT && first_error == 0) first_error = errno;
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      int child = openat(dirfd(dir), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int err = child < 0 ? errno : empty_folder(child);
      if (err == 0 && unlinkat(dirfd(dir), name.c_str(), AT_REMOVEDIR) != 0) err = errno;
      if (err != 0 && err != ENOENT && first_error == 0) first_error = err;
    } else if (unlinkat(dirfd(dir), name.c_str(), 0) != 0 && errno != ENOENT && first_error == 0) {
      first_error = errno;
    }
  }
  closedir(dir);
  return first_error;
}

}  // namespace

bool remove_tree(const std::string& path, std::error_code& ec) noexcept {
  ec.clear();
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return true;
    ec.assign(errno, std::generic_category());
    return false;
  }
  int err = 0;
  if (S_ISDIR(st.st_mode)) {
    int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    err = fd < 0 ? errno : empty_folder(fd);
    if (err == 0 && rmdir(path.c_str()) != 0) err = errno;
  } else if (unlink(path.c_str()) != 0) {
    err = errno;
  }
  if (err != 0 && err != ENOENT) {
    ec.assign(err, std::generic_category());
    return false;
  }
  return true;
}

}  // namespace psy
