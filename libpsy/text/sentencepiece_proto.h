// Reading and adjusting a serialized SentencePiece ModelProto without the protobuf headers
// (Debian's libsentencepiece-dev does not ship sentencepiece_model.pb.h). Only the few fields
// psy needs are touched; everything else is copied byte for byte.
#pragma once
#include <set>
#include <string>

namespace psy {

struct SentencePieceModelInfo {
  bool add_dummy_prefix = true;            // the model's normalizer setting (proto default: true)
  bool remove_extra_whitespaces = true;    // (proto default: true)
  std::string normalizer_name;             // e.g. "identity", "nmt_nfkc"
  int user_defined_made_control = 0;       // pieces whose type was changed
};

// Returns the model with (1) the normalizer's add_dummy_prefix and remove_extra_whitespaces
// turned off (psy adds the dummy prefix itself, per chunk; see tokenizer.h), and (2) every
// USER_DEFINED piece whose text is in `make_control` turned into a CONTROL piece, so that text
// can never produce it. `info` receives the original settings. Throws psy::Error on bytes that
// are not a well-formed ModelProto.
std::string patch_sentencepiece_model(const std::string& model, const std::set<std::string>& make_control,
                                      SentencePieceModelInfo& info);

}  // namespace psy
