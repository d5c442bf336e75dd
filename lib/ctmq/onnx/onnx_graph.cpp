#include "ctmq/onnx/onnx_graph.h"

#include <map>
#include <set>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "ctmq/core/errors.h"

namespace ctmq {
namespace {

void set_value_info(onnx::ValueInfoProto* info, const std::string& name,
                    const std::vector<int64_t>& dims, const std::vector<std::string>& dim_names) {
  info->set_name(name);
  auto* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tensor->mutable_shape();
  for (size_t i = 0; i < dims.size(); ++i) {
    auto* dim = shape->add_dim();
    if (dims[i] >= 0) {
      dim->set_dim_value(dims[i]);
    } else {
      dim->set_dim_param(i < dim_names.size() ? dim_names[i] : "d" + std::to_string(i));
    }
  }
}

onnx::TensorProto* new_initializer(onnx::GraphProto* graph, const std::string& name,
                                   const std::vector<int64_t>& dims, int elem_type) {
  onnx::TensorProto* t = graph->add_initializer();
  t->set_name(name);
  t->set_data_type(elem_type);
  for (int64_t d : dims) t->add_dims(d);
  return t;
}

}  // namespace

OnnxAttribute onnx_attr(const std::string& name, int64_t value) {
  OnnxAttribute a;
  a.name = name;
  a.kind = OnnxAttribute::Kind::kInt;
  a.i = value;
  return a;
}

OnnxAttribute onnx_attr(const std::string& name, std::vector<int64_t> values) {
  OnnxAttribute a;
  a.name = name;
  a.kind = OnnxAttribute::Kind::kInts;
  a.ints = std::move(values);
  return a;
}

OnnxAttribute onnx_attr_float(const std::string& name, float value) {
  OnnxAttribute a;
  a.name = name;
  a.kind = OnnxAttribute::Kind::kFloat;
  a.f = value;
  return a;
}

struct OnnxGraphBuilder::Impl {
  onnx::ModelProto model;
  std::set<std::string> names;
  std::map<float, std::string> scalars;
  onnx::GraphProto* graph() { return model.mutable_graph(); }
};

OnnxGraphBuilder::OnnxGraphBuilder(const std::string& graph_name, int64_t opset)
    : impl_(std::make_unique<Impl>()) {
  impl_->model.set_ir_version(onnx::IR_VERSION);
  auto* op = impl_->model.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  impl_->graph()->set_name(graph_name);
}

OnnxGraphBuilder::~OnnxGraphBuilder() = default;

std::string OnnxGraphBuilder::unique(const std::string& base) {
  std::string name = base;
  for (int i = 1; impl_->names.count(name); ++i) name = base + "_" + std::to_string(i);
  impl_->names.insert(name);
  return name;
}

void OnnxGraphBuilder::add_input(const std::string& name, const std::vector<int64_t>& dims,
                                 const std::vector<std::string>& dim_names) {
  set_value_info(impl_->graph()->add_input(), unique(name), dims, dim_names);
}

void OnnxGraphBuilder::add_output(const std::string& name, const std::vector<int64_t>& dims,
                                  const std::vector<std::string>& dim_names) {
  set_value_info(impl_->graph()->add_output(), name, dims, dim_names);
}

std::string OnnxGraphBuilder::add_float(const std::string& name, const std::vector<int64_t>& dims,
                                        const std::vector<float>& values) {
  const std::string unique_name = unique(name);
  onnx::TensorProto* t =
      new_initializer(impl_->graph(), unique_name, dims, onnx::TensorProto::FLOAT);
  t->set_raw_data(values.data(), values.size() * sizeof(float));
  return unique_name;
}

std::string OnnxGraphBuilder::add_int8(const std::string& name, const std::vector<int64_t>& dims,
                                       const std::vector<int8_t>& values) {
  const std::string unique_name = unique(name);
  onnx::TensorProto* t =
      new_initializer(impl_->graph(), unique_name, dims, onnx::TensorProto::INT8);
  t->set_raw_data(values.data(), values.size());
  return unique_name;
}

std::string OnnxGraphBuilder::scalar(float value) {
  auto it = impl_->scalars.find(value);
  if (it != impl_->scalars.end()) return it->second;
  const std::string name = add_float("const", {}, {value});
  impl_->scalars[value] = name;
  return name;
}

std::string OnnxGraphBuilder::add_node(const std::string& op_type,
                                       const std::vector<std::string>& inputs,
                                       const std::string& name,
                                       const std::vector<OnnxAttribute>& attributes) {
  const std::string output = unique(name);
  add_node_to(op_type, inputs, output, attributes);
  return output;
}

void OnnxGraphBuilder::add_node_to(const std::string& op_type,
                                   const std::vector<std::string>& inputs,
                                   const std::string& output,
                                   const std::vector<OnnxAttribute>& attributes) {
  onnx::NodeProto* node = impl_->graph()->add_node();
  node->set_op_type(op_type);
  node->set_name(output);
  for (const auto& input : inputs) node->add_input(input);
  node->add_output(output);
  for (const auto& a : attributes) {
    onnx::AttributeProto* attr = node->add_attribute();
    attr->set_name(a.name);
    switch (a.kind) {
      case OnnxAttribute::Kind::kInt:
        attr->set_type(onnx::AttributeProto::INT);
        attr->set_i(a.i);
        break;
      case OnnxAttribute::Kind::kInts:
        attr->set_type(onnx::AttributeProto::INTS);
        for (int64_t v : a.ints) attr->add_ints(v);
        break;
      case OnnxAttribute::Kind::kFloat:
        attr->set_type(onnx::AttributeProto::FLOAT);
        attr->set_f(a.f);
        break;
    }
  }
}

void OnnxGraphBuilder::add_metadata(const std::string& key, const std::string& value) {
  auto* prop = impl_->model.add_metadata_props();
  prop->set_key(key);
  prop->set_value(value);
}

void OnnxGraphBuilder::set_producer(const std::string& name, const std::string& version) {
  impl_->model.set_producer_name(name);
  impl_->model.set_producer_version(version);
}

void OnnxGraphBuilder::set_doc(const std::string& doc) {
  impl_->model.set_doc_string(doc);
}

std::string OnnxGraphBuilder::serialize_checked() const {
  try {
    onnx::checker::check_model(impl_->model);
    // Strict shape inference type-checks every node against its schema: a wrong attribute or
    // an input of the wrong rank fails here, not in the deployer's runtime.
    onnx::ModelProto inferred = impl_->model;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    throw Error(std::string("the ONNX checker rejects the model: ") + e.what());
  }
  std::string bytes;
  if (!impl_->model.SerializeToString(&bytes)) throw Error("cannot serialize the ONNX model");
  return bytes;
}

void check_onnx_model(const std::string& bytes) {
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) throw Error("not an ONNX model (protobuf parse failed)");
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw Error(std::string("the ONNX checker rejects the model: ") + e.what());
  }
}

OnnxModelSummary read_onnx_summary(const std::string& bytes) {
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes) || !model.has_graph()) {
    throw Error("not an ONNX model (protobuf parse failed)");
  }
  OnnxModelSummary summary;
  summary.ir_version = model.ir_version();
  for (const auto& opset : model.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") summary.opset = opset.version();
  }
  summary.producer = model.producer_name();
  if (!model.producer_version().empty()) summary.producer += " " + model.producer_version();
  for (const auto& prop : model.metadata_props()) {
    summary.metadata.emplace_back(prop.key(), prop.value());
  }
  const onnx::GraphProto& graph = model.graph();
  std::set<std::string> constants;
  for (const auto& t : graph.initializer()) constants.insert(t.name());
  for (const auto& input : graph.input()) {
    if (!constants.count(input.name())) summary.inputs.push_back(input.name());
  }
  for (const auto& output : graph.output()) summary.outputs.push_back(output.name());
  summary.nodes = graph.node_size();
  summary.initializers = graph.initializer_size();
  return summary;
}

}  // namespace ctmq
