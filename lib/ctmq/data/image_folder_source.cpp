#include "ctmq/data/image_folder_source.h"

#include "ctmq/data/image_decode.h"
#include "ctmq/data/jpeg_region_decode.h"
#include "ctmq/data/transforms.h"

namespace ctmq::data {

ImageFolderSource::ImageFolderSource(std::shared_ptr<const ImageFolderIndex> index,
                                     ImageTransform transform, int64_t image_size, int64_t resize,
                                     Normalization norm)
    : index_(std::move(index)),
      transform_(transform),
      image_size_(static_cast<int>(image_size)),
      resize_(static_cast<int>(resize)),
      norm_(norm) {}

void ImageFolderSource::load(int64_t index, uint64_t rng_seed, float* out) const {
  const std::string path = index_->path(index);
  transform_image_bytes(read_file_bytes(path), path, transform_, image_size_, resize_, rng_seed,
                        norm_, out);
}

void ImageFolderSource::load_pixels(int64_t index, uint64_t rng_seed, uint8_t* out) const {
  const std::string path = index_->path(index);
  write_pixels_chw(
      transformed_image(read_file_bytes(path), path, transform_, image_size_, resize_, rng_seed),
      out);
}

namespace {

CropBox choose_box(ImageTransform transform, int width, int height, int size, int resize,
                   SampleRng& rng) {
  return transform == ImageTransform::kTrain ? random_resized_crop_box(width, height, rng)
                                             : center_crop_box(width, height, resize, size);
}

}  // namespace

void transform_image_bytes(const std::vector<uint8_t>& bytes, const std::string& path,
                           ImageTransform transform, int size, int resize, uint64_t rng_seed,
                           const Normalization& norm, float* out) {
  write_normalized_chw(transformed_image(bytes, path, transform, size, resize, rng_seed), norm,
                       out);
}

cv::Mat transformed_image(const std::vector<uint8_t>& bytes, const std::string& path,
                          ImageTransform transform, int size, int resize, uint64_t rng_seed) {
  if (const std::string reason = check_image_bytes(bytes); !reason.empty()) {
    throw BadSampleError(path, reason);
  }
  SampleRng rng(rng_seed);
  // The crop is chosen on the full-size image (from the header when it has one), so the
  // random draws and the result do not depend on how much libjpeg shrinks while decoding.
  const auto header = read_image_size(bytes.data(), bytes.size());
  const bool jpeg = sniff_image_kind(bytes.data(), bytes.size()) == ImageKind::kJpeg;
  cv::Mat crop;  // the box's pixels, at the scale they were decoded at
  if (header && header->width > 0 && header->height > 0) {
    const CropBox box = choose_box(transform, header->width, header->height, size, resize, rng);
    const int reduction = jpeg ? jpeg_reduction(box.w, box.h, size, size) : 1;
    if (jpeg) {
      // libjpeg's scaled size, ceil(full / reduction): the size IMREAD_REDUCED_* decodes to.
      const cv::Size decoded((header->width + reduction - 1) / reduction,
                             (header->height + reduction - 1) / reduction);
      const double scale = static_cast<double>(header->width) / decoded.width;
      crop = decode_jpeg_region(bytes, reduction, crop_roi(box, scale, decoded));
    }
    if (crop.empty()) {
      const cv::Mat image = decode_image(bytes, reduction);
      if (image.empty()) throw BadSampleError(path, "cannot be decoded");
      crop = image(crop_roi(box, static_cast<double>(header->width) / image.cols, image.size()));
    }
  } else {
    const cv::Mat image = decode_image(bytes, 1);
    if (image.empty()) throw BadSampleError(path, "cannot be decoded");
    crop = image(crop_roi(choose_box(transform, image.cols, image.rows, size, resize, rng), 1.0,
                          image.size()));
  }
  const bool flip = transform == ImageTransform::kTrain && rng.coin();
  return resize_square(crop, size, flip);
}

}  // namespace ctmq::data
