#pragma once
// Checkpoints: one file per stage, written atomically. The file is what torch::pickle_save
// writes, so Python reads it with plain `torch.load(path)`:
//   {"format": "ctmq-checkpoint", "version": 1, "meta": "<JSON text>", "state": {name: tensor}}

#include <torch/torch.h>

#include <map>
#include <string>

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

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

/// Throws IoError naming the file when it is missing, truncated or not a ctmq checkpoint.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace ctmq
