// safetensors files and Hugging Face checkpoints with LibTorch.
//
//   SafetensorsReader r("model.safetensors");       // mmaps the file, validates the header
//   r.names(); r.has("lm_head.weight"); r.info("lm_head.weight").shape;
//   torch::Tensor v = r.tensor("lm_head.weight");    // CPU view of the mapped bytes, no copy
//   torch::Tensor w = r.load("lm_head.weight", torch::kCUDA, torch::kBFloat16);  // one copy
//
//   CheckpointReader ckpt("models/Mistral-7B");      // folder with model.safetensors.index.json,
//   ckpt.load("model.norm.weight", device);          // or model.safetensors, or one .safetensors file
//
//   write_safetensors("adapter_model.safetensors", {{"a", ta}, {"b", tb}}, {{"format", "pt"}});
//
// Views from tensor() keep the mapping alive for as long as any tensor uses it. The mapping
// is private copy-on-write: writing into a view never changes the file. A tensor whose bytes
// are not aligned to its element size is copied instead of viewed.
// Errors (psy::Error) name the file and the tensor; see safetensors_format.h for what a
// header must satisfy.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "libpsy/io/safetensors_format.h"

namespace psy {

class MappedFile;

torch::ScalarType to_torch_dtype(SafetensorsDType dtype);
// Throws psy::Error for dtypes safetensors cannot store (complex, quantized, ...).
SafetensorsDType to_safetensors_dtype(torch::ScalarType dtype);

class SafetensorsReader {
 public:
  explicit SafetensorsReader(const std::string& path);

  const std::string& path() const { return path_; }
  // Tensor names in the order of their bytes in the file.
  std::vector<std::string> names() const;
  bool has(const std::string& name) const;
  // Throws psy::Error naming the file when the tensor is absent.
  const SafetensorsTensorInfo& info(const std::string& name) const;
  std::vector<int64_t> shape(const std::string& name) const { return info(name).shape; }
  torch::ScalarType dtype(const std::string& name) const { return to_torch_dtype(info(name).dtype); }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }

  // A CPU tensor over the mapped bytes (no copy where aligned).
  torch::Tensor tensor(const std::string& name) const;
  // An owned tensor on `device`, converted to `dtype` when given: one copy from the mapping.
  torch::Tensor load(const std::string& name, torch::Device device = torch::kCPU,
                     std::optional<torch::ScalarType> dtype = std::nullopt) const;

 private:
  std::string path_;
  std::shared_ptr<MappedFile> map_;
  SafetensorsHeader header_;
  std::unordered_map<std::string, std::size_t> index_;
};

// A Hugging Face checkpoint: a folder holding model.safetensors.index.json (sharded; the
// weight map decides which file holds each tensor) or model.safetensors, or a path to one
// .safetensors file. Shards are opened (mmapped) once, when the reader is made.
class CheckpointReader {
 public:
  explicit CheckpointReader(const std::string& path);

  const std::string& path() const { return path_; }
  std::vector<std::string> names() const;  // sorted
  bool has(const std::string& name) const;
  const SafetensorsTensorInfo& info(const std::string& name) const;
  std::vector<int64_t> shape(const std::string& name) const { return info(name).shape; }
  torch::ScalarType dtype(const std::string& name) const { return to_torch_dtype(info(name).dtype); }
  torch::Tensor tensor(const std::string& name) const;
  torch::Tensor load(const std::string& name, torch::Device device = torch::kCPU,
                     std::optional<torch::ScalarType> dtype = std::nullopt) const;
  // The files read, in order.
  std::vector<std::string> files() const;

 private:
  const SafetensorsReader& reader_for(const std::string& name) const;
  std::string path_;
  std::vector<std::unique_ptr<SafetensorsReader>> shards_;
  std::map<std::string, std::size_t> owner_;  // tensor name -> shard index
};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Writes the tensors (any device; copied to CPU, made contiguous) in the given order, with
// optional string metadata, to a temporary file renamed over `path` when complete.
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});
void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace psy
