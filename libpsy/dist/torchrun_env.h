// The distributed environment a rank is started with: torchrun's variables (RANK, WORLD_SIZE,
// LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_USE_AGENT_STORE,
// TORCHELASTIC_RESTART_COUNT), also set by psy's own launcher and by Slurm job scripts.
// LibTorch-free.
#pragma once
#include <functional>
#include <optional>
#include <string>

namespace psy::dist {

struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // torchrun >= 2.x hosts the TCPStore in its agent and tells workers to connect as clients.
  bool use_agent_store = false;
  int restart_count = 0;

  bool distributed() const { return world_size > 1; }
};

// Looks a variable up; returns nullopt when unset. The default reads the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> process_env(const std::string& name);

// True when RANK and WORLD_SIZE are set (the process was started by a launcher).
bool launched_by_launcher(const EnvLookup& env = process_env);

// Reads and validates the variables. Without WORLD_SIZE the result is a single process
// (rank 0 of 1). Throws psy::Error naming the variable on bad values (non-integers,
// rank >= world size, a port outside 1..65535, RANK set without WORLD_SIZE or the reverse).
DistEnv read_dist_env(const EnvLookup& env = process_env);

}  // namespace psy::dist
