// Writing files so that a reader never sees half of one: write to a temporary name in the
// same folder, flush and fsync, then rename over the target. A failure leaves the old file.
#pragma once
#include <functional>
#include <ostream>
#include <string>

namespace psy {

// Writes `content` to `path` atomically. Throws psy::Error (exit code 1) on failure.
void write_file_atomic(const std::string& path, const std::string& content);

// Streams into a temporary file through `fill`, then renames it to `path`.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& fill);

// Folders: puts the complete folder `from` at `to` so that `to` is never seen half written.
// A `to` already there is swapped out in one step (renameat2 RENAME_EXCHANGE, then removed; on a
// file system without the exchange it is removed first). Throws psy::Error (exit 1) on failure.
void replace_folder(const std::string& from, const std::string& to);

// Creates a directory and its parents (like mkdir -p). Throws psy::Error on failure.
void make_dirs(const std::string& path);

}  // namespace psy
