#pragma once
// An optimizer's per-parameter state (SGD's momentum buffer; Adam's and AdamW's moments and step)
// keyed by parameter name, so that a resume state loads on any LibTorch and any device.
//
// LibTorch's own optimizer archive keys each parameter's state by its TensorImpl address as a
// string: LibTorch 1.13 writes it in hex ("0x55ca937c3570"), and 2.x parses every key with
// std::stoull in base 10, so a 1.13 state collapses onto one parameter's buffer on 2.x (every
// key becomes 0) and the first step fails with a shape error, or silently uses wrong momentum
// where the shapes happen to agree. Names do not depend on either.

#include <torch/torch.h>

#include <string>

#include "ctmq/io/checkpoint.h"

namespace ctmq {

/// "<parameter name>/<field>" -> tensor for every parameter of `optimizer` that has a state;
/// fields: momentum_buffer (SGD); step, exp_avg, exp_avg_sq, max_exp_avg_sq (Adam, AdamW).
/// `network` names the parameters.
StateDict optimizer_state_by_name(torch::optim::Optimizer& optimizer,
                                  const torch::nn::Module& network);

/// Sets `optimizer`'s state from optimizer_state_by_name()'s output, each tensor on its
/// parameter's device. A parameter without entries starts without state. Throws IoError naming
/// `source` when an entry names no parameter or has the wrong shape.
void restore_optimizer_state(torch::optim::Optimizer& optimizer, const torch::nn::Module& network,
                             const StateDict& state, const std::string& source);

/// Reads LibTorch's own optimizer archive, as resume states written before this module saved
/// it, by 1.13 or 2.x: parameters are matched by position in their group, and states by the
/// saved key strings as they are (never parsed). Returns what optimizer_state_by_name() would.
StateDict optimizer_state_from_libtorch_archive(torch::serialize::InputArchive& archive,
                                                torch::optim::Optimizer& optimizer,
                                                const torch::nn::Module& network);

}  // namespace ctmq
