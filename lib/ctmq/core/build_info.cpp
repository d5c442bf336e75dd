#include "ctmq/core/build_info.h"

// Only this header of LibTorch: ctmq_core stays free of torch otherwise.
#include <torch/version.h>

namespace ctmq {
namespace generated {
// Defined in the source cmake/build_info.cmake writes at every build.
extern const char* const kGitCommit;
extern const char* const kGitTreeState;
}  // namespace generated

const BuildInfo& build_info() {
  static const BuildInfo info{CTMQ_VERSION, generated::kGitCommit, generated::kGitTreeState,
                              TORCH_VERSION};
  return info;
}

nlohmann::json build_info_json() {
  const BuildInfo& info = build_info();
  nlohmann::json dirty = nullptr;
  if (info.git_tree != "unknown") dirty = info.git_tree == "dirty";
  return {{"ctmq_version", info.ctmq_version},
          {"git_commit", info.git_commit},
          {"git_dirty", dirty},
          {"libtorch_version", info.libtorch_version}};
}

std::string build_info_text() {
  const BuildInfo& info = build_info();
  std::string tree = info.git_tree == "unknown" ? "" : " (" + info.git_tree + ")";
  return "ctmq " + info.ctmq_version + "\ngit commit " + info.git_commit + tree + "\nLibTorch " +
         info.libtorch_version;
}

}  // namespace ctmq
