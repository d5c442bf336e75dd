#pragma once
// Conv2d and Linear layers whose weights and input activations are quantized at the depth set
// by the current CTMQ stage, or at a fixed depth (first and last layers).

#include <string>

#include <torch/torch.h>

#include "ctmq/quant/activation_quantizer.h"
#include "ctmq/quant/weight_quantizer.h"

namespace ctmq {

/// Receives the stage's bit depths when QuantNetworkImpl::set_bits() walks the modules.
class BitsAware {
 public:
  virtual ~BitsAware() = default;
  virtual void set_stage_bits(int w_bits, int a_bits) = 0;
};

/// The quantization of one layer.
struct QuantLayerOptions {
  WeightQuantizerOptions weights;          ///< out_channels is filled in by the layer
  ActivationQuantizerOptions activations;  ///< is_signed: whether the input can be negative
  int fixed_w_bits = 0;  ///< 0: follow the stage's weight bits; else this depth always
  int fixed_a_bits = 0;  ///< 0: follow the stage's activation bits; else this depth always
};

/// What QuantConv2d and QuantLinear share: bits, the weight and its integer encoding.
class QuantLayer : public BitsAware {
 public:
  QuantLayer(QuantLayerOptions options, int64_t out_channels);
  void set_stage_bits(int w_bits, int a_bits) override;
  int weight_bits() const { return weight_q_->bits(); }
  int activation_bits() const { return act_q_->bits(); }
  /// "conv" or "linear".
  virtual std::string kind() const = 0;
  /// The float master weight (and bias, undefined for convs).
  virtual torch::Tensor weight() const = 0;
  virtual torch::Tensor bias() const { return {}; }
  /// Integer codes and scales of the weight at the current depth (weight_bits() < 32).
  EncodedWeight encode_weight() { return weight_q_->encode(weight()); }
  /// When set, `weight` already holds dequantized values and is used as it is (export).
  void set_weights_prequantized(bool on) { prequantized_ = on; }
  const ActivationQuantizer& activation_quantizer() const { return act_q_; }
  const WeightQuantizer& weight_quantizer() const { return weight_q_; }

 protected:
  torch::Tensor quantized_weight(const torch::Tensor& w);

  QuantLayerOptions options_;
  WeightQuantizer weight_q_;
  ActivationQuantizer act_q_;
  bool prequantized_ = false;
};

/// How a conv computes (models/inference_form.h): as in training; with the sign of its 1-bit
/// weight (-1 or +1: at W1A1 every sum is an integer, exact in float whatever the order); or in
/// double.
enum class ConvForm { kTraining, kSignCodes, kDouble };

/// A bias-free Conv2d (a BatchNorm follows) with quantized weights and input.
class QuantConv2dImpl : public torch::nn::Module, public QuantLayer {
 public:
  QuantConv2dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
                  int64_t padding, QuantLayerOptions options);
  torch::Tensor forward(const torch::Tensor& x);
  std::string kind() const override { return "conv"; }
  torch::Tensor weight() const override { return weight_; }
  int64_t stride() const { return stride_; }
  int64_t padding() const { return padding_; }
  /// Sets the form of an exported (prequantized) layer; kTraining undoes it.
  void set_form(ConvForm form);

 private:
  int64_t stride_;
  int64_t padding_;
  torch::Tensor weight_;
  ConvForm form_ = ConvForm::kTraining;
  torch::Tensor form_weight_;  ///< the weight set_form computes with
};
TORCH_MODULE(QuantConv2d);

/// A Linear layer with quantized weights and input; the bias stays in float.
class QuantLinearImpl : public torch::nn::Module, public QuantLayer {
 public:
  QuantLinearImpl(int64_t in_features, int64_t out_features, QuantLayerOptions options);
  torch::Tensor forward(const torch::Tensor& x);
  std::string kind() const override { return "linear"; }
  torch::Tensor weight() const override { return weight_; }
  torch::Tensor bias() const override { return bias_; }

 private:
  torch::Tensor weight_;
  torch::Tensor bias_;
};
TORCH_MODULE(QuantLinear);

}  // namespace ctmq
