#include "ctmq/io/resume_state.h"

#include <filesystem>
#include <sstream>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/io/optimizer_state.h"

namespace ctmq {
namespace {

torch::Tensor bytes_tensor(const std::vector<char>& bytes) {
  return torch::from_blob(const_cast<char*>(bytes.data()), {static_cast<int64_t>(bytes.size())},
                          torch::kUInt8)
      .clone();
}

std::vector<char> tensor_bytes(const torch::Tensor& tensor) {
  auto contiguous = tensor.contiguous();
  const char* data = static_cast<const char*>(contiguous.data_ptr());
  return std::vector<char>(data, data + contiguous.numel());
}

/// A name -> tensor dict written with torch::pickle_save into a byte tensor.
StateDict pickled_state(const torch::Tensor& bytes) {
  StateDict state;
  for (const auto& item : torch::pickle_load(tensor_bytes(bytes)).toGenericDict()) {
    state[item.key().toStringRef()] = item.value().toTensor();
  }
  return state;
}

}  // namespace

void save_resume_state(const std::string& path, const ResumeState& state,
                       torch::optim::Optimizer& optimizer, const torch::nn::Module& network) {
  c10::Dict<std::string, at::Tensor> model;
  for (const auto& [name, tensor] : state.model) model.insert(name, tensor);
  torch::serialize::OutputArchive archive;
  // Parameter names contain dots, which archives reject as keys: the model travels pickled.
  archive.write("model", bytes_tensor(torch::pickle_save(c10::IValue(model))), true);
  std::string progress = state.progress.dump();
  archive.write("progress", bytes_tensor(std::vector<char>(progress.begin(), progress.end())),
                true);
  archive.write("rng", at::detail::getDefaultCPUGenerator().get_state(), true);
  c10::Dict<std::string, at::Tensor> optimizer_state;
  for (const auto& [name, tensor] : optimizer_state_by_name(optimizer, network)) {
    // On the CPU like the model, so the file loads on any machine (restore moves it back).
    optimizer_state.insert(name, tensor.detach().to(torch::kCPU).contiguous());
  }
  archive.write("optimizer_state", bytes_tensor(torch::pickle_save(c10::IValue(optimizer_state))),
                true);
  write_file_atomic(path, [&](std::ostream& out) { archive.save_to(out); });
}

std::optional<nlohmann::json> read_resume_progress(const std::string& path) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::Tensor progress_bytes;
    archive.read("progress", progress_bytes, true);
    auto progress = tensor_bytes(progress_bytes);
    return nlohmann::json::parse(std::string(progress.begin(), progress.end()));
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw IoError(path + ": corrupt resume state (delete it to restart the stage): " +
                  what.substr(0, what.find('\n')));
  }
}

std::optional<ResumeState> load_resume_state(const std::string& path,
                                             torch::optim::Optimizer& optimizer,
                                             const torch::nn::Module& network) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::Tensor model_bytes, progress_bytes, rng;
    archive.read("model", model_bytes, true);
    archive.read("progress", progress_bytes, true);
    archive.read("rng", rng, true);
    torch::Tensor optimizer_bytes;
    if (archive.try_read("optimizer_state", optimizer_bytes, true)) {
      restore_optimizer_state(optimizer, network, pickled_state(optimizer_bytes), path);
    } else {  // written before the optimizer state was saved by name
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      restore_optimizer_state(
          optimizer, network,
          optimizer_state_from_libtorch_archive(optimizer_archive, optimizer, network), path);
    }
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(rng);
    ResumeState state;
    state.model = pickled_state(model_bytes);
    auto progress = tensor_bytes(progress_bytes);
    state.progress = nlohmann::json::parse(std::string(progress.begin(), progress.end()));
    return state;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw IoError(path + ": corrupt resume state (delete it to restart the stage): " +
                  what.substr(0, what.find('\n')));
  }
}

}  // namespace ctmq
