#pragma once
// The library entry points behind the CLI's subcommands. Torch-free on purpose: apps/ includes
// only this header, so the CLI's translation units compile in seconds.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctmq/spec/spec.h"

namespace ctmq {

/// Global flags shared by every subcommand.
struct RuntimeOptions {
  std::string device = "auto";  ///< cpu | cuda | auto
  int64_t threads = 0;          ///< LibTorch intra-op threads; 0 = all cores
};

/// Applies --threads to LibTorch; checks --device (cuda without CUDA is a SpecError).
void apply_runtime_options(const RuntimeOptions& options);

/// Which stages of the plan a training command runs.
enum class PhaseFilter { kAll, kPretrain, kSteps, kCycle };

struct TrainOptions {
  RuntimeOptions runtime;
  PhaseFilter phases = PhaseFilter::kAll;
  std::string from_checkpoint;        ///< steps/cycle: initialise the phase's first stage from this
  int cycle = 0;                      ///< cycle: run only this cycle (0 = every cycle)
  bool require_resume = false;        ///< --resume: the run directory must already exist
  bool force = false;                 ///< accept a run directory made by a different spec
  std::string dist_backend = "auto";  ///< auto | gloo | nccl | none
  int64_t dist_timeout_seconds = 300;  ///< a collective waiting longer than this fails the run
  std::string spec_source;             ///< where the spec came from, for the log
};

/// Runs the selected stages of the spec's plan, resuming whatever the run directory already
/// holds. Throws on failure; InterruptedError after a graceful stop on SIGINT/SIGTERM.
void train_experiment(const ExperimentSpec& spec, const TrainOptions& options);

struct EvalOptions {
  RuntimeOptions runtime;
  std::string checkpoint;              ///< a ctmq checkpoint, or
  std::string exported;                ///< a file written by `ctmq export`
  std::optional<ExperimentSpec> spec;  ///< data from a spec, or
  std::string data_root;               ///< data from --data/--format
  std::string format;
  std::string split = "val";  ///< val | train
  int64_t limit = -1;         ///< -1 = the spec's limit; 0 = all
  int64_t batch_size = 0;     ///< 0 = the spec's
  int64_t workers = -1;       ///< -1 = the spec's
};

/// Loss, Top-1, Top-5 and image count of a checkpoint or exported model on a split.
nlohmann::json evaluate(const EvalOptions& options);

/// Metadata, per-layer bit depths and parameter counts of a checkpoint.
nlohmann::json inspect_checkpoint(const std::string& path);
std::string inspect_to_text(const nlohmann::json& inspected);

/// Writes the deployable integer model of a checkpoint; returns sizes and the ratio.
nlohmann::json export_checkpoint(const std::string& checkpoint, const std::string& out);

/// `ctmq bench train`: training images per second of the spec's model at `bits`, data included.
nlohmann::json bench_train(const ExperimentSpec& spec, const RuntimeOptions& runtime, int64_t steps,
                           int bits);

/// `ctmq bench loader`: images per second of the spec's training transform.
nlohmann::json bench_loader_command(const ExperimentSpec& spec, int64_t threads, int64_t images);

/// `ctmq bench allreduce`: time of one step's bucketed gradient all-reduce for `num_params`
/// float32 gradients, in the process group of the environment (torchrun or Slurm variables);
/// run one process per rank.
nlohmann::json bench_all_reduce_command(int64_t num_params, double bucket_mib, int iters,
                                        const std::string& backend, int64_t timeout_seconds);

/// `ctmq data check`: every file of every split decoded; bad files listed.
nlohmann::json check_data(const std::string& root, const std::string& format,
                          const std::string& val_labels);
std::string data_check_to_text(const nlohmann::json& report);

}  // namespace ctmq
