#include <catch2/catch.hpp>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "tests/test_support.h"

TEST_CASE("atomic writes replace the file and leave no temporary behind", "[atomic]") {
  psy::test::TempDir dir;
  const std::string path = dir.file("out.json");
  psy::write_file_atomic(path, "first");
  psy::write_file_atomic(path, "second");
  CHECK(psy::test::read_file(path) == "second");
}

TEST_CASE("a failure while writing keeps the previous file intact", "[atomic]") {
  psy::test::TempDir dir;
  const std::string path = dir.file("out.json");
  psy::write_file_atomic(path, "good");
  CHECK_THROWS(psy::write_file_atomic(path, [](std::ostream& out) {
    out << "half";
    throw psy::Error("disk full", 1);
  }));
  CHECK(psy::test::read_file(path) == "good");
  CHECK_THROWS_WITH(psy::write_file_atomic(dir.file("no/such/dir/x"), "x"), Catch::Contains("cannot write"));
}
