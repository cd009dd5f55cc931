// Helpers shared by psy's tests: paths to fixtures and to ../shared, temporary folders,
// and running the psy executable.
#pragma once
#include <string>

namespace psy::test {

// The project's source folder (fixtures live under it).
std::string source_dir();
// ../shared (env PSY_SHARED overrides); empty when it does not exist.
std::string shared_dir();
// A path under ../shared, or "" (and a printed skip message naming what is missing) when absent.
std::string shared_path(const std::string& relative);

// A fresh, empty temporary folder, removed when the object goes out of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs the built psy executable with a shell-quoted argument string.
RunResult run_psy(const std::string& args);

// The live reference stack (scripts/setup-reference.sh): .reference/ in the source folder, or
// env PSY_REFERENCE. reference_path("models/smollm2-135m-instruct") returns the absolute path,
// or "" (and prints a SKIPPED line naming what is missing and how to make it) when absent.
std::string reference_dir();
std::string reference_path(const std::string& relative);
// The reference venv's python ("" + SKIPPED line when absent).
std::string reference_python();
// Runs `reference_python() SCRIPT ARGS` (a shell-quoted argument string; SCRIPT relative to the
// source folder, e.g. "tests/reference/hf_tokenize.py"); stdout/stderr captured. Offline:
// HF_HUB_OFFLINE=1, TRANSFORMERS_OFFLINE=1 are set.
RunResult run_reference_python(const std::string& script, const std::string& args);
// Quotes one argument for a POSIX shell.
std::string shell_quote(const std::string& arg);

}  // namespace psy::test
