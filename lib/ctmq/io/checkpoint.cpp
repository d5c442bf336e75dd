#include "ctmq/io/checkpoint.h"

#include <set>
#include <sstream>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/io/plain_pickle.h"

namespace ctmq {
namespace {

constexpr const char* kFormat = "ctmq-checkpoint";
// Version 1 throughout: the layout is unchanged. Files written before the switch to
// pickle_save_plain carry TorchScript type tags around dicts; pickle_load reads both.
constexpr int64_t kVersion = 1;

}  // namespace

StateDict module_state(const torch::nn::Module& module) {
  StateDict state;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    // Contiguous whatever the training memory format, so that files are plain NCHW tensors.
    state[item.key()] =
        item.value().detach().to(torch::kCPU).clone(torch::MemoryFormat::Contiguous);
  }
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    state[item.key()] =
        item.value().detach().to(torch::kCPU).clone(torch::MemoryFormat::Contiguous);
  }
  return state;
}

void load_module_state(torch::nn::Module& module, const StateDict& state,
                       const std::string& source) {
  std::vector<std::string> problems;
  std::map<std::string, torch::Tensor> targets;
  for (const auto& item : module.named_parameters(true)) targets[item.key()] = item.value();
  for (const auto& item : module.named_buffers(true)) targets[item.key()] = item.value();
  for (const auto& [name, target] : targets) {
    auto found = state.find(name);
    if (found == state.end()) {
      problems.push_back("missing " + name);
    } else if (found->second.sizes() != target.sizes()) {
      std::ostringstream shapes;
      shapes << name << " has shape " << found->second.sizes() << ", the model expects "
             << target.sizes();
      problems.push_back(shapes.str());
    }
  }
  for (const auto& [name, tensor] : state) {
    if (!targets.count(name)) problems.push_back("unexpected " + name);
  }
  if (!problems.empty()) {
    std::string message = source + ": checkpoint does not fit the model: ";
    for (size_t i = 0; i < problems.size() && i < 8; ++i) message += (i ? "; " : "") + problems[i];
    if (problems.size() > 8) message += "; and " + std::to_string(problems.size() - 8) + " more";
    throw IoError(message);
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    target.copy_(state.at(name).to(target.device(), target.scalar_type()));
  }
}

namespace {

// "layer1.0.conv1.act_q.alpha" -> "layer1.0.conv1.act_q."; "" for an entry of no quantizer.
std::string quantizer_prefix(const std::string& name) {
  for (const std::string tag : {"weight_q.", "act_q."}) {
    for (size_t at = name.find(tag); at != std::string::npos; at = name.find(tag, at + 1)) {
      if (at == 0 || name[at - 1] == '.') return name.substr(0, at + tag.size());
    }
  }
  return "";
}

// Each quantizer's entries as "name shape" lines, by quantizer prefix.
std::map<std::string, std::set<std::string>> quantizer_signatures(const StateDict& state) {
  std::map<std::string, std::set<std::string>> signatures;
  for (const auto& [name, tensor] : state) {
    const std::string prefix = quantizer_prefix(name);
    if (prefix.empty()) continue;
    std::ostringstream line;
    line << name << " " << tensor.sizes();
    signatures[prefix].insert(line.str());
  }
  return signatures;
}

}  // namespace

StateDict with_fresh_mismatched_quantizers(const StateDict& state, const StateDict& fresh,
                                           std::vector<std::string>* reset) {
  const auto have = quantizer_signatures(state);
  const auto want = quantizer_signatures(fresh);
  std::set<std::string> mismatched;
  for (const auto& [prefix, lines] : want) {
    const auto found = have.find(prefix);
    if (found == have.end() || found->second != lines) mismatched.insert(prefix);
  }
  for (const auto& [prefix, lines] : have) {
    if (!want.count(prefix)) mismatched.insert(prefix);
  }
  StateDict adapted;
  for (const auto& [name, tensor] : state) {
    if (!mismatched.count(quantizer_prefix(name))) adapted[name] = tensor;
  }
  for (const auto& [name, tensor] : fresh) {
    const std::string prefix = quantizer_prefix(name);
    if (!prefix.empty() && mismatched.count(prefix)) adapted[name] = tensor;
  }
  if (reset) reset->assign(mismatched.begin(), mismatched.end());
  return adapted;
}

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  c10::Dict<std::string, at::Tensor> tensors;
  for (const auto& [name, tensor] : checkpoint.state) {
    tensors.insert(name, tensor.detach().to(torch::kCPU).contiguous());
  }
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert(std::string("format"), std::string(kFormat));
  root.insert(std::string("version"), kVersion);
  root.insert(std::string("meta"), checkpoint.meta.dump());
  root.insert(std::string("state"), tensors);
  std::vector<char> bytes = pickle_save_plain(c10::IValue(root));
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

Checkpoint load_checkpoint(const std::string& path) {
  std::string bytes = read_file(path);
  c10::IValue value;
  try {
    value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw IoError(path + ": not a readable checkpoint (truncated or corrupt): " +
                  what.substr(0, what.find('\n')));
  }
  if (!value.isGenericDict()) throw IoError(path + ": not a ctmq checkpoint (no dict inside)");
  auto root = value.toGenericDict();
  auto field = [&](const std::string& key) -> c10::IValue {
    auto it = root.find(key);
    if (it == root.end()) throw IoError(path + ": not a ctmq checkpoint (no \"" + key + "\")");
    return it->value();
  };
  if (!field("format").isString() || field("format").toStringRef() != kFormat) {
    throw IoError(path + ": not a ctmq checkpoint (format is not \"" + kFormat + "\")");
  }
  if (field("version").toInt() > kVersion) {
    throw IoError(path + ": checkpoint version " + std::to_string(field("version").toInt()) +
                  " is newer than this ctmq understands");
  }
  Checkpoint checkpoint;
  try {
    checkpoint.meta = nlohmann::json::parse(field("meta").toStringRef());
  } catch (const std::exception& e) {
    throw IoError(path + ": checkpoint metadata is not valid JSON");
  }
  for (const auto& item : field("state").toGenericDict()) {
    checkpoint.state[item.key().toStringRef()] = item.value().toTensor();
  }
  return checkpoint;
}

}  // namespace ctmq
