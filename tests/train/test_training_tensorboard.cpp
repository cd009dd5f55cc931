// train.tensorboard: a training run writes TensorBoard event files with the values of its JSONL
// log, one event per logged step; a resumed run adds a new file that supersedes the steps after
// its checkpoint.
#include <csignal>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/io/tensorboard_test_reader.h"
#include "tests/io/torch_catch.h"
#include "tests/test_support.h"
#include "tests/train/tiny_training.h"

#include "libpsy/train/training_checkpoint.h"
#include "libpsy/train/training_loop.h"

using namespace psy;
using namespace psy::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> event_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

// tag -> (step, value) in file order.
std::map<std::string, std::vector<std::pair<int64_t, float>>> scalars_of(const std::vector<DecodedEvent>& events) {
  std::map<std::string, std::vector<std::pair<int64_t, float>>> out;
  for (const auto& e : events)
    for (const auto& v : e.values) out[v.tag].emplace_back(e.step, v.simple_value);
  return out;
}

}  // namespace

TEST_CASE("train.tensorboard writes one scalar event per logged step, with the JSONL log's values") {
  TempDir tmp;
  Decoder d = tiny_model(1);
  add_lora(d);
  TrainingData data = counting_data(12, 3);
  TrainingSetup s = base_setup(tmp.file("run"));
  s.train.tensorboard = true;
  s.train.eval_every = 2;
  TrainingResult r = run_training(*d, data, s);
  REQUIRE(r.steps == 4);  // 2 epochs * 4 micro-batches / grad_accum 2

  auto files = event_files(tmp.file("run/tensorboard"));
  REQUIRE(files.size() == 1);
  auto events = read_event_file(files[0]);
  REQUIRE_FALSE(events.empty());
  CHECK(events[0].file_version == "brain.Event:2");
  auto scalars = scalars_of(events);
  auto log = read_jsonl(tmp.file("run/log.jsonl"));
  REQUIRE(log.size() == 4);
  REQUIRE(scalars["train/loss"].size() == log.size());
  for (const char* tag : {"train/lr", "train/grad_norm", "train/tokens_per_s"}) CHECK(scalars[tag].size() == log.size());
  for (size_t i = 0; i < log.size(); ++i) {
    CHECK(scalars["train/loss"][i].first == log[i]["step"].get<int64_t>());
    CHECK(scalars["train/loss"][i].second == static_cast<float>(log[i]["loss"].get<double>()));
    CHECK(scalars["train/lr"][i].second == static_cast<float>(log[i]["lr"].get<double>()));
    CHECK(scalars["train/grad_norm"][i].second == static_cast<float>(log[i]["grad_norm"].get<double>()));
  }
  // eval/loss on evaluation steps only (2 and 4).
  REQUIRE(scalars["eval/loss"].size() == 2);
  CHECK(scalars["eval/loss"][0].first == 2);
  CHECK(scalars["eval/loss"][1].first == 4);
  CHECK(scalars["eval/loss"][1].second == static_cast<float>(log[3]["eval_loss"].get<double>()));
  CHECK(scalars.count("train/loss_scale") == 0);  // fp16 only
}

TEST_CASE("train.tensorboard off writes no event files") {
  TempDir tmp;
  Decoder d = tiny_model(1);
  add_lora(d);
  TrainingSetup s = base_setup(tmp.file("run"));
  s.train.max_steps = 1;
  run_training(*d, counting_data(6, 0), s);
  CHECK_FALSE(fs::exists(tmp.file("run/tensorboard")));
}

TEST_CASE("a resumed run adds an event file that restarts at the step after its checkpoint") {
  TempDir tmp;
  TrainingData data = counting_data(12, 0);
  Decoder a = tiny_model(1);
  add_lora(a);
  TrainingSetup sa = base_setup(tmp.file("run"));
  sa.train.tensorboard = true;
  sa.train.epochs = 3;  // 6 steps
  sa.after_step = [](long step) {
    if (step == 3) std::raise(SIGINT);  // stops after step 3 with a checkpoint
  };
  TrainingResult ra = run_training(*a, data, sa);
  REQUIRE(ra.interrupted);
  REQUIRE(ra.steps == 3);

  Decoder b = tiny_model(1);
  add_lora(b);
  TrainingSetup sb = base_setup(tmp.file("run"));
  sb.train.tensorboard = true;
  sb.train.epochs = 3;
  sb.resume_from = find_latest_checkpoint(tmp.file("run"));
  TrainingResult rb = run_training(*b, data, sb);
  REQUIRE(rb.steps == 6);

  auto files = event_files(tmp.file("run/tensorboard"));
  REQUIRE(files.size() == 2);
  // Sorted names keep the order: "<time>.<host>" then "<time>.<host>.1" within one second.
  auto first = read_event_file(files[0]), second = read_event_file(files[1]);
  CHECK(scalars_of(first)["train/loss"].size() == 3);
  REQUIRE(second.size() >= 2);
  CHECK(second[0].file_version == "brain.Event:2");
  CHECK(second[1].session_status == 1);  // SessionLog START
  CHECK(second[1].step == 4);
  auto later = scalars_of(second)["train/loss"];
  REQUIRE(later.size() == 3);
  CHECK(later.front().first == 4);
  CHECK(later.back().first == 6);

  // A fresh run in the same folder starts the event files afresh (as log.jsonl).
  Decoder c = tiny_model(1);
  add_lora(c);
  TrainingSetup sc = base_setup(tmp.file("run"));
  sc.train.tensorboard = true;
  sc.train.max_steps = 2;
  run_training(*c, data, sc);
  files = event_files(tmp.file("run/tensorboard"));
  REQUIRE(files.size() == 1);
  CHECK(scalars_of(read_event_file(files[0]))["train/loss"].size() == 2);
}
