#pragma once
// A small builder over the ONNX project's own protobuf types (Debian's libonnx-dev): values,
// initializers, nodes and metadata in, a checked, serialized ModelProto out. Torch-free, so
// that protobuf and ONNX headers stay out of the LibTorch translation units.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ctmq {

/// One node attribute: an int, a list of ints or a float.
struct OnnxAttribute {
  enum class Kind { kInt, kInts, kFloat };
  std::string name;
  Kind kind = Kind::kInt;
  int64_t i = 0;
  std::vector<int64_t> ints;
  float f = 0.f;
};

OnnxAttribute onnx_attr(const std::string& name, int64_t value);
OnnxAttribute onnx_attr(const std::string& name, std::vector<int64_t> values);
OnnxAttribute onnx_attr_float(const std::string& name, float value);

/// Builds one ONNX graph at a fixed opset of the default domain.
class OnnxGraphBuilder {
 public:
  OnnxGraphBuilder(const std::string& graph_name, int64_t opset);
  ~OnnxGraphBuilder();
  OnnxGraphBuilder(const OnnxGraphBuilder&) = delete;
  OnnxGraphBuilder& operator=(const OnnxGraphBuilder&) = delete;

  /// A float graph input; a dimension of -1 gets the symbolic name in `dim_names` at its index.
  void add_input(const std::string& name, const std::vector<int64_t>& dims,
                 const std::vector<std::string>& dim_names);
  /// A float graph output, dims as in add_input.
  void add_output(const std::string& name, const std::vector<int64_t>& dims,
                  const std::vector<std::string>& dim_names);

  /// Constant tensors (initializers); each returns its (unique) value name.
  std::string add_float(const std::string& name, const std::vector<int64_t>& dims,
                        const std::vector<float>& values);
  std::string add_int8(const std::string& name, const std::vector<int64_t>& dims,
                       const std::vector<int8_t>& values);
  /// A 0-d float constant, shared between nodes asking for the same value.
  std::string scalar(float value);

  /// Appends a node; returns the name of its (single) output, derived from `name`.
  std::string add_node(const std::string& op_type, const std::vector<std::string>& inputs,
                       const std::string& name, const std::vector<OnnxAttribute>& attributes = {});
  /// Appends a node whose output has the given name.
  void add_node_to(const std::string& op_type, const std::vector<std::string>& inputs,
                   const std::string& output, const std::vector<OnnxAttribute>& attributes = {});

  /// A key/value pair of the model's metadata_props.
  void add_metadata(const std::string& key, const std::string& value);
  void set_producer(const std::string& name, const std::string& version);
  void set_doc(const std::string& doc);

  /// The model after the ONNX checker and strict shape inference accepted it; throws Error with
  /// the checker's message otherwise.
  std::string serialize_checked() const;

 private:
  std::string unique(const std::string& base);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Runs the ONNX checker on a serialized model; throws Error with its message.
void check_onnx_model(const std::string& bytes);

/// What `ctmq inspect` shows of an ONNX model.
struct OnnxModelSummary {
  int64_t ir_version = 0;
  int64_t opset = 0;                                          ///< of the default domain
  std::string producer;                                       ///< name and version
  std::vector<std::pair<std::string, std::string>> metadata;  ///< metadata_props, in order
  std::vector<std::string> inputs;  ///< graph inputs, initializers left out
  std::vector<std::string> outputs;
  int64_t nodes = 0;
  int64_t initializers = 0;
};

/// Reads a serialized model; throws Error when the bytes do not parse as ONNX.
OnnxModelSummary read_onnx_summary(const std::string& bytes);

}  // namespace ctmq
