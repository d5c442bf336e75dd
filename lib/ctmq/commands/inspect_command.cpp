#include "ctmq/commands/inspect_command.h"

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "ctmq/io/checkpoint_network.h"

namespace ctmq {

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
                          "spec_hash", "ctmq_version", "dataset", "numerics"}) {
    if (meta.contains(key)) out << "  " << key << ": " << meta[key].dump() << "\n";
  }
  if (meta.contains("hardware") && meta["hardware"].is_object()) {
    const auto& hw = meta["hardware"];
    out << "  trained on: " << hw.value("cpu_model", "?") << ", ATen "
        << hw.value("aten_cpu_capability", "?") << ", oneDNN " << hw.value("onednn_isa", "?")
        << ", " << hw.value("threads", 0) << " threads, LibTorch " << hw.value("libtorch", "?")
        << ", " << hw.value("device", "?") << "\n";
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

}  // namespace ctmq
