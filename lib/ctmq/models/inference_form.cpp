#include "ctmq/models/inference_form.h"

#include <map>
#include <memory>
#include <string>

#include "ctmq/core/errors.h"
#include "ctmq/models/quant_layers.h"

namespace ctmq {
namespace {

bool is_binary(const QuantConv2dImpl& conv) {
  return conv.weight_bits() == 1 && conv.activation_bits() == 1;
}

bool imagenet_stem(const QuantNetworkImpl& network) {
  for (const auto& item : network.named_modules()) {
    if (item.key() != "conv1") continue;
    auto conv = std::dynamic_pointer_cast<QuantConv2dImpl>(item.value());
    return conv && conv->weight().size(2) == 7;
  }
  return false;
}

/// The conv a BatchNorm follows, by the networks' naming: `bn1` follows `conv1`, `x.bn2`
/// follows `x.conv2`, `x.downsample.bn` follows `x.downsample.conv`.
std::string conv_name_for(const std::string& bn_name) {
  const size_t dot = bn_name.rfind('.');
  const size_t leaf = dot == std::string::npos ? 0 : dot + 1;
  if (bn_name.compare(leaf, 2, "bn") != 0) return "";
  return bn_name.substr(0, leaf) + "conv" + bn_name.substr(leaf + 2);
}

}  // namespace

FoldedBatchNorm fold_batch_norm(const torch::Tensor& scale, const BatchNorm2dImpl& bn) {
  torch::NoGradGuard no_grad;
  const torch::Tensor alpha =
      bn.weight.to(torch::kDouble) * bn.running_var.to(torch::kDouble).add(bn.eps()).rsqrt();
  FoldedBatchNorm folded;
  folded.offset = bn.bias.to(torch::kDouble) - bn.running_mean.to(torch::kDouble) * alpha;
  folded.factor = scale.defined() ? scale.to(torch::kDouble) * alpha : alpha;
  return folded;
}

torch::Tensor binary_weight_scale(const torch::Tensor& weight, const std::string& layer) {
  torch::NoGradGuard no_grad;
  const torch::Tensor magnitude = weight.detach().abs().reshape({weight.size(0), -1});
  const torch::Tensor scale = std::get<0>(magnitude.max(1));
  if (!magnitude.eq(scale.unsqueeze(1)).all().item<bool>()) {
    throw Error(layer + ": a 1-bit weight is not +-scale per output channel");
  }
  return scale;
}

bool float_convs_in_double(const QuantNetworkImpl& network) {
  return network.weight_bits() == 1 && network.activation_bits() == 1 && !imagenet_stem(network);
}

void use_inference_form(QuantNetworkImpl& network) {
  if (network.weight_bits() != 1 || network.activation_bits() != 1) return;
  const bool in_double = float_convs_in_double(network);
  std::map<std::string, std::shared_ptr<torch::nn::Module>> modules;
  for (const auto& item : network.named_modules()) modules[item.key()] = item.value();
  for (const auto& item : modules) {
    auto bn = std::dynamic_pointer_cast<BatchNorm2dImpl>(item.second);
    if (!bn) continue;
    auto found = modules.find(conv_name_for(item.first));
    auto conv = found == modules.end() ? nullptr
                                       : std::dynamic_pointer_cast<QuantConv2dImpl>(found->second);
    if (!conv) throw Error("inference form: no conv before BatchNorm '" + item.first + "'");
    if (is_binary(*conv)) {
      conv->set_form(ConvForm::kSignCodes);
      const FoldedBatchNorm folded =
          fold_batch_norm(binary_weight_scale(conv->weight(), found->first), *bn);
      bn->set_folded(folded.factor, folded.offset);
    } else if (in_double && conv->activation_bits() >= 32) {
      conv->set_form(ConvForm::kDouble);
      const FoldedBatchNorm folded = fold_batch_norm(torch::Tensor(), *bn);
      bn->set_folded(folded.factor, folded.offset);
    }
  }
}

}  // namespace ctmq
