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

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// `dir`/`relative` when it exists; otherwise "" and one SKIPPED line naming it and how to get it.
std::string path_or_skip(const std::string& dir, const std::string& relative, const std::string& shown_dir,
                         const std::string& how) {
  std::string path = dir + "/" + relative;
  if (dir.empty() || !exists(path)) {
    std::cerr << "SKIPPED: " << shown_dir << "/" << relative << " is absent (" << how << ")\n";
    return "";
  }
  return path;
}

// The folder env `variable` names, else `fallback`; "" when it does not exist.
std::string existing_dir(const char* variable, const std::string& fallback) {
  const char* env = std::getenv(variable);
  std::string dir = env && *env ? env : fallback;
  return exists(dir) ? dir : "";
}

}  // namespace

std::string shared_dir() { return existing_dir("PSY_SHARED", PSY_DEFAULT_SHARED_DIR); }

std::string shared_path(const std::string& relative) {
  return path_or_skip(shared_dir(), relative, "../shared", "set PSY_SHARED to the shared folder");
}

std::string reference_dir() { return existing_dir("PSY_REFERENCE", std::string(PSY_SOURCE_DIR) + "/.reference"); }

std::string reference_path(const std::string& relative) {
  return path_or_skip(reference_dir(), relative, ".reference", "run scripts/setup-reference.sh, or set PSY_REFERENCE");
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
