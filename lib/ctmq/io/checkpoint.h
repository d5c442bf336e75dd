#pragma once
// Checkpoints: one file per stage, written atomically in torch.save's zip layout with plain
// dicts (pickle_save_plain), so Python reads it with `torch.load(path)`, weights-only included:
//   {"format": "ctmq-checkpoint", "version": 1, "meta": "<JSON text>", "state": {name: tensor}}

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ctmq {

/// Parameters and buffers by their stable dotted names, on the CPU.
using StateDict = std::map<std::string, torch::Tensor>;

struct Checkpoint {
  StateDict state;
  nlohmann::json meta;  ///< stage id, bits, cycle, epochs, metrics, spec hash, ctmq version...
};

/// Every parameter and buffer of `module`, detached and copied to the CPU.
StateDict module_state(const torch::nn::Module& module);

/// Copies `state` into `module`. Every parameter and buffer of the module must be present with
/// the same shape, and no entry may be left over; otherwise IoError names the mismatches
/// (`source` names the file).
void load_module_state(torch::nn::Module& module, const StateDict& state,
                       const std::string& source);

/// `state` with every quantizer (the entries under a `weight_q.` or `act_q.` module) that does
/// not match the model's fresh state `fresh` (other entry names or shapes) replaced by the fresh
/// one; weights and BatchNorm entries are left for load_module_state to check strictly. A float
/// network pretrained with PACT can so start LSQ stages: the fresh quantizers calibrate on their
/// first batch. `reset` receives the prefixes of the replaced quantizers.
StateDict with_fresh_mismatched_quantizers(const StateDict& state, const StateDict& fresh,
                                           std::vector<std::string>* reset);

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

/// Throws IoError naming the file when it is missing, truncated or not a ctmq checkpoint.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace ctmq
