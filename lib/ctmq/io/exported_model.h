#pragma once
// Runs a network from an exported file alone: dequantized weights are rebuilt from the integer
// codes and scales, the activation quantizers run as in training, BatchNorm uses its running
// statistics. The logits equal the live network's eval-mode logits up to float round-off: a
// W1A1 network runs in its inference form (models/inference_form.h), which the XNOR engine
// reproduces bit for bit.

#include <memory>
#include <string>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "ctmq/models/network.h"

namespace ctmq {

class ExportedModel {
 public:
  /// kInference: a W1A1 network in its inference form (the float path of `ctmq eval`);
  /// kAsTrained: every layer as training computes it (`ctmq bench infer`'s LibTorch peer).
  enum class Form { kInference, kAsTrained };

  /// Reads and checks an export_network file; a missing, truncated or malformed file throws
  /// IoError naming it.
  static ExportedModel load(const std::string& path, Form form = Form::kInference);

  /// Logits of images (N, in_channels, H, W), in eval mode without gradients.
  torch::Tensor forward(torch::Tensor x);

  const NetworkConfig& config() const { return config_; }
  int weight_bits() const { return network_->weight_bits(); }
  int activation_bits() const { return network_->activation_bits(); }
  /// The JSON header: network, bits, layers and tensors.
  const nlohmann::json& description() const { return header_; }
  /// The header's "deployment" object (class names, input size, resize, normalisation), or an
  /// empty object for a file written without one.
  nlohmann::json deployment() const {
    return header_.value("deployment", nlohmann::json::object());
  }
  /// The network with dequantized weights, in eval mode (the XNOR engine reads its layers).
  std::shared_ptr<QuantNetworkImpl> network() const { return network_; }

 private:
  NetworkConfig config_;
  nlohmann::json header_;
  std::shared_ptr<QuantNetworkImpl> network_;
};

}  // namespace ctmq
