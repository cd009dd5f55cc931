// SentencePiece, loaded in isolation (see spm_shim.cpp for why): the functions psy's tokenizer
// and tokenizer trainer call. The module is found through $PSY_SPM_LIBRARY, next to the running
// executable, or where the build put it; a clear psy::Error (exit code 1) when it is missing.
// Every call copies across the module's C interface; failures come back as false + the
// module's message, for the caller to put in its own error.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace psy {

struct SpmSpecialIds {
  int bos = -1, eos = -1, unk = -1, pad = -1;
};

class SpmApi {
 public:
  // A processor for a serialized model, or nullptr with the reason in error.
  void* load(std::string_view model, std::string& error) const;
  void free(void* h) const;
  int size(void* h) const;
  std::string_view id_to_piece(void* h, int id) const;  // valid until free(h)
  int kind(void* h, int id) const;                      // 0 normal, 1 control, 2 unknown, 3 byte
  int piece_to_id(void* h, std::string_view piece) const;
  SpmSpecialIds special(void* h) const;
  bool encode(void* h, std::string_view text, std::vector<int>& ids, std::string& error) const;
  bool train(const std::unordered_map<std::string, std::string>& args, const std::vector<std::string>& sentences,
             bool quiet, std::string& model, std::string& error) const;

  struct Functions;  // the module's C entry points

 private:
  friend const SpmApi& spm_api();
  explicit SpmApi(const Functions* f) : f_(f) {}
  const Functions* f_;
};

// Loads the module on first use (thread-safe) and returns its functions.
const SpmApi& spm_api();

}  // namespace psy
