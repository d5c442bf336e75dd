#pragma once
// `ctmq export`: the deployable model of a checkpoint, in ctmq's own bit-packed format or as a
// standard ONNX model. Torch-free (see runtime_options.h).

#include <string>

#include <nlohmann/json.hpp>

namespace ctmq {

/// What `ctmq export` writes.
enum class ExportFormat {
  kNative,  ///< ctmq's file (export_format.h): bit-packed codes, read by `ctmq eval --exported`
  kOnnx,    ///< a standard ONNX model (onnx/network_onnx.h) with the deployment metadata
};

/// Writes the deployable model of a checkpoint; returns the format, sizes and the ratios to the
/// checkpoint file and to the float state.
nlohmann::json export_checkpoint(const std::string& checkpoint, const std::string& out,
                                 ExportFormat format = ExportFormat::kNative);

}  // namespace ctmq
