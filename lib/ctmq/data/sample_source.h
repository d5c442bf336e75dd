#pragma once
// A dataset as the loader sees it: N samples, each decoded and transformed straight into a
// slot of a batch tensor. Implementations are immutable after construction and thread-safe.

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace ctmq::data {

/// Per-channel normalisation: out = (pixel / 255 - mean) / std.
struct Normalization {
  std::array<float, 3> mean{0.f, 0.f, 0.f};
  std::array<float, 3> std{1.f, 1.f, 1.f};
};

/// ImageNet statistics used by torchvision's reference training scripts.
inline constexpr Normalization kImageNetNormalization{{0.485f, 0.456f, 0.406f},
                                                      {0.229f, 0.224f, 0.225f}};

/// A sample that could not be decoded (bad bytes found only at decode time). The loader turns
/// it into a DataError (on_bad_image = fail) or a deterministic substitute (skip).
class BadSampleError : public std::runtime_error {
 public:
  BadSampleError(std::string path, std::string reason)
      : std::runtime_error(path + ": " + reason),
        path_(std::move(path)),
        reason_(std::move(reason)) {}
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string path_;
  std::string reason_;
};

/// Indexed samples with a fixed output shape.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual int64_t size() const = 0;
  virtual int64_t channels() const = 0;
  virtual int64_t height() const = 0;
  virtual int64_t width() const = 0;
  virtual int64_t label(int64_t index) const = 0;
  /// Writes the transformed, normalised sample as CHW floats to `out` (channels*height*width
  /// values). `rng_seed` drives every random choice, so results do not depend on which thread
  /// runs it. Throws BadSampleError when the sample cannot be decoded.
  virtual void load(int64_t index, uint64_t rng_seed, float* out) const = 0;
  /// The same sample before normalisation: CHW uint8 RGB (what a GPU run sends to the device,
  /// a quarter of the bytes). load() == (load_pixels() / 255 - mean) / std.
  virtual void load_pixels(int64_t index, uint64_t rng_seed, uint8_t* out) const = 0;
  /// The normalisation load() applies.
  virtual Normalization normalization() const = 0;
  /// A file name or "file[record]" for messages.
  virtual std::string describe(int64_t index) const = 0;
};

}  // namespace ctmq::data

#include <memory>
#include <vector>

namespace ctmq::data {

/// A fixed subset of another source (train_limit / val_limit).
class SubsetSource : public SampleSource {
 public:
  SubsetSource(std::shared_ptr<const SampleSource> base, std::vector<int64_t> indices)
      : base_(std::move(base)), indices_(std::move(indices)) {}
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  int64_t channels() const override { return base_->channels(); }
  int64_t height() const override { return base_->height(); }
  int64_t width() const override { return base_->width(); }
  int64_t label(int64_t i) const override { return base_->label(indices_[i]); }
  void load(int64_t i, uint64_t rng_seed, float* out) const override {
    base_->load(indices_[i], rng_seed, out);
  }
  void load_pixels(int64_t i, uint64_t rng_seed, uint8_t* out) const override {
    base_->load_pixels(indices_[i], rng_seed, out);
  }
  Normalization normalization() const override { return base_->normalization(); }
  std::string describe(int64_t i) const override { return base_->describe(indices_[i]); }

 private:
  std::shared_ptr<const SampleSource> base_;
  std::vector<int64_t> indices_;
};

}  // namespace ctmq::data
