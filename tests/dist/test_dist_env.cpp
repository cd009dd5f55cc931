#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "libpsy/core/error.h"
#include "libpsy/dist/epoch_shard.h"
#include "libpsy/dist/launcher.h"
#include "libpsy/dist/torchrun_env.h"

using namespace psy::dist;

namespace {
EnvLookup fake(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST_CASE("torchrun environment is read and validated", "[dist]") {
  DistEnv single = read_dist_env(fake({}));
  CHECK(single.world_size == 1);
  CHECK_FALSE(single.distributed());

  DistEnv e = read_dist_env(fake({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                                  {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29400"},
                                  {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "2"}}));
  CHECK(e.rank == 3);
  CHECK(e.world_size == 4);
  CHECK(e.local_rank == 1);
  CHECK(e.local_world_size == 2);
  CHECK(e.master_addr == "node7");
  CHECK(e.master_port == 29400);
  CHECK(e.use_agent_store);
  CHECK(e.restart_count == 2);

  CHECK_THROWS_WITH(read_dist_env(fake({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}})),
                    Catch::Contains("RANK") && Catch::Contains("0..1"));
  CHECK_THROWS_WITH(read_dist_env(fake({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}})),
                    Catch::Contains("MASTER_ADDR"));
  CHECK_THROWS_WITH(read_dist_env(fake({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "70000"}})),
                    Catch::Contains("MASTER_PORT"));
  CHECK_THROWS_WITH(read_dist_env(fake({{"RANK", "0"}})), Catch::Contains("WORLD_SIZE"));
  CHECK_THROWS_WITH(read_dist_env(fake({{"RANK", "x"}, {"WORLD_SIZE", "2"}})), Catch::Contains("'x'"));
}

TEST_CASE("epoch shards are disjoint, cover the epoch and give every rank the same step count", "[dist]") {
  for (int world : {1, 2, 3, 4}) {
    for (int accum : {1, 2, 3}) {
      for (std::size_t n : {0u, 1u, 7u, 13u, 24u}) {
        std::set<std::size_t> seen;
        const std::size_t steps = steps_per_epoch(n, world, accum);
        for (int r = 0; r < world; ++r) {
          auto shard = shard_epoch(n, r, world, accum);
          REQUIRE(shard.size() == steps);
          for (std::size_t s = 0; s < shard.size(); ++s) {
            CHECK(shard[s].size() <= static_cast<std::size_t>(accum));
            for (auto b : shard[s]) {
              // every micro-batch of step s comes from step s's global batch
              CHECK(b / (static_cast<std::size_t>(world * accum)) == s);
              CHECK(seen.insert(b).second);
            }
          }
        }
        CHECK(seen.size() == n);
      }
    }
  }
  // 13 micro-batches, 2 ranks x 2 accumulation: the last step has one batch, for rank 0 only.
  auto r1 = shard_epoch(13, 1, 2, 2);
  CHECK(r1.size() == 4);
  CHECK(r1[0] == std::vector<std::size_t>{1, 3});
  CHECK(r1[3].empty());
  CHECK(shard_epoch(13, 0, 2, 2)[3] == std::vector<std::size_t>{12});
  CHECK_THROWS_AS(shard_epoch(4, 2, 2, 1), psy::Error);
}

TEST_CASE("launcher helpers: option removal, error line, free port", "[dist]") {
  CHECK(without_option({"train", "--nproc", "2", "r.yaml"}, "--nproc") == std::vector<std::string>{"train", "r.yaml"});
  CHECK(without_option({"train", "--nproc=2", "r.yaml", "--x", "1"}, "--nproc") ==
        std::vector<std::string>{"train", "r.yaml", "--x", "1"});
  CHECK(last_error_line("step 1\nerror: bad batch\nshutting down\n") == "error: bad batch");
  CHECK(last_error_line("step 1\nterminate called\n\n") == "terminate called");
  int port = pick_free_port();
  CHECK(port > 0);
  CHECK(port < 65536);
}
