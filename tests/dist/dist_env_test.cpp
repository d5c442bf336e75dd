#include "ctmq/dist/dist_env.h"

#include <gtest/gtest.h>

#include <map>

#include "ctmq/dist/dist_error.h"

namespace ctmq {
namespace {

using Vars = std::map<std::string, std::string>;

DistEnv detect(const Vars& vars) {
  return detect_dist_env([&](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

std::string error_of(const Vars& vars) {
  try {
    detect(vars);
  } catch (const DistError& e) {
    EXPECT_EQ(e.exit_code(), kExitUsage);
    return e.what();
  }
  return "";
}

TEST(DetectDistEnv, NoLauncherMeansOneProcess) {
  auto env = detect({{"HOME", "/root"}});
  EXPECT_EQ(env.source, "none");
  EXPECT_EQ(env.rank, 0);
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.local_rank, 0);
}

TEST(DetectDistEnv, Torchrun) {
  auto env = detect({{"RANK", "3"},
                     {"WORLD_SIZE", "8"},
                     {"LOCAL_RANK", "1"},
                     {"MASTER_ADDR", "10.0.0.5"},
                     {"MASTER_PORT", "1234"},
                     {"GLOO_SOCKET_IFNAME", "eth0"}});
  EXPECT_EQ(env.source, "torchrun");
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 8);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "10.0.0.5");
  EXPECT_EQ(env.master_port, 1234);
  EXPECT_EQ(env.gloo_socket_ifname, "eth0");
}

TEST(DetectDistEnv, TorchrunDefaultsAddressAndPort) {
  auto env = detect({{"RANK", "0"}, {"WORLD_SIZE", "2"}});
  EXPECT_EQ(env.master_addr, "127.0.0.1");
  EXPECT_EQ(env.master_port, 29500);
}

TEST(DetectDistEnv, TorchrunWinsOverSlurm) {
  auto env = detect({{"RANK", "1"},
                     {"WORLD_SIZE", "2"},
                     {"LOCAL_RANK", "1"},
                     {"SLURM_PROCID", "0"},
                     {"SLURM_NTASKS", "4"},
                     {"SLURM_JOB_NODELIST", "n[1-4]"}});
  EXPECT_EQ(env.source, "torchrun");
  EXPECT_EQ(env.rank, 1);
  EXPECT_EQ(env.world_size, 2);
}

TEST(DetectDistEnv, Slurm) {
  auto env = detect({{"SLURM_PROCID", "5"},
                     {"SLURM_NTASKS", "8"},
                     {"SLURM_LOCALID", "1"},
                     {"SLURM_JOB_NODELIST", "node[01-04,07],gpu3"},
                     {"SLURM_JOB_ID", "123456"}});
  EXPECT_EQ(env.source, "slurm");
  EXPECT_EQ(env.rank, 5);
  EXPECT_EQ(env.world_size, 8);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "node01");
  EXPECT_EQ(env.master_port, slurm_default_port(123456));
  EXPECT_EQ(env.master_port, 15000 + 123456 % 20000);
}

TEST(DetectDistEnv, SlurmPrefersMasterPortAndAddr) {
  auto env = detect({{"SLURM_PROCID", "0"},
                     {"SLURM_NTASKS", "2"},
                     {"SLURM_JOB_NODELIST", "a,b"},
                     {"SLURM_JOB_ID", "9"},
                     {"MASTER_PORT", "4000"}});
  EXPECT_EQ(env.master_addr, "a");
  EXPECT_EQ(env.master_port, 4000);
  env = detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"MASTER_ADDR", "head"}});
  EXPECT_EQ(env.master_addr, "head");
}

TEST(FirstSlurmHost, CompressedForms) {
  EXPECT_EQ(first_slurm_host("node[01-04,07],gpu3"), "node01");
  EXPECT_EQ(first_slurm_host("gpu3,node[01-04]"), "gpu3");
  EXPECT_EQ(first_slurm_host("node7"), "node7");
  EXPECT_EQ(first_slurm_host("node[7,2-3]"), "node7");
  EXPECT_EQ(first_slurm_host("rack[2-3]-n[005-009]"), "rack2-n005");
  EXPECT_EQ(first_slurm_host("n[10-11]x"), "n10x");
  EXPECT_THROW(first_slurm_host(""), DistError);
  EXPECT_THROW(first_slurm_host("node[01-04"), DistError);
  EXPECT_THROW(first_slurm_host("node01]"), DistError);
  EXPECT_THROW(first_slurm_host("node[]"), DistError);
}

TEST(DetectDistEnv, BadValuesNameTheVariable) {
  EXPECT_NE(error_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}}).find("RANK='x'"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}}).find("WORLD_SIZE"), std::string::npos);
  EXPECT_NE(error_of({{"WORLD_SIZE", "2"}}).find("RANK"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}}).find("RANK=2"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}, {"WORLD_SIZE", "0"}}).find("WORLD_SIZE=0"), std::string::npos);
  EXPECT_NE(
      error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}).find("MASTER_PORT"),
      std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "-1"}}).find("LOCAL_RANK"),
            std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2 "}}).find("WORLD_SIZE"), std::string::npos);
  EXPECT_NE(error_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "two"}}).find("SLURM_NTASKS"),
            std::string::npos);
  EXPECT_NE(error_of({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}}).find("SLURM_JOB_NODELIST"),
            std::string::npos);
  EXPECT_NE(error_of({{"SLURM_PROCID", "0"},
                      {"SLURM_NTASKS", "2"},
                      {"SLURM_JOB_NODELIST", "n1"},
                      {"SLURM_JOB_ID", "abc"}})
                .find("SLURM_JOB_ID"),
            std::string::npos);
}

}  // namespace
}  // namespace ctmq
