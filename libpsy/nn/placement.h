// Layer split (model parallel, `devices: {use: [cuda:0, cuda:1], parallel: layers}`): the
// embeddings go to the first device, the decoder layers are cut into consecutive stages, one
// per device, and the final norm and lm_head go to the last device. Decoder::forward moves the
// hidden states (and the RoPE tables / mask) to each layer's device as it goes and returns the
// logits on the embeddings' device, so training and generation code run unchanged.
// Two placements on the same device (e.g. [cpu, cpu]) run the same code path.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "libpsy/nn/attention.h"

namespace psy {

class DecoderImpl;
class DecoderLayerImpl;

struct LayerSplit {
  std::vector<torch::Device> devices;  // one per stage
  std::vector<int> layers_per_stage;   // sums to the layer count
  std::vector<int64_t> stage_bytes;    // parameter bytes per stage (embeddings on the first, head on the last)
  int stage_of_layer(int layer) const;
};

// "cpu", "cuda", "cuda:1" -> Device; psy::Error naming `where` otherwise.
torch::Device parse_device(const std::string& name, const std::string& where = "devices.use");

// Cuts layers into consecutive stages. With `split` (layers per device, as devices.split)
// it is checked and used; otherwise stages are balanced by parameter bytes: the cut minimises
// the largest stage, counting embed_bytes on the first stage and head_bytes on the last.
LayerSplit plan_layer_split(const std::vector<int64_t>& layer_bytes, int64_t embed_bytes, int64_t head_bytes,
                            const std::vector<torch::Device>& devices, const std::vector<int>& split = {});

// The split for a decoder from its parameter sizes (including LoRA and NF4 storage).
LayerSplit plan_layer_split(const DecoderImpl& decoder, const std::vector<torch::Device>& devices,
                            const std::vector<int>& split = {});

// Moves the decoder's modules to their devices (embeddings, each layer, norm + lm_head).
// A tied lm_head stays with the embeddings. Call before creating the optimiser.
void place_layers(DecoderImpl& decoder, const LayerSplit& split);

// Used by Decoder::forward: moves h and the attention context to the device of `layer` when
// they are elsewhere (a no-op on a single device).
torch::Tensor follow_layer_device(const torch::Tensor& h, AttentionContext& ctx, const DecoderLayerImpl& layer);

// The device holding a layer's weights.
torch::Device layer_device(const DecoderLayerImpl& layer);

// One line per stage: "stage 0 on cpu: embeddings + layers 0-3 (12.3 MB)".
std::string describe_split(const LayerSplit& split);

}  // namespace psy
