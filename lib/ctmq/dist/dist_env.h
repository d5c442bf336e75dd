#pragma once
// Which process of which job we are: read from the launcher's environment variables. Detection is
// a pure function of an environment lookup so that tests can feed it fake environments.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace ctmq {

/// The place of this process in a distributed job; the defaults describe a single process.
struct DistEnv {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;  ///< index of this process on its node (picks the GPU)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source = "none";     ///< "none" | "torchrun" | "slurm"
  std::string gloo_socket_ifname;  ///< GLOO_SOCKET_IFNAME: network interface Gloo binds to
};

/// Looks an environment variable up; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// Detects the launcher from its variables. torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
/// MASTER_PORT) wins over Slurm (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, the first host of
/// SLURM_JOB_NODELIST, MASTER_PORT or a port derived from SLURM_JOB_ID); neither means a single
/// process. Throws DistError naming the variable whose value is missing or malformed.
DistEnv detect_dist_env(const EnvLookup& getenv);

/// detect_dist_env() on this process's real environment.
DistEnv detect_dist_env_from_process();

/// First host of a Slurm host list, expanding compressed forms: "node[01-04,07],gpu3" -> "node01",
/// "rack[2-3]-n[5,9]" -> "rack2-n5". Throws DistError on unbalanced brackets or an empty list.
std::string first_slurm_host(const std::string& nodelist);

/// The rendezvous port used under Slurm when MASTER_PORT is unset: 15000 + job_id % 20000, so
/// that two jobs sharing a node rarely collide and every task of one job agrees without talking.
int slurm_default_port(int64_t job_id);

}  // namespace ctmq
