#include "ctmq/dist/dist_env.h"

#include <charconv>
#include <cstdlib>

#include "ctmq/dist/dist_error.h"

namespace ctmq {
namespace {

DistError env_error(const std::string& message) {
  return DistError(message, -1, kExitUsage);
}

int64_t parse_int(const std::string& name, const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw env_error("environment variable " + name + "='" + text + "' is not an integer");
  }
  return value;
}

int64_t require_int(const EnvLookup& getenv, const std::string& name, const std::string& why) {
  auto text = getenv(name);
  if (!text) throw env_error("environment variable " + name + " is not set (" + why + ")");
  return parse_int(name, *text);
}

int parse_port(const std::string& name, const std::string& text) {
  int64_t port = parse_int(name, text);
  if (port < 1 || port > 65535) {
    throw env_error("environment variable " + name + "=" + text + " is not a port in 1..65535");
  }
  return static_cast<int>(port);
}

void validate(const DistEnv& env, const std::string& rank_var, const std::string& size_var,
              const std::string& local_var) {
  if (env.world_size < 1) {
    throw env_error("environment variable " + size_var + "=" + std::to_string(env.world_size) +
                    " must be at least 1");
  }
  if (env.rank < 0 || env.rank >= env.world_size) {
    throw env_error("environment variable " + rank_var + "=" + std::to_string(env.rank) +
                    " is outside 0.." + std::to_string(env.world_size - 1) + " (" + size_var + "=" +
                    std::to_string(env.world_size) + ")");
  }
  if (env.local_rank < 0 || env.local_rank >= env.world_size) {
    throw env_error("environment variable " + local_var + "=" + std::to_string(env.local_rank) +
                    " is outside 0.." + std::to_string(env.world_size - 1) + " (" + size_var + "=" +
                    std::to_string(env.world_size) + ")");
  }
  if (env.master_addr.empty()) throw env_error("the master address is empty");
}

DistEnv detect_torchrun(const EnvLookup& getenv) {
  const std::string why = "RANK is set, so the other torchrun variables must be too";
  DistEnv env;
  env.source = "torchrun";
  env.rank = require_int(getenv, "RANK", why);
  env.world_size = require_int(getenv, "WORLD_SIZE", why);
  auto local = getenv("LOCAL_RANK");
  env.local_rank = local ? parse_int("LOCAL_RANK", *local) : 0;
  if (auto addr = getenv("MASTER_ADDR")) env.master_addr = *addr;
  if (auto port = getenv("MASTER_PORT")) env.master_port = parse_port("MASTER_PORT", *port);
  validate(env, "RANK", "WORLD_SIZE", "LOCAL_RANK");
  return env;
}

DistEnv detect_slurm(const EnvLookup& getenv) {
  const std::string why = "SLURM_PROCID is set, so the other Slurm task variables must be too";
  DistEnv env;
  env.source = "slurm";
  env.rank = require_int(getenv, "SLURM_PROCID", why);
  env.world_size = require_int(getenv, "SLURM_NTASKS", why);
  auto local = getenv("SLURM_LOCALID");
  env.local_rank = local ? parse_int("SLURM_LOCALID", *local) : 0;
  if (auto addr = getenv("MASTER_ADDR")) {
    env.master_addr = *addr;
  } else if (env.world_size > 1) {
    auto nodes = getenv("SLURM_JOB_NODELIST");
    if (!nodes) nodes = getenv("SLURM_NODELIST");
    if (!nodes) {
      throw env_error(
          "environment variable SLURM_JOB_NODELIST is not set (needed to find the "
          "rendezvous host; or set MASTER_ADDR)");
    }
    env.master_addr = first_slurm_host(*nodes);
  }
  if (auto port = getenv("MASTER_PORT")) {
    env.master_port = parse_port("MASTER_PORT", *port);
  } else if (auto job = getenv("SLURM_JOB_ID")) {
    env.master_port = slurm_default_port(parse_int("SLURM_JOB_ID", *job));
  }
  validate(env, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID");
  return env;
}

}  // namespace

DistEnv detect_dist_env(const EnvLookup& getenv) {
  DistEnv env;
  if (getenv("RANK") || getenv("WORLD_SIZE")) {
    env = detect_torchrun(getenv);
  } else if (getenv("SLURM_PROCID")) {
    env = detect_slurm(getenv);
  }
  if (auto ifname = getenv("GLOO_SOCKET_IFNAME")) env.gloo_socket_ifname = *ifname;
  return env;
}

DistEnv detect_dist_env_from_process() {
  return detect_dist_env([](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
}

std::string first_slurm_host(const std::string& nodelist) {
  // The first entry ends at the first comma outside brackets; inside a bracket group the first
  // item ends at ',' and a range "01-04" starts with its lower bound, zero padding included.
  std::string host;
  size_t i = 0;
  while (i < nodelist.size() && nodelist[i] != ',') {
    char c = nodelist[i];
    if (c == ']') throw env_error("SLURM_JOB_NODELIST='" + nodelist + "' has an unmatched ']'");
    if (c != '[') {
      host += c;
      ++i;
      continue;
    }
    size_t close = nodelist.find(']', i);
    if (close == std::string::npos) {
      throw env_error("SLURM_JOB_NODELIST='" + nodelist + "' has an unmatched '['");
    }
    std::string group = nodelist.substr(i + 1, close - i - 1);
    std::string first = group.substr(0, group.find_first_of(",-"));
    if (first.empty()) {
      throw env_error("SLURM_JOB_NODELIST='" + nodelist + "' has an empty range '[" + group + "]'");
    }
    host += first;
    i = close + 1;
  }
  if (host.empty()) throw env_error("SLURM_JOB_NODELIST='" + nodelist + "' names no host");
  return host;
}

int slurm_default_port(int64_t job_id) {
  int64_t offset = job_id % 20000;
  if (offset < 0) offset += 20000;
  return static_cast<int>(15000 + offset);
}

}  // namespace ctmq
