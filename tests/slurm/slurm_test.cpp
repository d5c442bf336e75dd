// The real Slurm scripts (scripts/slurm/train.sbatch, scripts/sweep.sh --slurm,
// scripts/collect.sh), unchanged, on a real one-node Slurm cluster that the CTest fixture
// tests/slurm/cluster.sh starts before these tests and stops after them. Every wait is bounded.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "ctmq/core/atomic_file.h"
#include "ctmq/io/checkpoint.h"
#include "ctmq/io/manifest.h"
#include "support/prerequisite.h"
#include "support/run_command.h"
#include "support/temp_dir.h"
#include "train/run_fixture.h"

namespace ctmq {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kSlurmConf = std::string(CTMQ_SLURM_DIR) + "/slurm.conf";
const std::string kSource = CTMQ_SOURCE_DIR;
const std::string kSpec = kSource + "/data/specs/fmnist-default.json";
// The tiny spec of tests/train/run_fixture.h as flags, without output_dir (sweep.sh sets it).
const std::string kTinyFlags = [] {
  std::string flags = "--threads 1";
  for (const std::string& assignment : test::tiny_spec_overrides("")) {
    if (assignment.rfind("output_dir=", 0) != 0) flags += " --set " + assignment;
  }
  return flags;
}();

using Shell = test::CommandResult;

/// Runs `command` with bash, SLURM_CONF set to the test cluster's, stdout and stderr together.
Shell shell(const std::string& command) {
  return test::run_command("SLURM_CONF=" + kSlurmConf + " CTMQ=" + CTMQ_BINARY + " bash -c '" +
                           command + "'");
}

/// One field (JobState=..., ExitCode=..., Restarts=...) of `scontrol show job -o ID`; for an
/// array, of its first task listed.
std::string job_field(const std::string& job, const std::string& field) {
  const std::string line = shell("scontrol show job -o " + job).output;
  std::smatch match;
  if (std::regex_search(line, match, std::regex(" " + field + "=(\\S*)"))) return match[1];
  return "";
}

bool finished(const std::string& state) {
  static const std::set<std::string> kFinal{"COMPLETED", "FAILED",    "CANCELLED",
                                            "TIMEOUT",   "NODE_FAIL", "OUT_OF_MEMORY",
                                            "PREEMPTED", "BOOT_FAIL", "DEADLINE"};
  return kFinal.count(state) > 0;
}

/// Waits until every task of `job` has a final state; the states, one per task, sorted.
std::vector<std::string> wait_for_job(const std::string& job, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    std::vector<std::string> states;
    std::istringstream lines(shell("scontrol show job -o " + job).output);
    bool all_final = true;
    for (std::string line; std::getline(lines, line);) {
      std::smatch match;
      if (!std::regex_search(line, match, std::regex(" JobState=(\\S*)"))) continue;
      states.push_back(match[1]);
      all_final = all_final && finished(match[1]);
    }
    if (!states.empty() && all_final) {
      std::sort(states.begin(), states.end());
      return states;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  shell("scancel " + job);
  ADD_FAILURE() << "job " << job << " still not finished after " << limit.count() << " s:\n"
                << shell("scontrol show job " + job).output;
  return {};
}

/// Waits (bounded) until `path` contains `text`.
bool wait_for_text(const std::string& path, const std::string& text, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (fs::exists(path) && read_file(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

/// `sbatch --parsable ARGS`, run in `dir`; the job id, or "" with a test failure.
std::string submit(const std::string& dir, const std::string& args) {
  Shell sbatch = shell("cd " + dir + " && sbatch --parsable " + args);
  EXPECT_EQ(sbatch.exit_code, 0) << sbatch.output;
  std::smatch match;
  if (!std::regex_search(sbatch.output, match, std::regex("^(\\d+)"))) return "";
  return match[1];
}

using JobDir = test::TempDir;

/// Every stage of the manifest is done and has its checkpoint.
void expect_complete_run(const std::string& run_dir, const std::string& log) {
  ASSERT_TRUE(fs::exists(run_dir + "/manifest.json")) << log;
  Manifest manifest = load_manifest(RunPaths{run_dir});
  ASSERT_FALSE(manifest.stages.empty());
  for (const auto& record : manifest.stages) {
    EXPECT_EQ(record.status, StageStatus::kDone) << record.stage.id << "\n" << log;
    EXPECT_TRUE(fs::exists(RunPaths{run_dir}.checkpoint(record.stage.id)))
        << record.stage.id << "\n"
        << log;
  }
}

class Slurm : public ::testing::Test {
 protected:
  void SetUp() override {
    CTMQ_REQUIRE(fs::exists(kSlurmConf), "a running test Slurm cluster (tests/slurm/cluster.sh)");
    CTMQ_REQUIRE(fs::exists(CTMQ_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz"),
                 "dataset-fashion-mnist");
    ASSERT_EQ(shell("sinfo -h -o %T").exit_code, 0) << "the test cluster does not answer";
  }
};

TEST_F(Slurm, TwoTasksTrainAsOneGlooGroupAndFinishEveryStage) {
  JobDir dir("ddp");
  const std::string run = dir / "run";
  const std::string job =
      submit(dir.str(), "--ntasks=2 --cpus-per-task=1 --output=" + (dir / "job.out") + " " +
                            kSource + "/scripts/slurm/train.sbatch " + kSpec + " " + kTinyFlags +
                            " --set output_dir=" + run);
  ASSERT_FALSE(job.empty());
  auto states = wait_for_job(job, std::chrono::seconds(300));
  const std::string log = read_file(dir / "job.out");
  ASSERT_EQ(states, std::vector<std::string>{"COMPLETED"}) << log;
  EXPECT_NE(log.find("rank 0/2 (slurm)"), std::string::npos) << log;
  EXPECT_NE(log.find("rank 1/2 (slurm)"), std::string::npos) << log;
  EXPECT_NE(log.find("global batch 128"), std::string::npos) << log;
  expect_complete_run(run, log);
  // Both tasks end every stage with the same weights: they trained as one group.
  std::regex checksum("stage (\\S+) weights checksum (\\S+) \\(rank (\\d)\\)");
  std::map<std::string, std::set<std::string>> per_stage;
  int lines = 0;
  for (std::sregex_iterator it(log.begin(), log.end(), checksum), end; it != end; ++it, ++lines) {
    per_stage[(*it)[1]].insert((*it)[2]);
  }
  EXPECT_EQ(lines, 2 * static_cast<int>(per_stage.size())) << log;
  for (const auto& [stage, values] : per_stage) EXPECT_EQ(values.size(), 1u) << stage;
}

TEST_F(Slurm, ASweepIsAJobArrayAndCollectGathersOneRowPerPoint) {
  JobDir dir("sweep");
  Shell sweep = shell("cd " + dir.str() + " && " + kSource + "/scripts/sweep.sh --slurm --spec " +
                      kSpec + " --out " + (dir / "runs") + " --grid seed=1,2,3 -- " + kTinyFlags +
                      " --set cycles.count=0 --set steps.bits=[1]");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(sweep.output, match, std::regex("Submitted batch job (\\d+)")))
      << sweep.output;
  const std::string job = match[1];
  auto states = wait_for_job(job, std::chrono::seconds(300));
  std::string logs;
  for (const auto& entry : fs::directory_iterator(dir.str())) {
    if (entry.path().extension() == ".out") logs += read_file(entry.path().string());
  }
  ASSERT_EQ(states, std::vector<std::string>(3, "COMPLETED")) << sweep.output << logs;
  for (int seed = 1; seed <= 3; ++seed) {
    expect_complete_run(dir / ("runs/seed=" + std::to_string(seed)), logs);
  }
  Shell collect = shell(kSource + "/scripts/collect.sh " + (dir / "runs"));
  ASSERT_EQ(collect.exit_code, 0) << collect.output;
  for (int seed = 1; seed <= 3; ++seed) {
    const std::string name = "seed=" + std::to_string(seed);
    size_t first = collect.output.find("| " + name);
    EXPECT_NE(first, std::string::npos) << name << "\n" << collect.output;
    EXPECT_EQ(collect.output.find("| " + name, first + 1), std::string::npos)
        << name << " has more than one row\n"
        << collect.output;
  }
}

TEST_F(Slurm, ASweepTaskGetsEveryValueLiterallyWithoutPatternExpansion) {
  JobDir dir("sweep-literal");
  // A stand-in for ctmq that prints its arguments, and files that '?' and '*' would match.
  const std::string fake = dir / "print_args.sh";
  write_file_atomic(fake, "#!/usr/bin/env bash\nprintf \"<%s>\\n\" \"$@\"\n");
  fs::permissions(fake, fs::perms::owner_all, fs::perm_options::add);
  for (const char* name : {"name=wXa1", "name=w1", "data.root=x"}) {
    write_file_atomic(dir / name, "");
  }
  Shell sweep = shell("cd " + dir.str() + " && CTMQ=" + fake + " " + kSource +
                      "/scripts/sweep.sh --slurm --spec " + kSpec + " --out runs" +
                      " --grid \"name=w?a1,w*\" -- --set \"data.root=/tmp/*\" --set \"seed=1 2\"");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(sweep.output, match, std::regex("Submitted batch job (\\d+)")))
      << sweep.output;
  const std::string job = match[1];
  ASSERT_EQ(wait_for_job(job, std::chrono::seconds(120)), std::vector<std::string>(2, "COMPLETED"));
  for (const auto& [task, value] : {std::pair<int, std::string>{1, "w?a1"}, {2, "w*"}}) {
    const std::string out = read_file(dir / ("slurm-" + job + "_" + std::to_string(task) + ".out"));
    const std::vector<std::string> expected = {"<--set>\n<name=" + value + ">\n",
                                               "<data.root=/tmp/*>\n", "<seed=1 2>\n",
                                               "<output_dir=runs/name=" + value + ">\n"};
    for (const std::string& arg : expected) {
      EXPECT_NE(out.find(arg), std::string::npos) << arg << "\n" << out;
    }
    EXPECT_EQ(out.find("wXa1"), std::string::npos) << out;
    EXPECT_EQ(out.find("name=w1"), std::string::npos) << out;
  }
}

/// A stage's checkpoint, tensor by tensor, equal to the bit.
void expect_identical_weights(const std::string& a_path, const std::string& b_path) {
  Checkpoint a = load_checkpoint(a_path);
  Checkpoint b = load_checkpoint(b_path);
  ASSERT_EQ(a.state.size(), b.state.size());
  for (const auto& [name, tensor] : a.state) {
    ASSERT_TRUE(b.state.count(name)) << name;
    EXPECT_TRUE(torch::equal(tensor, b.state.at(name))) << name << " differs";
  }
}

TEST_F(Slurm, APreemptedJobSavesRequeuesItselfAndEndsBitIdenticalToAnUninterruptedOne) {
  JobDir dir("preempt");
  // Two tasks of 32 images, 8 steps per stage, a log line per step: time enough to be
  // signalled while training. Sync BatchNorm: without it each rank keeps its own running
  // statistics, and the resume state holds rank 0's only (the parameters still match).
  const std::string flags = kTinyFlags +
                            " --set data.train_limit=512 --set data.batch_size=32"
                            " --set model.sync_bn=true"
                            " --set steps.bits=[1] --set cycles.count=0 --set train.log_interval=1";
  const std::string script = kSource + "/scripts/slurm/train.sbatch " + kSpec + " " + flags;
  const std::string preempted =
      submit(dir.str(), "--ntasks=2 --cpus-per-task=1 --output=" + (dir / "preempted.out") + " " +
                            script + " --set output_dir=" + (dir / "preempted"));
  ASSERT_FALSE(preempted.empty());
  ASSERT_TRUE(
      wait_for_text(dir / "preempted.out", "pretrain epoch 1/1 step 3/", std::chrono::seconds(120)))
      << shell("cat " + (dir / "preempted.out")).output;
  // What a preemption does to the tasks: SIGTERM (not --full: srun turns a SIGTERM of its own
  // into SIGKILL for the tasks; docs/cluster.md).
  Shell cancel = shell("scancel --signal=TERM " + preempted);
  ASSERT_EQ(cancel.exit_code, 0) << cancel.output;
  // Slurm holds a requeued job for 2 minutes (BeginTime); a test need not wait for that.
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (
      (job_field(preempted, "Restarts") != "1" || job_field(preempted, "JobState") != "PENDING") &&
      Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(job_field(preempted, "Restarts"), "1") << read_file(dir / "preempted.out");
  // now+3: a start within the second of the requeue is refused ("Job credential revoked").
  shell("scontrol update JobId=" + preempted + " StartTime=now+3");
  // The reference after the preempted job: two 2-task jobs do not fit a 2-CPU node at once.
  const std::string reference =
      submit(dir.str(), "--ntasks=2 --cpus-per-task=1 --output=" + (dir / "reference.out") + " " +
                            script + " --set output_dir=" + (dir / "reference"));
  ASSERT_FALSE(reference.empty());

  auto reference_states = wait_for_job(reference, std::chrono::seconds(300));
  auto preempted_states = wait_for_job(preempted, std::chrono::seconds(300));
  const std::string log = read_file(dir / "preempted.out");
  ASSERT_EQ(reference_states, std::vector<std::string>{"COMPLETED"})
      << read_file(dir / "reference.out");
  ASSERT_EQ(preempted_states, std::vector<std::string>{"COMPLETED"}) << log;
  EXPECT_EQ(job_field(preempted, "Restarts"), "1") << log;
  EXPECT_NE(log.find("stopping on signal 15"), std::string::npos) << log;
  EXPECT_NE(log.find("requeued; it resumes where it stopped"), std::string::npos) << log;
  EXPECT_NE(log.find("pretrain: resuming at epoch 1"), std::string::npos) << log;
  expect_complete_run(dir / "preempted", log);
  for (const std::string stage : {"pretrain", "c0-w1a1"}) {
    expect_identical_weights(dir / ("preempted/checkpoints/" + stage + ".pt"),
                             dir / ("reference/checkpoints/" + stage + ".pt"));
  }
}

TEST_F(Slurm, AJobWhoseRankDiesFailsNamingTheRank) {
  JobDir dir("rank-dies");
  const std::string job =
      submit(dir.str(),
             "--ntasks=2 --cpus-per-task=1 --output=" + (dir / "job.out") + " " + kSource +
                 "/scripts/slurm/train.sbatch " + kSpec + " " + kTinyFlags +
                 " --set pretrain.epochs=500 --dist-timeout 20 --set output_dir=" + (dir / "run"));
  ASSERT_FALSE(job.empty());
  ASSERT_TRUE(
      wait_for_text(dir / "job.out", "pretrain epoch 1/500 step", std::chrono::seconds(120)))
      << shell("cat " + (dir / "job.out")).output;
  // The processes of task (rank) 1 of step 0, from Slurm itself: PID JOBID STEPID LOCALID GLOBALID.
  Shell listing = shell("scontrol listpids " + job);
  std::istringstream lines(listing.output);
  int killed = 0;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string pid, job_id, step, local, global;
    if (fields >> pid >> job_id >> step >> local >> global && step == "0" && global == "1") {
      killed += ::kill(std::stoi(pid), SIGKILL) == 0;
    }
  }
  ASSERT_GT(killed, 0) << listing.output;

  const auto start = Clock::now();
  auto states = wait_for_job(job, std::chrono::seconds(120));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const std::string log = read_file(dir / "job.out");
  ASSERT_EQ(states, std::vector<std::string>{"FAILED"}) << log;
  EXPECT_NE(job_field(job, "ExitCode"), "0:0") << log;
  EXPECT_LT(seconds, 60.0) << log;
  // Slurm names the task (= rank) that died; the surviving rank says why it stopped.
  EXPECT_NE(log.find("task 1: Killed"), std::string::npos) << log;
  EXPECT_NE(log.find("ctmq: error: rank 0: "), std::string::npos) << log;
  EXPECT_NE(log.find("a peer process died"), std::string::npos) << log;
}

}  // namespace
}  // namespace ctmq
