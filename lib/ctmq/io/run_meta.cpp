#include "ctmq/io/run_meta.h"

#include "ctmq/core/build_info.h"
#include "ctmq/io/network_meta.h"

namespace ctmq {

nlohmann::json stage_checkpoint_meta(const RunMeta& run, const StageRecord& record) {
  const Stage& s = record.stage;
  return {{"format", "ctmq-checkpoint"},
          {"ctmq_version", CTMQ_VERSION},
          {"build", build_info_json()},
          {"numerics", run.numerics},
          {"hardware", run.hardware},
          {"experiment", run.experiment},
          {"spec_hash", run.spec_hash},
          {"seed", run.seed},
          {"dataset", choice_name(run.dataset)},
          {"image_size", run.image_size},
          {"network", network_config_to_json(run.network)},
          {"stage", s.id},
          {"phase", phase_name(s.phase)},
          {"cycle", s.cycle},
          {"w_bits", s.w_bits},
          {"a_bits", s.a_bits},
          {"epochs", record.epochs_done},
          {"final", to_json(record.final_metrics)},
          {"best", to_json(record.best_metrics)}};
}

}  // namespace ctmq
