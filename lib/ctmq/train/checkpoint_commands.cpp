// `ctmq eval`, `ctmq inspect` and `ctmq export`: everything that starts from a checkpoint.

#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include "ctmq/core/errors.h"
#include "ctmq/data/dataset_factory.h"
#include "ctmq/io/checkpoint.h"
#include "ctmq/io/export.h"
#include "ctmq/io/exported_model.h"
#include "ctmq/io/network_meta.h"
#include "ctmq/train/commands.h"
#include "ctmq/train/device.h"
#include "ctmq/train/evaluator.h"

namespace ctmq {
namespace {

/// The network of a checkpoint, at the checkpoint's bit depths, in eval mode.
std::shared_ptr<QuantNetworkImpl> network_from_checkpoint(const std::string& path,
                                                          Checkpoint& checkpoint) {
  checkpoint = load_checkpoint(path);
  auto network = make_network(network_config_from_json(checkpoint.meta, path));
  load_module_state(*network, checkpoint.state, path);
  network->set_bits(checkpoint.meta.value("w_bits", 32), checkpoint.meta.value("a_bits", 32));
  network->eval();
  return network;
}

DataSpec eval_data_spec(const EvalOptions& options) {
  DataSpec data = options.spec ? options.spec->data : DataSpec{};
  if (!options.data_root.empty()) {
    data.root = options.data_root;
    data.format = options.format;
    if (!options.spec) {
      data.train_limit = 0;
      data.val_limit = 0;
    }
  }
  if (options.limit >= 0) {
    (options.split == "train" ? data.train_limit : data.val_limit) = options.limit;
  }
  if (options.batch_size > 0) data.batch_size = options.batch_size;
  if (options.workers >= 0) data.workers = options.workers;
  data.augment = false;
  return data;
}

}  // namespace

nlohmann::json evaluate(const EvalOptions& options) {
  torch::Device device = resolve_device(options.runtime.device, 0);
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::shared_ptr<QuantNetworkImpl> network;
  std::shared_ptr<ExportedModel> exported;
  nlohmann::json result;
  int64_t in_channels = 0;
  if (!options.checkpoint.empty()) {
    Checkpoint checkpoint;
    network = network_from_checkpoint(options.checkpoint, checkpoint);
    network->to(device);
    forward = [&](const torch::Tensor& x) { return network->forward(x); };
    result["checkpoint"] = options.checkpoint;
    result["stage"] = checkpoint.meta.value("stage", "");
    in_channels = network->config().in_channels;
  } else {
    exported = std::make_shared<ExportedModel>(ExportedModel::load(options.exported));
    device = torch::Device(torch::kCPU);
    forward = [&](const torch::Tensor& x) { return exported->forward(x); };
    result["exported"] = options.exported;
    in_channels = exported->config().in_channels;
  }
  DataSpec data = eval_data_spec(options);
  const int64_t seed = options.spec ? options.spec->seed : 1;
  DataSplits splits = open_dataset(data, seed, 0, 1, data.batch_size, device.is_cuda());
  if (splits.in_channels != in_channels) {
    throw SpecError("the model takes " + std::to_string(in_channels) + "-channel images but " +
                    data.root + " has " + std::to_string(splits.in_channels) + " channels");
  }
  // With one process the train loader pads nothing and augmentation is off above, so it
  // scores every training image once (in shuffled order, which the sums do not notice).
  DataLoader& loader = options.split == "train" ? *splits.train : *splits.val;
  EvalMetrics metrics = evaluate_split(forward, loader, device, nullptr);
  result["split"] = options.split;
  result["images"] = metrics.images;
  result["loss"] = metrics.loss;
  result["top1"] = metrics.top1;
  result["top5"] = metrics.top5;
  return result;
}

nlohmann::json inspect_checkpoint(const std::string& path) {
  Checkpoint checkpoint;
  auto network = network_from_checkpoint(path, checkpoint);
  nlohmann::json layers = nlohmann::json::array();
  int64_t total = 0;
  for (const auto& layer : network->layer_summaries()) {
    layers.push_back({{"name", layer.name},
                      {"kind", layer.kind},
                      {"w_bits", layer.w_bits},
                      {"a_bits", layer.a_bits},
                      {"parameters", layer.parameters}});
    total += layer.parameters;
  }
  int64_t file_bytes = static_cast<int64_t>(std::filesystem::file_size(path));
  return {{"path", path},        {"file_bytes", file_bytes},           {"meta", checkpoint.meta},
          {"parameters", total}, {"tensors", checkpoint.state.size()}, {"layers", layers}};
}

std::string inspect_to_text(const nlohmann::json& inspected) {
  std::ostringstream out;
  const auto& meta = inspected["meta"];
  out << "checkpoint  " << inspected["path"].get<std::string>() << " ("
      << inspected["file_bytes"].get<int64_t>() << " bytes)\n";
  for (const char* key : {"experiment", "stage", "phase", "cycle", "w_bits", "a_bits", "epochs",
                          "spec_hash", "ctmq_version", "dataset"}) {
    if (meta.contains(key)) out << "  " << key << ": " << meta[key].dump() << "\n";
  }
  if (meta.contains("network")) out << "  network: " << meta["network"].dump() << "\n";
  if (meta.contains("final")) out << "  final: " << meta["final"].dump() << "\n";
  if (meta.contains("best")) out << "  best: " << meta["best"].dump() << "\n";
  char line[200];
  std::snprintf(line, sizeof(line), "%-28s %-10s %6s %6s %12s\n", "layer", "kind", "w_bits",
                "a_bits", "parameters");
  out << line;
  for (const auto& layer : inspected["layers"]) {
    std::snprintf(line, sizeof(line), "%-28s %-10s %6d %6d %12lld\n",
                  layer["name"].get<std::string>().c_str(),
                  layer["kind"].get<std::string>().c_str(), layer["w_bits"].get<int>(),
                  layer["a_bits"].get<int>(),
                  static_cast<long long>(layer["parameters"].get<int64_t>()));
    out << line;
  }
  out << "parameters in total: " << inspected["parameters"].get<int64_t>() << "\n";
  return out.str();
}

nlohmann::json export_checkpoint(const std::string& checkpoint_path, const std::string& out) {
  Checkpoint checkpoint;
  auto network = network_from_checkpoint(checkpoint_path, checkpoint);
  export_network(*network, network->config(), out);
  ExportSizes sizes = export_sizes(*network, network->config());
  const int64_t checkpoint_bytes =
      static_cast<int64_t>(std::filesystem::file_size(checkpoint_path));
  const int64_t exported_bytes = static_cast<int64_t>(std::filesystem::file_size(out));
  return {{"checkpoint", checkpoint_path},
          {"out", out},
          {"stage", checkpoint.meta.value("stage", "")},
          {"w_bits", network->weight_bits()},
          {"a_bits", network->activation_bits()},
          {"exported_bytes", exported_bytes},
          {"checkpoint_bytes", checkpoint_bytes},
          {"float_state_bytes", sizes.float_bytes},
          {"ratio_vs_float_state",
           exported_bytes > 0 ? static_cast<double>(sizes.float_bytes) / exported_bytes : 0.0}};
}

}  // namespace ctmq
