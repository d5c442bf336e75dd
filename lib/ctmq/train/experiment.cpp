#include "ctmq/train/experiment.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <optional>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/core/logging.h"
#include "ctmq/data/dataset_factory.h"
#include "ctmq/dist/dist_env.h"
#include "ctmq/dist/process_group.h"
#include "ctmq/dist/sync_batch_norm.h"
#include "ctmq/io/checkpoint.h"
#include "ctmq/io/lineage.h"
#include "ctmq/io/manifest.h"
#include "ctmq/io/run_lock.h"
#include "ctmq/io/run_meta.h"
#include "ctmq/platform/numerics.h"
#include "ctmq/platform/provenance.h"
#include "ctmq/spec/spec_parser.h"
#include "ctmq/train/device.h"
#include "ctmq/train/mixed_precision.h"
#include "ctmq/train/observers.h"
#include "ctmq/train/run_manifest.h"
#include "ctmq/train/stage_trainer.h"
#include "ctmq/train/stop_signal.h"
#include "ctmq/train/teacher_check.h"

namespace ctmq {
namespace {

namespace fs = std::filesystem;

/// Puts the stage's starting weights into the network: its resume state takes care of itself;
/// otherwise the checkpoint of the stage it starts from, or the initial random weights.
void load_initial_weights(QuantNetworkImpl& network, const StageRecord& record,
                          const RunPaths& paths, const StateDict& random_init) {
  const InitSource& init = record.stage.init;
  if (init.kind == InitSource::Kind::kRandom) {
    load_module_state(network, random_init, "initial weights");
    return;
  }
  // A checkpoint from outside the run (pretrain.checkpoint, --from), or an earlier stage's.
  const bool external = init.kind == InitSource::Kind::kCheckpoint;
  const std::string path = external ? init.ref : paths.checkpoint(init.ref);
  if (!fs::exists(path)) {
    throw Error("stage " + record.stage.id + " starts from " +
                init_source_to_json(init).get<std::string>() + ", but " + path +
                " does not exist yet: run the earlier phase first (or give --from)");
  }
  StateDict state = load_checkpoint(path).state;
  if (external) {
    std::vector<std::string> reset;
    state = with_fresh_mismatched_quantizers(state, random_init, &reset);
    if (!reset.empty()) {
      spdlog::info(
          "{}: {} quantizers differ from this spec's quant.* settings (first: {}); they "
          "start fresh and calibrate on their first batch",
          path, reset.size(), reset.front());
    }
  }
  load_module_state(network, state, path);
}

}  // namespace

void train_experiment(const ExperimentSpec& spec, const TrainOptions& options) {
  // First: LibTorch fixes its kernels at its first operation.
  const NumericsMode numerics = resolve_numerics(options.runtime, spec.train.numerics);
  pin_numerics(numerics);
  install_stop_handlers();
  const bool single = options.dist_backend == DistBackend::kNone;
  DistEnv env = single ? DistEnv{} : detect_dist_env_from_process();
  torch::Device device = resolve_device(options.runtime.device, env.local_rank);
  auto dist = DistContext::create(env, single ? DistBackend::kAuto : options.dist_backend,
                                  std::chrono::seconds(options.dist_timeout_seconds), device);
  const bool writer = dist->rank() == 0;

  RunPaths paths{spec.output_dir};
  StagePlan plan = make_stage_plan(spec);
  for (auto& stage : plan.stages) {
    // --from replaces where the phase's first selected stage starts.
    if (!options.from_checkpoint.empty() && selected(stage, options)) {
      stage.init = InitSource::checkpoint(options.from_checkpoint);
      break;
    }
  }
  // The data and the teachers are checked before the run directory is written: a spec error
  // found here must not leave a manifest that makes the corrected rerun need --force.
  // GPU runs ship uint8 pixels and normalise on the device: a quarter of the copied bytes.
  DataSplits data = open_dataset(spec.data, spec.seed, dist->rank(), dist->world_size(),
                                 spec.train.eval_batch_size, /*uint8_batches=*/device.is_cuda());
  if (data.num_classes != spec.model.num_classes) {
    throw SpecError("/model/num_classes: the spec says " + std::to_string(spec.model.num_classes) +
                    " but " + spec.data.root + " has " + std::to_string(data.num_classes) +
                    " classes");
  }
  Manifest manifest = open_run_manifest(paths, spec, plan, options, choice_name(numerics));
  manifest.hardware = provenance_json(device.str());
  // Teachers are checked for every stage that may train, stale ones included; the exact set
  // (stages_to_train) needs the teachers check_teachers resolves for --from.
  const std::map<std::string, std::string> stale = stale_stages(manifest);
  auto done = [&](const Stage& stage) {
    const StageRecord* record = manifest.find(stage.id);
    return record && record->status == StageStatus::kDone &&
           fs::exists(paths.checkpoint(stage.id)) && stale.count(stage.id) == 0;
  };
  const std::vector<std::string> teacher_notes =
      check_teachers(manifest, {spec, paths, options.spec_source,
                                [&](const Stage& s) { return selected(s, options) && !done(s); },
                                [&](const Stage& s) { return selected(s, options); },
                                options.from_checkpoint, data.in_channels});
  const std::map<std::string, std::string> to_train =
      stages_to_train(manifest, paths, options, stale);
  // Every rank has read the run directory before rank 0 first writes to it.
  dist->barrier();
  std::optional<RunLock> run_lock;  // one writer per run directory, held until the run ends
  if (writer) {
    fs::create_directories(paths.root + "/checkpoints");
    fs::create_directories(paths.root + "/resume");
    run_lock.emplace(paths.root);
    add_log_file(paths.log());
  }
  // Threads change LibTorch's summation order, so a run's log keeps them with the device.
  spdlog::info("ctmq {} | run {} | spec {} | device {} | threads {} | rank {}/{} ({})",
               CTMQ_VERSION, paths.root, options.spec_source, device.str(), at::get_num_threads(),
               dist->rank(), dist->world_size(), env.source);
  spdlog::info("numerics {} | ATen {} | oneDNN {} | CPU {}", manifest.numerics,
               manifest.hardware.value("aten_cpu_capability", "?"),
               manifest.hardware.value("onednn_isa", "?"),
               manifest.hardware.value("cpu_model", "?"));

  spdlog::info("data: {} training and {} validation images per process{}, {} classes",
               data.train->num_samples(), data.val->num_samples(),
               data.test ? fmt::format(" ({} training images held out; {} test images)",
                                       spec.data.val_split, data.test->num_samples())
                         : std::string(),
               data.num_classes);
  for (const std::string& note : teacher_notes) spdlog::info("{}", note);
  for (const std::string& warning : teacher_warnings(plan)) spdlog::warn("{}", warning);

  torch::manual_seed(static_cast<uint64_t>(spec.seed));
  NetworkConfig config = network_config(spec.model, spec.quant, data.in_channels);
  auto network = make_network(config);
  network->to(device);
  if (spec.train.channels_last) convert_to_channels_last(*network);
  if (spec.model.sync_bn && dist->is_distributed()) {
    network->set_batch_norm_sync(std::make_shared<GlooSyncBatchNorm>(*dist));
  }
  const StateDict random_init = module_state(*network);

  RunMeta run_meta{
      spec.name, manifest.spec_hash, spec.seed,         spec.data.format, data.image_size,
      config,    manifest.numerics,  manifest.hardware, spec.data.resize, data.class_names};
  StageEnvironment stage_env{
      paths, device, *dist, data, *network, run_meta, [&] { save_manifest(paths, manifest); }};
  stage_env.amp = resolve_amp(spec.train.amp, device);
  stage_env.channels_last = spec.train.channels_last;
  stage_env.batch_size = spec.data.batch_size;
  stage_env.log_interval = spec.train.log_interval;
  const Observers observers = standard_observers(options.observers);

  int64_t epoch_offset = 0;
  int trained = 0;
  for (size_t i = 0; i < manifest.stages.size(); ++i) {
    StageRecord& record = manifest.stages[i];
    const int64_t offset = epoch_offset;
    epoch_offset += record.stage.epochs;
    if (!selected(record.stage, options)) continue;
    const std::string& id = record.stage.id;
    if (to_train.count(id) == 0) {
      spdlog::info("stage {} already done (val top1 {:.2f}%), skipping", id,
                   record.final_metrics ? record.final_metrics->val_top1 : 0.0);
      continue;
    }
    if (record.status == StageStatus::kDone) {
      spdlog::info("stage {} trains again: {}", id, to_train.at(id));
    }
    if (stop_requested()) throw InterruptedError(stop_requested());
    // Its resume state continues it where that state belongs to this lineage (resume.h).
    reset_stage(record, manifest, paths, writer);
    load_initial_weights(*network, record, paths, random_init);
    if (writer) {
      // The record changes when a stage trains, not before: a command that failed earlier
      // left the run directory as it was.
      if (trained == 0) write_file_atomic(paths.spec(), spec_to_json(spec).dump(2) + "\n");
      save_manifest(paths, manifest);
    }
    try {
      train_stage(stage_env, record, static_cast<int64_t>(i), offset, observers);
    } catch (const InterruptedError&) {
      throw;
    } catch (...) {
      record.status = StageStatus::kFailed;
      if (writer) save_manifest(paths, manifest);
      throw;
    }
    ++trained;
  }
  if (trained == 0) spdlog::info("nothing to train: every selected stage is done");
  if (writer) spdlog::info("run complete: {}", paths.manifest());
}

}  // namespace ctmq
