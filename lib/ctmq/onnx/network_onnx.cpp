#include "ctmq/onnx/network_onnx.h"

#include <algorithm>
#include <map>

#include "ctmq/core/errors.h"
#include "ctmq/models/batch_norm.h"
#include "ctmq/models/quant_layers.h"
#include "ctmq/models/resnet.h"
#include "ctmq/onnx/onnx_graph.h"
#include "ctmq/quant/bits.h"

namespace ctmq {
namespace {

// The quantizers' lower bounds on PACT's alpha and LSQ's step (activation_methods.cpp), as the
// float the clamp_min of a float tensor compares with.
constexpr float kMinActivationRange = static_cast<float>(1e-6);

std::vector<float> float_values(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

class NetworkGraphWriter {
 public:
  NetworkGraphWriter(QuantNetworkImpl& network, OnnxGraphBuilder& graph)
      : network_(network), g_(graph) {
    for (const auto& item : network.named_modules("", /*include_self=*/false)) {
      modules_[item.key()] = item.value();
    }
  }

  /// Adds the network from `image` on; returns the name of the logits.
  std::string write(const std::string& image);

 private:
  template <typename T>
  std::shared_ptr<T> module(const std::string& name) const {
    auto it = modules_.find(name);
    auto m = it == modules_.end() ? nullptr : std::dynamic_pointer_cast<T>(it->second);
    if (!m)
      throw Error("ONNX export: the network has no layer '" + name + "' of the expected kind");
    return m;
  }
  bool has(const std::string& name) const { return modules_.count(name) > 0; }

  std::string activation(const QuantLayer& layer, const std::string& x, const std::string& name);
  std::string weight(QuantLayer& layer, const std::string& name);
  std::string conv(const std::string& name, const std::string& x);
  std::string batch_norm(const std::string& name, const std::string& x);
  std::string basic_block(const std::string& prefix, const std::string& z);
  std::string bireal_block(const std::string& prefix, const std::string& z);

  QuantNetworkImpl& network_;
  OnnxGraphBuilder& g_;
  std::map<std::string, std::shared_ptr<torch::nn::Module>> modules_;
};

// A quantizer's learned value as ctmq's first eval-mode batch leaves it (activation_methods.cpp):
// PACT keeps alpha from any earlier depth; LSQ rescales its step by Qp_c / Qp_b from depth c. A
// quantizer never calibrated (c = 0) would take its value from that batch: nothing to export.
float learned_scalar(const ActivationQuantizerImpl& q, const std::string& param,
                     const std::string& layer) {
  const torch::Tensor* calibrated = q.named_buffers().find("calibrated_bits");
  const int64_t c = calibrated == nullptr ? 0 : calibrated->item<int64_t>();
  if (c == 0) {
    throw Error("ONNX export: " + layer + ": the activation quantizer was never calibrated (its " +
                param + " would come from the first batch ctmq runs)");
  }
  const torch::Tensor* value = q.named_parameters().find(param);
  if (value == nullptr) throw Error("ONNX export: " + layer + " has no activation " + param);
  float v = value->item<float>();
  if (param == "step" && c != q.bits()) {
    const ActivationGrid from{static_cast<int>(c), q.options().is_signed};
    const ActivationGrid to{q.bits(), q.options().is_signed};
    v *= static_cast<float>(static_cast<double>(from.qmax()) / static_cast<double>(to.qmax()));
  }
  return std::max(v, kMinActivationRange);
}

std::string NetworkGraphWriter::activation(const QuantLayer& layer, const std::string& x,
                                           const std::string& name) {
  const int bits = layer.activation_bits();
  if (is_float_bits(bits)) return x;
  if (bits == 1) {
    // Training's sign(0) is +1, ONNX's Sign(0) is 0: sign(sign(x) + 1/2) maps -1, 0, 1 to
    // -1, 1, 1 and is exact.
    const std::string s = g_.add_node("Sign", {x}, name + "_sign_raw");
    const std::string t = g_.add_node("Add", {s, g_.scalar(0.5f)}, name + "_sign_shift");
    return g_.add_node("Sign", {t}, name + "_sign");
  }
  const ActivationQuantizerImpl& q = *layer.activation_quantizer();
  const ActivationGrid grid{bits, q.options().is_signed};
  if (q.options().method == ActivationMethod::kPact) {
    // cpu::pact_forward's arithmetic, constant for constant: v = (x + shift) / scale as a
    // product with the float inverse, clamped to [0, 2^b - 1], rounded half to even, then
    // code * scale - shift.
    const float alpha = learned_scalar(q, "alpha", name);
    const int64_t levels = unsigned_qmax(bits);
    const float scale = grid.is_signed ? alpha * static_cast<float>(2.0 / levels)
                                       : alpha / static_cast<float>(levels);
    const float inv_scale = 1.0f / scale;
    std::string v = x;
    if (grid.is_signed) v = g_.add_node("Add", {v, g_.scalar(alpha)}, name + "_shift");
    v = g_.add_node("Mul", {v, g_.scalar(inv_scale)}, name + "_scaled");
    v = g_.add_node("Clip", {v, g_.scalar(0.f), g_.scalar(static_cast<float>(levels))},
                    name + "_clip");
    v = g_.add_node("Round", {v}, name + "_code");
    v = g_.add_node("Mul", {v, g_.scalar(scale)}, name + (grid.is_signed ? "_grid" : "_q"));
    if (grid.is_signed) v = g_.add_node("Sub", {v, g_.scalar(alpha)}, name + "_q");
    return v;
  }
  // LSQ: torch's fake-quant op, round(x * (1/s)) clamped to [qmin, qmax], times s.
  const float step = learned_scalar(q, "step", name);
  std::string v = g_.add_node("Mul", {x, g_.scalar(1.0f / step)}, name + "_scaled");
  v = g_.add_node("Round", {v}, name + "_round");
  v = g_.add_node(
      "Clip",
      {v, g_.scalar(static_cast<float>(grid.qmin())), g_.scalar(static_cast<float>(grid.qmax()))},
      name + "_code");
  return g_.add_node("Mul", {v, g_.scalar(step)}, name + "_q");
}

std::string NetworkGraphWriter::weight(QuantLayer& layer, const std::string& name) {
  const int bits = layer.weight_bits();
  const std::vector<int64_t> dims = layer.weight().sizes().vec();
  if (is_float_bits(bits))
    return g_.add_float(name + ".weight", dims, float_values(layer.weight()));
  EncodedWeight e = layer.encode_weight();
  if (bits > 8) return g_.add_float(name + ".weight", dims, float_values(decode_weight(e)));
  torch::Tensor codes = e.codes.to(torch::kChar).contiguous();
  const std::string codes_name = g_.add_int8(
      name + ".weight_codes", dims,
      std::vector<int8_t>(codes.data_ptr<int8_t>(), codes.data_ptr<int8_t>() + codes.numel()));
  const int64_t groups = e.scale.numel();
  const bool per_channel = groups > 1;
  const std::vector<int64_t> group_dims =
      per_channel ? std::vector<int64_t>{groups} : std::vector<int64_t>{};
  const std::string scale = g_.add_float(name + ".weight_scale", group_dims, float_values(e.scale));
  const std::string zero = g_.add_int8(name + ".weight_zero_point", group_dims,
                                       std::vector<int8_t>(static_cast<size_t>(groups), 0));
  std::vector<OnnxAttribute> attributes;
  if (per_channel) attributes.push_back(onnx_attr("axis", int64_t{0}));
  // (code - 0) * scale is decode_weight's code * scale, the same float product.
  std::string w =
      g_.add_node("DequantizeLinear", {codes_name, scale, zero}, name + ".weight", attributes);
  if (e.offset.abs().max().item<float>() != 0.f) {
    // DoReFa's grid has no integer zero point (w = code * 2/L + 1/L): add the offset as
    // decode_weight does.
    std::vector<int64_t> offset_dims;
    if (per_channel) {
      offset_dims.assign(dims.size(), 1);
      offset_dims[0] = groups;
    }
    const std::string offset =
        g_.add_float(name + ".weight_offset", offset_dims, float_values(e.offset));
    w = g_.add_node("Add", {w, offset}, name + ".weight_value");
  }
  return w;
}

std::string NetworkGraphWriter::conv(const std::string& name, const std::string& x) {
  auto c = module<QuantConv2dImpl>(name);
  const std::string input = activation(*c, x, name + ".act");
  const std::string w = weight(*c, name);
  const int64_t k = c->weight().size(2);
  const int64_t s = c->stride();
  const int64_t p = c->padding();
  return g_.add_node("Conv", {input, w}, name,
                     {onnx_attr("kernel_shape", std::vector<int64_t>{k, k}),
                      onnx_attr("strides", std::vector<int64_t>{s, s}),
                      onnx_attr("pads", std::vector<int64_t>{p, p, p, p})});
}

std::string NetworkGraphWriter::batch_norm(const std::string& name, const std::string& x) {
  auto bn = module<BatchNorm2dImpl>(name);
  const int64_t n = bn->num_features();
  return g_.add_node("BatchNormalization",
                     {x, g_.add_float(name + ".weight", {n}, float_values(bn->weight)),
                      g_.add_float(name + ".bias", {n}, float_values(bn->bias)),
                      g_.add_float(name + ".running_mean", {n}, float_values(bn->running_mean)),
                      g_.add_float(name + ".running_var", {n}, float_values(bn->running_var))},
                     name, {onnx_attr_float("epsilon", static_cast<float>(bn->eps()))});
}

// resnet.cpp's BasicBlockImpl::forward: z is the block input before its nonlinearity.
std::string NetworkGraphWriter::basic_block(const std::string& prefix, const std::string& z) {
  const bool binary = network_.activation_bits() == 1;
  auto nonlinearity = [&](const std::string& v, const std::string& name) {
    return binary ? v : g_.add_node("Relu", {v}, name);
  };
  const std::string x = nonlinearity(z, prefix + ".relu_in");
  const std::string h =
      nonlinearity(batch_norm(prefix + ".bn1", conv(prefix + ".conv1", x)), prefix + ".relu1");
  const std::string shortcut =
      has(prefix + ".downsample")
          ? batch_norm(prefix + ".downsample.bn", conv(prefix + ".downsample.conv", x))
          : x;
  return g_.add_node("Add", {batch_norm(prefix + ".bn2", conv(prefix + ".conv2", h)), shortcut},
                     prefix + ".out");
}

// resnet.cpp's BiRealBlockImpl::forward: hardtanh stands in for the quantizer at 32 bits.
std::string NetworkGraphWriter::bireal_block(const std::string& prefix, const std::string& z) {
  const bool full_precision = is_float_bits(network_.activation_bits());
  auto activation_of = [&](const std::string& v, const std::string& name) {
    return full_precision ? g_.add_node("Clip", {v, g_.scalar(-1.f), g_.scalar(1.f)}, name) : v;
  };
  std::string shortcut = z;
  if (has(prefix + ".downsample")) {
    const int64_t stride = module<QuantConv2dImpl>(prefix + ".conv1")->stride();
    std::string pooled = z;
    if (stride > 1) {
      // avg_pool2d(k = s, stride s, no padding, ceil_mode): windows past the edge average the
      // pixels they cover, as AveragePool's count_include_pad = 0 does.
      pooled = g_.add_node(
          "AveragePool", {z}, prefix + ".downsample.pool",
          {onnx_attr("kernel_shape", std::vector<int64_t>{stride, stride}),
           onnx_attr("strides", std::vector<int64_t>{stride, stride}),
           onnx_attr("ceil_mode", int64_t{1}), onnx_attr("count_include_pad", int64_t{0})});
    }
    shortcut = batch_norm(prefix + ".downsample.bn", conv(prefix + ".downsample.conv", pooled));
  }
  const std::string u = g_.add_node(
      "Add",
      {batch_norm(prefix + ".bn1", conv(prefix + ".conv1", activation_of(z, prefix + ".clip1"))),
       shortcut},
      prefix + ".mid");
  return g_.add_node(
      "Add",
      {batch_norm(prefix + ".bn2", conv(prefix + ".conv2", activation_of(u, prefix + ".clip2"))),
       u},
      prefix + ".out");
}

// resnet.cpp's ResNetImpl::forward.
std::string NetworkGraphWriter::write(const std::string& image) {
  const NetworkConfig& config = network_.config();
  const ResNetLayout layout = resnet_layout(config.arch);
  const bool bireal = config.block == BlockKind::kBiReal;
  std::string z = batch_norm("bn1", conv("conv1", image));
  if (layout.imagenet_stem) {
    z = g_.add_node("MaxPool", {z}, "maxpool",
                    {onnx_attr("kernel_shape", std::vector<int64_t>{3, 3}),
                     onnx_attr("strides", std::vector<int64_t>{2, 2}),
                     onnx_attr("pads", std::vector<int64_t>{1, 1, 1, 1})});
  }
  for (size_t s = 0; s < layout.blocks.size(); ++s) {
    for (int64_t b = 0; b < layout.blocks[s]; ++b) {
      const std::string prefix = "layer" + std::to_string(s + 1) + "." + std::to_string(b);
      z = bireal ? bireal_block(prefix, z) : basic_block(prefix, z);
    }
  }
  if (!bireal && config.first_last_bits != 1) z = g_.add_node("Relu", {z}, "relu_features");
  z = g_.add_node("GlobalAveragePool", {z}, "pool");
  z = g_.add_node("Flatten", {z}, "features", {onnx_attr("axis", int64_t{1})});
  auto fc = module<QuantLinearImpl>("fc");
  const std::string input = activation(*fc, z, "fc.act");
  const std::string w = weight(*fc, "fc");
  const std::string bias = g_.add_float("fc.bias", {config.num_classes}, float_values(fc->bias()));
  // Gemm(features, W, bias) with W as (out, in), as torch::linear.
  g_.add_node_to("Gemm", {input, w, bias}, "logits", {onnx_attr("transB", int64_t{1})});
  return "logits";
}

}  // namespace

std::string network_to_onnx(QuantNetworkImpl& network, const OnnxExportOptions& options) {
  torch::NoGradGuard no_grad;
  network.eval();
  const NetworkConfig& config = network.config();
  OnnxGraphBuilder graph("ctmq_" + choice_name(config.arch), kOnnxOpset);
  graph.set_producer("ctmq", CTMQ_VERSION);
  graph.add_input("image", {-1, config.in_channels, -1, -1}, {"batch", "", "height", "width"});
  NetworkGraphWriter writer(network, graph);
  graph.add_output(writer.write("image"), {-1, config.num_classes}, {"batch", ""});
  for (const auto& [key, value] : options.metadata) graph.add_metadata(key, value);
  return graph.serialize_checked();
}

}  // namespace ctmq
