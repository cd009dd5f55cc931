#include "libpsy/retrieval/embedding_index.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"

namespace psy {

std::vector<float> normalized(std::vector<float> v) {
  double n = 0;
  for (float x : v) n += static_cast<double>(x) * x;
  n = std::sqrt(n);
  if (n > 0)
    for (float& x : v) x = static_cast<float>(x / n);
  return v;
}

void EmbeddingIndex::add(const std::vector<float>& v) {
  if (dim_ == 0) dim_ = v.size();
  if (v.size() != dim_ || dim_ == 0)
    throw Error("embedding index: vector " + expected_found(std::to_string(dim_) + " values", std::to_string(v.size())));
  const std::vector<float> u = normalized(v);
  data_.insert(data_.end(), u.begin(), u.end());
}

std::vector<IndexHit> EmbeddingIndex::top_k(const std::vector<float>& query, size_t k, size_t exclude) const {
  if (query.size() != dim_)
    throw Error("embedding index: query " + expected_found(std::to_string(dim_) + " values", std::to_string(query.size())));
  const std::vector<float> q = normalized(query);
  std::vector<IndexHit> all;
  all.reserve(size());
  for (size_t r = 0; r < size(); ++r) {
    if (r == exclude) continue;
    const float* row = data_.data() + r * dim_;
    float s = 0;
    for (size_t d = 0; d < dim_; ++d) s += row[d] * q[d];
    all.push_back({static_cast<uint32_t>(r), s});
  }
  k = std::min(k, all.size());
  auto better = [](const IndexHit& a, const IndexHit& b) { return a.score > b.score || (a.score == b.score && a.index < b.index); };
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(), better);
  all.resize(k);
  return all;
}

void EmbeddingIndex::save(const std::string& path) const {
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(data_.data()), static_cast<std::streamsize>(data_.size() * sizeof(float)));
  });
}

EmbeddingIndex EmbeddingIndex::load(const std::string& path, size_t rows, size_t dimension) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(ErrorLocation{path, 0, 0, "", "", ""}, "cannot open the embedding index");
  const auto bytes = static_cast<size_t>(in.tellg());
  if (bytes != rows * dimension * sizeof(float))
    throw Error(ErrorLocation{path, 0, 0, "", "", ""},
                "size " + expected_found(std::to_string(rows * dimension * sizeof(float)) + " bytes", std::to_string(bytes)));
  EmbeddingIndex idx(dimension);
  idx.data_.resize(rows * dimension);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(idx.data_.data()), static_cast<std::streamsize>(bytes));
  return idx;
}

}  // namespace psy
