#include "ctmq/train/distillation.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "ctmq/core/errors.h"
#include "ctmq/io/checkpoint_network.h"
#include "ctmq/train/mixed_precision.h"

namespace ctmq {

torch::Tensor distillation_loss(const torch::Tensor& student_logits,
                                const torch::Tensor& teacher_logits, const torch::Tensor& labels,
                                double temperature, double weight, double label_smoothing) {
  namespace F = torch::nn::functional;
  const torch::Tensor student = student_logits.to(torch::kFloat);
  const torch::Tensor label_loss = F::cross_entropy(
      student, labels, F::CrossEntropyFuncOptions().label_smoothing(label_smoothing));
  if (weight == 0.0) return label_loss;
  const torch::Tensor log_p_student = torch::log_softmax(student / temperature, 1);
  const torch::Tensor log_p_teacher =
      torch::log_softmax(teacher_logits.detach().to(torch::kFloat) / temperature, 1);
  const torch::Tensor kl = (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(1).mean();
  return weight * temperature * temperature * kl + (1.0 - weight) * label_loss;
}

std::shared_ptr<QuantNetworkImpl> load_teacher(const TeacherSource& teacher, const RunPaths& paths,
                                               const torch::Device& device, int64_t num_classes,
                                               bool channels_last) {
  const InitSource& source = teacher.source;
  const std::string path =
      source.kind == InitSource::Kind::kStage ? paths.checkpoint(source.ref) : source.ref;
  if (!std::filesystem::exists(path)) {
    throw Error("distill.teacher: the teacher's checkpoint " + path + " does not exist" +
                (source.kind == InitSource::Kind::kStage
                     ? " yet: stage " + source.ref + " must be trained first"
                     : std::string()));
  }
  Checkpoint checkpoint;
  auto network = network_from_checkpoint(path, checkpoint);
  if (network->config().num_classes != num_classes) {
    throw Error("distill.teacher: " + path + " has " +
                std::to_string(network->config().num_classes) + " outputs, the student " +
                std::to_string(num_classes));
  }
  if (network->weight_bits() < 32 || network->activation_bits() < 32) {
    // Allowed (a W4A4 teacher for a W1A1 student, say), but rarely what was meant.
    spdlog::warn(
        "distill.teacher: {} is a W{}A{} network, not a full-precision one; the "
        "students learn from its logits as they are",
        path, network->weight_bits(), network->activation_bits());
  }
  for (auto& parameter : network->parameters(true)) parameter.requires_grad_(false);
  network->to(device);
  if (channels_last) convert_to_channels_last(*network);
  network->eval();
  return network;
}

}  // namespace ctmq
