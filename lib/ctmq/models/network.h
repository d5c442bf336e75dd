#pragma once
// The public face of models/: a network configuration, the base class of every quantizable
// network, and the name -> factory registry.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "ctmq/models/batch_norm_sync.h"
#include "ctmq/spec/spec.h"

namespace ctmq {

/// Everything needed to build a network; also stored in exported models.
struct NetworkConfig {
  Arch arch = Arch::kResNet20;
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  int first_last_bits = 32;  ///< depth of the stem conv and the classifier
  BlockKind block = BlockKind::kBasic;
  WeightMethod weight_quantizer = WeightMethod::kDoReFa;            ///< b >= 2
  ActivationMethod activation_quantizer = ActivationMethod::kPact;  ///< b >= 2
  Granularity weight_granularity = Granularity::kChannel;           ///< lsq weights
};

/// The NetworkConfig of an experiment's model and quant sections.
NetworkConfig network_config(const ModelSpec& model, const QuantSpec& quant, int64_t in_channels);

/// One row of `ctmq inspect`.
struct LayerSummary {
  std::string name;  ///< module path, e.g. "layer1.0.conv1"
  std::string kind;  ///< conv | linear | batchnorm
  int w_bits = 32;
  int a_bits = 32;
  int64_t parameters = 0;  ///< learned values, quantizer parameters included
};

/// A classification network whose conv/linear layers are quantized at the bits of the current
/// CTMQ stage. The parameter and buffer names do not depend on the bits, so the state of one
/// stage loads into the network of any other stage.
class QuantNetworkImpl : public torch::nn::Module {
 public:
  /// Logits (N, num_classes) of images (N, in_channels, H, W).
  virtual torch::Tensor forward(torch::Tensor x) = 0;

  /// Sets the stage's depths (each 1..16 or 32); first and last layers keep first_last_bits.
  /// Also call it after loading state: quantizers re-check their calibration on the next batch.
  void set_bits(int w_bits, int a_bits);
  int weight_bits() const { return w_bits_; }
  int activation_bits() const { return a_bits_; }

  /// Every conv, linear and batchnorm layer in module order.
  std::vector<LayerSummary> layer_summaries() const;

  /// Installs a synchronised BatchNorm into every BatchNorm layer (nullptr removes it).
  void set_batch_norm_sync(std::shared_ptr<BatchNormSync> sync);

  /// Full names of the parameters an optimizer should not decay: BatchNorm weights and
  /// biases, linear biases, and quantizer parameters (PACT alpha, LSQ steps).
  std::vector<std::string> no_decay_parameter_names() const;

  /// Export support: layer weights already hold dequantized values and are used as they are.
  void set_weights_prequantized(bool on);

  const NetworkConfig& config() const { return config_; }

 protected:
  explicit QuantNetworkImpl(NetworkConfig config) : config_(std::move(config)) {}

 private:
  NetworkConfig config_;
  int w_bits_ = 32;
  int a_bits_ = 32;
};

/// Builds a network by arch name; throws SpecError naming /model/... for a bad config.
std::shared_ptr<QuantNetworkImpl> make_network(const NetworkConfig& config);

}  // namespace ctmq
