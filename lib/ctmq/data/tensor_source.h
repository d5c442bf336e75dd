#pragma once
// Samples of an in-memory uint8 image tensor (Fashion-MNIST, CIFAR) with the light training
// augmentation of the CIFAR recipes: RandomCrop(size, padding) with zero padding and a
// horizontal flip.

#include "ctmq/data/sample_source.h"
#include "ctmq/data/small_datasets.h"

namespace ctmq::data {

/// Dataset statistics (of the training split, in [0, 1] pixel units).
inline constexpr Normalization kFashionMnistNormalization{{0.2860f, 0.2860f, 0.2860f},
                                                          {0.3530f, 0.3530f, 0.3530f}};
inline constexpr Normalization kCifar10Normalization{{0.4914f, 0.4822f, 0.4465f},
                                                     {0.2470f, 0.2435f, 0.2616f}};
inline constexpr Normalization kCifar100Normalization{{0.5071f, 0.4865f, 0.4409f},
                                                      {0.2673f, 0.2564f, 0.2762f}};

class TensorSource : public SampleSource {
 public:
  /// `augment` turns on the padded random crop (padding 0 = flip only) and the flip.
  TensorSource(ImageTensorSet set, bool augment, int64_t padding, Normalization norm,
               std::string name);
  int64_t size() const override { return set_.images.size(0); }
  int64_t channels() const override { return set_.images.size(1); }
  int64_t height() const override { return set_.images.size(2); }
  int64_t width() const override { return set_.images.size(3); }
  int64_t label(int64_t i) const override { return labels_[i]; }
  void load(int64_t index, uint64_t rng_seed, float* out) const override;
  void load_pixels(int64_t index, uint64_t rng_seed, uint8_t* out) const override;
  Normalization normalization() const override { return norm_; }
  std::string describe(int64_t i) const override { return name_ + "[" + std::to_string(i) + "]"; }

 private:
  ImageTensorSet set_;
  const uint8_t* pixels_;
  const int64_t* labels_;
  bool augment_;
  int padding_;
  Normalization norm_;
  std::string name_;

  /// The random crop offsets and flip of a sample.
  struct Window {
    int offset_y, offset_x;
    bool flip;
  };
  Window window(uint64_t rng_seed) const;
};

}  // namespace ctmq::data
