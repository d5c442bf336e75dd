#pragma once
// data.val_split: training images held out as a validation split, so that model selection and
// tuning never see the test split. The held-out images are class-balanced and the same for
// every seed, so every run of a study validates on the same images.

#include <cstdint>
#include <vector>

#include "ctmq/data/sample_source.h"

namespace ctmq::data {

struct HeldOutSplit {
  std::vector<int64_t> held_out;  ///< indices of the validation images, ascending
  std::vector<int64_t> kept;      ///< the remaining training images, ascending
};

/// Holds out `count` images of `source`: count / num_classes of every class (the first
/// count % num_classes classes one more), the first of each class in a fixed permutation of the
/// source. Throws DataError naming data.val_split when `count` leaves no training image or a
/// class has too few images.
HeldOutSplit hold_out_balanced(const SampleSource& source, int64_t num_classes, int64_t count);

}  // namespace ctmq::data
