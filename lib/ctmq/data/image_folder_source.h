#pragma once
// ImageNet samples: read the file, decode (at reduced size when the crop allows it), crop,
// resize, flip and normalise into the batch slot.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "ctmq/data/image_folder_index.h"
#include "ctmq/data/sample_source.h"

namespace ctmq::data {

enum class ImageTransform {
  kTrain,  ///< RandomResizedCrop(image_size, scale 0.08-1, ratio 3/4-4/3) + horizontal flip
  kEval,   ///< Resize(shorter side = resize) + CenterCrop(image_size)
};

class ImageFolderSource : public SampleSource {
 public:
  ImageFolderSource(std::shared_ptr<const ImageFolderIndex> index, ImageTransform transform,
                    int64_t image_size, int64_t resize,
                    Normalization norm = kImageNetNormalization);
  int64_t size() const override { return static_cast<int64_t>(index_->images.size()); }
  int64_t channels() const override { return 3; }
  int64_t height() const override { return image_size_; }
  int64_t width() const override { return image_size_; }
  int64_t label(int64_t i) const override { return index_->images[i].label; }
  void load(int64_t index, uint64_t rng_seed, float* out) const override;
  void load_pixels(int64_t index, uint64_t rng_seed, uint8_t* out) const override;
  Normalization normalization() const override { return norm_; }
  std::string describe(int64_t i) const override { return index_->path(i); }

 private:
  std::shared_ptr<const ImageFolderIndex> index_;
  ImageTransform transform_;
  int image_size_;
  int resize_;
  Normalization norm_;
};

/// Decodes one file's bytes and applies the transform: size x size 8UC3 BGR; the shared core of
/// the loader, `data check` and the benchmark. Throws BadSampleError naming `path`.
cv::Mat transformed_image(const std::vector<uint8_t>& bytes, const std::string& path,
                          ImageTransform transform, int size, int resize, uint64_t rng_seed);

/// transformed_image written into `out` as normalised CHW RGB floats (3 x size x size).
void transform_image_bytes(const std::vector<uint8_t>& bytes, const std::string& path,
                           ImageTransform transform, int size, int resize, uint64_t rng_seed,
                           const Normalization& norm, float* out);

}  // namespace ctmq::data
