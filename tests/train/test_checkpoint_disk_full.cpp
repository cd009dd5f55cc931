// Disk full while saving a checkpoint: a child process (this test executable, run again for a
// hidden test case) trains with a checkpoint every 2 steps and, after the step-2 checkpoint,
// lowers RLIMIT_FSIZE with SIGXFSZ ignored so that every larger write fails with EFBIG as on a
// full disk. The step-4 checkpoint then cannot be written: the run must stop with one error
// naming the checkpoint and the OS error (exit 1), leave no partial checkpoint, keep step-2
// unchanged (keep_last 1 must not prune it), and resuming from step-2 must give the result of an
// uninterrupted run.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sys/resource.h>

#include "tests/io/torch_catch.h"
#include "tests/test_support.h"
#include "tests/train/tiny_training.h"

#include "libpsy/core/error.h"
#include "libpsy/train/training_checkpoint.h"
#include "libpsy/train/training_loop.h"

using namespace psy;
using namespace psy::test;
namespace fs = std::filesystem;

namespace {

constexpr const char* kRunEnv = "PSY_TEST_DISK_FULL_RUN";
constexpr const char* kMarker = "DISK-FULL-CHILD: ";

TrainingSetup disk_full_setup(const std::string& run) {
  TrainingSetup s = base_setup(run);
  s.train.epochs = 4;  // 4 x 6 micro-batches / grad_accum 2 = 12 steps
  s.train.save_every = 2;
  s.train.keep_last = 1;
  s.train.eval_every = 0;
  return s;
}

std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

std::string adapter_copy_path(const std::string& run) { return run + "-adapter-at-step-2.safetensors"; }

}  // namespace

TEST_CASE("disk-full child process (run by the test below)", "[.disk_full_child]") {
  const char* run_env = std::getenv(kRunEnv);
  if (!run_env) return;
  const std::string run = run_env;
  Decoder d = tiny_model(1);
  add_lora(d);
  TrainingSetup s = disk_full_setup(run);
  s.after_step = [run](long step) {
    if (step != 2) return;
    fs::copy_file(run + "/checkpoints/step-2/adapter/adapter_model.safetensors", adapter_copy_path(run));
    std::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing the process
    struct rlimit lim {};
    getrlimit(RLIMIT_FSIZE, &lim);
    lim.rlim_cur = 4096;  // the log still fits; a checkpoint's safetensors do not
    setrlimit(RLIMIT_FSIZE, &lim);
  };
  try {
    TrainingResult r = run_training(*d, counting_data(16, 0), s);
    std::cout << kMarker << "no error, " << r.steps << " steps" << std::endl;
  } catch (const Error& e) {
    std::cout << kMarker << "exit " << e.exit_code() << ": " << e.what() << std::endl;
  }
}

TEST_CASE("a checkpoint save that runs out of space keeps the previous checkpoint and stops with a clear error") {
  TempDir tmp;
  const std::string run = tmp.file("run");
  fs::create_directories(run + "/checkpoints/.tmp-step-1/adapter");  // as a save killed half-way leaves it
  write_file(run + "/checkpoints/.tmp-step-1/adapter/adapter_model.safetensors", "partial");
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string out = run_command(std::string(kRunEnv) + "='" + run + "' '" + self + "' '[.disk_full_child]' 2>&1");
  const size_t at = out.find(kMarker);
  INFO("child output:\n" << out);
  REQUIRE(at != std::string::npos);
  const std::string message = out.substr(at + std::string(kMarker).size(), out.find('\n', at) - at - std::string(kMarker).size());
  INFO(message);
  CHECK(message.rfind("exit 1: ", 0) == 0);
  CHECK_THAT(message, Catch::Contains("saving checkpoint " + run + "/checkpoints/step-4 failed") &&
                          Catch::Contains("previous checkpoints kept") && Catch::Contains("File too large"));

  // Only the complete step-2 checkpoint is left, byte for byte as written (no temporary folders).
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(run + "/checkpoints")) names.push_back(e.path().filename().string());
  CHECK(names == std::vector<std::string>{"step-2"});
  CHECK(find_latest_checkpoint(run) == run + "/checkpoints/step-2");
  CHECK(read_file(run + "/checkpoints/step-2/adapter/adapter_model.safetensors") == read_file(adapter_copy_path(run)));
  CHECK_FALSE(fs::exists(run + "/adapter"));

  // Resuming from it gives exactly the uninterrupted run's adapter.
  Decoder resumed = tiny_model(1);
  add_lora(resumed);
  TrainingSetup s = disk_full_setup(run);
  s.resume_from = find_latest_checkpoint(run);
  TrainingResult r = run_training(*resumed, counting_data(16, 0), s);
  CHECK(r.steps == 12);
  Decoder whole = tiny_model(1);
  add_lora(whole);
  run_training(*whole, counting_data(16, 0), disk_full_setup(tmp.file("whole")));
  auto pr = lora_parameters(*resumed), pw = lora_parameters(*whole);
  REQUIRE(pr.size() == pw.size());
  for (size_t i = 0; i < pr.size(); ++i) {
    INFO(pr[i].first);
    CHECK(torch::equal(pr[i].second, pw[i].second));
  }
}
