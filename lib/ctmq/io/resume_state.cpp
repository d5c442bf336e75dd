#include "ctmq/io/resume_state.h"

#include <filesystem>
#include <sstream>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"

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

}  // namespace

void save_resume_state(const std::string& path, const ResumeState& state,
                       const torch::optim::Optimizer& optimizer) {
  c10::Dict<std::string, at::Tensor> model;
  for (const auto& [name, tensor] : state.model) model.insert(name, tensor);
  torch::serialize::OutputArchive archive;
  // Parameter names contain dots, which archives reject as keys: the model travels pickled.
  archive.write("model", bytes_tensor(torch::pickle_save(c10::IValue(model))), true);
  std::string progress = state.progress.dump();
  archive.write("progress", bytes_tensor(std::vector<char>(progress.begin(), progress.end())),
                true);
  archive.write("rng", at::detail::getDefaultCPUGenerator().get_state(), true);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  write_file_atomic(path, [&](std::ostream& out) { archive.save_to(out); });
}

std::optional<ResumeState> load_resume_state(const std::string& path,
                                             torch::optim::Optimizer& optimizer) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::Tensor model_bytes, progress_bytes, rng;
    archive.read("model", model_bytes, true);
    archive.read("progress", progress_bytes, true);
    archive.read("rng", rng, true);
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(rng);
    ResumeState state;
    for (const auto& item : torch::pickle_load(tensor_bytes(model_bytes)).toGenericDict()) {
      state.model[item.key().toStringRef()] = item.value().toTensor();
    }
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
