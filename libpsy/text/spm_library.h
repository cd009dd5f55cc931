// SentencePiece, loaded in isolation (see spm_shim.cpp for why): the functions psy's tokenizer
// and tokenizer trainer call. The module is found through $PSY_SPM_LIBRARY, next to the running
// executable, or where the build put it; a clear psy::Error (exit code 1) when it is missing.
#pragma once
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace psy {

struct SpmApi {
  void* (*load)(const std::string* model, std::string* error);
  void (*free)(void* h);
  int (*size)(void* h);
  const std::string* (*id_to_piece)(void* h, int id);
  int (*kind)(void* h, int id);  // 0 normal, 1 control, 2 unknown, 3 byte
  int (*piece_to_id)(void* h, const std::string* piece);
  void (*special)(void* h, int* bos, int* eos, int* unk, int* pad);
  int (*encode)(void* h, const char* text, size_t len, std::vector<int>* ids, std::string* error);
  int (*train)(const std::unordered_map<std::string, std::string>* args, const std::vector<std::string>* sentences,
               int quiet, std::string* model, std::string* error);
};

// Loads the module on first use (thread-safe) and returns its functions.
const SpmApi& spm_api();

}  // namespace psy
