#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "libpsy/core/remove_tree.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;

TEST_CASE("remove_tree deletes nested folders and files, leaves what a link points to, and accepts absent paths") {
  psy::test::TempDir tmp;
  const std::string root = tmp.file("run/checkpoints");
  fs::create_directories(root + "/step-2/adapter");
  fs::create_directories(root + "/step-4/empty");
  std::ofstream(root + "/step-2/adapter/adapter_model.safetensors") << "x";
  std::ofstream(root + "/step-2/state.json") << "{}";
  const std::string outside = tmp.file("keep.txt");
  std::ofstream(outside) << "keep";
  fs::create_symlink(outside, root + "/step-4/link");
  fs::create_directory_symlink(tmp.file("run"), root + "/step-4/loop");  // must not be followed

  std::error_code ec;
  CHECK(psy::remove_tree(root, ec));
  CHECK_FALSE(ec);
  CHECK_FALSE(fs::exists(root));
  CHECK(fs::exists(tmp.file("run")));
  CHECK(fs::exists(outside));

  CHECK(psy::remove_tree(root, ec));  // already gone
  CHECK_FALSE(ec);
  CHECK(psy::remove_tree(outside, ec));  // a plain file
  CHECK_FALSE(fs::exists(outside));
}

TEST_CASE("remove_tree reports the OS error when it cannot delete") {
  if (geteuid() == 0) {
    std::cerr << "SKIPPED: permission errors cannot be provoked as root\n";
    return;
  }
  psy::test::TempDir tmp;
  const std::string locked = tmp.file("locked");
  fs::create_directories(locked + "/inner");
  chmod(locked.c_str(), 0500);
  std::error_code ec;
  CHECK_FALSE(psy::remove_tree(locked, ec));
  CHECK(ec.value() == EACCES);
  chmod(locked.c_str(), 0700);
}
