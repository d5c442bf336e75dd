#pragma once
// onnxruntime for the ONNX export tests: its Node.js binding installed from npm into the build
// folder (once, cached), and tests/onnx/ort_run.js run on a job of cases.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/run_command.h"

namespace ctmq::test {

/// Installs onnxruntime-node into the build's onnxruntime-node folder unless it is there
/// (scripts/install_onnxruntime_node.sh); false when npm or its registry cannot be reached.
inline bool onnxruntime_node_available() {
  static const bool available = [] {
    const CommandResult install =
        run_command(std::string(CTMQ_SOURCE_DIR) + "/scripts/install_onnxruntime_node.sh " +
                    CTMQ_ONNXRUNTIME_NODE_DIR);
    if (install.exit_code != 0) std::cerr << install.output;
    return install.exit_code == 0;
  }();
  return available;
}

/// Writes a tensor's float32 (or int64) values, row-major, to `path`.
inline void write_raw(const std::string& path, const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(c.data_ptr()),
            static_cast<std::streamsize>(c.numel() * c.element_size()));
}

/// Runs tests/onnx/ort_run.js on `cases` (job file in `dir`); returns its "results", one per
/// case, or fails the test.
inline nlohmann::json run_onnxruntime(const nlohmann::json& cases, const std::string& dir,
                                      int threads = 1) {
  const std::string job_path = dir + "/ort_job.json";
  std::ofstream(job_path) << nlohmann::json{
      {"ort_dir", CTMQ_ONNXRUNTIME_NODE_DIR},
      {"threads", threads},
      {"cases", cases}}.dump();
  const CommandResult run =
      run_command("node " + std::string(CTMQ_SOURCE_DIR) + "/tests/onnx/ort_run.js " + job_path);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  if (run.exit_code != 0) return nlohmann::json::array();
  const size_t start = run.output.rfind("{\"results\"");
  if (start == std::string::npos) {
    ADD_FAILURE() << "no results from ort_run.js: " << run.output;
    return nlohmann::json::array();
  }
  return nlohmann::json::parse(run.output.substr(start)).at("results");
}

}  // namespace ctmq::test
