#include "ctmq/commands/export_command.h"

#include <filesystem>

#include "ctmq/commands/checkpoint_network.h"
#include "ctmq/io/export.h"

namespace ctmq {

nlohmann::json export_checkpoint(const std::string& checkpoint_path, const std::string& out) {
  Checkpoint checkpoint;
  auto network = network_from_checkpoint(checkpoint_path, checkpoint);
  export_network(*network, network->config(), out);
  ExportSizes sizes = export_sizes(*network, network->config());
  const int64_t checkpoint_bytes =
      static_cast<int64_t>(std::filesystem::file_size(checkpoint_path));
  const int64_t exported_bytes = static_cast<int64_t>(std::filesystem::file_size(out));
  return {{"checkpoint", checkpoint_path},
          {"out", out},
          {"stage", checkpoint.meta.value("stage", "")},
          {"w_bits", network->weight_bits()},
          {"a_bits", network->activation_bits()},
          {"exported_bytes", exported_bytes},
          {"checkpoint_bytes", checkpoint_bytes},
          {"float_state_bytes", sizes.float_bytes},
          {"ratio_vs_float_state",
           exported_bytes > 0 ? static_cast<double>(sizes.float_bytes) / exported_bytes : 0.0}};
}

}  // namespace ctmq
