// TensorBoard event files: TFRecord framing with masked CRCs and tensorflow.Event encoding,
// read back by an independent reader (tensorboard_test_reader.h).
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <sys/resource.h>

#include "libpsy/core/error.h"
#include "libpsy/io/tensorboard_record.h"
#include "libpsy/io/tensorboard_writer.h"
#include "tests/io/tensorboard_test_reader.h"
#include "tests/test_support.h"

using namespace psy;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("a TFRecord frame holds the length, the data and their masked CRCs") {
  const std::string data = "hello, tensorboard";
  const std::string rec = frame_tfrecord(data);
  REQUIRE(rec.size() == 8 + 4 + data.size() + 4);
  CHECK(test::tb_read_le(rec, 0, 8) == data.size());
  CHECK(test::tb_read_le(rec, 8, 4) == test::tb_mask(crc32c(rec.substr(0, 8))));
  CHECK(rec.substr(12, data.size()) == data);
  CHECK(test::tb_read_le(rec, 12 + data.size(), 4) == test::tb_mask(crc32c(data)));
  CHECK(tfrecord_masked_crc("123456789") == test::tb_mask(0xE3069283u));
  // An empty record is framed too.
  CHECK(test::read_tfrecords(frame_tfrecord("")) == std::vector<std::string>{""});
}

TEST_CASE("the reader rejects a corrupted record") {
  std::string rec = frame_tfrecord("some event bytes");
  std::string bad_data = rec;
  bad_data[14] ^= 0x01;
  CHECK_THROWS_WITH(test::read_tfrecords(bad_data), Catch::Contains("data CRC"));
  std::string bad_len = rec;
  bad_len[0] ^= 0x01;
  CHECK_THROWS_WITH(test::read_tfrecords(bad_len), Catch::Contains("length CRC"));
}

TEST_CASE("event files round-trip: file_version first, then scalars per step") {
  test::TempDir tmp;
  std::string path;
  {
    TensorBoardWriter w(tmp.file("tb"));
    path = w.path();
    w.add_scalars(1, {{"train/loss", 2.5f}, {"train/lr", 1e-4f}});
    w.add_scalars(2, {{"train/loss", 2.25f}, {"eval/loss", 3.0f}});
    w.add_scalars(300000000000LL, {{"train/grad_norm", -0.5f}});  // a step past 32 bits
    w.add_session_start(3);
  }
  const std::string name = fs::path(path).filename().string();
  CHECK(name.rfind("events.out.tfevents.", 0) == 0);
  CHECK(fs::path(path).parent_path() == fs::path(tmp.file("tb")));

  auto events = test::read_event_file(path);
  REQUIRE(events.size() == 5);
  CHECK(events[0].file_version == "brain.Event:2");
  CHECK_FALSE(events[0].has_summary);
  CHECK(events[0].wall_time > 1.6e9);  // seconds since 1970, this decade
  CHECK(events[1].step == 1);
  REQUIRE(events[1].values.size() == 2);
  CHECK(events[1].values[0].tag == "train/loss");
  CHECK(events[1].values[0].simple_value == 2.5f);
  CHECK(events[1].values[1].tag == "train/lr");
  CHECK(events[1].values[1].simple_value == 1e-4f);
  CHECK(events[1].wall_time >= events[0].wall_time);
  CHECK(events[2].step == 2);
  REQUIRE(events[2].values.size() == 2);
  CHECK(events[2].values[1].tag == "eval/loss");
  CHECK(events[2].values[1].simple_value == 3.0f);
  CHECK(events[3].step == 300000000000LL);
  REQUIRE(events[3].values.size() == 1);
  CHECK(events[3].values[0].simple_value == -0.5f);
  CHECK(events[4].step == 3);
  CHECK(events[4].session_status == 1);  // START
  CHECK_FALSE(events[4].has_summary);
}

TEST_CASE("events are on disk as soon as they are added, and a second writer opens a new file") {
  test::TempDir tmp;
  TensorBoardWriter a(tmp.file("tb"));
  a.add_scalars(1, {{"train/loss", 1.0f}});
  CHECK(test::read_event_file(a.path()).size() == 2);  // no close or flush needed
  TensorBoardWriter b(tmp.file("tb"));                  // same second, same host: a new name
  CHECK(b.path() != a.path());
  b.add_scalars(2, {{"train/loss", 0.5f}});
  auto names = files_in(tmp.file("tb"));
  CHECK(names.size() == 2);
  CHECK(test::read_event_file(a.path()).size() == 2);
  CHECK(test::read_event_file(b.path()).size() == 2);
}

TEST_CASE("a failed event write names the file and the OS error") {
  test::TempDir tmp;
  TensorBoardWriter w(tmp.file("tb"));
  // Writes beyond this file size fail with EFBIG (SIGXFSZ ignored), as on a full disk.
  struct rlimit old {};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 64;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  int exit_code = 0;
  try {
    for (int i = 0; i < 10; ++i) w.add_scalars(i, {{"train/loss", 1.0f}});
  } catch (const Error& e) {
    message = e.what();
    exit_code = e.exit_code();
  }
  setrlimit(RLIMIT_FSIZE, &old);  // before any assertion writes output
  std::signal(SIGXFSZ, old_handler);
  CHECK(exit_code == kExitFailure);
  CHECK_THAT(message, Catch::Contains(w.path()) && Catch::Contains("File too large"));
}
