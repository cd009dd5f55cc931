#include "libpsy/text/sentencepiece_proto.h"

#include <cstdint>

#include "libpsy/core/error.h"

namespace psy {

namespace {

// ModelProto: 1 pieces (repeated SentencePiece), 3 normalizer_spec.
// SentencePiece: 1 piece (string), 2 score (float), 3 type (enum; 3 = CONTROL, 4 = USER_DEFINED).
// NormalizerSpec: 1 name, 3 add_dummy_prefix, 4 remove_extra_whitespaces.
constexpr uint32_t kWireVarint = 0, kWire64 = 1, kWireLen = 2, kWire32 = 5;
constexpr uint64_t kTypeControl = 3, kTypeUserDefined = 4;

class Reader {
 public:
  explicit Reader(const std::string& s) : s_(s) {}
  bool done() const { return pos_ >= s_.size(); }
  size_t pos() const { return pos_; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= s_.size()) throw Error("truncated varint");
      uint8_t b = static_cast<uint8_t>(s_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    throw Error("varint too long");
  }
  // Skips the value of a field with this wire type; returns [begin, end) of its payload for
  // length-delimited fields.
  std::pair<size_t, size_t> skip(uint32_t wire) {
    size_t begin = pos_;
    switch (wire) {
      case kWireVarint: varint(); break;
      case kWire64: advance(8); break;
      case kWire32: advance(4); break;
      case kWireLen: {
        uint64_t n = varint();
        begin = pos_;
        advance(n);
        break;
      }
      default: throw Error("unsupported wire type " + std::to_string(wire));
    }
    return {begin, pos_};
  }

 private:
  void advance(uint64_t n) {
    if (n > s_.size() - pos_) throw Error("field runs past the end");
    pos_ += static_cast<size_t>(n);
  }
  const std::string& s_;
  size_t pos_ = 0;
};

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void put_len_field(std::string& out, uint32_t field, const std::string& payload) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | kWireLen);
  put_varint(out, payload.size());
  out += payload;
}

std::string patch_piece(const std::string& msg, const std::set<std::string>& make_control, bool& changed) {
  Reader r(msg);
  std::string piece;
  uint64_t type = 1;
  while (!r.done()) {
    uint64_t tag = r.varint();
    auto [b, e] = r.skip(static_cast<uint32_t>(tag & 7));
    if ((tag >> 3) == 1 && (tag & 7) == kWireLen) piece = msg.substr(b, e - b);
    if ((tag >> 3) == 3 && (tag & 7) == kWireVarint) {
      const std::string bytes = msg.substr(b, e - b);  // Reader keeps a reference: not a temporary
      Reader v(bytes);
      type = v.varint();
    }
  }
  changed = false;
  if (type != kTypeUserDefined || !make_control.count(piece)) return msg;
  changed = true;
  std::string out;
  Reader w(msg);
  while (!w.done()) {
    size_t start = w.pos();
    uint64_t tag = w.varint();
    w.skip(static_cast<uint32_t>(tag & 7));
    if ((tag >> 3) == 3) continue;  // drop the old type
    out += msg.substr(start, w.pos() - start);
  }
  put_varint(out, (3u << 3) | kWireVarint);
  put_varint(out, kTypeControl);
  return out;
}

std::string patch_normalizer(const std::string& msg, SentencePieceModelInfo& info) {
  std::string out;
  Reader r(msg);
  while (!r.done()) {
    size_t start = r.pos();
    uint64_t tag = r.varint();
    const uint32_t field = static_cast<uint32_t>(tag >> 3);
    auto [b, e] = r.skip(static_cast<uint32_t>(tag & 7));
    if (field == 1 && (tag & 7) == kWireLen) info.normalizer_name = msg.substr(b, e - b);
    if ((field == 3 || field == 4) && (tag & 7) == kWireVarint) {
      const std::string bytes = msg.substr(b, e - b);  // Reader keeps a reference: not a temporary
      Reader v(bytes);
      bool value = v.varint() != 0;
      (field == 3 ? info.add_dummy_prefix : info.remove_extra_whitespaces) = value;
      continue;
    }
    out += msg.substr(start, r.pos() - start);
  }
  put_varint(out, (3u << 3) | kWireVarint);
  put_varint(out, 0);
  put_varint(out, (4u << 3) | kWireVarint);
  put_varint(out, 0);
  return out;
}

}  // namespace

std::string patch_sentencepiece_model(const std::string& model, const std::set<std::string>& make_control,
                                      SentencePieceModelInfo& info) {
  info = SentencePieceModelInfo{};
  std::string out;
  out.reserve(model.size() + 16);
  Reader r(model);
  bool saw_pieces = false, saw_normalizer = false;
  while (!r.done()) {
    size_t start = r.pos();
    uint64_t tag = r.varint();
    const uint32_t field = static_cast<uint32_t>(tag >> 3);
    auto [b, e] = r.skip(static_cast<uint32_t>(tag & 7));
    if (field == 1 && (tag & 7) == kWireLen) {
      saw_pieces = true;
      bool changed = false;
      std::string patched = patch_piece(model.substr(b, e - b), make_control, changed);
      if (changed) {
        ++info.user_defined_made_control;
        put_len_field(out, 1, patched);
        continue;
      }
    } else if (field == 3 && (tag & 7) == kWireLen) {
      saw_normalizer = true;
      put_len_field(out, 3, patch_normalizer(model.substr(b, e - b), info));
      continue;
    }
    out += model.substr(start, r.pos() - start);
  }
  if (!saw_pieces) throw Error("no vocabulary pieces");
  if (!saw_normalizer) put_len_field(out, 3, patch_normalizer(std::string(), info));
  return out;
}

}  // namespace psy
