#include "libpsy/io/tensorboard_record.h"

#include "libpsy/io/crc32c.h"

namespace psy {

namespace {

constexpr uint32_t kMaskDelta = 0xa282ead8u;

void append_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

}  // namespace

uint32_t tfrecord_masked_crc(std::string_view bytes) {
  const uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

std::string frame_tfrecord(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  append_le(out, data.size(), 8);
  append_le(out, tfrecord_masked_crc(std::string_view(out.data(), 8)), 4);
  out.append(data.data(), data.size());
  append_le(out, tfrecord_masked_crc(data), 4);
  return out;
}

}  // namespace psy
