#include <catch2/catch.hpp>

#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"

using psy::ArgParser;

namespace {
ArgParser parser() {
  ArgParser p("psy thing", "Does a thing.");
  p.positional("FILE", "input file")
      .option("seed", "N", "the seed", "66")
      .multi_option("input", "FILE", "input files")
      .flag("json", "print JSON");
  return p;
}
}  // namespace

TEST_CASE("options take defaults and given values", "[cli]") {
  auto a = parser().parse({"data.json", "--seed", "7", "--json"});
  CHECK(a.get("FILE") == "data.json");
  CHECK(a.get_long("seed") == 7);
  CHECK(a.flag("json"));
  auto b = parser().parse({"data.json"});
  CHECK(b.get("seed") == "66");
  CHECK_FALSE(b.given("seed"));
  CHECK_FALSE(b.flag("json"));
  auto c = parser().parse({"--seed=9", "x", "--input", "a", "b", "--json"});
  CHECK(c.get("seed") == "9");
  CHECK(c.list("input") == std::vector<std::string>{"a", "b"});
}

TEST_CASE("unknown options name the valid ones", "[cli]") {
  try {
    parser().parse({"x", "--sed", "3"});
    FAIL("expected an error");
  } catch (const psy::Error& e) {
    std::string m = e.what();
    CHECK(m.find("unknown option '--sed'") != std::string::npos);
    CHECK(m.find("--seed") != std::string::npos);
    CHECK(m.find("--json") != std::string::npos);
    CHECK(e.exit_code() == 2);
  }
}

TEST_CASE("missing values, missing positionals and bad numbers are usage errors", "[cli]") {
  CHECK_THROWS_WITH(parser().parse({"x", "--seed"}), Catch::Contains("needs a value"));
  CHECK_THROWS_WITH(parser().parse({}), Catch::Contains("missing FILE"));
  CHECK_THROWS_WITH(parser().parse({"a", "b"}), Catch::Contains("unexpected argument 'b'"));
  auto a = parser().parse({"x", "--seed", "7x"});
  CHECK_THROWS_WITH(a.get_long("seed"), Catch::Contains("expected an integer, found '7x'"));
}

TEST_CASE("help lists every option with its default", "[cli]") {
  auto p = parser();
  CHECK(p.parse({"--help"}).help_requested());
  std::string h = p.help();
  CHECK(h.find("--seed N") != std::string::npos);
  CHECK(h.find("(default: 66)") != std::string::npos);
  CHECK(h.find("--json") != std::string::npos);
  CHECK(h.find("FILE") != std::string::npos);
}
