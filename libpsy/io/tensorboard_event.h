// Serialized `tensorflow.Event` protocol buffers (tensorboard/compat/proto/event.proto), encoded
// by hand with the protobuf wire format (no protobuf library: Debian's libsentencepiece bundles
// a conflicting one). Only the fields TensorBoard's scalar dashboard needs:
//   Event { double wall_time = 1; int64 step = 2;
//           oneof { string file_version = 3; Summary summary = 5; SessionLog session_log = 7; } }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
//   SessionLog { SessionStatus status = 1; }  (START = 1)
// No LibTorch here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace psy {

struct ScalarValue {
  std::string tag;   // e.g. "train/loss"
  float value = 0;
};

// The first event of every event file: file_version "brain.Event:2".
std::string encode_file_version_event(double wall_time);

// One event holding a scalar summary per value, all at `step`.
std::string encode_scalars_event(double wall_time, int64_t step, const std::vector<ScalarValue>& values);

// SessionLog START at `step`: TensorBoard then drops events with step >= `step` read before it
// (what a resumed run writes, so steps logged after its checkpoint by the stopped run vanish).
std::string encode_session_start_event(double wall_time, int64_t step);

}  // namespace psy
