#include "ctmq/io/optimizer_state.h"

#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <type_traits>
#include <unordered_map>

#include "ctmq/core/errors.h"

namespace ctmq {
namespace {

constexpr const char* kTensorFields[] = {"momentum_buffer", "exp_avg", "exp_avg_sq",
                                         "max_exp_avg_sq"};

/// The key of `param` in Optimizer::state(): its TensorImpl address, as a string in LibTorch
/// 1.x (the form operator<< gives a pointer) and as the pointer itself in 2.x.
template <typename StateMap>
typename StateMap::key_type state_key(const torch::Tensor& param) {
  if constexpr (std::is_same_v<typename StateMap::key_type, std::string>) {
    std::ostringstream text;
    text << static_cast<const void*>(param.unsafeGetTensorImpl());
    return text.str();
  } else {
    return param.unsafeGetTensorImpl();
  }
}

std::unordered_map<const void*, std::string> parameter_names(const torch::nn::Module& network) {
  std::unordered_map<const void*, std::string> names;
  for (const auto& item : network.named_parameters(true)) {
    names[item.value().unsafeGetTensorImpl()] = item.key();
  }
  return names;
}

const std::string& name_of(const std::unordered_map<const void*, std::string>& names,
                           const torch::Tensor& param) {
  auto found = names.find(param.unsafeGetTensorImpl());
  if (found == names.end()) throw Error("optimizer state: a parameter is not in the network");
  return found->second;
}

void add_fields(StateDict& out, const std::string& name,
                const torch::optim::OptimizerParamState& state) {
  auto add = [&](const char* field, const torch::Tensor& tensor) {
    if (tensor.defined()) out[name + "/" + field] = tensor;
  };
  if (const auto* sgd = dynamic_cast<const torch::optim::SGDParamState*>(&state)) {
    add("momentum_buffer", sgd->momentum_buffer());
  } else if (const auto* adam = dynamic_cast<const torch::optim::AdamParamState*>(&state)) {
    out[name + "/step"] = torch::tensor(adam->step(), torch::kLong);
    add("exp_avg", adam->exp_avg());
    add("exp_avg_sq", adam->exp_avg_sq());
    add("max_exp_avg_sq", adam->max_exp_avg_sq());
  } else if (const auto* adamw = dynamic_cast<const torch::optim::AdamWParamState*>(&state)) {
    out[name + "/step"] = torch::tensor(adamw->step(), torch::kLong);
    add("exp_avg", adamw->exp_avg());
    add("exp_avg_sq", adamw->exp_avg_sq());
    add("max_exp_avg_sq", adamw->max_exp_avg_sq());
  } else {
    throw Error("optimizer state: only SGD, Adam and AdamW states can be saved");
  }
}

/// The saved fields of one parameter, each moved to the parameter's device and dtype.
struct ParamFields {
  std::map<std::string, torch::Tensor> tensors;
  std::optional<int64_t> step;  ///< Adam and AdamW
};

template <typename ParamState>
std::unique_ptr<torch::optim::OptimizerParamState> adam_state(const ParamFields& fields) {
  auto state = std::make_unique<ParamState>();
  state->step(fields.step.value_or(0));
  if (fields.tensors.count("exp_avg")) state->exp_avg(fields.tensors.at("exp_avg"));
  if (fields.tensors.count("exp_avg_sq")) state->exp_avg_sq(fields.tensors.at("exp_avg_sq"));
  if (fields.tensors.count("max_exp_avg_sq")) {
    state->max_exp_avg_sq(fields.tensors.at("max_exp_avg_sq"));
  }
  return state;
}

std::unique_ptr<torch::optim::OptimizerParamState> make_param_state(
    torch::optim::Optimizer& optimizer, const ParamFields& fields) {
  if (dynamic_cast<torch::optim::SGD*>(&optimizer)) {
    auto state = std::make_unique<torch::optim::SGDParamState>();
    if (fields.tensors.count("momentum_buffer")) {
      state->momentum_buffer(fields.tensors.at("momentum_buffer"));
    }
    return state;
  }
  if (dynamic_cast<torch::optim::Adam*>(&optimizer)) {
    return adam_state<torch::optim::AdamParamState>(fields);
  }
  if (dynamic_cast<torch::optim::AdamW*>(&optimizer)) {
    return adam_state<torch::optim::AdamWParamState>(fields);
  }
  throw Error("optimizer state: only SGD, Adam and AdamW states can be restored");
}

}  // namespace

StateDict optimizer_state_by_name(torch::optim::Optimizer& optimizer,
                                  const torch::nn::Module& network) {
  const auto names = parameter_names(network);
  auto& states = optimizer.state();
  using StateMap = std::decay_t<decltype(states)>;
  StateDict out;
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& param : group.params()) {
      auto found = states.find(state_key<StateMap>(param));
      if (found != states.end() && found->second) {
        add_fields(out, name_of(names, param), *found->second);
      }
    }
  }
  return out;
}

void restore_optimizer_state(torch::optim::Optimizer& optimizer, const torch::nn::Module& network,
                             const StateDict& state, const std::string& source) {
  const auto names = parameter_names(network);
  std::set<std::string> saved_params, trained_params;
  for (const auto& [key, tensor] : state) {
    const auto slash = key.rfind('/');
    if (slash == std::string::npos) throw IoError(source + ": bad optimizer state key " + key);
    saved_params.insert(key.substr(0, slash));
  }
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& param : group.params()) trained_params.insert(name_of(names, param));
  }
  for (const auto& name : saved_params) {
    if (!trained_params.count(name)) {
      throw IoError(source + ": optimizer state for " + name + ", which is not trained here");
    }
  }
  auto& states = optimizer.state();
  using StateMap = std::decay_t<decltype(states)>;
  states.clear();
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& param : group.params()) {
      const std::string& name = name_of(names, param);
      if (!saved_params.count(name)) continue;
      ParamFields fields;
      for (const char* field : kTensorFields) {
        auto saved = state.find(name + "/" + field);
        if (saved == state.end()) continue;
        if (saved->second.sizes() != param.sizes()) {
          std::ostringstream message;
          message << source << ": optimizer state " << saved->first << " has shape "
                  << saved->second.sizes() << ", the parameter " << param.sizes();
          throw IoError(message.str());
        }
        fields.tensors[field] = saved->second.to(param.device(), param.scalar_type()).clone();
      }
      auto step = state.find(name + "/step");
      if (step != state.end()) fields.step = step->second.item<int64_t>();
      states[state_key<StateMap>(param)] = make_param_state(optimizer, fields);
    }
  }
}

StateDict optimizer_state_from_libtorch_archive(torch::serialize::InputArchive& archive,
                                                torch::optim::Optimizer& optimizer,
                                                const torch::nn::Module& network) {
  torch::serialize::InputArchive states, groups;
  archive.read("state", states);
  archive.read("param_groups", groups);

  // Each parameter's fields under its saved key, the key kept as the string it is.
  std::map<std::string, ParamFields> saved;
  for (const std::string& key : states.keys()) {
    torch::serialize::InputArchive one;
    if (!states.try_read(key, one)) continue;
    ParamFields& fields = saved[key];
    for (const char* field : kTensorFields) {
      c10::IValue value;
      if (one.try_read(field, value) && value.isTensor() && value.toTensor().defined()) {
        fields.tensors[field] = value.toTensor();
      }
    }
    c10::IValue step;
    if (one.try_read("step", step) && step.isInt()) fields.step = step.toInt();
  }

  const auto names = parameter_names(network);
  const auto& current = optimizer.param_groups();
  torch::Tensor group_count;
  groups.read("param_groups/size", group_count);
  if (group_count.item<int64_t>() != static_cast<int64_t>(current.size())) {
    throw Error("optimizer state has " + std::to_string(group_count.item<int64_t>()) +
                " parameter groups, the optimizer " + std::to_string(current.size()));
  }
  StateDict out;
  for (size_t g = 0; g < current.size(); ++g) {
    torch::serialize::InputArchive group;
    groups.read("param_groups/" + std::to_string(g), group);
    torch::Tensor size;
    group.read("params/size", size);
    const auto& params = current[g].params();
    if (size.item<int64_t>() != static_cast<int64_t>(params.size())) {
      throw Error("optimizer state group " + std::to_string(g) + " has " +
                  std::to_string(size.item<int64_t>()) + " parameters, the optimizer's " +
                  std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      c10::IValue key;
      group.read("params/" + std::to_string(i), key);
      auto found = saved.find(key.toStringRef());
      if (found == saved.end()) continue;  // no state yet (never stepped)
      const std::string& name = name_of(names, params[i]);
      for (const auto& [field, tensor] : found->second.tensors) out[name + "/" + field] = tensor;
      if (found->second.step)
        out[name + "/step"] = torch::tensor(*found->second.step, torch::kLong);
    }
  }
  return out;
}

}  // namespace ctmq
