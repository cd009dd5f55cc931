// The C interface between psy and its SentencePiece module (libpsy_spm.so), declared once: the
// module defines these functions (spm_shim.cpp) and psy looks them up by name (spm_library.cpp),
// so both sides compile against the same signatures. Plain C types only: the module has its own
// C++ runtime and heap (see spm_shim.cpp). Output goes through callbacks that copy it.
#pragma once
#include <stddef.h>

extern "C" {
typedef void (*psy_spm_bytes_fn)(void* ctx, const char* data, size_t len);
typedef void (*psy_spm_ids_fn)(void* ctx, const int* ids, size_t n);

// A processor for a serialized model, or NULL with the reason sent to on_error.
typedef void* psy_spm_load_t(const char* model, size_t len, psy_spm_bytes_fn on_error, void* error_ctx);
typedef void psy_spm_free_t(void* h);
typedef int psy_spm_size_t(void* h);
// The piece's bytes, owned by the processor (valid until psy_spm_free).
typedef const char* psy_spm_id_to_piece_t(void* h, int id, size_t* len);
typedef int psy_spm_kind_t(void* h, int id);  // 0 normal, 1 control, 2 unknown, 3 byte
typedef int psy_spm_piece_to_id_t(void* h, const char* piece, size_t len);
typedef void psy_spm_special_t(void* h, int* bos, int* eos, int* unk, int* pad);
// 1 and the ids sent to on_ids, or 0 and the reason sent to on_error.
typedef int psy_spm_encode_t(void* h, const char* text, size_t len, psy_spm_ids_fn on_ids, void* ids_ctx,
                             psy_spm_bytes_fn on_error, void* error_ctx);
// Trains on n sentences with nargs trainer flags (key/value pairs); 1 and the serialized model sent
// to on_model, or 0 and the reason sent to on_error.
typedef int psy_spm_train_t(const char* const* keys, const char* const* values, size_t nargs,
                            const char* const* sentences, const size_t* lens, size_t n, int quiet,
                            psy_spm_bytes_fn on_model, void* model_ctx, psy_spm_bytes_fn on_error, void* error_ctx);
}
