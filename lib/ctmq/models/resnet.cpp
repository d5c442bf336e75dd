#include "ctmq/models/resnet.h"

#include "ctmq/models/batch_norm.h"
#include "ctmq/models/quant_layers.h"

namespace ctmq {
namespace {

QuantLayerOptions layer_options(const NetworkConfig& config, bool signed_input, int fixed_w = 0,
                                int fixed_a = 0) {
  QuantLayerOptions options;
  options.weights.method = config.weight_quantizer;
  options.weights.granularity = config.weight_granularity;
  options.activations.method = config.activation_quantizer;
  options.activations.is_signed = signed_input;
  options.fixed_w_bits = fixed_w;
  options.fixed_a_bits = fixed_a;
  return options;
}

/// A residual block: a module that also follows the stage's activation bits.
class BlockImpl : public torch::nn::Module, public BitsAware {
 public:
  virtual torch::Tensor forward(const torch::Tensor& z) = 0;
  void set_stage_bits(int /*w_bits*/, int a_bits) override { a_bits_ = a_bits; }

 protected:
  int a_bits_ = 32;
};

/// The shortcut of a block that changes the shape: [avg-pool] + 1x1 conv + BatchNorm.
class DownsampleImpl : public torch::nn::Module {
 public:
  DownsampleImpl(int64_t in, int64_t out, int64_t stride, bool pool, QuantLayerOptions options)
      : pool_(pool && stride > 1), stride_(stride) {
    conv = register_module("conv", QuantConv2d(in, out, 1, pool_ ? 1 : stride, 0, options));
    bn = register_module("bn", BatchNorm2d(out));
  }
  torch::Tensor forward(torch::Tensor x) {
    if (pool_) x = torch::avg_pool2d(x, {stride_, stride_}, {stride_, stride_}, {0, 0}, true);
    return bn->forward(conv->forward(x));
  }
  QuantConv2d conv{nullptr};
  BatchNorm2d bn{nullptr};

 private:
  bool pool_;
  int64_t stride_;
};
TORCH_MODULE(Downsample);

class BasicBlockImpl : public BlockImpl {
 public:
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride, const NetworkConfig& config) {
    const QuantLayerOptions options = layer_options(config, /*signed_input=*/false);
    conv1 = register_module("conv1", QuantConv2d(in, out, 3, stride, 1, options));
    bn1 = register_module("bn1", BatchNorm2d(out));
    conv2 = register_module("conv2", QuantConv2d(out, out, 3, 1, 1, options));
    bn2 = register_module("bn2", BatchNorm2d(out));
    if (stride != 1 || in != out) {
      downsample = register_module("downsample", Downsample(in, out, stride, false, options));
    }
  }
  // z is the block input before its nonlinearity; the result is too.
  torch::Tensor forward(const torch::Tensor& z) override {
    torch::Tensor x = nonlinearity(z);
    torch::Tensor h = nonlinearity(bn1->forward(conv1->forward(x)));
    torch::Tensor shortcut = downsample ? downsample->forward(x) : x;
    return bn2->forward(conv2->forward(h)) + shortcut;
  }

 private:
  torch::Tensor nonlinearity(const torch::Tensor& x) const {
    return a_bits_ == 1 ? x : torch::relu(x);
  }

  QuantConv2d conv1{nullptr}, conv2{nullptr};
  BatchNorm2d bn1{nullptr}, bn2{nullptr};
  Downsample downsample{nullptr};
};

class BiRealBlockImpl : public BlockImpl {
 public:
  BiRealBlockImpl(int64_t in, int64_t out, int64_t stride, const NetworkConfig& config) {
    const QuantLayerOptions options = layer_options(config, /*signed_input=*/true);
    conv1 = register_module("conv1", QuantConv2d(in, out, 3, stride, 1, options));
    bn1 = register_module("bn1", BatchNorm2d(out));
    conv2 = register_module("conv2", QuantConv2d(out, out, 3, 1, 1, options));
    bn2 = register_module("bn2", BatchNorm2d(out));
    if (stride != 1 || in != out) {
      downsample = register_module(
          "downsample",
          Downsample(in, out, stride, true, layer_options(config, true, 0, /*fixed_a=*/32)));
    }
  }
  torch::Tensor forward(const torch::Tensor& z) override {
    torch::Tensor u =
        bn1->forward(conv1->forward(activation(z))) + (downsample ? downsample->forward(z) : z);
    return bn2->forward(conv2->forward(activation(u))) + u;
  }

 private:
  // The quantizer clips (and at 1 bit takes the sign); at 32 bits hardtanh stands in for it.
  torch::Tensor activation(const torch::Tensor& x) const {
    return a_bits_ == 32 ? torch::hardtanh(x) : x;
  }

  QuantConv2d conv1{nullptr}, conv2{nullptr};
  BatchNorm2d bn1{nullptr}, bn2{nullptr};
  Downsample downsample{nullptr};
};

class ResNetImpl : public QuantNetworkImpl {
 public:
  ResNetImpl(const NetworkConfig& config, const ResNetLayout& layout)
      : QuantNetworkImpl(config), imagenet_stem_(layout.imagenet_stem) {
    const int fl = config.first_last_bits;
    const bool bireal = config.block == BlockKind::kBiReal;
    const int64_t stem_width = layout.widths.front();
    const int64_t kernel = imagenet_stem_ ? 7 : 3;
    conv1 = register_module(
        "conv1", QuantConv2d(config.in_channels, stem_width, kernel, imagenet_stem_ ? 2 : 1,
                             kernel / 2, layout_options(config, true, fl)));
    bn1 = register_module("bn1", BatchNorm2d(stem_width));
    int64_t in = stem_width;
    for (size_t s = 0; s < layout.blocks.size(); ++s) {
      auto stage = torch::nn::ModuleList();
      const int64_t out = layout.widths[s];
      for (int64_t b = 0; b < layout.blocks[s]; ++b) {
        const int64_t stride = (b == 0 && s > 0) ? 2 : 1;
        std::shared_ptr<BlockImpl> block;
        if (bireal) {
          block = std::make_shared<BiRealBlockImpl>(in, out, stride, config);
        } else {
          block = std::make_shared<BasicBlockImpl>(in, out, stride, config);
        }
        stage->push_back(block);
        blocks_.push_back(block);
        in = out;
      }
      register_module("layer" + std::to_string(s + 1), stage);
    }
    relu_features_ = !bireal && fl != 1;
    fc = register_module(
        "fc", QuantLinear(in, config.num_classes, layout_options(config, !relu_features_, fl)));
  }

  torch::Tensor forward(torch::Tensor x) override {
    torch::Tensor z = bn1->forward(conv1->forward(x));
    // max-pool commutes with the (monotone) nonlinearity the first block applies.
    if (imagenet_stem_) z = torch::max_pool2d(z, {3, 3}, {2, 2}, {1, 1});
    for (const auto& block : blocks_) z = block->forward(z);
    if (relu_features_) z = torch::relu(z);
    z = torch::adaptive_avg_pool2d(z, {1, 1}).flatten(1);
    return fc->forward(z);
  }

 private:
  static QuantLayerOptions layout_options(const NetworkConfig& config, bool signed_input,
                                          int bits) {
    return layer_options(config, signed_input, bits, bits);
  }

  bool imagenet_stem_;
  bool relu_features_ = true;
  QuantConv2d conv1{nullptr};
  BatchNorm2d bn1{nullptr};
  std::vector<std::shared_ptr<BlockImpl>> blocks_;
  QuantLinear fc{nullptr};
};

}  // namespace

ResNetLayout resnet18_layout() {
  return {true, {2, 2, 2, 2}, {64, 128, 256, 512}};
}
ResNetLayout resnet34_layout() {
  return {true, {3, 4, 6, 3}, {64, 128, 256, 512}};
}
ResNetLayout resnet20_layout() {
  return {false, {3, 3, 3}, {16, 32, 64}};
}
ResNetLayout resnet32_layout() {
  return {false, {5, 5, 5}, {16, 32, 64}};
}

ResNetLayout resnet_layout(Arch arch) {
  switch (arch) {
    case Arch::kResNet18:
      return resnet18_layout();
    case Arch::kResNet34:
      return resnet34_layout();
    case Arch::kResNet20:
      return resnet20_layout();
    case Arch::kResNet32:
      return resnet32_layout();
  }
  return resnet20_layout();
}

std::shared_ptr<QuantNetworkImpl> make_resnet(const NetworkConfig& config,
                                              const ResNetLayout& layout) {
  return std::make_shared<ResNetImpl>(config, layout);
}

}  // namespace ctmq
