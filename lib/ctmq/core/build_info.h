#pragma once
// What a binary was built from: ctmq's version, the git commit of its source and the LibTorch
// version it was compiled against. Checkpoints, run manifests and `ctmq --version` record it,
// so that a figure can be traced back to the code that produced it.

#include <string>

#include <nlohmann/json.hpp>

namespace ctmq {

struct BuildInfo {
  std::string ctmq_version;      ///< the project version, e.g. "0.1.0"
  std::string git_commit;        ///< full hash, or "unknown" when built outside a git checkout
  std::string git_tree;          ///< "clean", "dirty" (tracked files changed) or "unknown"
  std::string libtorch_version;  ///< TORCH_VERSION of the headers compiled against
};

const BuildInfo& build_info();

/// {"ctmq_version", "git_commit", "git_dirty" (true, false or null when unknown),
///  "libtorch_version"}.
nlohmann::json build_info_json();

/// Lines for `ctmq --version`.
std::string build_info_text();

}  // namespace ctmq
