// SHA-256 of files, for the run manifest (which data a run trained on). No LibTorch.
#pragma once
#include <string>

namespace psy {

// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(const std::string& bytes);
// Of a file's contents; throws psy::Error (exit code 1) when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace psy
