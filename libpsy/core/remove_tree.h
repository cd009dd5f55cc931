// Removes a file or a folder with everything in it (rm -rf), without std::filesystem::remove_all:
// PyTorch's LibTorch builds export a copy of that function from libtorch.so that crashes when
// our code binds to it (seen with LibTorch 2.11), so psy deletes trees itself.
#pragma once
#include <string>
#include <system_error>

namespace psy {

// Returns true when `path` is gone afterwards (also when it never existed). Symbolic links are
// removed, never followed. On failure sets `ec` to the first OS error and leaves the rest.
bool remove_tree(const std::string& path, std::error_code& ec) noexcept;

}  // namespace psy
