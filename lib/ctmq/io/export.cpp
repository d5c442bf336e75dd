#include "ctmq/io/export.h"
#include "ctmq/io/network_meta.h"

#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/io/bit_packing.h"
#include "ctmq/io/export_format.h"
#include "ctmq/models/quant_layers.h"

namespace ctmq {
namespace {

class BlobWriter {
 public:
  nlohmann::json add(const torch::Tensor& tensor) {
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    const std::string dtype = export_dtype_name(t.scalar_type());
    if (dtype.empty()) throw Error("export: unsupported tensor dtype");
    const size_t nbytes = t.numel() * t.element_size();
    while (blobs_.size() % 8 != 0) blobs_.push_back('\0');
    const size_t offset = blobs_.size();
    blobs_.append(static_cast<const char*>(t.data_ptr()), nbytes);
    return {{"dtype", dtype}, {"shape", t.sizes().vec()}, {"offset", offset}, {"nbytes", nbytes}};
  }
  const std::string& bytes() const { return blobs_; }

 private:
  std::string blobs_;
};

std::string serialize(const QuantNetworkImpl& network, const NetworkConfig& config,
                      const nlohmann::json& deployment) {
  torch::NoGradGuard no_grad;
  BlobWriter blobs;
  nlohmann::json layers = nlohmann::json::array();
  std::set<std::string> encoded;
  for (const auto& item : network.named_modules("", /*include_self=*/false)) {
    auto layer = std::dynamic_pointer_cast<QuantLayer>(item.value());
    if (!layer) continue;
    const std::string& name = item.key();
    const auto& act = layer->activation_quantizer();
    const int a_bits = layer->activation_bits();
    nlohmann::json entry = {{"name", name},
                            {"kind", layer->kind()},
                            {"w_bits", layer->weight_bits()},
                            {"a_bits", a_bits},
                            {"shape", layer->weight().sizes().vec()},
                            {"activation",
                             {{"quantizer", a_bits == 32  ? "none"
                                            : a_bits == 1 ? "sign"
                                                          : choice_name(act->options().method)},
                              {"signed", act->options().is_signed}}}};
    if (layer->weight_bits() == 32) {
      entry["encoding"] = "float32";
      entry["codes"] = blobs.add(layer->weight().to(torch::kFloat));
    } else {
      EncodedWeight e = layer->encode_weight();
      if (e.bits <= 8) {
        entry["encoding"] = e.bits == 1 ? "bits" : "packed";
        entry["codes"] = blobs.add(pack_codes(e.codes, e.bits));
      } else {
        entry["encoding"] = "int16";
        entry["codes"] = blobs.add(e.codes.to(torch::kShort));
      }
      entry["scale"] = blobs.add(e.scale.to(torch::kFloat));
      entry["offset"] = blobs.add(e.offset.to(torch::kFloat));
    }
    encoded.insert(name + ".weight");
    layers.push_back(entry);
  }
  nlohmann::json tensors = nlohmann::json::array();
  auto add_tensor = [&](const std::string& name, const torch::Tensor& t) {
    if (encoded.count(name)) return;
    torch::Tensor value = t.is_floating_point() ? t.to(torch::kFloat) : t.to(torch::kLong);
    nlohmann::json ref = blobs.add(value);
    ref["name"] = name;
    tensors.push_back(ref);
  };
  for (const auto& p : network.named_parameters()) add_tensor(p.key(), p.value());
  for (const auto& b : network.named_buffers()) add_tensor(b.key(), b.value());

  nlohmann::json header = {
      {"format", "ctmq-export"},
      {"version", kExportVersion},
      {"network", network_config_to_json(config)},
      {"bits", {{"weights", network.weight_bits()}, {"activations", network.activation_bits()}}},
      {"layers", layers},
      {"tensors", tensors}};
  if (!deployment.is_null()) header["deployment"] = deployment;
  std::string text = header.dump();
  while ((kExportMagicSize + 8 + text.size()) % 8 != 0) text.push_back(' ');
  std::string out(kExportMagic, kExportMagicSize);
  uint64_t length = text.size();
  char length_bytes[8];
  for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  out.append(length_bytes, 8);
  out += text;
  out += blobs.bytes();
  return out;
}

}  // namespace

void export_network(const QuantNetworkImpl& network, const NetworkConfig& config,
                    const std::string& out_path, const nlohmann::json& deployment) {
  std::string bytes;
  try {
    bytes = serialize(network, config, deployment);
  } catch (const Error& e) {
    throw IoError(out_path + ": cannot export: " + e.what());
  } catch (const c10::Error& e) {
    throw IoError(out_path + ": cannot export: " + e.what_without_backtrace());
  }
  write_file_atomic(out_path, bytes);
}

ExportSizes export_sizes(const QuantNetworkImpl& network, const NetworkConfig& config,
                         const nlohmann::json& deployment) {
  ExportSizes sizes;
  sizes.exported_bytes = static_cast<int64_t>(serialize(network, config, deployment).size());
  for (const auto& p : network.parameters()) sizes.float_bytes += p.numel() * 4;
  for (const auto& b : network.buffers()) sizes.float_bytes += b.numel() * b.element_size();
  return sizes;
}

}  // namespace ctmq
