#include "ctmq/commands/inspect_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/io/checkpoint_network.h"
#include "ctmq/io/export_format.h"
#include "ctmq/io/exported_model.h"
#ifdef CTMQ_WITH_ONNX
#include "ctmq/onnx/onnx_graph.h"
#endif

namespace ctmq {
namespace {

enum class FileKind { kCheckpoint, kExport, kOnnx };

/// Checkpoints are zip archives (LibTorch's pickle format), exports start with their magic;
/// anything else is tried as ONNX, a protobuf without a magic of its own, then as a checkpoint.
FileKind file_kind(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[kExportMagicSize] = {};
  in.read(head, sizeof(head));
  const std::string start(head, static_cast<size_t>(in.gcount()));
  if (start == std::string(kExportMagic, kExportMagicSize)) return FileKind::kExport;
  if (start.rfind("PK", 0) == 0) return FileKind::kCheckpoint;
#ifdef CTMQ_WITH_ONNX
  return FileKind::kOnnx;
#else
  return FileKind::kCheckpoint;  // its loader names the file and the problem
#endif
}

nlohmann::json layers_json(const QuantNetworkImpl& network, int64_t& total) {
  nlohmann::json layers = nlohmann::json::array();
  total = 0;
  for (const auto& layer : network.layer_summaries()) {
    layers.push_back({{"name", layer.name},
                      {"kind", layer.kind},
                      {"w_bits", layer.w_bits},
                      {"a_bits", layer.a_bits},
                      {"parameters", layer.parameters}});
    total += layer.parameters;
  }
  return layers;
}

nlohmann::json inspect_stage_checkpoint(const std::string& path) {
  Checkpoint checkpoint;
  auto network = network_from_checkpoint(path, checkpoint);
  int64_t total = 0;
  nlohmann::json layers = layers_json(*network, total);
  return {{"kind", "checkpoint"},    {"path", path},        {"file_bytes", 0},
          {"meta", checkpoint.meta}, {"parameters", total}, {"tensors", checkpoint.state.size()},
          {"layers", layers}};
}

nlohmann::json inspect_export(const std::string& path) {
  const ExportedModel model = ExportedModel::load(path, ExportedModel::Form::kAsTrained);
  const nlohmann::json& header = model.description();
  int64_t total = 0;
  nlohmann::json layers = layers_json(*model.network(), total);
  return {{"kind", "export"},
          {"path", path},
          {"file_bytes", 0},
          {"format", header.value("format", "ctmq-export")},
          {"version", header.value("version", 0)},
          {"network", header.at("network")},
          {"bits", header.at("bits")},
          {"deployment", model.deployment()},
          {"parameters", total},
          {"tensors", header.at("tensors").size() + header.at("layers").size()},
          {"layers", layers}};
}

#ifdef CTMQ_WITH_ONNX
/// Null where the file does not parse as ONNX.
nlohmann::json inspect_onnx(const std::string& path) {
  OnnxModelSummary summary;
  try {
    summary = read_onnx_summary(read_file(path));
  } catch (const IoError&) {
    throw;
  } catch (const Error&) {
    return nullptr;
  }
  nlohmann::json metadata = nlohmann::json::object();
  for (const auto& [key, value] : summary.metadata) metadata[key] = value;
  return {{"kind", "onnx"},           {"path", path},
          {"file_bytes", 0},          {"ir_version", summary.ir_version},
          {"opset", summary.opset},   {"producer", summary.producer},
          {"inputs", summary.inputs}, {"outputs", summary.outputs},
          {"nodes", summary.nodes},   {"initializers", summary.initializers},
          {"metadata", metadata}};
}
#endif

/// A value for one line of text: long class lists shortened to their first names.
std::string short_dump(const nlohmann::json& value) {
  constexpr size_t kShown = 10;
  if (!value.is_array() || value.size() <= kShown) return value.dump();
  nlohmann::json head(value.begin(), value.begin() + kShown);
  std::string text = head.dump();
  text.pop_back();
  return text + ", ... (" + std::to_string(value.size()) + " in all)]";
}

void layers_to_text(const nlohmann::json& inspected, std::ostream& out) {
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
}

void checkpoint_to_text(const nlohmann::json& inspected, std::ostream& out) {
  const auto& meta = inspected["meta"];
  out << "checkpoint  " << inspected["path"].get<std::string>() << " ("
      << inspected["file_bytes"].get<int64_t>() << " bytes)\n";
  for (const char* key : {"experiment", "stage", "phase", "cycle", "w_bits", "a_bits", "epochs",
                          "spec_hash", "ctmq_version", "dataset", "numerics", "image_size",
                          "resize", "channels", "normalization", "class_names"}) {
    if (meta.contains(key)) out << "  " << key << ": " << short_dump(meta[key]) << "\n";
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
  layers_to_text(inspected, out);
}

void export_to_text(const nlohmann::json& inspected, std::ostream& out) {
  out << "export  " << inspected["path"].get<std::string>() << " ("
      << inspected["file_bytes"].get<int64_t>() << " bytes, "
      << inspected["format"].get<std::string>() << " version " << inspected["version"].dump()
      << ")\n";
  out << "  bits: " << inspected["bits"].dump() << "\n";
  out << "  network: " << inspected["network"].dump() << "\n";
  for (const auto& item : inspected["deployment"].items()) {
    out << "  " << item.key() << ": "
        << (item.value().is_string() ? item.value().get<std::string>() : short_dump(item.value()))
        << "\n";
  }
  layers_to_text(inspected, out);
}

void onnx_to_text(const nlohmann::json& inspected, std::ostream& out) {
  out << "onnx model  " << inspected["path"].get<std::string>() << " ("
      << inspected["file_bytes"].get<int64_t>() << " bytes, opset "
      << inspected["opset"].get<int64_t>() << ", IR " << inspected["ir_version"].get<int64_t>()
      << ", producer " << inspected["producer"].get<std::string>() << ")\n";
  out << "  inputs: " << inspected["inputs"].dump() << "  outputs: " << inspected["outputs"].dump()
      << "  nodes: " << inspected["nodes"].get<int64_t>()
      << "  initializers: " << inspected["initializers"].get<int64_t>() << "\n";
  for (const auto& item : inspected["metadata"].items()) {
    std::string value = item.value().get<std::string>();
    const nlohmann::json names = nlohmann::json::parse(value, nullptr, false);
    if (item.key() == "class_names" && !names.is_discarded()) value = short_dump(names);
    out << "  " << item.key() << ": " << value << "\n";
  }
}

}  // namespace

nlohmann::json inspect_checkpoint(const std::string& path) {
  nlohmann::json inspected;
  switch (file_kind(path)) {
    case FileKind::kExport:
      inspected = inspect_export(path);
      break;
#ifdef CTMQ_WITH_ONNX
    case FileKind::kOnnx:
      inspected = inspect_onnx(path);
      break;
#endif
    default:
      break;
  }
  // Not an export nor ONNX: the checkpoint loader names what is wrong with the file.
  if (inspected.is_null()) inspected = inspect_stage_checkpoint(path);
  inspected["file_bytes"] = static_cast<int64_t>(std::filesystem::file_size(path));
  return inspected;
}

std::string inspect_to_text(const nlohmann::json& inspected) {
  std::ostringstream out;
  const std::string kind = inspected.value("kind", "checkpoint");
  if (kind == "export") {
    export_to_text(inspected, out);
  } else if (kind == "onnx") {
    onnx_to_text(inspected, out);
  } else {
    checkpoint_to_text(inspected, out);
  }
  return out.str();
}

}  // namespace ctmq
