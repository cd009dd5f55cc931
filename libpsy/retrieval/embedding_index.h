// Exact cosine top-k over a small set of embeddings (the training sessions of a run): vectors
// are stored unit-length, a query is normalised, scores are dot products, ties go to the lower
// index. Saved as raw little-endian float32 rows. No LibTorch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace psy {

struct IndexHit {
  uint32_t index = 0;
  float score = 0.0f;  // cosine similarity
};

class EmbeddingIndex {
 public:
  EmbeddingIndex() = default;
  explicit EmbeddingIndex(size_t dimension) : dim_(dimension) {}

  // Appends a vector (normalised here; a zero vector stays zero). Throws on a dimension mismatch.
  void add(const std::vector<float>& v);

  // The k best entries for `query`, best first, skipping index `exclude` (pass size() for none).
  std::vector<IndexHit> top_k(const std::vector<float>& query, size_t k, size_t exclude) const;

  size_t size() const { return dim_ ? data_.size() / dim_ : 0; }
  size_t dimension() const { return dim_; }
  const std::vector<float>& data() const { return data_; }

  // Writes / reads `rows x dimension` floats; load checks the file size against the shape.
  void save(const std::string& path) const;
  static EmbeddingIndex load(const std::string& path, size_t rows, size_t dimension);

 private:
  size_t dim_ = 0;
  std::vector<float> data_;
};

// The vector scaled to unit length (unchanged when zero).
std::vector<float> normalized(std::vector<float> v);

}  // namespace psy
