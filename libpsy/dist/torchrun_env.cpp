#include "libpsy/dist/torchrun_env.h"

#include <cerrno>
#include <cstdlib>

#include "libpsy/core/error.h"

namespace psy::dist {

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

namespace {

long parse_int(const std::string& name, const std::string& text, long min_value, long max_value) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || end == nullptr || *end != '\0' || value < min_value || value > max_value) {
    throw Error("environment variable " + name + ": " +
                expected_found("an integer in " + std::to_string(min_value) + ".." + std::to_string(max_value),
                               "'" + text + "'"));
  }
  return value;
}

}  // namespace

bool launched_by_launcher(const EnvLookup& env) {
  return env("RANK").has_value() && env("WORLD_SIZE").has_value();
}

DistEnv read_dist_env(const EnvLookup& env) {
  DistEnv out;
  auto rank = env("RANK");
  auto world = env("WORLD_SIZE");
  if (!rank && !world) return out;
  if (!rank || !world) {
    throw Error(std::string("environment: ") + (rank ? "RANK" : "WORLD_SIZE") + " is set but " +
                (rank ? "WORLD_SIZE" : "RANK") + " is not (start ranks with torchrun, srun or psy train --nproc)");
  }
  out.world_size = static_cast<int>(parse_int("WORLD_SIZE", *world, 1, 1 << 20));
  out.rank = static_cast<int>(parse_int("RANK", *rank, 0, out.world_size - 1));
  out.local_rank = out.rank;
  out.local_world_size = out.world_size;
  if (auto v = env("LOCAL_WORLD_SIZE")) out.local_world_size = static_cast<int>(parse_int("LOCAL_WORLD_SIZE", *v, 1, out.world_size));
  if (auto v = env("LOCAL_RANK")) out.local_rank = static_cast<int>(parse_int("LOCAL_RANK", *v, 0, out.world_size - 1));
  if (auto v = env("MASTER_ADDR")) {
    if (v->empty()) throw Error("environment variable MASTER_ADDR: " + expected_found("a host name or address", "''"));
    out.master_addr = *v;
  } else if (out.world_size > 1) {
    throw Error("environment: WORLD_SIZE is " + std::to_string(out.world_size) + " but MASTER_ADDR is not set");
  }
  if (auto v = env("MASTER_PORT")) {
    out.master_port = static_cast<int>(parse_int("MASTER_PORT", *v, 1, 65535));
  } else if (out.world_size > 1) {
    throw Error("environment: WORLD_SIZE is " + std::to_string(out.world_size) + " but MASTER_PORT is not set");
  }
  if (auto v = env("TORCHELASTIC_USE_AGENT_STORE")) out.use_agent_store = (*v == "True");
  if (auto v = env("TORCHELASTIC_RESTART_COUNT")) out.restart_count = static_cast<int>(parse_int("TORCHELASTIC_RESTART_COUNT", *v, 0, 1 << 30));
  return out;
}

}  // namespace psy::dist
