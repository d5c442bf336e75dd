#pragma once
// Runs an exported network with its W1A1 convolutions as XNOR-popcount (binary_conv.h) and
// everything else (the stem, the classifier, Bi-Real's real-valued downsample path, BatchNorms
// that feed a float stream) through LibTorch in float, as the float path does. The logits equal
// the float path's up to the float round-off of the per-channel epilogue: the integer dot
// products are exact. See docs/engine.md.

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "ctmq/engine/binary_conv.h"
#include "ctmq/engine/epilogue.h"
#include "ctmq/models/network.h"

namespace ctmq {

class QuantConv2dImpl;
class BatchNorm2dImpl;
class QuantLinearImpl;

namespace engine {

/// A W1A1 convolution with its BatchNorm folded: weights packed, the affine epilogue and, where
/// only the sign of the result is used, its integer thresholds.
struct BinaryConvLayer {
  std::string name;
  PackedBinaryWeights weights;
  ChannelAffine affine;
  ChannelThreshold threshold;
};

/// A float layer's eval BatchNorm as y = x * alpha + beta, in float like LibTorch's.
struct FloatBatchNorm {
  std::vector<float> alpha;
  std::vector<float> beta;
};

/// A float conv of the inference form, computed in double and rounded to float once
/// (double_conv_affine_row): weights [ky][kx][in][out], the BatchNorm folded.
struct DoubleConvLayer {
  std::vector<double> weights;
  std::vector<double> factor;
  std::vector<double> offset;
};

/// Wall time of one step of the plan, summed over the forwards since the last reset.
struct StepTime {
  std::string name;
  std::string kind;  ///< "xnor" or "float"
  double seconds = 0.0;
};

/// Threads the engine's row loops split into now: LibTorch's intra-op thread count
/// (--threads), or 1 where ctmq was built without OpenMP (at::parallel_for then runs serially).
int64_t row_threads();

/// The XNOR engine for one network (a ResNet of models/resnet.h).
class XnorNetwork {
 public:
  /// Builds the plan from a network in eval mode whose binary layers hold dequantized 1-bit
  /// weights (ExportedModel::network()). A network not at W1A1 runs entirely in float.
  explicit XnorNetwork(std::shared_ptr<QuantNetworkImpl> network,
                       KernelIsa isa = best_kernel_isa());
  ~XnorNetwork();

  /// Logits (N, num_classes) of images (N, in_channels, H, W), run a few images at a time
  /// where a batch's activations would outgrow the caches.
  torch::Tensor forward(const torch::Tensor& images);

  /// Convolutions that run as XNOR-popcount (0: the network is not W1A1).
  int64_t binary_layers() const;
  KernelIsa isa() const { return isa_; }

  /// Per-step times, recorded while profiling is on (off by default: it adds a clock read per
  /// step).
  void set_profiling(bool on) { profiling_ = on; }
  std::vector<StepTime> step_times() const { return times_; }
  void reset_step_times();

 private:
  struct Block;
  struct Activation;

  using Steps = std::vector<StepTime>;
  /// The steps below append their times to `steps` where it is not null (profiling on).
  Activation run_block(const Block& block, Activation z, Steps* steps);
  void run_binary(const BinaryConvLayer& layer, const torch::Tensor& input_signs,
                  const float* residual, torch::Tensor* values, torch::Tensor* signs);
  torch::Tensor packed_signs(const torch::Tensor& values);
  torch::Tensor direct_stem(const torch::Tensor& images);
  /// `layer` over a padded (N, H, W, C) tensor in double; float (N, OH, OW, O) out.
  torch::Tensor double_conv(const DoubleConvLayer& layer, FloatConvGeometry g,
                            const torch::Tensor& nhwc);
  /// The pooled features (N, C) before the classifier.
  torch::Tensor features(const torch::Tensor& images, Steps* steps);

  std::shared_ptr<QuantNetworkImpl> network_;
  KernelIsa isa_;
  bool binary_ = false;
  bool imagenet_stem_ = false;
  bool relu_features_ = false;
  std::shared_ptr<QuantConv2dImpl> stem_conv_;
  std::shared_ptr<BatchNorm2dImpl> stem_bn_;
  std::shared_ptr<QuantLinearImpl> fc_;
  /// The stem conv and its BatchNorm as one direct convolution: in double where the inference
  /// form computes it so (double_conv_affine_row), else in float (float_conv_bn_row) where the
  /// ISA has one; otherwise both run through LibTorch, in the network's own form.
  bool direct_stem_ = false;
  bool double_stem_ = false;
  FloatConvGeometry stem_geometry_;
  std::vector<float> stem_weights_;  ///< [ky][kx][in][out]
  FloatBatchNorm stem_affine_;
  DoubleConvLayer stem_double_;
  /// The classifier as float_conv1x1_rows of the pooled features ([in][out] weights, scale 1,
  /// the bias as beta), where it is a float layer: LibTorch 1.13 from Debian sends it to its
  /// generic BLAS (about 1 GMAC/s: 0.5 ms per image for resnet18's 512 x 1000).
  bool direct_fc_ = false;
  std::vector<float> fc_weights_;
  std::vector<float> fc_ones_;
  std::vector<float> fc_bias_;
  std::vector<Block> blocks_;
  bool profiling_ = false;
  std::vector<StepTime> times_;
};

}  // namespace engine
}  // namespace ctmq
