#include "ctmq/io/checkpoint_network.h"

#include "ctmq/io/network_meta.h"

namespace ctmq {

/// The network of a checkpoint, at the checkpoint's bit depths, in eval mode.
std::shared_ptr<QuantNetworkImpl> network_from_checkpoint(const std::string& path,
                                                          Checkpoint& checkpoint) {
  checkpoint = load_checkpoint(path);
  auto network = make_network(network_config_from_json(checkpoint.meta, path));
  load_module_state(*network, checkpoint.state, path);
  network->set_bits(checkpoint.meta.value("w_bits", 32), checkpoint.meta.value("a_bits", 32));
  network->eval();
  return network;
}

}  // namespace ctmq
