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

/// Throws SpecError when `out` names the checkpoint itself, however spelled (a relative path,
/// `..`, a symbolic or hard link): the atomic write would replace the checkpoint by its export.
void check_not_the_checkpoint(const std::string& checkpoint_path, const std::string& out) {
  namespace fs = std::filesystem;
  std::error_code error;
  bool same = fs::equivalent(checkpoint_path, out, error);
  if (!same) {
    const fs::path a = fs::weakly_canonical(checkpoint_path, error);
    const fs::path b = error ? fs::path() : fs::weakly_canonical(out, error);
    same = !error && a == b;
  }
  if (same) {
    throw SpecError("--out " + out + " is the checkpoint " + checkpoint_path +
                    " itself: the export would replace it; choose another output file");
  }
}

}  // namespace

nlohmann::json export_checkpoint(const std::string& checkpoint_path, const std::string& out,
                                 ExportFormat format) {
  check_not_the_checkpoint(checkpoint_path, out);
  Checkpoint checkpoint;
  auto network = network_from_checkpoint(checkpoint_path, checkpoint);
  const nlohmann::json deployment = deployment_json(checkpoint.meta, network->config());
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
    export_network(*network, network->config(), out, deployment);
  }
  const ExportSizes sizes = export_sizes(*network, network->config(), deployment);
  const int64_t checkpoint_bytes =
      static_cast<int64_t>(std::filesystem::file_size(checkpoint_path));
  const int64_t exported_bytes = static_cast<int64_t>(std::filesystem::file_size(out));
  nlohmann::json result = {{"checkpoint", checkpoint_path},
                           {"out", out},
                           {"format", format == ExportFormat::kOnnx ? "onnx" : "native"},
                           {"stage", checkpoint.meta.value("stage", "")},
                           {"deployment", deployment},
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
