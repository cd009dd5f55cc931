#include "libpsy/io/safetensors.h"

#include <cstring>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"
#include "libpsy/io/mapped_file.h"

namespace psy {

torch::ScalarType to_torch_dtype(SafetensorsDType dtype) {
  switch (dtype) {
    case SafetensorsDType::F64: return torch::kFloat64;
    case SafetensorsDType::F32: return torch::kFloat32;
    case SafetensorsDType::F16: return torch::kFloat16;
    case SafetensorsDType::BF16: return torch::kBFloat16;
    case SafetensorsDType::I64: return torch::kInt64;
    case SafetensorsDType::I32: return torch::kInt32;
    case SafetensorsDType::I16: return torch::kInt16;
    case SafetensorsDType::I8: return torch::kInt8;
    case SafetensorsDType::U8: return torch::kUInt8;
    case SafetensorsDType::BOOL: return torch::kBool;
  }
  return torch::kFloat32;
}

SafetensorsDType to_safetensors_dtype(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat64: return SafetensorsDType::F64;
    case torch::kFloat32: return SafetensorsDType::F32;
    case torch::kFloat16: return SafetensorsDType::F16;
    case torch::kBFloat16: return SafetensorsDType::BF16;
    case torch::kInt64: return SafetensorsDType::I64;
    case torch::kInt32: return SafetensorsDType::I32;
    case torch::kInt16: return SafetensorsDType::I16;
    case torch::kInt8: return SafetensorsDType::I8;
    case torch::kUInt8: return SafetensorsDType::U8;
    case torch::kBool: return SafetensorsDType::BOOL;
    default: break;
  }
  throw Error(std::string("safetensors cannot store dtype ") + c10::toString(dtype));
}

// ---------------------------------------------------------------------------------------------
// SafetensorsReader

SafetensorsReader::SafetensorsReader(const std::string& path) : path_(path) {
  map_ = std::make_shared<MappedFile>(path);
  header_ = parse_safetensors_header(map_->data(), map_->size(), path);
  for (std::size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

std::vector<std::string> SafetensorsReader::names() const {
  std::vector<std::string> out;
  out.reserve(header_.tensors.size());
  for (const auto& t : header_.tensors) out.push_back(t.name);
  return out;
}

bool SafetensorsReader::has(const std::string& name) const { return index_.count(name) != 0; }

const SafetensorsTensorInfo& SafetensorsReader::info(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error(path_ + ": no tensor named '" + name + "'");
  return header_.tensors[it->second];
}

torch::Tensor SafetensorsReader::tensor(const std::string& name) const {
  const SafetensorsTensorInfo& t = info(name);
  const auto options = torch::TensorOptions().dtype(to_torch_dtype(t.dtype)).device(torch::kCPU);
  if (t.nbytes() == 0) return torch::empty(t.shape, options);
  uint8_t* ptr = map_->data() + header_.data_start + t.begin;
  const std::size_t itemsize = safetensors_itemsize(t.dtype);
  if (reinterpret_cast<std::uintptr_t>(ptr) % itemsize != 0) {
    torch::Tensor copy = torch::empty(t.shape, options);
    std::memcpy(copy.data_ptr(), ptr, t.nbytes());
    return copy;
  }
  std::shared_ptr<MappedFile> keep = map_;
  return torch::from_blob(ptr, t.shape, [keep](void*) mutable { keep.reset(); }, options);
}

torch::Tensor SafetensorsReader::load(const std::string& name, torch::Device device,
                                      std::optional<torch::ScalarType> dtype) const {
  torch::Tensor view = tensor(name);
  return view.to(device, dtype.value_or(view.scalar_type()), /*non_blocking=*/false, /*copy=*/true);
}

// ---------------------------------------------------------------------------------------------
// CheckpointReader

namespace {

bool is_file(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

CheckpointReader::CheckpointReader(const std::string& path) : path_(path) {
  if (is_file(path)) {
    shards_.push_back(std::make_unique<SafetensorsReader>(path));
    for (const auto& n : shards_[0]->names()) owner_[n] = 0;
    return;
  }
  if (!is_dir(path)) throw Error(path + ": no such checkpoint (expected a folder or a .safetensors file)");
  const std::string index_path = path + "/model.safetensors.index.json";
  if (is_file(index_path)) {
    nlohmann::json index = read_json_file(index_path);
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
      throw Error(index_path + ": expected an object with a 'weight_map' object");
    }
    std::map<std::string, std::size_t> shard_of_file;
    for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
      if (!it.value().is_string()) {
        throw Error(index_path + ": weight_map entry '" + it.key() + "' is " +
                    expected_found("a file name", it.value().type_name()));
      }
      const std::string file = it.value().get<std::string>();
      if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..") {
        throw Error(index_path + ": weight_map entry '" + it.key() + "' names '" + file +
                    "', expected a file name inside the checkpoint folder");
      }
      auto found = shard_of_file.find(file);
      if (found == shard_of_file.end()) {
        shards_.push_back(std::make_unique<SafetensorsReader>(path + "/" + file));
        found = shard_of_file.emplace(file, shards_.size() - 1).first;
      }
      if (!shards_[found->second]->has(it.key())) {
        throw Error(index_path + ": weight_map says tensor '" + it.key() + "' is in " + file +
                    ", but that file has no such tensor");
      }
      owner_[it.key()] = found->second;
    }
    return;
  }
  const std::string single = path + "/model.safetensors";
  if (is_file(single)) {
    shards_.push_back(std::make_unique<SafetensorsReader>(single));
    for (const auto& n : shards_[0]->names()) owner_[n] = 0;
    return;
  }
  throw Error(path + ": no model.safetensors.index.json or model.safetensors in this folder");
}

std::vector<std::string> CheckpointReader::names() const {
  std::vector<std::string> out;
  for (const auto& [n, i] : owner_) out.push_back(n);
  return out;
}

bool CheckpointReader::has(const std::string& name) const { return owner_.count(name) != 0; }

const SafetensorsReader& CheckpointReader::reader_for(const std::string& name) const {
  auto it = owner_.find(name);
  if (it == owner_.end()) throw Error(path_ + ": checkpoint has no tensor named '" + name + "'");
  return *shards_[it->second];
}

const SafetensorsTensorInfo& CheckpointReader::info(const std::string& name) const {
  return reader_for(name).info(name);
}

torch::Tensor CheckpointReader::tensor(const std::string& name) const { return reader_for(name).tensor(name); }

torch::Tensor CheckpointReader::load(const std::string& name, torch::Device device,
                                     std::optional<torch::ScalarType> dtype) const {
  return reader_for(name).load(name, device, dtype);
}

std::vector<std::string> CheckpointReader::files() const {
  std::vector<std::string> out;
  for (const auto& s : shards_) out.push_back(s->path());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<SafetensorsTensorInfo> infos;
  std::vector<torch::Tensor> cpu;
  infos.reserve(tensors.size());
  cpu.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    if (!t.defined()) throw Error(path + ": tensor '" + name + "' is undefined", kExitFailure);
    SafetensorsTensorInfo info;
    info.name = name;
    info.dtype = to_safetensors_dtype(t.scalar_type());
    info.shape = t.sizes().vec();
    infos.push_back(std::move(info));
    cpu.push_back(t.detach().to(torch::kCPU).contiguous());
  }
  const std::string header = build_safetensors_header(infos, metadata);
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (std::size_t i = 0; i < cpu.size(); ++i) {
      const auto bytes = static_cast<std::streamsize>(infos[i].nbytes());
      if (bytes > 0) out.write(static_cast<const char*>(cpu[i].data_ptr()), bytes);
    }
  });
}

void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  NamedTensors ordered(tensors.begin(), tensors.end());
  write_safetensors(path, ordered, metadata);
}

}  // namespace psy
