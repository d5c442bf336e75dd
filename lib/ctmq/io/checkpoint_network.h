#pragma once
// The network a checkpoint describes, shared by eval, inspect, export and distillation.

#include <memory>
#include <string>

#include "ctmq/io/checkpoint.h"
#include "ctmq/models/network.h"

namespace ctmq {

/// The network of a checkpoint, at the checkpoint's bit depths, in eval mode.
std::shared_ptr<QuantNetworkImpl> network_from_checkpoint(const std::string& path,
                                                          Checkpoint& checkpoint);

}  // namespace ctmq
