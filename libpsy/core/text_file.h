// Reading whole files with errors that name the file.
#pragma once
#include <string>

namespace psy {

// Reads a file into memory. Throws psy::Error naming the path when it is missing,
// a directory, or unreadable.
std::string read_text_file(const std::string& path);

// True when the path exists and is a regular file or a directory.
bool path_exists(const std::string& path);

}  // namespace psy
