// The safetensors file format, without LibTorch: parsing and validating a header, and
// building one for a writer. Kept LibTorch-free so it can be fuzzed and tested quickly.
//
// Layout of a file: 8 bytes little-endian u64 N, then N bytes of UTF-8 JSON (may be padded
// with trailing spaces), then the data section. The JSON maps each tensor name to
// {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]} (offsets relative to the
// data section) plus an optional "__metadata__" object of string -> string.
//
// parse_safetensors_header() rejects, with a psy::Error naming the file and the tensor:
//   a file shorter than 8 bytes; N > 100 MB (kMaxHeaderBytes) or N past the end of the file;
//   JSON that does not parse or is not an object; an unknown dtype (valid: F64 F32 F16 BF16
//   I64 I32 I16 I8 U8 BOOL); a shape that is not a list of non-negative integers or whose
//   element count overflows; data_offsets that are not two integers begin <= end;
//   end - begin != elements x itemsize; offsets outside the data section; two tensors whose
//   bytes overlap; bytes of the data section that belong to no tensor (gaps, trailing bytes);
//   a "__metadata__" that is not an object of strings; unknown keys in a tensor entry.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace psy {

enum class SafetensorsDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

// "F32" -> F32 etc.; throws psy::Error listing the valid names for anything else.
SafetensorsDType safetensors_dtype_from_name(const std::string& name);
const char* safetensors_dtype_name(SafetensorsDType dtype);
std::size_t safetensors_itemsize(SafetensorsDType dtype);
// A shape as error messages write it: "[2, 3]" ("[]" for a scalar).
std::string shape_text(const std::vector<int64_t>& shape);

struct SafetensorsTensorInfo {
  std::string name;
  SafetensorsDType dtype = SafetensorsDType::F32;
  std::vector<int64_t> shape;  // empty = scalar (one element)
  uint64_t begin = 0;          // byte offsets relative to the data section, [begin, end)
  uint64_t end = 0;
  uint64_t numel() const;
  uint64_t nbytes() const { return end - begin; }
};

struct SafetensorsHeader {
  std::vector<SafetensorsTensorInfo> tensors;  // in the order of their data offsets
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // absolute file offset of the data section (8 + N)
  uint64_t data_size = 0;   // bytes in the data section

  // nullptr when absent.
  const SafetensorsTensorInfo* find(const std::string& name) const;
};

constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull * 1000 * 1000;

// Parses and validates the header of a complete file held in memory (or mmapped).
// `file` is used only in error messages.
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, std::size_t size, const std::string& file);

// For writers: assigns contiguous data offsets to `tensors` in the given order (begin/end are
// overwritten from shape and dtype) and returns the 8-byte length prefix plus the JSON header,
// padded with spaces so the data section starts at a multiple of 8 bytes.
std::string build_safetensors_header(std::vector<SafetensorsTensorInfo>& tensors,
                                     const std::map<std::string, std::string>& metadata);

}  // namespace psy
