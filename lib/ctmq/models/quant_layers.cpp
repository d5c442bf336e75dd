#include "ctmq/models/quant_layers.h"

#include <cmath>
#include <stdexcept>

namespace ctmq {
namespace {

WeightQuantizerOptions with_channels(WeightQuantizerOptions options, int64_t out_channels) {
  options.out_channels = out_channels;
  return options;
}

}  // namespace

QuantLayer::QuantLayer(QuantLayerOptions options, int64_t out_channels)
    : options_(std::move(options)),
      weight_q_(with_channels(options_.weights, out_channels)),
      act_q_(options_.activations) {
  set_stage_bits(32, 32);
}

void QuantLayer::set_stage_bits(int w_bits, int a_bits) {
  weight_q_->set_bits(options_.fixed_w_bits != 0 ? options_.fixed_w_bits : w_bits);
  act_q_->set_bits(options_.fixed_a_bits != 0 ? options_.fixed_a_bits : a_bits);
}

torch::Tensor QuantLayer::quantized_weight(const torch::Tensor& w) {
  return prequantized_ ? w : weight_q_->forward(w);
}

QuantConv2dImpl::QuantConv2dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel,
                                 int64_t stride, int64_t padding, QuantLayerOptions options)
    : QuantLayer(std::move(options), out_channels), stride_(stride), padding_(padding) {
  weight_ = register_parameter("weight", torch::empty({out_channels, in_channels, kernel, kernel}));
  // He initialisation with fan-out, as torchvision's ResNet.
  torch::nn::init::kaiming_normal_(weight_, 0.0, torch::kFanOut, torch::kReLU);
  register_module("weight_q", weight_q_);
  register_module("act_q", act_q_);
}

void QuantConv2dImpl::set_form(ConvForm form) {
  if (form != ConvForm::kTraining && !prequantized_) {
    throw std::logic_error("QuantConv2d::set_form: only for exported (prequantized) weights");
  }
  if (form == ConvForm::kSignCodes && weight_bits() != 1) {
    throw std::logic_error("QuantConv2d::set_form: sign codes need 1-bit weights");
  }
  torch::NoGradGuard no_grad;
  form_ = form;
  form_weight_ =
      form == ConvForm::kSignCodes
          ? torch::where(weight_ < 0, torch::full_like(weight_, -1), torch::ones_like(weight_))
      : form == ConvForm::kDouble ? weight_.to(torch::kDouble)
                                  : torch::Tensor();
}

torch::Tensor QuantConv2dImpl::forward(const torch::Tensor& x) {
  if (form_ == ConvForm::kSignCodes) {
    return torch::conv2d(act_q_->forward(x), form_weight_, {}, {stride_, stride_},
                         {padding_, padding_});
  }
  if (form_ == ConvForm::kDouble) {
    return torch::conv2d(act_q_->forward(x).to(torch::kDouble), form_weight_, {},
                         {stride_, stride_}, {padding_, padding_});
  }
  return torch::conv2d(act_q_->forward(x), quantized_weight(weight_), {}, {stride_, stride_},
                       {padding_, padding_});
}

QuantLinearImpl::QuantLinearImpl(int64_t in_features, int64_t out_features,
                                 QuantLayerOptions options)
    : QuantLayer(std::move(options), out_features) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  weight_ = register_parameter("weight",
                               torch::empty({out_features, in_features}).uniform_(-bound, bound));
  bias_ = register_parameter("bias", torch::empty({out_features}).uniform_(-bound, bound));
  register_module("weight_q", weight_q_);
  register_module("act_q", act_q_);
}

torch::Tensor QuantLinearImpl::forward(const torch::Tensor& x) {
  return torch::linear(act_q_->forward(x), quantized_weight(weight_), bias_);
}

}  // namespace ctmq
