#include "ctmq/io/run_meta.h"

#include <algorithm>

#include "ctmq/core/build_info.h"
#include "ctmq/data/dataset_info.h"
#include "ctmq/io/network_meta.h"

namespace ctmq {

nlohmann::json stage_checkpoint_meta(const RunMeta& run, const StageRecord& record) {
  const Stage& s = record.stage;
  nlohmann::json meta = {{"format", "ctmq-checkpoint"},
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
  const data::Normalization norm = data::normalization_of(run.dataset);
  const auto channels = static_cast<size_t>(std::clamp<int64_t>(run.network.in_channels, 1, 3));
  meta["channels"] = run.network.in_channels;
  meta["normalization"] = {
      {"mean", std::vector<float>(norm.mean.begin(), norm.mean.begin() + channels)},
      {"std", std::vector<float>(norm.std.begin(), norm.std.begin() + channels)}};
  // The small datasets are fed as they are; only the ImageNet layout resizes before its crop.
  if (run.dataset == DataFormat::kImageNet) meta["resize"] = run.resize;
  if (!run.class_names.empty()) meta["class_names"] = run.class_names;
  return meta;
}

}  // namespace ctmq
