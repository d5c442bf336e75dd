#include "ctmq/commands/bench_infer.h"

#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <numeric>

#include <spdlog/spdlog.h>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/engine/xnor_network.h"
#include "ctmq/io/export.h"
#include "ctmq/io/exported_model.h"
#include "ctmq/models/batch_norm.h"
#include "ctmq/platform/provenance.h"
#ifdef CTMQ_WITH_ONNX
#include "ctmq/onnx/network_onnx.h"
#endif

namespace ctmq {
namespace {

using Clock = std::chrono::steady_clock;

/// One way of running the exported model. A new peer (onnxruntime, say) is one more subclass
/// and one more line in make_peer(); an external script's figures can join the same JSON shape.
class InferencePeer {
 public:
  virtual ~InferencePeer() = default;
  virtual torch::Tensor run(const torch::Tensor& images) = 0;
  /// What the peer is, for the JSON (e.g. which kernels it runs).
  virtual nlohmann::json describe() const { return nlohmann::json::object(); }
  /// Per-layer times of the batches run since profiling started; empty where unknown.
  virtual void start_profiling() {}
  virtual std::vector<engine::StepTime> layer_times() const { return {}; }
};

/// The form the peers load: the LibTorch peer runs every layer as training computes it (conv,
/// then BatchNorm, all in float), not the inference form of `ctmq eval`'s float path, whose
/// double stem is slower; the engine builds the same plan from either.
constexpr ExportedModel::Form kPeerForm = ExportedModel::Form::kAsTrained;

/// LibTorch float, as a fast float deployer runs it: eval mode, inference mode (no autograd
/// bookkeeping), weights dequantized once at load (the exported model's), and the faster of the
/// two input layouts, NCHW or channels-last, picked by timing both (LibTorch 1.13 sends
/// channels-last convolutions to oneDNN more often; which wins depends on the shapes).
/// BatchNorm is not folded into the convolutions: see docs/performance.md.
class FloatPeer : public InferencePeer {
 public:
  explicit FloatPeer(std::shared_ptr<ExportedModel> model) : model_(std::move(model)) {}
  torch::Tensor run(const torch::Tensor& images) override {
    torch::InferenceMode inference;
    if (!layout_chosen_) choose_layout(images);
    return model_->network()->forward(images.contiguous(layout_));
  }
  nlohmann::json describe() const override {
    return {
        {"runtime", std::string("libtorch ") + TORCH_VERSION},
        {"input_layout", layout_ == torch::MemoryFormat::ChannelsLast ? "channels_last" : "nchw"}};
  }

 private:
  void choose_layout(const torch::Tensor& images) {
    double best = 0.0;
    for (auto layout : {torch::MemoryFormat::Contiguous, torch::MemoryFormat::ChannelsLast}) {
      const torch::Tensor x = images.contiguous(layout);
      model_->network()->forward(x);
      const auto start = Clock::now();
      for (int i = 0; i < 3; ++i) model_->network()->forward(x);
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      if (best == 0.0 || seconds < best) {
        best = seconds;
        layout_ = layout;
      }
    }
    layout_chosen_ = true;
  }

  std::shared_ptr<ExportedModel> model_;
  torch::MemoryFormat layout_ = torch::MemoryFormat::Contiguous;
  bool layout_chosen_ = false;
};

class XnorPeer : public InferencePeer {
 public:
  explicit XnorPeer(std::shared_ptr<ExportedModel> model)
      : model_(std::move(model)), engine_(model_->network()) {}
  torch::Tensor run(const torch::Tensor& images) override { return engine_.forward(images); }
  nlohmann::json describe() const override {
    return {{"kernel_isa", engine::kernel_isa_name(engine_.isa())},
            {"xnor_layers", engine_.binary_layers()},
            {"row_threads", engine::row_threads()}};
  }
  void start_profiling() override {
    engine_.reset_step_times();
    engine_.set_profiling(true);
  }
  std::vector<engine::StepTime> layer_times() const override { return engine_.step_times(); }

 private:
  std::shared_ptr<ExportedModel> model_;
  engine::XnorNetwork engine_;
};

std::unique_ptr<InferencePeer> make_peer(const std::string& name,
                                         std::shared_ptr<ExportedModel> model) {
  if (name == "float") return std::make_unique<FloatPeer>(std::move(model));
  if (name == "xnor") return std::make_unique<XnorPeer>(std::move(model));
  throw SpecError("bench infer: unknown engine '" + name + "' (float or xnor)");
}

int64_t default_image_size(const ExportedModel& model) {
  const Arch arch = model.config().arch;
  if (arch == Arch::kResNet18 || arch == Arch::kResNet34) return 224;
  return model.config().in_channels == 1 ? 28 : 32;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0.0 : values[values.size() / 2];
}

nlohmann::json time_peer(InferencePeer& peer, const torch::Tensor& images, double seconds) {
  for (int i = 0; i < 3; ++i) peer.run(images);  // warm-up: allocator, oneDNN primitives
  std::vector<double> batches;
  const auto start = Clock::now();
  double elapsed = 0.0;
  while (elapsed < seconds || batches.size() < 5) {
    const auto t = Clock::now();
    peer.run(images);
    batches.push_back(std::chrono::duration<double>(Clock::now() - t).count());
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  const double total = std::accumulate(batches.begin(), batches.end(), 0.0);
  nlohmann::json result = peer.describe();
  result["batches"] = batches.size();
  result["seconds"] = total;
  result["images_per_second"] = static_cast<double>(images.size(0) * batches.size()) / total;
  result["ms_per_batch_median"] = 1e3 * median(batches);
  result["ms_per_batch_min"] = 1e3 * *std::min_element(batches.begin(), batches.end());
  // Per-layer times come from separate, profiled batches, so the clock reads do not touch the
  // figures above.
  peer.start_profiling();
  const int64_t profiled = std::max<int64_t>(3, static_cast<int64_t>(batches.size() / 4));
  for (int64_t i = 0; i < profiled; ++i) peer.run(images);
  const auto layers = peer.layer_times();
  if (!layers.empty()) {
    double sum = 0.0;
    for (const auto& layer : layers) sum += layer.seconds;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& layer : layers) {
      rows.push_back({{"name", layer.name},
                      {"kind", layer.kind},
                      {"ms_per_batch", 1e3 * layer.seconds / static_cast<double>(profiled)},
                      {"share", layer.seconds / sum}});
    }
    result["layers"] = rows;
  }
  return result;
}

/// A W1A1 network with random weights and BatchNorm statistics like a trained network's (with
/// the initial ones, mean 0 and bias 0, every binary conv's output would sit on sign()'s edge).
std::shared_ptr<ExportedModel> random_model(const InferBenchOptions& options) {
  NetworkConfig config;
  const auto arch = parse_choice<Arch>(options.random_arch);
  const auto block = parse_choice<BlockKind>(options.random_block);
  if (!arch) throw SpecError("bench infer: unknown arch '" + options.random_arch + "'");
  if (!block) throw SpecError("bench infer: unknown block '" + options.random_block + "'");
  config.arch = *arch;
  config.block = *block;
  config.num_classes = options.random_classes;
  config.in_channels = options.random_in_channels;
  torch::manual_seed(2);
  auto network = make_network(config);
  network->set_bits(1, 1);
  {
    torch::NoGradGuard no_grad;
    for (const auto& module : network->modules()) {
      auto bn = std::dynamic_pointer_cast<BatchNorm2dImpl>(module);
      if (!bn) continue;
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.normal_(0, 0.5);
      bn->running_mean.normal_(0, 10);
      bn->running_var.uniform_(50, 400);
    }
  }
  network->eval();
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("ctmq-bench-infer-" + std::to_string(::getpid()) + ".ctmqx"))
                               .string();
  export_network(*network, config, path);
  auto model = std::make_shared<ExportedModel>(ExportedModel::load(path, kPeerForm));
  if (!options.save_random.empty()) {
    const std::string& prefix = options.save_random;
    std::filesystem::copy_file(path, prefix + ".ctmqx",
                               std::filesystem::copy_options::overwrite_existing);
#ifdef CTMQ_WITH_ONNX
    write_file_atomic(prefix + ".onnx", network_to_onnx(*network, OnnxExportOptions{}));
#else
    spdlog::warn("--save-random: this ctmq was built without ONNX, so only {}.ctmqx is written",
                 prefix);
#endif
  }
  std::filesystem::remove(path);
  return model;
}

}  // namespace

std::vector<std::string> infer_bench_engines() {
  return {"float", "xnor"};
}

nlohmann::json bench_infer(const InferBenchOptions& options) {
  if (options.engines.empty()) throw SpecError("bench infer: no engine to run");
  torch::set_num_threads(static_cast<int>(options.threads));
  if (options.exported.empty() == options.random_arch.empty()) {
    throw SpecError("bench infer: give --exported FILE or --random ARCH");
  }
  if (!options.save_random.empty() && options.random_arch.empty()) {
    throw SpecError("bench infer: --save-random needs --random ARCH");
  }
  auto model =
      options.exported.empty()
          ? random_model(options)
          : std::make_shared<ExportedModel>(ExportedModel::load(options.exported, kPeerForm));
  const int64_t size = options.image_size > 0 ? options.image_size : default_image_size(*model);
  torch::manual_seed(1);
  const torch::Tensor images =
      torch::randn({options.batch, model->config().in_channels, size, size})
          .contiguous(torch::MemoryFormat::ChannelsLast);
  nlohmann::json peers = nlohmann::json::array();
  double first_rate = 0.0;
  for (const auto& name : options.engines) {
    auto peer = make_peer(name, model);
    nlohmann::json result = time_peer(*peer, images, options.seconds);
    result["engine"] = name;
    const double rate = result["images_per_second"].get<double>();
    if (first_rate == 0.0) first_rate = rate;
    result["speedup_over_" + options.engines.front()] = rate / first_rate;
    peers.push_back(result);
  }
  const nlohmann::json& network = model->description().at("network");
  nlohmann::json result = {{"benchmark", "infer"},
                           {"exported", options.exported.empty() ? "random" : options.exported},
                           {"network", network},
                           {"w_bits", model->weight_bits()},
                           {"a_bits", model->activation_bits()},
                           {"batch", options.batch},
                           {"threads", torch::get_num_threads()},
                           {"image_size", size},
                           {"engine_isa", engine::kernel_isa_name(engine::best_kernel_isa())},
                           {"engines", peers}};
  add_provenance(result, "cpu");
  return result;
}

}  // namespace ctmq
