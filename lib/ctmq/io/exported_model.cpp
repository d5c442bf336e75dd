#include "ctmq/io/exported_model.h"
#include "ctmq/io/network_meta.h"

#include <cstring>
#include <map>
#include <set>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/io/bit_packing.h"
#include "ctmq/io/export_format.h"
#include "ctmq/models/inference_form.h"
#include "ctmq/models/quant_layers.h"
#include "ctmq/quant/weight_quantizer.h"

namespace ctmq {
namespace {

// Thrown inside the reader; load() adds the file name.
struct FormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

torch::ScalarType dtype_of(const std::string& name) {
  for (auto type : {torch::kFloat, torch::kLong, torch::kShort, torch::kChar, torch::kByte}) {
    if (export_dtype_name(type) == name) return type;
  }
  throw FormatError("unknown dtype '" + name + "'");
}

class BlobReader {
 public:
  BlobReader(const char* data, size_t size) : data_(data), size_(size) {}

  torch::Tensor read(const nlohmann::json& ref, const std::string& what) const {
    const torch::ScalarType type = dtype_of(ref.at("dtype").get<std::string>());
    const auto shape = ref.at("shape").get<std::vector<int64_t>>();
    const auto offset = ref.at("offset").get<uint64_t>();
    const auto nbytes = ref.at("nbytes").get<uint64_t>();
    int64_t numel = 1;
    for (int64_t d : shape) {
      if (d < 0) throw FormatError(what + ": negative dimension");
      numel *= d;
    }
    if (nbytes != static_cast<uint64_t>(numel) * c10::elementSize(type)) {
      throw FormatError(what + ": size does not match its shape");
    }
    if (offset > size_ || nbytes > size_ - offset) {
      throw FormatError(what + ": data lies past the end of the file (truncated?)");
    }
    torch::Tensor out = torch::empty(shape, torch::TensorOptions().dtype(type));
    if (nbytes > 0) std::memcpy(out.data_ptr(), data_ + offset, nbytes);
    return out;
  }

 private:
  const char* data_;
  size_t size_;
};

torch::Tensor decode_layer(const nlohmann::json& layer, const BlobReader& blobs) {
  const std::string name = layer.at("name").get<std::string>();
  const std::string encoding = layer.at("encoding").get<std::string>();
  const auto shape = layer.at("shape").get<std::vector<int64_t>>();
  torch::Tensor codes = blobs.read(layer.at("codes"), name + " codes");
  if (encoding == "float32") return codes.reshape(shape);
  EncodedWeight e;
  e.bits = layer.at("w_bits").get<int>();
  if (encoding == "bits" || encoding == "packed") {
    if (e.bits < 1 || e.bits > 8 || (encoding == "bits") != (e.bits == 1)) {
      throw FormatError(name + ": " + encoding + " codes at " + std::to_string(e.bits) + " bits");
    }
    try {
      e.codes = unpack_codes(codes, e.bits, shape);
    } catch (const std::invalid_argument& bad) {
      throw FormatError(name + ": " + bad.what());
    }
  } else if (encoding == "int8" || encoding == "int16") {
    e.codes = codes.reshape(shape).to(torch::kLong);
  } else {
    throw FormatError(name + ": unknown encoding '" + encoding + "'");
  }
  e.scale = blobs.read(layer.at("scale"), name + " scale");
  e.offset = blobs.read(layer.at("offset"), name + " offset");
  const int64_t groups = e.scale.numel();
  if (e.offset.numel() != groups || (groups != 1 && groups != shape.at(0))) {
    throw FormatError(name + ": scale groups do not match the weight");
  }
  return decode_weight(e);
}

}  // namespace

ExportedModel ExportedModel::load(const std::string& path, Form form) {
  const std::string bytes = read_file(path);
  ExportedModel model;
  try {
    if (bytes.size() < kExportMagicSize + 8 ||
        bytes.compare(0, kExportMagicSize, kExportMagic) != 0) {
      throw FormatError("not a ctmq exported model (bad magic)");
    }
    uint64_t length = 0;
    for (int i = 0; i < 8; ++i) {
      length |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[kExportMagicSize + i]))
                << (8 * i);
    }
    const size_t start = kExportMagicSize + 8;
    if (length > bytes.size() - start) throw FormatError("header past the end (truncated?)");
    model.header_ = nlohmann::json::parse(bytes.begin() + start, bytes.begin() + start + length);
    const int version = model.header_.at("version").get<int>();
    if (version < kExportMinVersion || version > kExportVersion) {
      throw FormatError("unsupported version " + model.header_.at("version").dump());
    }
    const BlobReader blobs(bytes.data() + start + length, bytes.size() - start - length);
    model.config_ = network_config_from_json(model.header_, path);
    model.network_ = make_network(model.config_);
    const auto& bits = model.header_.at("bits");
    model.network_->set_bits(bits.at("weights").get<int>(), bits.at("activations").get<int>());
    model.network_->set_weights_prequantized(true);

    std::map<std::string, torch::Tensor> state;
    for (const auto& p : model.network_->named_parameters()) state[p.key()] = p.value();
    for (const auto& b : model.network_->named_buffers()) state[b.key()] = b.value();
    std::set<std::string> filled;
    torch::NoGradGuard no_grad;
    auto fill = [&](const std::string& name, const torch::Tensor& value) {
      auto it = state.find(name);
      if (it == state.end()) throw FormatError("unknown tensor '" + name + "'");
      if (it->second.sizes() != value.sizes()) throw FormatError(name + ": wrong shape");
      it->second.copy_(value);
      filled.insert(name);
    };
    for (const auto& layer : model.header_.at("layers")) {
      fill(layer.at("name").get<std::string>() + ".weight", decode_layer(layer, blobs));
    }
    for (const auto& tensor : model.header_.at("tensors")) {
      const std::string name = tensor.at("name").get<std::string>();
      fill(name, blobs.read(tensor, name));
    }
    for (const auto& item : state) {
      if (!filled.count(item.first)) throw FormatError("missing tensor '" + item.first + "'");
    }
    // Quantizers re-check their calibration against the loaded buffers.
    model.network_->set_bits(bits.at("weights").get<int>(), bits.at("activations").get<int>());
    model.network_->eval();
    if (form == Form::kInference) {
      try {
        use_inference_form(*model.network_);
      } catch (const Error& e) {  // weights a W1A1 file cannot hold: name the file below
        throw FormatError(e.what());
      }
    }
  } catch (const FormatError& e) {
    throw IoError(path + ": bad exported model: " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw IoError(path + ": bad exported model header: " + e.what());
  } catch (const SpecError& e) {
    throw IoError(path + ": bad exported model network: " + e.what());
  } catch (const c10::Error& e) {
    throw IoError(path + ": bad exported model: " + e.what_without_backtrace());
  }
  return model;
}

torch::Tensor ExportedModel::forward(torch::Tensor x) {
  torch::NoGradGuard no_grad;
  network_->eval();
  return network_->forward(std::move(x));
}

}  // namespace ctmq
