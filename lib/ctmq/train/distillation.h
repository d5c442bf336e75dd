#pragma once
// Knowledge distillation (distill.*): a frozen full-precision teacher's softened outputs guide a
// low-bit student, the recipe the strongest binary networks rely on (Real-to-Binary, ReActNet).
// CTMQ trains an accurate model in every cycle, the natural teacher for the stages after it.

#include <torch/torch.h>

#include <memory>

#include "ctmq/io/manifest.h"
#include "ctmq/models/network.h"

namespace ctmq {

/// weight * T^2 * KL(softmax(teacher / T) || softmax(student / T)), averaged over the batch,
/// plus (1 - weight) * the cross-entropy of the student with the labels (label smoothing as
/// training's). T^2 keeps the KL term's gradients at the scale of the label loss whatever T
/// (Hinton et al., 2015). Computed in float32 whatever the logits' type.
torch::Tensor distillation_loss(const torch::Tensor& student_logits,
                                const torch::Tensor& teacher_logits, const torch::Tensor& labels,
                                double temperature, double weight, double label_smoothing = 0.0);

/// The teacher of a stage, loaded from its checkpoint (an earlier stage's in `paths`, or a
/// file) on `device`, in eval mode, every parameter frozen. Throws Error naming the checkpoint
/// when it does not exist yet (an earlier phase not run) or its network has other outputs than
/// `num_classes`.
std::shared_ptr<QuantNetworkImpl> load_teacher(const TeacherSource& teacher, const RunPaths& paths,
                                               const torch::Device& device, int64_t num_classes,
                                               bool channels_last);

}  // namespace ctmq
