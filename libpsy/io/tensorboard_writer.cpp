#include "libpsy/io/tensorboard_writer.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/io/tensorboard_record.h"

namespace psy {

namespace {

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string name(buf);
  for (char& c : name)
    if (c == '/') c = '_';
  return name;
}

}  // namespace

double unix_wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  make_dirs(dir);
  const double now = unix_wall_time();
  const std::string base = dir + "/events.out.tfevents." + std::to_string(static_cast<long long>(now)) + "." + host_name();
  for (int n = 0; fd_ < 0; ++n) {
    path_ = n == 0 ? base : base + "." + std::to_string(n);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0 && (errno != EEXIST || n >= 1000))
      throw Error(path_ + ": cannot create the TensorBoard event file (" + std::strerror(errno) + ")", kExitFailure);
  }
  write_event(encode_file_version_event(now));
}

TensorBoardWriter::~TensorBoardWriter() {
  if (fd_ >= 0) ::close(fd_);
}

TensorBoardWriter::TensorBoardWriter(TensorBoardWriter&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

TensorBoardWriter& TensorBoardWriter::operator=(TensorBoardWriter&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void TensorBoardWriter::add_scalars(int64_t step, const std::vector<ScalarValue>& values) {
  write_event(encode_scalars_event(unix_wall_time(), step, values));
}

void TensorBoardWriter::add_session_start(int64_t step) {
  write_event(encode_session_start_event(unix_wall_time(), step));
}

void TensorBoardWriter::write_event(const std::string& event) {
  const std::string record = frame_tfrecord(event);
  size_t done = 0;
  while (done < record.size()) {
    ssize_t n = ::write(fd_, record.data() + done, record.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw Error(path_ + ": writing a TensorBoard event failed (" +
                      std::string(n < 0 ? std::strerror(errno) : "no progress") + ")",
                  kExitFailure);
    done += static_cast<size_t>(n);
  }
}

}  // namespace psy
