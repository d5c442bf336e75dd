#include "ctmq/commands/export_command.h"

#include <filesystem>

#include "ctmq/commands/deploy_metadata.h"
#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/io/checkpoint_network.h"
#include "ctmq/io/export.h"
#ifdef CTMQ_WITH_ONNX
#include "ctmq/onnx/network_onnx.h"
#endif

namespace ctmq {
namespace {

double ratio(int64_t numerator, int64_t denominator) {
  return denominator > 0 ? static_cast<double>(numerator) / static_cast<double>(denominator) : 0.0;
}

}  // namespace

nlohmann::json export_checkpoint(const std::string& checkpoint_path, const std::string& out,
                                 ExportFormat format) {
  Checkpoint checkpoint;
  auto network = network_from_checkpoint(checkpoint_path, checkpoint);
  if (format == ExportFormat::kOnnx) {
#ifndef CTMQ_WITH_ONNX
    throw SpecError(
        "--format onnx: this ctmq was built without ONNX (Debian: install "
        "libonnx-dev, then configure and build again)");
#else
    OnnxExportOptions options;
    options.metadata = deploy_metadata(checkpoint.meta, network->config());
    std::string bytes;
    try {
      bytes = network_to_onnx(*network, options);
    } catch (const Error& e) {
      throw IoError(out + ": cannot export " + checkpoint_path + ": " + e.what());
    }
    write_file_atomic(out, bytes);
#endif
  } else {
    export_network(*network, network->config(), out);
  }
  const ExportSizes sizes = export_sizes(*network, network->config());
  const int64_t checkpoint_bytes =
      static_cast<int64_t>(std::filesystem::file_size(checkpoint_path));
  const int64_t exported_bytes = static_cast<int64_t>(std::filesystem::file_size(out));
  nlohmann::json result = {{"checkpoint", checkpoint_path},
                           {"out", out},
                           {"format", format == ExportFormat::kOnnx ? "onnx" : "native"},
                           {"stage", checkpoint.meta.value("stage", "")},
                           {"w_bits", network->weight_bits()},
                           {"a_bits", network->activation_bits()},
                           {"exported_bytes", exported_bytes},
                           {"checkpoint_bytes", checkpoint_bytes},
                           {"float_state_bytes", sizes.float_bytes},
                           {"ratio_vs_checkpoint", ratio(checkpoint_bytes, exported_bytes)},
                           {"ratio_vs_float_state", ratio(sizes.float_bytes, exported_bytes)}};
#ifdef CTMQ_WITH_ONNX
  if (format == ExportFormat::kOnnx) result["opset"] = kOnnxOpset;
#endif
  return result;
}

}  // namespace ctmq
