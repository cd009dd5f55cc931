// Building a Decoder from a Hugging Face folder (config.json + safetensors, single or sharded).
// Each weight is read from the memory-mapped file and copied once into the parameter on the
// target device and dtype, so host RAM never holds a second full copy of the model.
#pragma once
#include <string>

#include "libpsy/io/safetensors.h"
#include "libpsy/nn/decoder.h"

namespace psy {

// Loads DIR/config.json and the checkpoint. Errors (psy::Error) name missing or unexpected
// tensors and shape mismatches. Ignores "*.rotary_emb.inv_freq" buffers of older checkpoints.
Decoder load_decoder(const std::string& dir, const DecoderOptions& options = {});

// Copies every base weight of `decoder` from `checkpoint` (names must match exactly).
void load_decoder_weights(DecoderImpl& decoder, const CheckpointReader& checkpoint);

// Writes config.json and model.safetensors (base weights only, in the decoder's dtype) to DIR.
void save_decoder(DecoderImpl& decoder, const std::string& dir);

}  // namespace psy
