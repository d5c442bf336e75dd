#pragma once
// ResNets (He et al. 2016) in ImageNet form (resnet18/34) and CIFAR form (resnet20/32), with
// standard basic blocks or Bi-Real Net blocks (Liu et al. 2018), every conv quantizable.

#include <memory>
#include <vector>

#include "ctmq/models/network.h"

namespace ctmq {

/// Stage layout of a ResNet.
struct ResNetLayout {
  bool imagenet_stem = false;   ///< 7x7/2 conv + 3x3/2 max-pool; else a 3x3/1 conv
  std::vector<int64_t> blocks;  ///< blocks per stage
  std::vector<int64_t> widths;  ///< channels per stage
};

ResNetLayout resnet18_layout();
ResNetLayout resnet34_layout();
ResNetLayout resnet20_layout();
ResNetLayout resnet32_layout();
/// The layout of a ResNet arch (every Arch is one).
ResNetLayout resnet_layout(Arch arch);

/// Builds a ResNet. Nonlinearities and activation quantizers:
///  - basic: conv-bn-ReLU as in ResNet v1; each quantized conv reads the post-ReLU value on an
///    unsigned grid. At 1-bit activations, sign() of a non-negative value is constant, so
///    the ReLUs in front of binary convs are dropped and sign() of the real-valued BatchNorm
///    output (with the shortcut added) is the nonlinearity, as in XNOR-Net and Bi-Real Net.
///    The features before the classifier always pass a ReLU (unless first_last_bits is 1).
///  - bireal: every 3x3 conv has its own real-valued shortcut, out = bn(conv(q(x))) + x; q is
///    hardtanh at 32 bits (Bi-Real's real-valued pretraining), else the signed quantizer.
///    The downsampling shortcut is avg-pool + 1x1 conv with quantized weights but a float input,
///    which keeps the shortcut path real-valued.
/// The stem conv reads the (signed) image; stem and classifier run at first_last_bits.
std::shared_ptr<QuantNetworkImpl> make_resnet(const NetworkConfig& config,
                                              const ResNetLayout& layout);

}  // namespace ctmq
