#include "ctmq/train/teacher_check.h"

#include <filesystem>
#include <map>
#include <memory>

#include "ctmq/core/errors.h"
#include "ctmq/io/checkpoint_network.h"

namespace ctmq {
namespace {

/// The architecture a checkpoint holds, read once per file.
struct TeacherFile {
  NetworkConfig config;
  bool full_precision = false;
};

class TeacherFiles {
 public:
  explicit TeacherFiles(const TeacherCheckContext& context) : context_(context) {}

  /// `flag` says what named the file: "" for distill.teacher, "--from" for --from.
  const TeacherFile& read(const std::string& path, const std::string& what,
                          const std::string& flag = "") {
    auto found = files_.find(path);
    if (found != files_.end()) return found->second;
    Checkpoint checkpoint;
    std::shared_ptr<QuantNetworkImpl> network;
    try {
      network = network_from_checkpoint(path, checkpoint);
    } catch (const SpecError&) {
      throw;
    } catch (const std::exception& e) {  // ctmq's IoError, or LibTorch's on a foreign file
      if (flag.empty()) fail(what + " is not a usable checkpoint: " + e.what());
      throw SpecError(flag + " " + path + ": not a usable checkpoint: " + e.what());
    }
    TeacherFile file{network->config(), network->weight_bits() >= kFullPrecisionBits &&
                                            network->activation_bits() >= kFullPrecisionBits};
    return files_.emplace(path, file).first->second;
  }

  /// A teacher from outside the run must fit the student's data and outputs.
  void check_fits(const std::string& path) {
    const NetworkConfig& config = read(path, "the teacher " + path).config;
    if (config.num_classes != context_.spec.model.num_classes) {
      fail("the teacher " + path + " has " + std::to_string(config.num_classes) +
           " classes, this spec " + std::to_string(context_.spec.model.num_classes));
    }
    if (config.in_channels != context_.in_channels) {
      fail("the teacher " + path + " takes images of " + std::to_string(config.in_channels) +
           " channels, but " + context_.spec.data.root + " has " +
           std::to_string(context_.in_channels));
    }
  }

  /// The checkpoint a phase starts --from must fit the data and the spec's classes, or loading
  /// it fails only after the run directory is written and its quantizers are reported.
  void check_from(const std::string& path) {
    const NetworkConfig& config = read(path, "--from " + path, "--from").config;
    const std::string prefix = "--from " + path + ": ";
    if (config.num_classes != context_.spec.model.num_classes) {
      // The data's class count equals model.num_classes: the caller checked it.
      throw SpecError(prefix + "the checkpoint has " + std::to_string(config.num_classes) +
                      " classes, but " + context_.spec.data.root + " (and model.num_classes) has " +
                      std::to_string(context_.spec.model.num_classes) +
                      ": it was trained on other data");
    }
    if (config.in_channels != context_.in_channels) {
      throw SpecError(prefix + "the checkpoint takes images of " +
                      std::to_string(config.in_channels) + " channels, but " +
                      context_.spec.data.root + " has " + std::to_string(context_.in_channels) +
                      ": it was trained on other data");
    }
  }

  [[noreturn]] void fail(const std::string& message) const {
    throw SpecError(context_.spec_source + ": /distill/teacher: " + message);
  }

 private:
  const TeacherCheckContext& context_;
  std::map<std::string, TeacherFile> files_;
};

}  // namespace

std::vector<std::string> check_teachers(Manifest& manifest, const TeacherCheckContext& context) {
  TeacherFiles files(context);
  if (!context.from_checkpoint.empty()) files.check_from(context.from_checkpoint);
  std::vector<std::string> notes;
  for (size_t i = 0; i < manifest.stages.size(); ++i) {
    Stage& student = manifest.stages[i].stage;
    if (!student.teacher || !context.trains(student)) continue;
    InitSource& source = student.teacher->source;
    if (source.kind == InitSource::Kind::kCheckpoint) {
      files.check_fits(source.ref);
      continue;
    }
    size_t teacher_index = 0;
    while (teacher_index < i && manifest.stages[teacher_index].stage.id != source.ref) {
      ++teacher_index;
    }
    const Stage& teacher = manifest.stages[teacher_index].stage;
    const bool in_phase = teacher_index < i && context.selected(teacher);
    const std::string path = context.paths.checkpoint(source.ref);
    // "accurate" is the latest full-precision model the student descends from; a phase started
    // --from a full-precision checkpoint descends from that checkpoint, not from the run's
    // earlier stage (which may not exist: a fresh run directory).
    if (!in_phase && context.spec.distill.teacher == "accurate" &&
        !context.from_checkpoint.empty()) {
      const std::string& from = context.from_checkpoint;
      if (files.read(from, "--from " + from).full_precision) {
        files.check_fits(from);
        if (notes.empty()) {
          notes.push_back("distill.teacher accurate: the phase starts --from " + from +
                          ", a full-precision checkpoint, so it teaches the students before the "
                          "phase's own accurate stage (instead of stage " +
                          source.ref + ")");
        }
        source = InitSource::checkpoint(from);
        continue;
      }
    }
    if (in_phase || std::filesystem::exists(path)) continue;
    files.fail("stage " + student.id + " learns from stage " + source.ref + ", whose checkpoint " +
               path + " does not exist, and this command does not train it: run " + source.ref +
               "'s phase first" +
               (context.spec.distill.teacher == "accurate" && !context.from_checkpoint.empty()
                    ? " (--from " + context.from_checkpoint +
                          " is low-bit, so it cannot be the accurate teacher)"
                    : std::string()) +
               ", or set distill.teacher to a full-precision checkpoint file");
  }
  return notes;
}

}  // namespace ctmq
