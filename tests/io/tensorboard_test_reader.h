// A small reader of TensorBoard event files for tests, written from the format description
// (TFRecord framing + tensorflow.Event wire format) independently of the writer: it checks the
// framing and both masked CRCs of every record and decodes the fields the writer uses.
#pragma once
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "libpsy/io/crc32c.h"

namespace psy::test {

struct DecodedValue {
  std::string tag;
  float simple_value = 0;
};

struct DecodedEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  bool has_summary = false;
  std::vector<DecodedValue> values;
  int session_status = 0;  // SessionLog.status; 0 when absent
};

inline uint32_t tb_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

inline uint64_t tb_read_le(const std::string& s, size_t at, int bytes) {
  if (at + static_cast<size_t>(bytes) > s.size()) throw std::runtime_error("truncated record");
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

// Splits a file's bytes into record payloads; throws on bad framing or a CRC mismatch.
inline std::vector<std::string> read_tfrecords(const std::string& bytes) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < bytes.size()) {
    const uint64_t len = tb_read_le(bytes, at, 8);
    const uint32_t len_crc = static_cast<uint32_t>(tb_read_le(bytes, at + 8, 4));
    if (len_crc != tb_mask(psy::crc32c(bytes.data() + at, 8)))
      throw std::runtime_error("length CRC mismatch at byte " + std::to_string(at));
    if (at + 12 + len + 4 > bytes.size()) throw std::runtime_error("truncated record at byte " + std::to_string(at));
    std::string data = bytes.substr(at + 12, len);
    const uint32_t data_crc = static_cast<uint32_t>(tb_read_le(bytes, at + 12 + len, 4));
    if (data_crc != tb_mask(psy::crc32c(data)))
      throw std::runtime_error("data CRC mismatch at byte " + std::to_string(at));
    out.push_back(std::move(data));
    at += 12 + len + 4;
  }
  return out;
}

struct ProtoCursor {
  const std::string& s;
  size_t at = 0;
  bool done() const { return at >= s.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at >= s.size()) throw std::runtime_error("truncated varint");
      const auto b = static_cast<unsigned char>(s[at++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("varint too long");
  }
  std::string bytes() {
    const uint64_t n = varint();
    if (at + n > s.size()) throw std::runtime_error("truncated length-delimited field");
    std::string out = s.substr(at, n);
    at += n;
    return out;
  }
  uint64_t fixed(int n) {
    uint64_t v = tb_read_le(s, at, n);
    at += static_cast<size_t>(n);
    return v;
  }
  void skip(uint32_t wire) {
    if (wire == 0) varint();
    else if (wire == 1) fixed(8);
    else if (wire == 2) bytes();
    else if (wire == 5) fixed(4);
    else throw std::runtime_error("unknown wire type " + std::to_string(wire));
  }
};

inline DecodedValue decode_value(const std::string& s) {
  DecodedValue v;
  ProtoCursor c{s};
  while (!c.done()) {
    const uint64_t key = c.varint();
    const auto field = static_cast<uint32_t>(key >> 3), wire = static_cast<uint32_t>(key & 7);
    if (field == 1 && wire == 2) {
      v.tag = c.bytes();
    } else if (field == 2 && wire == 5) {
      const auto bits = static_cast<uint32_t>(c.fixed(4));
      std::memcpy(&v.simple_value, &bits, 4);
    } else {
      c.skip(wire);
    }
  }
  return v;
}

inline DecodedEvent decode_event(const std::string& s) {
  DecodedEvent e;
  ProtoCursor c{s};
  while (!c.done()) {
    const uint64_t key = c.varint();
    const auto field = static_cast<uint32_t>(key >> 3), wire = static_cast<uint32_t>(key & 7);
    if (field == 1 && wire == 1) {
      const uint64_t bits = c.fixed(8);
      std::memcpy(&e.wall_time, &bits, 8);
    } else if (field == 2 && wire == 0) {
      e.step = static_cast<int64_t>(c.varint());
    } else if (field == 3 && wire == 2) {
      e.file_version = c.bytes();
    } else if (field == 5 && wire == 2) {
      e.has_summary = true;
      const std::string summary = c.bytes();
      ProtoCursor sc{summary};
      while (!sc.done()) {
        const uint64_t k = sc.varint();
        if ((k >> 3) == 1 && (k & 7) == 2) e.values.push_back(decode_value(sc.bytes()));
        else sc.skip(static_cast<uint32_t>(k & 7));
      }
    } else if (field == 7 && wire == 2) {
      const std::string log = c.bytes();
      ProtoCursor lc{log};
      while (!lc.done()) {
        const uint64_t k = lc.varint();
        if ((k >> 3) == 1 && (k & 7) == 0) e.session_status = static_cast<int>(lc.varint());
        else lc.skip(static_cast<uint32_t>(k & 7));
      }
    } else {
      c.skip(wire);
    }
  }
  return e;
}

inline std::vector<DecodedEvent> read_event_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::vector<DecodedEvent> out;
  for (const auto& r : read_tfrecords(ss.str())) out.push_back(decode_event(r));
  return out;
}

}  // namespace psy::test
