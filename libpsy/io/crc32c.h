// CRC-32C (Castagnoli): the checksum of TFRecord files (TensorBoard event files), iSCSI and ext4.
// Reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF, so
// crc32c("123456789") == 0xE3069283. No LibTorch here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace psy {

// The CRC-32C of `n` bytes at `data`. Pass a previous result as `crc` to continue a checksum
// over data that comes in pieces: crc32c(b, nb, crc32c(a, na)) == crc32c(a + b).
uint32_t crc32c(const void* data, std::size_t n, uint32_t crc = 0);
inline uint32_t crc32c(std::string_view bytes, uint32_t crc = 0) { return crc32c(bytes.data(), bytes.size(), crc); }

}  // namespace psy
