#include "tests/test_support.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace psy::test {

std::string source_dir() { return PSY_SOURCE_DIR; }

std::string shared_dir() {
  const char* env = std::getenv("PSY_SHARED");
  std::string dir = env && *env ? env : PSY_DEFAULT_SHARED_DIR;
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 ? dir : "";
}

std::string shared_path(const std::string& relative) {
  std::string dir = shared_dir();
  std::string path = dir + "/" + relative;
  struct stat st {};
  if (dir.empty() || ::stat(path.c_str(), &st) != 0) {
    std::cerr << "SKIPPED: ../shared/" << relative << " is absent (set PSY_SHARED to the shared folder)\n";
    return "";
  }
  return path;
}

std::string reference_dir() {
  const char* env = std::getenv("PSY_REFERENCE");
  std::string dir = env && *env ? env : std::string(PSY_SOURCE_DIR) + "/.reference";
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 ? dir : "";
}

std::string reference_path(const std::string& relative) {
  std::string dir = reference_dir();
  std::string path = dir + "/" + relative;
  struct stat st {};
  if (dir.empty() || ::stat(path.c_str(), &st) != 0) {
    std::cerr << "SKIPPED: .reference/" << relative
              << " is absent (run scripts/setup-reference.sh, or set PSY_REFERENCE)\n";
    return "";
  }
  return path;
}

std::string reference_python() { return reference_path("venv/bin/python"); }

std::string shell_quote(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

RunResult run_reference_python(const std::string& script, const std::string& args) {
  RunResult r;
  std::string python = reference_python();
  if (python.empty()) return r;
  TempDir tmp;
  std::string cmd = "HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false " +
                    shell_quote(python) + " " + shell_quote(std::string(PSY_SOURCE_DIR) + "/" + script) +
                    " " + args + " >'" + tmp.file("out") + "' 2>'" + tmp.file("err") + "'";
  int status = std::system(cmd.c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(tmp.file("out"));
  r.err = read_file(tmp.file("err"));
  return r;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/psy-test-XXXXXX";
  char* made = ::mkdtemp(templ.data());
  if (!made) throw std::runtime_error("cannot create a temporary folder");
  path_ = made;
}

TempDir::~TempDir() {
  std::string cmd = "rm -rf '" + path_ + "'";
  if (std::system(cmd.c_str()) != 0) std::cerr << "warning: could not remove " << path_ << "\n";
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

RunResult run_psy(const std::string& args) {
  TempDir tmp;
  std::string cmd = std::string("'") + PSY_EXE + "' " + args + " >'" + tmp.file("out") + "' 2>'" + tmp.file("err") + "'";
  int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(tmp.file("out"));
  r.err = read_file(tmp.file("err"));
  return r;
}

}  // namespace psy::test
