#include "libpsy/core/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "libpsy/core/error.h"
#include "libpsy/core/remove_tree.h"

namespace psy {

namespace {
std::string temp_name_for(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

// Flushes the file's data to the device; returns 0 or the errno of the failure. Some file systems
// (NFS, some FUSE) report a full disk only here, so a failure must not be ignored.
int fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return errno;
  int err = ::fsync(fd) != 0 ? errno : 0;
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

[[noreturn]] void fail_write(const std::string& path, const std::string& tmp, int err) {
  std::remove(tmp.c_str());
  throw Error(path + ": write failed (" + std::strerror(err) + "); nothing was replaced", kExitFailure);
}
}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& fill) {
  const std::string tmp = temp_name_for(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path + ": cannot write (" + std::strerror(errno) + ")", kExitFailure);
    try {
      fill(out);
    } catch (...) {
      out.close();
      std::remove(tmp.c_str());
      throw;
    }
    out.flush();
    if (!out) {
      int err = errno;
      out.close();
      fail_write(path, tmp, err);
    }
    out.close();
    if (!out) fail_write(path, tmp, errno);
  }
  if (int err = fsync_path(tmp); err != 0) fail_write(path, tmp, err);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw Error(path + ": cannot rename temporary file (" + std::strerror(err) + ")", kExitFailure);
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_file_atomic(path, [&content](std::ostream& out) { out.write(content.data(), content.size()); });
}

void replace_folder(const std::string& from, const std::string& to) {
  std::error_code ec;
  struct stat st {};
  if (::stat(to.c_str(), &st) == 0) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_EXCHANGE) == 0) {
      remove_tree(from, ec);  // the old folder, now under the temporary name
      return;
    }
    if (!remove_tree(to, ec))
      throw Error(to + ": cannot replace (" + ec.message() + ")", kExitFailure);
  }
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    remove_tree(from, ec);
    throw Error(to + ": cannot rename " + from + " into place (" + std::strerror(err) + ")", kExitFailure);
  }
}

void make_dirs(const std::string& path) {
  if (path.empty()) return;
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      throw Error(partial + ": cannot create directory (" + std::strerror(errno) + ")", kExitFailure);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw Error(path + ": exists and is not a directory", kExitFailure);
  }
}

}  // namespace psy
