// The only code that touches SentencePiece's C++ library, built as its own shared module
// (libpsy_spm.so) and loaded by spm_library.cpp with RTLD_LOCAL | RTLD_DEEPBIND.
//
// Why: Debian's libsentencepiece.so.0 carries its own copy of protobuf-lite 3.14 and exports
// its symbols, while LibTorch loads the system libprotobuf 3.21. Linked into one executable,
// whichever comes first in the global symbol scope serves both: libprotobuf's start-up code
// then runs SentencePiece's copy and crashes, or SentencePiece's model code runs 3.21 and
// aborts on the version check. Loaded locally with deep binding, SentencePiece uses its own
// protobuf and nothing else sees it.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

// SentencePiece exports its log threshold but declares it in a private header.
namespace sentencepiece::logging {
int GetMinLogLevel();
void SetMinLogLevel(int v);
}  // namespace sentencepiece::logging

namespace {
sentencepiece::SentencePieceProcessor* as_sp(void* h) { return static_cast<sentencepiece::SentencePieceProcessor*>(h); }

class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(const std::vector<std::string>& s) : s_(s) {}
  bool done() const override { return i_ >= s_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return s_[i_]; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  const std::vector<std::string>& s_;
  size_t i_ = 0;
};
}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* psy_spm_load(const std::string* model, std::string* error) {
  // Owned until it loaded: a throwing load (protobuf's fatal checks throw) must not leak it.
  auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
  auto status = sp->LoadFromSerializedProto(*model);
  if (!status.ok()) {
    *error = status.ToString();
    return nullptr;
  }
  return sp.release();
}

__attribute__((visibility("default"))) void psy_spm_free(void* h) { delete as_sp(h); }

__attribute__((visibility("default"))) int psy_spm_size(void* h) { return as_sp(h)->GetPieceSize(); }

__attribute__((visibility("default"))) const std::string* psy_spm_id_to_piece(void* h, int id) {
  return &as_sp(h)->IdToPiece(id);
}

// 0 normal, 1 control, 2 unknown, 3 byte
__attribute__((visibility("default"))) int psy_spm_kind(void* h, int id) {
  auto* sp = as_sp(h);
  if (sp->IsControl(id)) return 1;
  if (sp->IsUnknown(id)) return 2;
  if (sp->IsByte(id)) return 3;
  return 0;
}

__attribute__((visibility("default"))) int psy_spm_piece_to_id(void* h, const std::string* piece) {
  return as_sp(h)->PieceToId(*piece);
}

__attribute__((visibility("default"))) void psy_spm_special(void* h, int* bos, int* eos, int* unk, int* pad) {
  auto* sp = as_sp(h);
  *bos = sp->bos_id();
  *eos = sp->eos_id();
  *unk = sp->unk_id();
  *pad = sp->pad_id();
}

__attribute__((visibility("default"))) int psy_spm_encode(void* h, const char* text, size_t len, std::vector<int>* ids,
                                                          std::string* error) {
  auto status = as_sp(h)->Encode(absl::string_view(text, len), ids);
  if (!status.ok()) {
    *error = status.ToString();
    return 0;
  }
  return 1;
}

__attribute__((visibility("default"))) int psy_spm_train(const std::unordered_map<std::string, std::string>* args,
                                                         const std::vector<std::string>* sentences, int quiet,
                                                         std::string* model, std::string* error) {
  sentencepiece::SetRandomGeneratorSeed(66);
  const int saved = sentencepiece::logging::GetMinLogLevel();
  if (quiet) sentencepiece::logging::SetMinLogLevel(1);
  VectorIterator it(*sentences);
  auto status = sentencepiece::SentencePieceTrainer::Train(*args, &it, model);
  sentencepiece::logging::SetMinLogLevel(saved);
  if (!status.ok()) {
    *error = status.ToString();
    return 0;
  }
  return 1;
}

}  // extern "C"
