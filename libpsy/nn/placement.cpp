#include "libpsy/nn/placement.h"

#include <algorithm>
#include <limits>
#include <sstream>

#include "libpsy/core/error.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/nn/nf4.h"

namespace psy {

int LayerSplit::stage_of_layer(int layer) const {
  int end = 0;
  for (std::size_t s = 0; s < layers_per_stage.size(); ++s) {
    end += layers_per_stage[s];
    if (layer < end) return static_cast<int>(s);
  }
  throw Error("layer split: layer " + std::to_string(layer) + " is beyond the " + std::to_string(end) + " placed layers");
}

torch::Device parse_device(const std::string& name, const std::string& where) {
  try {
    return torch::Device(name);
  } catch (const std::exception&) {
    throw Error(where + ": " + expected_found("a device such as cpu, cuda or cuda:1", "'" + name + "'"));
  }
}

LayerSplit plan_layer_split(const std::vector<int64_t>& layer_bytes, int64_t embed_bytes, int64_t head_bytes,
                            const std::vector<torch::Device>& devices, const std::vector<int>& split) {
  const int layers = static_cast<int>(layer_bytes.size());
  const int stages = static_cast<int>(devices.size());
  if (stages < 1) throw Error("layer split: devices.use " + expected_found("at least one device", "none"));
  if (stages > layers)
    throw Error("layer split: " + expected_found("at most as many devices as layers (" + std::to_string(layers) + ")",
                                                 std::to_string(stages) + " devices"));
  LayerSplit out;
  out.devices = devices;
  if (!split.empty()) {
    if (static_cast<int>(split.size()) != stages)
      throw Error("devices.split: " + expected_found(std::to_string(stages) + " entries (one per device)", std::to_string(split.size())));
    int total = 0;
    for (int n : split) {
      if (n < 1) throw Error("devices.split: " + expected_found("every entry >= 1", std::to_string(n)));
      total += n;
    }
    if (total != layers)
      throw Error("devices.split: " + expected_found("entries summing to the model's " + std::to_string(layers) + " layers",
                                                     "a sum of " + std::to_string(total)));
    out.layers_per_stage = split;
  } else {
    // Exact minimax over contiguous cuts (layers and devices are few): best[s][i] = smallest
    // possible largest stage when the first i layers fill the first s stages.
    const int64_t inf = std::numeric_limits<int64_t>::max();
    auto stage_cost = [&](int s, int begin, int end) {
      int64_t c = 0;
      for (int i = begin; i < end; ++i) c += layer_bytes[static_cast<std::size_t>(i)];
      if (s == 0) c += embed_bytes;
      if (s == stages - 1) c += head_bytes;
      return c;
    };
    std::vector<std::vector<int64_t>> best(static_cast<std::size_t>(stages) + 1, std::vector<int64_t>(static_cast<std::size_t>(layers) + 1, inf));
    std::vector<std::vector<int>> cut(best.size(), std::vector<int>(static_cast<std::size_t>(layers) + 1, 0));
    best[0][0] = 0;
    for (int s = 1; s <= stages; ++s)
      for (int i = s; i <= layers; ++i)
        for (int j = s - 1; j < i; ++j) {
          if (best[static_cast<std::size_t>(s - 1)][static_cast<std::size_t>(j)] == inf) continue;
          int64_t v = std::max(best[static_cast<std::size_t>(s - 1)][static_cast<std::size_t>(j)], stage_cost(s - 1, j, i));
          if (v < best[static_cast<std::size_t>(s)][static_cast<std::size_t>(i)]) {
            best[static_cast<std::size_t>(s)][static_cast<std::size_t>(i)] = v;
            cut[static_cast<std::size_t>(s)][static_cast<std::size_t>(i)] = j;
          }
        }
    out.layers_per_stage.assign(static_cast<std::size_t>(stages), 0);
    int end = layers;
    for (int s = stages; s >= 1; --s) {
      int begin = cut[static_cast<std::size_t>(s)][static_cast<std::size_t>(end)];
      out.layers_per_stage[static_cast<std::size_t>(s - 1)] = end - begin;
      end = begin;
    }
  }
  int begin = 0;
  for (int s = 0; s < stages; ++s) {
    int64_t c = 0;
    for (int i = begin; i < begin + out.layers_per_stage[static_cast<std::size_t>(s)]; ++i) c += layer_bytes[static_cast<std::size_t>(i)];
    if (s == 0) c += embed_bytes;
    if (s == stages - 1) c += head_bytes;
    out.stage_bytes.push_back(c);
    begin += out.layers_per_stage[static_cast<std::size_t>(s)];
  }
  return out;
}

namespace {

int64_t module_bytes(const torch::nn::Module& m) {
  int64_t bytes = 0;
  for (const auto& p : m.parameters()) bytes += p.numel() * static_cast<int64_t>(p.element_size());
  // NF4 projections hold their weight outside the parameters (the parameter is a 1-element stub).
  for (const auto& sub : m.modules(/*include_self=*/true))
    if (auto proj = std::dynamic_pointer_cast<ProjectionImpl>(sub); proj && proj->nf4)
      bytes += proj->nf4->storage_bytes() - proj->weight.numel() * static_cast<int64_t>(proj->weight.element_size());
  return bytes;
}

void move_module(torch::nn::Module& m, const torch::Device& device) {
  for (const auto& sub : m.modules(/*include_self=*/true))
    if (auto proj = std::dynamic_pointer_cast<ProjectionImpl>(sub); proj && proj->nf4 && proj->nf4->codes.device() != device) {
      auto w = std::make_shared<Nf4Weight>(*proj->nf4);
      w->codes = w->codes.to(device);
      if (w->absmax.defined()) w->absmax = w->absmax.to(device);
      if (w->absmax_codes.defined()) w->absmax_codes = w->absmax_codes.to(device);
      if (w->absmax_scales.defined()) w->absmax_scales = w->absmax_scales.to(device);
      proj->nf4 = w;
      // Module::to would materialise the expanded stub into a full weight; swap the stub first.
      torch::NoGradGuard no_grad;
      proj->weight.set_data(torch::zeros({1, 1}, proj->weight.options().device(device)).expand(proj->weight.sizes()));
    }
  m.to(device);
}

}  // namespace

LayerSplit plan_layer_split(const DecoderImpl& decoder, const std::vector<torch::Device>& devices, const std::vector<int>& split) {
  auto& d = const_cast<DecoderImpl&>(decoder);
  std::vector<int64_t> layer_bytes;
  for (auto& layer : d.layers()) layer_bytes.push_back(module_bytes(*layer));
  const int64_t embed = module_bytes(*d.model->embed_tokens);
  const bool tied = d.config().tie_word_embeddings;
  const int64_t head = module_bytes(*d.model->norm) + (tied ? 0 : module_bytes(*d.lm_head));
  return plan_layer_split(layer_bytes, embed, head, devices, split);
}

void place_layers(DecoderImpl& decoder, const LayerSplit& split) {
  auto& layers = decoder.layers();
  int total = 0;
  for (int n : split.layers_per_stage) total += n;
  if (total != static_cast<int>(layers.size()))
    throw Error("layer split: " + expected_found(std::to_string(layers.size()) + " layers placed", std::to_string(total)));
  move_module(*decoder.model->embed_tokens, split.devices.front());
  for (std::size_t i = 0; i < layers.size(); ++i)
    move_module(*layers[i], split.devices[static_cast<std::size_t>(split.stage_of_layer(static_cast<int>(i)))]);
  move_module(*decoder.model->norm, split.devices.back());
  if (!decoder.config().tie_word_embeddings) move_module(*decoder.lm_head, split.devices.back());
}

torch::Device layer_device(const DecoderLayerImpl& layer) { return layer.input_layernorm->weight.device(); }

torch::Tensor follow_layer_device(const torch::Tensor& h, AttentionContext& ctx, const DecoderLayerImpl& layer) {
  const torch::Device device = layer_device(layer);
  for (torch::Tensor* t : {&ctx.cos, &ctx.sin, &ctx.mask, &ctx.window_mask})
    if (t->defined() && t->device() != device) *t = t->to(device);
  return h.device() == device ? h : h.to(device);
}

std::string describe_split(const LayerSplit& split) {
  std::ostringstream out;
  int begin = 0;
  for (std::size_t s = 0; s < split.devices.size(); ++s) {
    const int n = split.layers_per_stage[s];
    out << "stage " << s << " on " << split.devices[s].str() << ": " << (s == 0 ? "embeddings + " : "") << "layers "
        << begin << "-" << begin + n - 1 << (s + 1 == split.devices.size() ? " + norm + lm_head" : "") << " ("
        << static_cast<double>(split.stage_bytes[s]) / 1e6 << " MB)\n";
    begin += n;
  }
  return out.str();
}

}  // namespace psy
