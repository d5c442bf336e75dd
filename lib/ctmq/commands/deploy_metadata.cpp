#include "ctmq/commands/deploy_metadata.h"

#include <optional>

#include "ctmq/data/sample_source.h"
#include "ctmq/data/tensor_source.h"
#include "ctmq/io/network_meta.h"

namespace ctmq {
namespace {

const std::vector<std::string> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
const std::vector<std::string> kCifar10Classes = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

data::Normalization normalization_of(DataFormat format) {
  switch (format) {
    case DataFormat::kImageNet:
      return data::kImageNetNormalization;
    case DataFormat::kFashionMnist:
      return data::kFashionMnistNormalization;
    case DataFormat::kCifar10:
      return data::kCifar10Normalization;
    case DataFormat::kCifar100:
      return data::kCifar100Normalization;
  }
  return {};
}

std::string preprocessing_text(DataFormat format, int64_t channels) {
  const std::string per_channel =
      channels == 1 ? "one channel (grayscale)" : "RGB channels in that order";
  const std::string normalise =
      "float32 NCHW, pixel / 255, then (value - mean[c]) / std[c], " + per_channel;
  if (format == DataFormat::kImageNet) {
    return "resize the shorter side (ctmq's data.resize, 256 by default), center-crop "
           "image_size x image_size, " +
           normalise;
  }
  return "the image as it is (image_size x image_size), " + normalise;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> deploy_metadata(const nlohmann::json& meta,
                                                                 const NetworkConfig& config) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("ctmq.network", network_config_to_json(config).dump());
  for (const char* key : {"stage", "phase", "experiment", "ctmq_version"}) {
    if (meta.contains(key) && meta[key].is_string()) {
      out.emplace_back(std::string("ctmq.") + key, meta[key].get<std::string>());
    }
  }
  for (const char* key : {"w_bits", "a_bits", "cycle"}) {
    if (meta.contains(key)) out.emplace_back(std::string("ctmq.") + key, meta[key].dump());
  }
  out.emplace_back("num_classes", std::to_string(config.num_classes));
  out.emplace_back("input", "image");
  out.emplace_back("output", "logits");
  std::optional<DataFormat> format;
  if (meta.contains("dataset") && meta["dataset"].is_string()) {
    format = parse_choice<DataFormat>(meta["dataset"].get<std::string>());
  }
  if (meta.contains("image_size")) out.emplace_back("image_size", meta["image_size"].dump());
  if (!format) return out;
  out.emplace_back("dataset", choice_name(*format));
  const data::Normalization norm = normalization_of(*format);
  const size_t channels = static_cast<size_t>(config.in_channels);
  const std::vector<float> mean(norm.mean.begin(),
                                norm.mean.begin() + std::min<size_t>(channels, 3));
  const std::vector<float> std(norm.std.begin(), norm.std.begin() + std::min<size_t>(channels, 3));
  out.emplace_back("normalization.mean", nlohmann::json(mean).dump());
  out.emplace_back("normalization.std", nlohmann::json(std).dump());
  out.emplace_back("preprocessing", preprocessing_text(*format, config.in_channels));
  const std::vector<std::string>* names = nullptr;
  if (*format == DataFormat::kFashionMnist) names = &kFashionMnistClasses;
  if (*format == DataFormat::kCifar10) names = &kCifar10Classes;
  if (names != nullptr && static_cast<int64_t>(names->size()) == config.num_classes) {
    out.emplace_back("class_names", nlohmann::json(*names).dump());
  }
  return out;
}

}  // namespace ctmq
