// TFRecord framing, the container of TensorBoard event files. Each record is
//   uint64 length (little-endian), uint32 masked CRC-32C of those 8 bytes,
//   `length` bytes of data, uint32 masked CRC-32C of the data,
// where mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2^32). No LibTorch here.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace psy {

// TFRecord's masked CRC-32C of `bytes`.
uint32_t tfrecord_masked_crc(std::string_view bytes);

// The framed record holding `data`, ready to append to a file.
std::string frame_tfrecord(std::string_view data);

}  // namespace psy
