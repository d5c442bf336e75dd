#include "ctmq/data/tensor_source.h"

#include "ctmq/data/rng.h"
#include "ctmq/data/transforms.h"

namespace ctmq::data {

TensorSource::TensorSource(ImageTensorSet set, bool augment, int64_t padding, Normalization norm,
                           std::string name)
    : set_(std::move(set)),
      augment_(augment),
      padding_(static_cast<int>(padding)),
      norm_(norm),
      name_(std::move(name)) {
  set_.images = set_.images.contiguous();
  set_.labels = set_.labels.contiguous();
  pixels_ = set_.images.data_ptr<uint8_t>();
  labels_ = set_.labels.data_ptr<int64_t>();
}

TensorSource::Window TensorSource::window(uint64_t rng_seed) const {
  Window w{padding_, padding_, false};
  if (augment_) {
    SampleRng rng(rng_seed);
    w.offset_y = static_cast<int>(rng.below(2 * padding_ + 1));
    w.offset_x = static_cast<int>(rng.below(2 * padding_ + 1));
    w.flip = rng.coin();
  }
  return w;
}

void TensorSource::load(int64_t index, uint64_t rng_seed, float* out) const {
  const int c = static_cast<int>(channels()), h = static_cast<int>(height()),
            w = static_cast<int>(width());
  const Window win = window(rng_seed);
  pad_crop_flip_normalize(pixels_ + index * c * h * w, c, h, w, padding_, win.offset_y,
                          win.offset_x, win.flip, norm_, out);
}

void TensorSource::load_pixels(int64_t index, uint64_t rng_seed, uint8_t* out) const {
  const int c = static_cast<int>(channels()), h = static_cast<int>(height()),
            w = static_cast<int>(width());
  const Window win = window(rng_seed);
  pad_crop_flip_pixels(pixels_ + index * c * h * w, c, h, w, padding_, win.offset_y, win.offset_x,
                       win.flip, out);
}

}  // namespace ctmq::data
