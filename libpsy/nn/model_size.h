// How many bytes a decoder's weights take, estimated from config.json alone, so that a model
// that cannot fit is refused in one line before anything is allocated (a 70B-shaped config on a
// laptop, or hidden_size: 1e12), instead of growing until the kernel kills the process.
#pragma once
#include <cstdint>
#include <string>

#include "libpsy/io/hf_config.h"

namespace psy {

// Parameters of the base weights (embeddings, every layer's projections and norms, the final
// norm and an untied lm_head), as a double so absurd sizes do not overflow.
double estimate_decoder_parameters(const DecoderConfig& config);

// Bytes of host memory the kernel says are available now (MemAvailable in /proc/meminfo); 0
// when unknown.
uint64_t available_host_memory_bytes();

// Refuses (psy::Error, exit code 2) sizes beyond any model psy runs (each dimension has a sane
// ceiling), then (exit code 1) weights of `bytes_per_weight` bytes that would not fit in
// `available_bytes` (0 = no memory check). `where` names the config in the message.
void check_decoder_fits(const DecoderConfig& config, int bytes_per_weight, uint64_t available_bytes,
                        const std::string& where);

// The same against the host's available memory, for weights built on the CPU; on a GPU only the
// dimension ceilings are checked (the CUDA allocator reports its own out-of-memory).
void check_decoder_fits_host(const DecoderConfig& config, int bytes_per_weight, bool on_cpu, const std::string& where);

}  // namespace psy
