// A read-only view of a whole file through mmap (copy-on-write private mapping, so a
// consumer that writes into the bytes never changes the file). Empty files map to no bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace psy {

class MappedFile {
 public:
  // Throws psy::Error (exit code 2) when the file cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  std::string path_;
  uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace psy
