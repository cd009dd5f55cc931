// The only code that touches SentencePiece's C++ library, built as its own shared module
// (libpsy_spm.so) and loaded by spm_library.cpp into a link namespace of its own (dlmopen).
//
// Why: Debian's libsentencepiece.so.0 carries its own copy of protobuf-lite 3.14 and exports
// its symbols, while LibTorch loads the system libprotobuf 3.21. Linked into one executable,
// whichever comes first in the global symbol scope serves both: libprotobuf's start-up code
// then runs SentencePiece's copy and crashes, or SentencePiece's model code runs 3.21 and
// aborts on the version check. In a namespace of its own, SentencePiece binds to its own
// protobuf (and its own C and C++ runtimes) and nothing else sees it.
//
// Because the module has its own C++ runtime and heap, its interface is plain C: the caller's
// bytes come in as pointers and lengths, and everything going back out (ids, a model, an error)
// is handed to a callback that copies it into the caller's memory. Nothing allocated on one
// side is freed on the other, and no exception crosses the boundary. The module is never built
// with sanitizers (their runtime must not load twice); psy's side is.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <exception>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "libpsy/text/spm_abi.h"

// SentencePiece exports its log threshold but declares it in a private header.
namespace sentencepiece::logging {
int GetMinLogLevel();
void SetMinLogLevel(int v);
}  // namespace sentencepiece::logging

namespace {
sentencepiece::SentencePieceProcessor* as_sp(void* h) { return static_cast<sentencepiece::SentencePieceProcessor*>(h); }

void report(psy_spm_bytes_fn sink, void* ctx, const std::string& text) { sink(ctx, text.data(), text.size()); }

// Runs body; a C++ exception (protobuf's fatal checks throw) becomes an error report and 0.
template <typename F>
int guarded(psy_spm_bytes_fn on_error, void* error_ctx, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    report(on_error, error_ctx, e.what());
  } catch (...) {
    report(on_error, error_ctx, "unknown C++ exception in SentencePiece");
  }
  return 0;
}

// Sentences read straight from the caller's arrays, one copy at a time.
class ArrayIterator : public sentencepiece::SentenceIterator {
 public:
  ArrayIterator(const char* const* data, const size_t* lens, size_t n) : data_(data), lens_(lens), n_(n) { load(); }
  bool done() const override { return i_ >= n_; }
  void Next() override {
    ++i_;
    load();
  }
  const std::string& value() const override { return current_; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  void load() {
    if (i_ < n_) current_.assign(data_[i_], lens_[i_]);
  }
  const char* const* data_;
  const size_t* lens_;
  size_t n_;
  size_t i_ = 0;
  std::string current_;
};
}  // namespace

#define PSY_SPM_EXPORT __attribute__((visibility("default")))

// Each definition below must match its declaration here, taken from the shared interface.
extern "C" {
PSY_SPM_EXPORT psy_spm_load_t psy_spm_load;
PSY_SPM_EXPORT psy_spm_free_t psy_spm_free;
PSY_SPM_EXPORT psy_spm_size_t psy_spm_size;
PSY_SPM_EXPORT psy_spm_id_to_piece_t psy_spm_id_to_piece;
PSY_SPM_EXPORT psy_spm_kind_t psy_spm_kind;
PSY_SPM_EXPORT psy_spm_piece_to_id_t psy_spm_piece_to_id;
PSY_SPM_EXPORT psy_spm_special_t psy_spm_special;
PSY_SPM_EXPORT psy_spm_encode_t psy_spm_encode;
PSY_SPM_EXPORT psy_spm_train_t psy_spm_train;
}

extern "C" {

PSY_SPM_EXPORT void* psy_spm_load(const char* model, size_t len, psy_spm_bytes_fn on_error, void* error_ctx) {
  void* handle = nullptr;
  guarded(on_error, error_ctx, [&] {
    // Owned until it loaded: a throwing load must not leak it.
    auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
    auto status = sp->LoadFromSerializedProto(absl::string_view(model, len));
    if (!status.ok()) {
      report(on_error, error_ctx, status.ToString());
      return 0;
    }
    handle = sp.release();
    return 1;
  });
  return handle;
}

PSY_SPM_EXPORT void psy_spm_free(void* h) { delete as_sp(h); }

PSY_SPM_EXPORT int psy_spm_size(void* h) { return as_sp(h)->GetPieceSize(); }

// The piece's bytes stay owned by the processor: valid until psy_spm_free.
PSY_SPM_EXPORT const char* psy_spm_id_to_piece(void* h, int id, size_t* len) {
  const std::string& piece = as_sp(h)->IdToPiece(id);
  *len = piece.size();
  return piece.data();
}

// 0 normal, 1 control, 2 unknown, 3 byte
PSY_SPM_EXPORT int psy_spm_kind(void* h, int id) {
  auto* sp = as_sp(h);
  if (sp->IsControl(id)) return 1;
  if (sp->IsUnknown(id)) return 2;
  if (sp->IsByte(id)) return 3;
  return 0;
}

PSY_SPM_EXPORT int psy_spm_piece_to_id(void* h, const char* piece, size_t len) {
  return as_sp(h)->PieceToId(absl::string_view(piece, len));
}

PSY_SPM_EXPORT void psy_spm_special(void* h, int* bos, int* eos, int* unk, int* pad) {
  auto* sp = as_sp(h);
  *bos = sp->bos_id();
  *eos = sp->eos_id();
  *unk = sp->unk_id();
  *pad = sp->pad_id();
}

PSY_SPM_EXPORT int psy_spm_encode(void* h, const char* text, size_t len, psy_spm_ids_fn on_ids, void* ids_ctx,
                                  psy_spm_bytes_fn on_error, void* error_ctx) {
  return guarded(on_error, error_ctx, [&] {
    std::vector<int> ids;
    auto status = as_sp(h)->Encode(absl::string_view(text, len), &ids);
    if (!status.ok()) {
      report(on_error, error_ctx, status.ToString());
      return 0;
    }
    on_ids(ids_ctx, ids.data(), ids.size());
    return 1;
  });
}

// Trains a model on n sentences with the trainer's flags (nargs key/value pairs); the serialized
// model goes to on_model.
PSY_SPM_EXPORT int psy_spm_train(const char* const* keys, const char* const* values, size_t nargs,
                                 const char* const* sentences, const size_t* lens, size_t n, int quiet,
                                 psy_spm_bytes_fn on_model, void* model_ctx, psy_spm_bytes_fn on_error,
                                 void* error_ctx) {
  return guarded(on_error, error_ctx, [&] {
    std::unordered_map<std::string, std::string> args;
    for (size_t i = 0; i < nargs; ++i) args[keys[i]] = values[i];
    sentencepiece::SetRandomGeneratorSeed(66);
    const int saved = sentencepiece::logging::GetMinLogLevel();
    if (quiet) sentencepiece::logging::SetMinLogLevel(1);
    ArrayIterator it(sentences, lens, n);
    std::string model;
    auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &model);
    sentencepiece::logging::SetMinLogLevel(saved);
    if (!status.ok()) {
      report(on_error, error_ctx, status.ToString());
      return 0;
    }
    on_model(model_ctx, model.data(), model.size());
    return 1;
  });
}

}  // extern "C"
