// The LibTorch-free safetensors header parser: valid headers and every kind of broken one.
#include <catch2/catch.hpp>

#include <cstdint>
#include <sstream>
#include <string>

#include "libpsy/core/error.h"
#include "libpsy/io/mapped_file.h"
#include "libpsy/io/safetensors_format.h"
#include "tests/test_support.h"

namespace {

std::string file_with(const std::string& json, std::size_t data_bytes) {
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + json + std::string(data_bytes, '\x01');
}

psy::SafetensorsHeader parse(const std::string& bytes) {
  return psy::parse_safetensors_header(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "x.safetensors");
}

std::string error_of(const std::string& bytes) {
  try {
    parse(bytes);
  } catch (const psy::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a valid header parses into tensors sorted by offset, with metadata") {
  auto h = parse(file_with(
      R"({"b":{"dtype":"BF16","shape":[2],"data_offsets":[24,28]},"__metadata__":{"format":"pt"},)"
      R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"s":{"dtype":"I64","shape":[],"data_offsets":[28,36]}})",
      36));
  REQUIRE(h.tensors.size() == 3);
  CHECK(h.tensors[0].name == "a");
  CHECK(h.tensors[0].shape == std::vector<int64_t>{2, 3});
  CHECK(h.tensors[1].dtype == psy::SafetensorsDType::BF16);
  CHECK(h.tensors[2].numel() == 1);
  CHECK(h.metadata.at("format") == "pt");
  CHECK(h.find("b") != nullptr);
  CHECK(h.find("zz") == nullptr);
}

TEST_CASE("an empty header with no tensors is valid") {
  CHECK(parse(file_with("{}", 0)).tensors.empty());
  CHECK(parse(file_with("{}      ", 0)).tensors.empty());
}

TEST_CASE("broken headers give errors naming the file, the tensor and the problem") {
  const std::string ok = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  CHECK_THAT(error_of("abc"), Catch::Contains("x.safetensors") && Catch::Contains("fewer than the 8-byte"));
  std::string huge(8, '\0');
  huge[4] = 1;  // 2^32 bytes
  CHECK_THAT(error_of(huge), Catch::Contains("exceeds the limit"));
  std::string past = file_with(ok, 8);
  past[0] = static_cast<char>(200);
  CHECK_THAT(error_of(past), Catch::Contains("past the end of the file"));
  CHECK_THAT(error_of(file_with("[1,2]", 0)), Catch::Contains("does not start with '{'"));
  CHECK_THAT(error_of(file_with("{\"w\": ", 0)), Catch::Contains("not valid JSON"));
  CHECK_THAT(error_of(file_with(R"({"w":{"dtype":"F8","shape":[2],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("tensor 'w'") && Catch::Contains("unknown dtype 'F8'") && Catch::Contains("BF16"));
  CHECK_THAT(error_of(file_with(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("non-negative integers"));
  CHECK_THAT(error_of(file_with(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("tensor 'w'") && Catch::Contains("= 12 bytes, but data_offsets span 8"));
  CHECK_THAT(error_of(file_with(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8)),
             Catch::Contains("begin 8 > end 0"));
  CHECK_THAT(error_of(file_with(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4)),
             Catch::Contains("outside the data section"));
  CHECK_THAT(error_of(file_with(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                R"("v":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
             Catch::Contains("overlap"));
  CHECK_THAT(error_of(file_with(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
             Catch::Contains("gap"));
  CHECK_THAT(error_of(file_with(ok, 12)), Catch::Contains("trailing bytes"));
  CHECK_THAT(error_of(file_with(R"({"w":{"dtype":"F32","shape":[2]}})", 8)), Catch::Contains("missing 'data_offsets'"));
  CHECK_THAT(error_of(file_with(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8)),
             Catch::Contains("unknown key 'x'"));
  CHECK_THAT(error_of(file_with(R"({"__metadata__":{"a":1}})", 0)), Catch::Contains("'__metadata__' key 'a'"));
  CHECK_THAT(error_of(file_with(R"({"w":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("overflows"));
}

TEST_CASE("build_safetensors_header assigns contiguous offsets and pads to 8 bytes, and parses back") {
  std::vector<psy::SafetensorsTensorInfo> infos(2);
  infos[0].name = "x";
  infos[0].dtype = psy::SafetensorsDType::F16;
  infos[0].shape = {3};
  infos[1].name = "y";
  infos[1].dtype = psy::SafetensorsDType::I32;
  infos[1].shape = {2, 2};
  std::string header = psy::build_safetensors_header(infos, {{"format", "pt"}});
  CHECK(header.size() % 8 == 0);
  CHECK(infos[0].end == 6);
  CHECK(infos[1].begin == 6);
  CHECK(infos[1].end == 22);
  std::string file = header + std::string(22, '\0');
  auto h = parse(file);
  REQUIRE(h.tensors.size() == 2);
  CHECK(h.data_start == header.size());
  CHECK(h.metadata.at("format") == "pt");
}

TEST_CASE("every broken file in tests/fixtures/io gives a psy::Error naming its problem") {
  const std::string dir = psy::test::source_dir() + "/tests/fixtures/io";
  std::istringstream manifest(psy::test::read_file(dir + "/expected_errors.tsv"));
  std::string line;
  int checked = 0;
  while (std::getline(manifest, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    const std::string name = line.substr(0, tab), expected = line.substr(tab + 1);
    INFO(name);
    psy::MappedFile file(dir + "/" + name);
    std::string message = "OK";
    try {
      psy::parse_safetensors_header(file.data(), file.size(), name);
    } catch (const psy::Error& e) {
      message = e.what();
    }
    CHECK_THAT(message, Catch::Contains(expected));
    if (expected != "OK") CHECK_THAT(message, Catch::Contains(name));
    ++checked;
  }
  CHECK(checked >= 20);
}
