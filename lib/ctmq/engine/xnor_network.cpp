#include "ctmq/engine/xnor_network.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>

#include <spdlog/spdlog.h>

#include "ctmq/core/errors.h"
#include "ctmq/models/batch_norm.h"
#include "ctmq/models/inference_form.h"
#include "ctmq/models/quant_layers.h"

namespace ctmq::engine {
namespace {

/// The float activations of the images forward() runs together, at most (about an L2 cache).
constexpr int64_t kCachedActivationBytes = int64_t{1} << 20;

/// Rows per thread at least, for a parallel loop whose rows cost `row_work` operations each
/// (kernel steps, multiply-adds, words): about 16 K operations, some 5 microseconds, above
/// what a fork and join cost while LibTorch's OpenMP workers still spin from the layer before;
/// so only the smallest loops (a few rows) stay on one thread. 256 K kept resnet20 at batch 1
/// on one thread: at two threads 16 K took it from 0.287 to 0.218 ms an image (best of three
/// interleaved runs) and changed no other row of the comparison.
int64_t grain_for(int64_t row_work) {
  constexpr int64_t kWorkPerThread = int64_t{1} << 14;
  return std::max<int64_t>(1, kWorkPerThread / std::max<int64_t>(1, row_work));
}

using ModuleMap = std::map<std::string, std::shared_ptr<torch::nn::Module>>;

template <typename T>
std::shared_ptr<T> find_module(const ModuleMap& modules, const std::string& name, bool required) {
  auto it = modules.find(name);
  if (it == modules.end()) {
    if (required) throw Error("xnor engine: the network has no module '" + name + "'");
    return nullptr;
  }
  auto typed = std::dynamic_pointer_cast<T>(it->second);
  if (!typed) throw Error("xnor engine: module '" + name + "' is not of the expected kind");
  return typed;
}

bool is_binary(const QuantConv2dImpl& conv) {
  return conv.weight_bits() == 1 && conv.activation_bits() == 1;
}

std::vector<float> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

std::vector<double> to_double_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

/// A float layer's eval BatchNorm as y = x * alpha + beta, in float.
FloatBatchNorm float_batch_norm(const BatchNorm2dImpl& bn) {
  const FoldedBatchNorm folded = fold_batch_norm(torch::Tensor(), bn);
  return FloatBatchNorm{to_vector(folded.factor), to_vector(folded.offset)};
}

/// A float conv computed in double and its BatchNorm folded (the inference form's).
DoubleConvLayer make_double_layer(const torch::Tensor& weight, const BatchNorm2dImpl& bn) {
  const FoldedBatchNorm folded = fold_batch_norm(torch::Tensor(), bn);
  // [out][in][ky][kx] -> [ky][kx][in][out]
  return DoubleConvLayer{to_double_vector(weight.permute({2, 3, 1, 0})),
                         to_double_vector(folded.factor), to_double_vector(folded.offset)};
}

/// Folds a W1A1 conv's weight scale and the BatchNorm after it into the epilogue, as the
/// inference form does (models/inference_form.h).
BinaryConvLayer make_binary_layer(const std::string& name, const QuantConv2dImpl& conv,
                                  const BatchNorm2dImpl& bn) {
  torch::NoGradGuard no_grad;
  const torch::Tensor w = conv.weight().detach().to(torch::kFloat).contiguous();
  BinaryConvGeometry g;
  g.out_channels = w.size(0);
  g.channels = w.size(1);
  g.kernel = w.size(2);
  g.stride = conv.stride();
  g.pad = conv.padding();
  if (w.size(3) != g.kernel) throw Error("xnor engine: " + name + ": kernel is not square");
  const FoldedBatchNorm folded =
      fold_batch_norm(binary_weight_scale(w, "xnor engine: " + name), bn);
  if (folded.factor.size(0) != g.out_channels) {
    throw Error("xnor engine: " + name + ": BatchNorm width differs from the conv's");
  }
  BinaryConvLayer layer;
  layer.name = name;
  layer.weights = pack_binary_weights(g, w.data_ptr<float>());
  layer.affine.factor = to_vector(folded.factor);
  layer.affine.offset = to_vector(folded.offset);
  layer.threshold =
      threshold_of(layer.affine, static_cast<int32_t>(g.kernel * g.kernel * g.channels));
  return layer;
}

/// (N, C, H, W) in any layout -> a contiguous (N, H, W, C) tensor.
torch::Tensor to_nhwc(const torch::Tensor& x) {
  return x.permute({0, 2, 3, 1}).contiguous();
}

/// A contiguous (N, H, W, C) tensor seen as (N, C, H, W) (channels-last strides).
torch::Tensor as_nchw(const torch::Tensor& x) {
  return x.permute({0, 3, 1, 2});
}

/// avg_pool2d(kernel = stride = pool, no padding, ceil_mode) of a contiguous (N, H, W, C)
/// tensor, as training's Bi-Real downsample computes it: a window cut by the border averages the
/// pixels it holds. Summed in window order, then divided, on one thread: LibTorch's own kernel
/// forks for this small op and leaves an OpenMP worker spinning on the other core.
torch::Tensor avg_pool_nhwc(const torch::Tensor& x, int64_t pool) {
  const int64_t n = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  const int64_t oh = (h + pool - 1) / pool, ow = (w + pool - 1) / pool;
  torch::Tensor out = torch::empty({n, oh, ow, c}, torch::kFloat);
  const float* in = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t oy = 0; oy < oh; ++oy) {
      const int64_t y0 = oy * pool, y1 = std::min(h, y0 + pool);
      for (int64_t ox = 0; ox < ow; ++ox, o += c) {
        const int64_t x0 = ox * pool, x1 = std::min(w, x0 + pool);
        std::fill(o, o + c, 0.f);
        for (int64_t y = y0; y < y1; ++y) {
          for (int64_t xx = x0; xx < x1; ++xx) {
            const float* pixel = in + ((b * h + y) * w + xx) * c;
            for (int64_t k = 0; k < c; ++k) o[k] += pixel[k];
          }
        }
        const float count = static_cast<float>((y1 - y0) * (x1 - x0));
        for (int64_t k = 0; k < c; ++k) o[k] /= count;
      }
    }
  }
  return out;
}

/// The mean over the pixels of a contiguous (N, H, W, C) tensor: (N, C), as the head's
/// adaptive_avg_pool2d to 1x1, on one thread for the same reason.
torch::Tensor mean_pixels_nhwc(const torch::Tensor& x) {
  const int64_t n = x.size(0), pixels = x.size(1) * x.size(2), c = x.size(3);
  torch::Tensor out = torch::zeros({n, c}, torch::kFloat);
  const float* in = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t b = 0; b < n; ++b, o += c) {
    for (int64_t p = 0; p < pixels; ++p) {
      const float* pixel = in + (b * pixels + p) * c;
      for (int64_t k = 0; k < c; ++k) o[k] += pixel[k];
    }
    for (int64_t k = 0; k < c; ++k) o[k] /= static_cast<float>(pixels);
  }
  return out;
}

uint64_t* word_ptr(const torch::Tensor& t) {
  return reinterpret_cast<uint64_t*>(t.data_ptr<int64_t>());
}

}  // namespace

/// One residual block (resnet.cpp's BasicBlock or BiRealBlock at W1A1).
struct XnorNetwork::Block {
  std::string name;
  bool bireal = false;
  BinaryConvLayer conv1;
  BinaryConvLayer conv2;
  bool has_downsample = false;
  BinaryConvLayer binary_downsample;  ///< basic blocks: a W1A1 1x1 conv + BatchNorm
  /// Bi-Real: avg-pool, then a 1x1 conv of the float input with the dequantized (+-scale)
  /// weights, [in][out], and its BatchNorm: in double where the inference form computes it so.
  std::vector<float> float_downsample;
  FloatBatchNorm float_downsample_bn;
  bool downsample_in_double = false;
  DoubleConvLayer double_downsample;
  int64_t pool = 1;
};

/// The real-valued stream between blocks, channels-last, with its packed signs.
struct XnorNetwork::Activation {
  torch::Tensor values;  ///< float (N, H, W, C), contiguous
  torch::Tensor signs;   ///< int64 (N, H, W, words): sign bits of values
};

XnorNetwork::XnorNetwork(std::shared_ptr<QuantNetworkImpl> network, KernelIsa isa)
    : network_(std::move(network)), isa_(isa) {
  if (isa_ == KernelIsa::kAvx2 && !cpu_has_avx2()) {
    throw Error("xnor engine: this CPU has no AVX2; use the portable kernels");
  }
  network_->eval();
  binary_ = network_->weight_bits() == 1 && network_->activation_bits() == 1;
  if (!binary_) {
    // Not an error (eval and bench still give the network's numbers), but not what a user of
    // --engine xnor expects either: say so rather than report float speed as the engine's.
    spdlog::warn("xnor engine: the network is W{}A{}, not W1A1: all of it runs in float",
                 network_->weight_bits(), network_->activation_bits());
    return;
  }
  ModuleMap modules;
  for (const auto& item : network_->named_modules()) modules[item.key()] = item.value();
  stem_conv_ = find_module<QuantConv2dImpl>(modules, "conv1", true);
  stem_bn_ = find_module<BatchNorm2dImpl>(modules, "bn1", true);
  fc_ = find_module<QuantLinearImpl>(modules, "fc", true);
  imagenet_stem_ = stem_conv_->weight().size(2) == 7;
  const bool in_double = float_convs_in_double(*network_);
  if (stem_conv_->weight_bits() >= 32 && stem_conv_->activation_bits() >= 32) {
    torch::NoGradGuard no_grad;
    const torch::Tensor w = stem_conv_->weight().detach().to(torch::kFloat);
    FloatConvGeometry g;
    g.out_channels = w.size(0);
    g.in_channels = w.size(1);
    g.kernel = w.size(2);
    g.stride = stem_conv_->stride();
    g.pad = stem_conv_->padding();
    if (w.size(3) == g.kernel && in_double) {
      direct_stem_ = double_stem_ = true;
      stem_geometry_ = g;
      stem_double_ = make_double_layer(w, *stem_bn_);
    } else if (w.size(3) == g.kernel && float_conv_bn_supported(isa_, g)) {
      direct_stem_ = true;
      stem_geometry_ = g;
      stem_weights_ = to_vector(w.permute({2, 3, 1, 0}));
      stem_affine_ = float_batch_norm(*stem_bn_);
    }
  }
  if (fc_->weight_bits() >= 32 && fc_->activation_bits() >= 32 && fc_->bias().defined()) {
    torch::NoGradGuard no_grad;
    fc_weights_ = to_vector(fc_->weight().detach().to(torch::kFloat).t());
    fc_bias_ = to_vector(fc_->bias());
    fc_ones_.assign(fc_bias_.size(), 1.f);
    direct_fc_ = true;
  }
  const bool bireal = network_->config().block == BlockKind::kBiReal;
  relu_features_ = !bireal && network_->config().first_last_bits != 1;
  for (int stage = 1; modules.count("layer" + std::to_string(stage)); ++stage) {
    for (int b = 0;; ++b) {
      const std::string name = "layer" + std::to_string(stage) + "." + std::to_string(b);
      if (!modules.count(name)) break;
      Block block;
      block.name = name;
      block.bireal = bireal;
      auto conv1 = find_module<QuantConv2dImpl>(modules, name + ".conv1", true);
      auto conv2 = find_module<QuantConv2dImpl>(modules, name + ".conv2", true);
      if (!is_binary(*conv1) || !is_binary(*conv2)) {
        throw Error("xnor engine: " + name + " is not W1A1");
      }
      block.conv1 = make_binary_layer(name + ".conv1", *conv1,
                                      *find_module<BatchNorm2dImpl>(modules, name + ".bn1", true));
      block.conv2 = make_binary_layer(name + ".conv2", *conv2,
                                      *find_module<BatchNorm2dImpl>(modules, name + ".bn2", true));
      auto down = find_module<QuantConv2dImpl>(modules, name + ".downsample.conv", false);
      if (down) {
        block.has_downsample = true;
        auto down_bn = find_module<BatchNorm2dImpl>(modules, name + ".downsample.bn", true);
        if (bireal) {
          // Downsample(pool=true): avg-pool by the block's stride, then a stride-1 1x1 conv.
          block.pool = conv1->stride();
          if (down->stride() != 1 || down->padding() != 0 || down->weight().size(2) != 1) {
            throw Error("xnor engine: " + name + ".downsample is not a 1x1 stride-1 conv");
          }
          torch::NoGradGuard no_grad;
          const torch::Tensor w = down->weight().detach().to(torch::kFloat);
          block.downsample_in_double = in_double;
          if (in_double) {
            block.double_downsample = make_double_layer(w, *down_bn);
          } else {
            block.float_downsample = to_vector(w.reshape({w.size(0), w.size(1)}).t());
            block.float_downsample_bn = float_batch_norm(*down_bn);
          }
        } else {
          if (!is_binary(*down)) throw Error("xnor engine: " + name + ".downsample is not W1A1");
          block.binary_downsample = make_binary_layer(name + ".downsample", *down, *down_bn);
        }
      }
      blocks_.push_back(std::move(block));
    }
  }
  if (blocks_.empty()) throw Error("xnor engine: the network has no residual blocks");
}

XnorNetwork::~XnorNetwork() = default;

int64_t XnorNetwork::binary_layers() const {
  int64_t count = 0;
  for (const auto& block : blocks_) {
    count += 2;
    if (block.has_downsample && !block.bireal) ++count;
  }
  return count;
}

int64_t row_threads() {
  // Counts the pieces a parallel loop over more rows than threads is cut into: one per thread
  // where this file was compiled with OpenMP, the whole range at once where it was not.
  std::atomic<int64_t> pieces{0};
  at::parallel_for(0, int64_t{1} << 16, 1, [&](int64_t, int64_t) { ++pieces; });
  return pieces.load();
}

void XnorNetwork::reset_step_times() {
  times_.clear();
}

torch::Tensor XnorNetwork::packed_signs(const torch::Tensor& values) {
  const int64_t n = values.size(0), h = values.size(1), w = values.size(2), c = values.size(3);
  torch::Tensor signs = torch::empty({n, h, w, words_for(c)}, torch::kLong);
  const float* in = values.data_ptr<float>();
  uint64_t* out = word_ptr(signs);
  const int64_t words = words_for(c);
  const KernelIsa isa = isa_;
  at::parallel_for(0, n * h, grain_for(w * words * 16), [=](int64_t begin, int64_t end) {
    pack_signs(isa, in + begin * w * c, (end - begin) * w, c, out + begin * w * words);
  });
  return signs;
}

void XnorNetwork::run_binary(const BinaryConvLayer& layer, const torch::Tensor& input_signs,
                             const float* residual, torch::Tensor* values, torch::Tensor* signs) {
  BinaryConvGeometry g = layer.weights.geometry;
  const int64_t n = input_signs.size(0);
  g.in_h = input_signs.size(1);
  g.in_w = input_signs.size(2);
  const int64_t oh = g.out_h(), ow = g.out_w(), oc = g.out_channels, ow_words = g.out_words();
  float* out_values = nullptr;
  uint64_t* out_signs = nullptr;
  if (values != nullptr) {
    *values = torch::empty({n, oh, ow, oc}, torch::kFloat);
    out_values = values->data_ptr<float>();
  }
  if (signs != nullptr) {
    *signs = torch::empty({n, oh, ow, ow_words}, torch::kLong);
    out_signs = word_ptr(*signs);
  }
  const uint64_t* in = word_ptr(input_signs);
  const int64_t image_words = g.in_h * g.in_w * g.words();
  const KernelIsa isa = isa_;
  // Small channel counts: several horizontal taps per word (binary_conv.h), built here once
  // for the whole layer rather than by each output row.
  const uint64_t* input = in;
  const int64_t input_words = g.input_words();
  torch::Tensor windows;
  if (g.tap_packed()) {
    windows = torch::empty({n, input_words}, torch::kLong);
    uint64_t* packed = word_ptr(windows);
    at::parallel_for(0, n * g.in_h, grain_for(ow * g.row_words() * g.kernel * 4),
                     [&](int64_t begin, int64_t end) {
                       for (int64_t row = begin; row < end; ++row) {
                         const int64_t image = row / g.in_h, iy = row % g.in_h;
                         pack_tap_windows(g, in + image * image_words, iy, iy + 1,
                                          packed + image * input_words);
                       }
                     });
    input = packed;
  }
  // Work of a row: its kernel steps (each 16 output channels against one word), ~30 operations.
  const int64_t row_steps = ow * (oc + kLanes - 1) / kLanes * g.window_words();
  at::parallel_for(0, n * oh, grain_for(row_steps * 30), [&](int64_t begin, int64_t end) {
    BinaryConvRows rows(isa, layer.weights, g.in_h, g.in_w);
    std::vector<int32_t> dots(static_cast<size_t>(ow * oc));
    for (int64_t row = begin; row < end; ++row) {
      const int64_t image = row / oh, oy = row % oh;
      rows.run(input + image * input_words, oy, dots.data());
      const int64_t pixel = row * ow;
      if (out_values != nullptr) {
        affine_rows(isa, layer.affine, dots.data(), ow,
                    residual != nullptr ? residual + pixel * oc : nullptr, out_values + pixel * oc,
                    out_signs != nullptr ? out_signs + pixel * ow_words : nullptr);
      } else {
        threshold_rows(isa, layer.threshold, dots.data(), ow, out_signs + pixel * ow_words);
      }
    }
  });
}

XnorNetwork::Activation XnorNetwork::run_block(const Block& block, Activation z, Steps* steps) {
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  Activation out;
  if (!block.bireal) {
    // x = z (no ReLU at 1 bit); h = sign(bn1(conv1(sign x))); out = bn2(conv2(h)) + shortcut.
    auto t = Clock::now();
    torch::Tensor h_signs;
    run_binary(block.conv1, z.signs, nullptr, nullptr, &h_signs);
    if (steps != nullptr) steps->push_back({block.conv1.name, "xnor", seconds_since(t)});
    torch::Tensor shortcut = z.values;
    if (block.has_downsample) {
      t = Clock::now();
      run_binary(block.binary_downsample, z.signs, nullptr, &shortcut, nullptr);
      if (steps != nullptr)
        steps->push_back({block.binary_downsample.name, "xnor", seconds_since(t)});
    }
    t = Clock::now();
    run_binary(block.conv2, h_signs, shortcut.data_ptr<float>(), &out.values, &out.signs);
    if (steps != nullptr) steps->push_back({block.conv2.name, "xnor", seconds_since(t)});
    return out;
  }
  // Bi-Real: u = bn1(conv1(sign z)) + shortcut(z); out = bn2(conv2(sign u)) + u.
  torch::Tensor shortcut = z.values;
  if (block.has_downsample) {
    auto t = Clock::now();
    const torch::Tensor pooled = block.pool > 1 ? avg_pool_nhwc(z.values, block.pool) : z.values;
    const int64_t n = pooled.size(0), h = pooled.size(1), w = pooled.size(2), c = pooled.size(3);
    if (block.downsample_in_double) {
      FloatConvGeometry g;
      g.in_channels = c;
      g.out_channels = static_cast<int64_t>(block.double_downsample.factor.size());
      shortcut = double_conv(block.double_downsample, g, pooled.to(torch::kDouble));
    } else {
      const int64_t out_channels = static_cast<int64_t>(block.float_downsample_bn.alpha.size());
      shortcut = torch::empty({n, h, w, out_channels}, torch::kFloat);
      const float* in = pooled.data_ptr<float>();
      float* out = shortcut.data_ptr<float>();
      const KernelIsa isa = isa_;
      at::parallel_for(0, n * h, grain_for(w * c * out_channels), [&](int64_t begin, int64_t end) {
        float_conv1x1_rows(isa, in + begin * w * c, (end - begin) * w, c,
                           block.float_downsample.data(), out_channels,
                           block.float_downsample_bn.alpha.data(),
                           block.float_downsample_bn.beta.data(), out + begin * w * out_channels);
      });
    }
    if (steps != nullptr) steps->push_back({block.name + ".downsample", "float", seconds_since(t)});
  }
  auto t = Clock::now();
  Activation u;
  run_binary(block.conv1, z.signs, shortcut.data_ptr<float>(), &u.values, &u.signs);
  if (steps != nullptr) steps->push_back({block.conv1.name, "xnor", seconds_since(t)});
  t = Clock::now();
  run_binary(block.conv2, u.signs, u.values.data_ptr<float>(), &out.values, &out.signs);
  if (steps != nullptr) steps->push_back({block.conv2.name, "xnor", seconds_since(t)});
  return out;
}

torch::Tensor XnorNetwork::direct_stem(const torch::Tensor& images) {
  FloatConvGeometry g = stem_geometry_;
  const int64_t n = images.size(0);
  g.in_h = images.size(2);
  g.in_w = images.size(3);
  const int64_t p = g.pad;
  torch::Tensor padded = torch::zeros({n, g.in_h + 2 * p, g.in_w + 2 * p, g.in_channels},
                                      double_stem_ ? torch::kDouble : torch::kFloat);
  padded.slice(1, p, p + g.in_h).slice(2, p, p + g.in_w).copy_(images.permute({0, 2, 3, 1}));
  g.in_h += 2 * p;
  g.in_w += 2 * p;
  g.pad = 0;
  if (double_stem_) return double_conv(stem_double_, g, padded);
  const int64_t oh = g.out_h(), ow = g.out_w(), oc = g.out_channels;
  torch::Tensor out = torch::empty({n, oh, ow, oc}, torch::kFloat);
  const float* in = padded.data_ptr<float>();
  float* y = out.data_ptr<float>();
  const int64_t image_floats = padded[0].numel();
  const KernelIsa isa = isa_;
  const int64_t row_macs = ow * oc * g.kernel * g.kernel * g.in_channels;
  at::parallel_for(0, n * oh, grain_for(row_macs), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      float_conv_bn_row(isa, g, in + (row / oh) * image_floats, stem_weights_.data(),
                        stem_affine_.alpha.data(), stem_affine_.beta.data(), row % oh,
                        y + row * ow * oc);
    }
  });
  return out;
}

torch::Tensor XnorNetwork::double_conv(const DoubleConvLayer& layer, FloatConvGeometry g,
                                       const torch::Tensor& nhwc) {
  // `nhwc` is double and already padded: g.pad is 0 here.
  const int64_t n = nhwc.size(0);
  g.in_h = nhwc.size(1);
  g.in_w = nhwc.size(2);
  const int64_t oh = g.out_h(), ow = g.out_w(), oc = g.out_channels;
  torch::Tensor out = torch::empty({n, oh, ow, oc}, torch::kFloat);
  const double* in = nhwc.data_ptr<double>();
  float* y = out.data_ptr<float>();
  const int64_t image_values = g.in_h * g.in_w * g.in_channels;
  const KernelIsa isa = isa_;
  const int64_t row_macs = ow * oc * g.kernel * g.kernel * g.in_channels;
  at::parallel_for(0, n * oh, grain_for(row_macs), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      double_conv_affine_row(isa, g, in + (row / oh) * image_values, layer.weights.data(),
                             layer.factor.data(), layer.offset.data(), row % oh, y + row * ow * oc);
    }
  });
  return out;
}

torch::Tensor XnorNetwork::forward(const torch::Tensor& images) {
  torch::InferenceMode inference;
  if (!binary_) return network_->forward(images);
  using Clock = std::chrono::steady_clock;
  // A batch goes through the convolutions a few images at a time, so that each layer's input
  // and output stay in the caches (resnet18's stem writes 3.2 MB of floats per image, 51 MB for
  // a batch of 16); resnet20's activations (50 KB per image) take a batch of 16 in one piece.
  // The classifier then runs once over the whole batch, reading its weights (2 MB for
  // resnet18) once.
  const int64_t n = images.size(0);
  const int64_t stem_floats = images.size(2) * images.size(3) * stem_conv_->weight().size(0);
  int64_t piece =
      std::max<int64_t>(1, kCachedActivationBytes / (stem_floats * int64_t{sizeof(float)}));
  // With several threads and several images, each thread takes whole pieces: one fork and join
  // per batch, where splitting every layer's rows pays one per layer and leaves threads idle on
  // layers of few rows. A single image still splits its rows. Each image's logits are the same
  // bits either way.
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  if (threads > 1 && n > 1) piece = std::min(piece, (n + threads - 1) / threads);
  const int64_t pieces = std::max<int64_t>(1, (n + piece - 1) / piece);  // an empty batch too
  std::vector<torch::Tensor> pooled_pieces(static_cast<size_t>(pieces));
  std::vector<Steps> piece_steps(static_cast<size_t>(profiling_ ? pieces : 0));
  auto run_pieces = [&](int64_t begin, int64_t end) {
    // Inference mode is per thread: the workers need their own.
    torch::InferenceMode piece_inference;
    for (int64_t i = begin; i < end; ++i) {
      const torch::Tensor x = images.slice(0, i * piece, std::min(n, (i + 1) * piece));
      pooled_pieces[i] = features(x, profiling_ ? &piece_steps[i] : nullptr);
    }
  };
  // One piece, or one thread: at::parallel_for calls run_pieces on this thread.
  at::parallel_for(0, pieces, 1, run_pieces);
  const torch::Tensor pooled = pieces == 1 ? pooled_pieces[0] : torch::cat(pooled_pieces);
  // This forward's step times, summed over its pieces (thread time where they ran in parallel).
  Steps steps;
  for (const Steps& one : piece_steps) {
    if (steps.empty()) {
      steps = one;
    } else {
      for (size_t i = 0; i < steps.size(); ++i) steps[i].seconds += one[i].seconds;
    }
  }
  const auto t = Clock::now();
  torch::Tensor logits;
  if (direct_fc_) {
    const int64_t classes = static_cast<int64_t>(fc_bias_.size());
    logits = torch::empty({pooled.size(0), classes}, torch::kFloat);
    float_conv1x1_rows(isa_, pooled.data_ptr<float>(), pooled.size(0), pooled.size(1),
                       fc_weights_.data(), classes, fc_ones_.data(), fc_bias_.data(),
                       logits.data_ptr<float>());
  } else {
    logits = fc_->forward(pooled);
  }
  if (profiling_) {
    // "head", the last step: the pooling (per piece) and the classifier.
    steps.back().seconds += std::chrono::duration<double>(Clock::now() - t).count();
    // Steps come in plan order, so a later forward adds to the same entries.
    if (times_.size() != steps.size()) {
      times_ = steps;
    } else {
      for (size_t i = 0; i < times_.size(); ++i) times_[i].seconds += steps[i].seconds;
    }
  }
  return logits;
}

torch::Tensor XnorNetwork::features(const torch::Tensor& images, Steps* steps) {
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  auto t = Clock::now();
  torch::Tensor y;
  if (direct_stem_) {
    // Channels-last in, channels-last out: the pool keeps the layout, to_nhwc copies nothing.
    y = as_nchw(direct_stem(images.to(torch::kFloat)));
  } else {
    // The images' own layout: the stem then rounds exactly as the float path's does.
    y = stem_bn_->forward(stem_conv_->forward(images.to(torch::kFloat)));
  }
  if (imagenet_stem_) y = torch::max_pool2d(y, {3, 3}, {2, 2}, {1, 1});
  Activation z;
  z.values = to_nhwc(y);
  z.signs = packed_signs(z.values);
  if (steps != nullptr) steps->push_back({"stem", "float", seconds_since(t)});
  for (const auto& block : blocks_) z = run_block(block, std::move(z), steps);
  t = Clock::now();
  const torch::Tensor features =
      mean_pixels_nhwc(relu_features_ ? torch::relu(z.values) : z.values);
  if (steps != nullptr) steps->push_back({"head", "float", seconds_since(t)});
  return features;
}

}  // namespace ctmq::engine
