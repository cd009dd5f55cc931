#include <catch2/catch.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "tests/test_support.h"

TEST_CASE("read_json_file parses, and names the file and the parser's line and column on bad JSON") {
  psy::test::TempDir tmp;
  psy::test::write_file(tmp.file("ok.json"), R"({"r": 8, "targets": ["q_proj"]})");
  CHECK(psy::read_json_file(tmp.file("ok.json"))["r"] == 8);
  psy::test::write_file(tmp.file("bad.json"), "{\"r\": 8,\n \"alpha\": }");
  CHECK_THROWS_WITH(psy::read_json_file(tmp.file("bad.json")),
                    Catch::Contains(tmp.file("bad.json") + ": not valid JSON") && Catch::Contains("line 2"));
  CHECK_THROWS_WITH(psy::read_json_file(tmp.file("absent.json")), Catch::Contains("absent.json"));
}
