// A TensorBoard event file: DIR/events.out.tfevents.<unix seconds>.<hostname> (TensorBoard's
// naming; ".<n>" is appended when that name is taken, e.g. a resume within the same second).
// Each event is one TFRecord (tensorboard_record.h) holding a tensorflow.Event
// (tensorboard_event.h); the first is the file_version record. Every event is handed to the OS
// as soon as it is added, so a killed process keeps what it logged. TensorBoard reads every
// event file in a folder, so a resumed run opens a new file next to the old ones.
// Scalars only; no LibTorch here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "libpsy/io/tensorboard_event.h"

namespace psy {

class TensorBoardWriter {
 public:
  // Creates `dir` when missing and a new event file in it. Throws psy::Error (exit 1) on failure.
  explicit TensorBoardWriter(const std::string& dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;
  TensorBoardWriter(TensorBoardWriter&& other) noexcept;
  TensorBoardWriter& operator=(TensorBoardWriter&& other) noexcept;

  // One event with a scalar per value at `step`. Throws psy::Error (exit 1) naming the file
  // and the OS error when the write fails (e.g. a full disk).
  void add_scalars(int64_t step, const std::vector<ScalarValue>& values);
  // SessionLog START at `step` (tensorboard_event.h): written when a run resumes.
  void add_session_start(int64_t step);

  const std::string& path() const { return path_; }

 private:
  void write_event(const std::string& event);

  std::string path_;
  int fd_ = -1;
};

// Seconds since the Unix epoch, as Event.wall_time holds it.
double unix_wall_time();

}  // namespace psy
