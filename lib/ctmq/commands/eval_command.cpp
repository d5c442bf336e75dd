#include "ctmq/commands/eval_command.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "ctmq/commands/class_check.h"
#include "ctmq/commands/deploy_metadata.h"
#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/data/dataset_factory.h"
#include "ctmq/data/dataset_info.h"
#include "ctmq/engine/xnor_network.h"
#include "ctmq/io/checkpoint_network.h"
#include "ctmq/io/exported_model.h"
#include "ctmq/platform/numerics.h"
#include "ctmq/platform/provenance.h"
#include "ctmq/spec/spec_keys.h"
#include "ctmq/train/device.h"
#include "ctmq/train/evaluator.h"

namespace ctmq {
namespace {

DataSpec eval_data_spec(const EvalOptions& options) {
  DataSpec data = options.spec ? options.spec->data : spec_defaults().data;
  if (!options.data_root.empty()) {
    data.root = options.data_root;
    data.format = options.format;
    if (!options.spec) {
      data.train_limit = 0;
      data.val_limit = 0;
    }
  }
  // data.val_split's held-out split is always scored whole: --limit 0 ("all") asks for that.
  const bool held_out = options.split == Split::kVal && data.val_split > 0;
  if (held_out && options.limit > 0) {
    throw SpecError("--limit: the val split is data.val_split's " + std::to_string(data.val_split) +
                    " held-out training images, which take no limit (score all of them, or "
                    "--split train or test)");
  }
  if (!held_out && options.limit >= 0) {
    (options.split == Split::kTrain ? data.train_limit : data.val_limit) = options.limit;
  }
  if (options.batch_size > 0) data.batch_size = options.batch_size;
  if (options.workers >= 0) data.workers = options.workers;
  data.augment = false;
  return data;
}

/// One line per image, in the order the loader gave them, its logits comma-separated with 9
/// significant digits (a float's value exactly), so that two engines' files can be compared
/// line by line. Written atomically.
void write_logits_csv(const std::string& path, const std::vector<torch::Tensor>& batches) {
  write_file_atomic(path, [&](std::ostream& out) {
    out.precision(9);
    for (const torch::Tensor& batch : batches) {
      const torch::Tensor logits = batch.to(torch::kFloat).contiguous();
      const float* values = logits.data_ptr<float>();
      for (int64_t i = 0; i < logits.size(0); ++i) {
        for (int64_t c = 0; c < logits.size(1); ++c) {
          if (c > 0) out << ',';
          out << values[i * logits.size(1) + c];
        }
        out << '\n';
      }
    }
  });
}

std::vector<std::string> recorded_class_names(const nlohmann::json& deployment) {
  const auto names = deployment.find("class_names");
  if (names == deployment.end() || !names->is_array()) return {};
  return names->get<std::vector<std::string>>();
}

}  // namespace

nlohmann::json evaluate(const EvalOptions& options) {
  // A spec given with --config computes as its training did.
  if (options.spec) pin_numerics(resolve_numerics(options.runtime, options.spec->train.numerics));
  torch::Device device = resolve_device(options.runtime.device, 0);
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::shared_ptr<QuantNetworkImpl> network;
  std::shared_ptr<ExportedModel> exported;
  std::shared_ptr<engine::XnorNetwork> xnor;
  nlohmann::json result;
  int64_t in_channels = 0;
  ModelClasses model_classes;
  if (options.engine == InferenceEngine::kXnor && options.exported.empty()) {
    throw SpecError("--engine xnor runs exported models: give --exported");
  }
  if (!options.checkpoint.empty()) {
    Checkpoint checkpoint;
    network = network_from_checkpoint(options.checkpoint, checkpoint);
    network->to(device);
    forward = [&](const torch::Tensor& x) { return network->forward(x); };
    result["checkpoint"] = options.checkpoint;
    result["stage"] = checkpoint.meta.value("stage", "");
    in_channels = network->config().in_channels;
    model_classes = {"checkpoint " + options.checkpoint, network->config().num_classes,
                     recorded_class_names(deployment_json(checkpoint.meta, network->config()))};
  } else {
    exported = std::make_shared<ExportedModel>(ExportedModel::load(options.exported));
    // Exported models are CPU deployments: the xnor engine is CPU code, and the float path is
    // its reference.
    if (options.runtime.device == DeviceKind::kCuda) {
      spdlog::warn("--device cuda: exported models run on the CPU; --checkpoint runs on the GPU");
    }
    device = torch::Device(torch::kCPU);
    if (options.engine == InferenceEngine::kXnor) {
      xnor = std::make_shared<engine::XnorNetwork>(exported->network());
      forward = [&](const torch::Tensor& x) { return xnor->forward(x); };
      result["engine"] = "xnor";
      result["xnor_layers"] = xnor->binary_layers();
      result["kernel_isa"] = engine::kernel_isa_name(xnor->isa());
    } else {
      forward = [&](const torch::Tensor& x) { return exported->forward(x); };
      result["engine"] = "float";
    }
    result["exported"] = options.exported;
    in_channels = exported->config().in_channels;
    model_classes = {"exported model " + options.exported, exported->config().num_classes,
                     recorded_class_names(exported->deployment())};
  }
  DataSpec data = eval_data_spec(options);
  // Before any image is read: the class folders' names are a directory listing.
  const std::vector<std::string> data_names = data::dataset_class_names(data);
  DataClasses data_classes{data.root + " (" + choice_name(data.format) + ")",
                           static_cast<int64_t>(data_names.size()), data_names};
  check_model_classes(model_classes, data_classes);
  if (options.spec) check_spec_classes(model_classes, options.spec->model.num_classes);
  const int64_t seed = options.spec ? options.spec->seed : 1;
  DataSplits splits = open_dataset(data, seed, 0, 1, data.batch_size, device.is_cuda());
  if (splits.num_classes != data_classes.count) {
    data_classes.count = splits.num_classes;
    check_model_classes(model_classes, data_classes);
  }
  if (splits.in_channels != in_channels) {
    throw SpecError("the model takes " + std::to_string(in_channels) + "-channel images but " +
                    data.root + " has " + std::to_string(splits.in_channels) + " channels");
  }
  // With one process the train loader pads nothing and augmentation is off above, so it
  // scores every training image once (in shuffled order, which the sums do not notice).
  // Without data.val_split the dataset's own split is both val and test.
  DataLoader& loader = options.split == Split::kTrain                 ? *splits.train
                       : options.split == Split::kTest && splits.test ? *splits.test
                                                                      : *splits.val;
  std::vector<torch::Tensor> logits;
  auto scored = [&](const torch::Tensor& x) {
    torch::Tensor out = forward(x);
    if (!options.logits.empty()) logits.push_back(out.detach().cpu());
    return out;
  };
  EvalMetrics metrics = evaluate_split(scored, loader, device, nullptr);
  if (!options.logits.empty()) {
    write_logits_csv(options.logits, logits);
    result["logits"] = options.logits;
  }
  result["split"] = choice_name(options.split);
  result["images"] = metrics.images;
  result["loss"] = metrics.loss;
  result["top1"] = metrics.top1;
  result["top5"] = metrics.top5;
  add_provenance(result, device.str());
  return result;
}

}  // namespace ctmq
