#pragma once
// The distillation teachers of a run, checked before anything trains: a teacher problem that
// is knowable at startup must not surface after hours of pretraining.

#include <functional>
#include <string>
#include <vector>

#include "ctmq/io/manifest.h"
#include "ctmq/spec/spec.h"

namespace ctmq {

/// What the check needs to know about this command beyond the spec.
struct TeacherCheckContext {
  const ExperimentSpec& spec;
  const RunPaths& paths;
  std::string spec_source;  ///< prefixes the errors, as the spec parser's do
  /// Whether this command trains the stage (its phase, not yet done).
  std::function<bool(const Stage&)> trains;
  /// Whether the stage belongs to this command's phase (trained now or done before).
  std::function<bool(const Stage&)> selected;
  std::string from_checkpoint;  ///< --from, or empty
  int64_t in_channels = 0;      ///< of the dataset's images
};

/// For every stage this command trains: a checkpoint-file teacher must be a readable checkpoint
/// with the spec's classes and the data's channels; a stage teacher must have a checkpoint, or
/// be trained by this command before its student. A phase started with --from from a
/// full-precision checkpoint takes that checkpoint as its "accurate" teacher where the accurate
/// stage lies outside the phase, and returns a line for the log that says so. Throws SpecError
/// naming /distill/teacher. The --from checkpoint, where given, must be readable and have the
/// spec's classes and the data's channels: a SpecError naming --from otherwise.
std::vector<std::string> check_teachers(Manifest& manifest, const TeacherCheckContext& context);

}  // namespace ctmq
