#include "libpsy/text/spm_library.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

#include "libpsy/core/error.h"
#include "libpsy/text/spm_abi.h"

namespace psy {

// The module's exports (libpsy/text/spm_abi.h).
struct SpmApi::Functions {
  psy_spm_load_t* load;
  psy_spm_free_t* free;
  psy_spm_size_t* size;
  psy_spm_id_to_piece_t* id_to_piece;
  psy_spm_kind_t* kind;
  psy_spm_piece_to_id_t* piece_to_id;
  psy_spm_special_t* special;
  psy_spm_encode_t* encode;
  psy_spm_train_t* train;
};

namespace {

// Callbacks that copy the module's output into psy's memory.
void assign_bytes(void* ctx, const char* data, size_t len) { static_cast<std::string*>(ctx)->assign(data, len); }
void assign_ids(void* ctx, const int* ids, size_t n) { static_cast<std::vector<int>*>(ctx)->assign(ids, ids + n); }

std::string executable_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// A link namespace of its own (not RTLD_DEEPBIND, which AddressSanitizer refuses): the module,
// SentencePiece, its protobuf and their C/C++ runtimes are loaded afresh and bind only to each other.
void* open_module(std::string& tried) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("PSY_SPM_LIBRARY"); env && *env) candidates.push_back(env);
  const std::string exe = executable_dir();
  if (!exe.empty()) {
    candidates.push_back(exe + "/libpsy_spm.so");
    candidates.push_back(exe + "/../lib/libpsy_spm.so");
  }
  candidates.push_back(PSY_SPM_BUILD_PATH);
  for (const auto& c : candidates) {
    void* h = ::dlmopen(LM_ID_NEWLM, c.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h) return h;
    const char* err = ::dlerror();
    tried += "\n  " + c + (err ? std::string(": ") + err : "");
  }
  return nullptr;
}

template <typename F>
void bind(void* h, const char* name, F& fn) {
  void* sym = ::dlsym(h, name);
  if (!sym) throw Error(std::string("libpsy_spm.so lacks ") + name + " (rebuild psy)", kExitFailure);
  fn = reinterpret_cast<F>(sym);
}

SpmApi::Functions load_functions() {
  std::string tried;
  void* h = open_module(tried);
  if (!h) {
    throw Error("cannot load psy's SentencePiece module libpsy_spm.so (set PSY_SPM_LIBRARY); tried:" + tried,
                kExitFailure);
  }
  SpmApi::Functions f{};
  bind(h, "psy_spm_load", f.load);
  bind(h, "psy_spm_free", f.free);
  bind(h, "psy_spm_size", f.size);
  bind(h, "psy_spm_id_to_piece", f.id_to_piece);
  bind(h, "psy_spm_kind", f.kind);
  bind(h, "psy_spm_piece_to_id", f.piece_to_id);
  bind(h, "psy_spm_special", f.special);
  bind(h, "psy_spm_encode", f.encode);
  bind(h, "psy_spm_train", f.train);
  return f;  // the module stays loaded for the life of the process
}

}  // namespace

void* SpmApi::load(std::string_view model, std::string& error) const {
  return f_->load(model.data(), model.size(), assign_bytes, &error);
}

void SpmApi::free(void* h) const { f_->free(h); }

int SpmApi::size(void* h) const { return f_->size(h); }

std::string_view SpmApi::id_to_piece(void* h, int id) const {
  size_t len = 0;
  const char* data = f_->id_to_piece(h, id, &len);
  return {data, len};
}

int SpmApi::kind(void* h, int id) const { return f_->kind(h, id); }

int SpmApi::piece_to_id(void* h, std::string_view piece) const { return f_->piece_to_id(h, piece.data(), piece.size()); }

SpmSpecialIds SpmApi::special(void* h) const {
  SpmSpecialIds s;
  f_->special(h, &s.bos, &s.eos, &s.unk, &s.pad);
  return s;
}

bool SpmApi::encode(void* h, std::string_view text, std::vector<int>& ids, std::string& error) const {
  return f_->encode(h, text.data(), text.size(), assign_ids, &ids, assign_bytes, &error) != 0;
}

bool SpmApi::train(const std::unordered_map<std::string, std::string>& args, const std::vector<std::string>& sentences,
                   bool quiet, std::string& model, std::string& error) const {
  std::vector<const char*> keys, values, texts;
  std::vector<size_t> lens;
  for (const auto& [k, v] : args) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  for (const auto& s : sentences) {
    texts.push_back(s.data());
    lens.push_back(s.size());
  }
  return f_->train(keys.data(), values.data(), keys.size(), texts.data(), lens.data(), texts.size(), quiet ? 1 : 0,
                   assign_bytes, &model, assign_bytes, &error) != 0;
}

const SpmApi& spm_api() {
  static const SpmApi::Functions functions = load_functions();
  static const SpmApi api(&functions);
  return api;
}

}  // namespace psy
