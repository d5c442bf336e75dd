#include "ctmq/commands/deploy_metadata.h"

#include <algorithm>
#include <array>
#include <optional>

#include "ctmq/data/dataset_info.h"
#include "ctmq/io/network_meta.h"

namespace ctmq {
namespace {

std::string preprocessing_text(DataFormat format, int64_t channels, int64_t resize) {
  const std::string per_channel =
      channels == 1 ? "one channel (grayscale)" : "RGB channels in that order";
  const std::string normalise =
      "float32 NCHW, pixel / 255, then (value - mean[c]) / std[c], " + per_channel;
  if (format == DataFormat::kImageNet) {
    const std::string shorter_side =
        resize > 0 ? "resize the shorter side to " + std::to_string(resize)
                   : "resize the shorter side (ctmq's data.resize, 256 by default)";
    return shorter_side + ", center-crop image_size x image_size, " + normalise;
  }
  return "the image as it is (image_size x image_size), " + normalise;
}

std::vector<float> first_channels(const nlohmann::json& recorded,
                                  const std::array<float, 3>& fallback, size_t channels) {
  if (recorded.is_array() && recorded.size() == channels) return recorded.get<std::vector<float>>();
  return std::vector<float>(fallback.begin(), fallback.begin() + channels);
}

}  // namespace

nlohmann::json deployment_json(const nlohmann::json& meta, const NetworkConfig& config) {
  nlohmann::json out = {{"num_classes", config.num_classes}, {"channels", config.in_channels}};
  if (meta.contains("image_size")) out["image_size"] = meta["image_size"];
  std::optional<DataFormat> format;
  if (meta.contains("dataset") && meta["dataset"].is_string()) {
    format = parse_choice<DataFormat>(meta["dataset"].get<std::string>());
  }
  if (format) out["dataset"] = choice_name(*format);
  int64_t resize = 0;
  if (format == DataFormat::kImageNet && meta.contains("resize") &&
      meta["resize"].is_number_integer()) {
    resize = meta["resize"].get<int64_t>();
    out["resize"] = resize;
  }
  if (format) {
    const data::Normalization norm = data::normalization_of(*format);
    const size_t channels = static_cast<size_t>(std::clamp<int64_t>(config.in_channels, 1, 3));
    const nlohmann::json recorded = meta.value("normalization", nlohmann::json::object());
    out["normalization"] = {
        {"mean", first_channels(recorded.value("mean", nlohmann::json()), norm.mean, channels)},
        {"std", first_channels(recorded.value("std", nlohmann::json()), norm.std, channels)}};
    out["preprocessing"] = preprocessing_text(*format, config.in_channels, resize);
  }
  std::vector<std::string> names;
  if (meta.contains("class_names") && meta["class_names"].is_array()) {
    names = meta["class_names"].get<std::vector<std::string>>();
  } else if (format) {
    names = data::builtin_class_names(*format);
  }
  if (!names.empty() && static_cast<int64_t>(names.size()) == config.num_classes) {
    out["class_names"] = names;
  }
  return out;
}

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
  out.emplace_back("input", "image");
  out.emplace_back("output", "logits");
  const nlohmann::json deployment = deployment_json(meta, config);
  for (const auto& item : deployment.items()) {
    if (item.key() == "normalization") {
      out.emplace_back("normalization.mean", item.value()["mean"].dump());
      out.emplace_back("normalization.std", item.value()["std"].dump());
    } else {
      out.emplace_back(item.key(), item.value().is_string() ? item.value().get<std::string>()
                                                            : item.value().dump());
    }
  }
  return out;
}

}  // namespace ctmq
