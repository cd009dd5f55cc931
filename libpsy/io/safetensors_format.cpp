#include "libpsy/io/safetensors_format.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"

namespace psy {

namespace {

struct DTypeEntry {
  SafetensorsDType dtype;
  const char* name;
  std::size_t itemsize;
};

constexpr DTypeEntry kDTypes[] = {
    {SafetensorsDType::F64, "F64", 8},  {SafetensorsDType::F32, "F32", 4}, {SafetensorsDType::F16, "F16", 2},
    {SafetensorsDType::BF16, "BF16", 2}, {SafetensorsDType::I64, "I64", 8}, {SafetensorsDType::I32, "I32", 4},
    {SafetensorsDType::I16, "I16", 2},  {SafetensorsDType::I8, "I8", 1},   {SafetensorsDType::U8, "U8", 1},
    {SafetensorsDType::BOOL, "BOOL", 1},
};

std::string valid_dtype_names() {
  std::string out;
  for (const auto& d : kDTypes) out += (out.empty() ? "" : " ") + std::string(d.name);
  return out;
}

// A printable, bounded rendering of a name taken from a hostile file.
std::string printable(const std::string& s) {
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < 200; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 200) out += "...";
  return out + "'";
}

[[noreturn]] void fail(const std::string& file, const std::string& tensor, const std::string& problem) {
  ErrorLocation where;
  where.file = file;
  if (!tensor.empty()) where.item = "tensor " + printable(tensor);
  throw Error(where, "invalid safetensors file: " + problem);
}

std::string json_kind(const nlohmann::json& j) { return j.type_name(); }

// A JSON value for an error message, cut short when long.
std::string short_dump(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 120) s = s.substr(0, 120) + "...";
  return s;
}

bool as_u64(const nlohmann::json& j, uint64_t& out) {
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v < 0) return false;
    out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

SafetensorsTensorInfo parse_entry(const std::string& name, const nlohmann::json& entry, const std::string& file) {
  if (!entry.is_object()) fail(file, name, "its entry: " + expected_found("an object", json_kind(entry)));
  SafetensorsTensorInfo info;
  info.name = name;
  bool has_dtype = false, has_shape = false, has_offsets = false;
  for (auto it = entry.begin(); it != entry.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    if (key == "dtype") {
      if (!v.is_string()) fail(file, name, "'dtype' is " + expected_found("a string", json_kind(v)));
      const std::string dn = v.get<std::string>();
      bool found = false;
      for (const auto& d : kDTypes) {
        if (dn == d.name) {
          info.dtype = d.dtype;
          found = true;
        }
      }
      if (!found) fail(file, name, "unknown dtype " + printable(dn) + " (valid: " + valid_dtype_names() + ")");
      has_dtype = true;
    } else if (key == "shape") {
      if (!v.is_array()) fail(file, name, "'shape' is " + expected_found("a list of integers", json_kind(v)));
      if (v.size() > 64) fail(file, name, "'shape' has " + std::to_string(v.size()) + " dimensions (at most 64)");
      for (const auto& d : v) {
        uint64_t dim = 0;
        if (!as_u64(d, dim) || dim > static_cast<uint64_t>(INT64_MAX)) {
          fail(file, name, "'shape' " + expected_found("non-negative integers", short_dump(d)));
        }
        info.shape.push_back(static_cast<int64_t>(dim));
      }
      has_shape = true;
    } else if (key == "data_offsets") {
      uint64_t b = 0, e = 0;
      if (!v.is_array() || v.size() != 2 || !as_u64(v[0], b) || !as_u64(v[1], e)) {
        fail(file, name, "'data_offsets' " + expected_found("[begin, end] with non-negative integers", short_dump(v)));
      }
      if (b > e) fail(file, name, "'data_offsets' begin " + std::to_string(b) + " > end " + std::to_string(e));
      info.begin = b;
      info.end = e;
      has_offsets = true;
    } else {
      fail(file, name, "unknown key " + printable(key) + " (valid: dtype, shape, data_offsets)");
    }
  }
  if (!has_dtype) fail(file, name, "missing 'dtype'");
  if (!has_shape) fail(file, name, "missing 'shape'");
  if (!has_offsets) fail(file, name, "missing 'data_offsets'");
  // elements x itemsize, with overflow checks
  uint64_t count = 1;
  for (int64_t d : info.shape) {
    uint64_t ud = static_cast<uint64_t>(d);
    if (ud != 0 && count > UINT64_MAX / ud) fail(file, name, "the shape's element count overflows");
    count *= ud;
  }
  const uint64_t itemsize = safetensors_itemsize(info.dtype);
  if (count > UINT64_MAX / itemsize) fail(file, name, "the shape's byte size overflows");
  if (count * itemsize != info.end - info.begin) {
    fail(file, name,
         "shape " + shape_text(info.shape) + " x " + std::to_string(itemsize) + " bytes (" + safetensors_dtype_name(info.dtype) +
             ") = " + std::to_string(count * itemsize) + " bytes, but data_offsets span " +
             std::to_string(info.end - info.begin) + " bytes");
  }
  return info;
}

}  // namespace

SafetensorsDType safetensors_dtype_from_name(const std::string& name) {
  for (const auto& d : kDTypes) {
    if (name == d.name) return d.dtype;
  }
  throw Error("unknown safetensors dtype " + printable(name) + " (valid: " + valid_dtype_names() + ")");
}

const char* safetensors_dtype_name(SafetensorsDType dtype) {
  for (const auto& d : kDTypes) {
    if (d.dtype == dtype) return d.name;
  }
  return "?";
}

std::size_t safetensors_itemsize(SafetensorsDType dtype) {
  for (const auto& d : kDTypes) {
    if (d.dtype == dtype) return d.itemsize;
  }
  return 1;
}

uint64_t SafetensorsTensorInfo::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

const SafetensorsTensorInfo* SafetensorsHeader::find(const std::string& name) const {
  for (const auto& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, std::size_t size, const std::string& file) {
  if (size < 8) fail(file, "", "the file has " + std::to_string(size) + " bytes, fewer than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > kMaxSafetensorsHeaderBytes) {
    fail(file, "", "header length " + std::to_string(n) + " bytes exceeds the limit of " +
                       std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  }
  if (n > size - 8) {
    fail(file, "", "header length " + std::to_string(n) + " bytes runs past the end of the file (" +
                       std::to_string(size - 8) + " bytes after the length)");
  }
  if (n < 2 || bytes[8] != '{') fail(file, "", "the header does not start with '{' (not a JSON object)");
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(bytes + 8, bytes + 8 + n);
  } catch (const nlohmann::json::exception& e) {
    fail(file, "", std::string("the header is not valid JSON (") + e.what() + ")");
  }
  if (!root.is_object()) fail(file, "", "the header is " + expected_found("a JSON object", json_kind(root)));

  SafetensorsHeader header;
  header.data_start = 8 + n;
  header.data_size = size - 8 - n;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) {
        fail(file, "", "'__metadata__' is " + expected_found("an object of strings", json_kind(it.value())));
      }
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string()) {
          fail(file, "", "'__metadata__' key " + printable(m.key()) + " is " +
                             expected_found("a string", json_kind(m.value())));
        }
        header.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    header.tensors.push_back(parse_entry(it.key(), it.value(), file));
  }
  std::stable_sort(header.tensors.begin(), header.tensors.end(),
                   [](const SafetensorsTensorInfo& a, const SafetensorsTensorInfo& b) {
                     return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
                   });
  uint64_t expected_begin = 0;
  const SafetensorsTensorInfo* previous = nullptr;
  for (const auto& t : header.tensors) {
    if (t.end > header.data_size) {
      fail(file, t.name, "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                             ") lie outside the data section of " + std::to_string(header.data_size) + " bytes");
    }
    if (t.begin < expected_begin) {
      fail(file, t.name, "its bytes [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                             ") overlap tensor " + printable(previous ? previous->name : "") + " which ends at " +
                             std::to_string(expected_begin));
    }
    if (t.begin > expected_begin) {
      fail(file, t.name, "gap: bytes [" + std::to_string(expected_begin) + ", " + std::to_string(t.begin) +
                             ") of the data section before it belong to no tensor");
    }
    expected_begin = t.end;
    previous = &t;
  }
  if (expected_begin != header.data_size) {
    fail(file, "", "the data section has " + std::to_string(header.data_size) + " bytes but the tensors cover only " +
                       std::to_string(expected_begin) + " (trailing bytes or a truncated header)");
  }
  return header;
}

std::string build_safetensors_header(std::vector<SafetensorsTensorInfo>& tensors,
                                     const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    root["__metadata__"] = meta;
  }
  uint64_t offset = 0;
  for (auto& t : tensors) {
    if (t.name == "__metadata__") throw Error("safetensors: '__metadata__' cannot be a tensor name");
    if (root.contains(t.name)) throw Error("safetensors: tensor " + printable(t.name) + " is given twice");
    uint64_t bytes = t.numel() * safetensors_itemsize(t.dtype);
    t.begin = offset;
    t.end = offset + bytes;
    offset = t.end;
    nlohmann::ordered_json entry;
    entry["dtype"] = safetensors_dtype_name(t.dtype);
    entry["shape"] = t.shape;
    entry["data_offsets"] = {t.begin, t.end};
    root[t.name] = entry;
  }
  std::string json = root.dump();
  while ((8 + json.size()) % 8 != 0) json += ' ';
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + json;
}

}  // namespace psy
