#include "libpsy/text/spm_library.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

#include "libpsy/core/error.h"

namespace psy {

namespace {

std::string executable_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// AddressSanitizer refuses RTLD_DEEPBIND (the module would bind to libc's malloc, not ASan's):
// sanitized builds (scripts/test.sh --sanitize) load the module without deep binding, which is
// safe in processes without LibTorch's libprotobuf (see spm_shim.cpp for why normal builds need it).
#if defined(__SANITIZE_ADDRESS__)
#define PSY_SPM_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PSY_SPM_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL)
#endif
#endif
#ifndef PSY_SPM_DLOPEN_FLAGS
#define PSY_SPM_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND)
#endif

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
    void* h = ::dlopen(c.c_str(), PSY_SPM_DLOPEN_FLAGS);
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

SpmApi load_api() {
  std::string tried;
  void* h = open_module(tried);
  if (!h) {
    throw Error("cannot load psy's SentencePiece module libpsy_spm.so (set PSY_SPM_LIBRARY); tried:" + tried,
                kExitFailure);
  }
  SpmApi api{};
  bind(h, "psy_spm_load", api.load);
  bind(h, "psy_spm_free", api.free);
  bind(h, "psy_spm_size", api.size);
  bind(h, "psy_spm_id_to_piece", api.id_to_piece);
  bind(h, "psy_spm_kind", api.kind);
  bind(h, "psy_spm_piece_to_id", api.piece_to_id);
  bind(h, "psy_spm_special", api.special);
  bind(h, "psy_spm_encode", api.encode);
  bind(h, "psy_spm_train", api.train);
  return api;  // the module stays loaded for the life of the process
}

}  // namespace

const SpmApi& spm_api() {
  static const SpmApi api = load_api();
  return api;
}

}  // namespace psy
