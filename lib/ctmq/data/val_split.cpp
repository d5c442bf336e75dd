#include "ctmq/data/val_split.h"

#include <algorithm>
#include <string>

#include "ctmq/core/errors.h"
#include "ctmq/data/rng.h"

namespace ctmq::data {
namespace {

// Fixed on purpose: the validation images must not change with the experiment's seed.
constexpr uint64_t kValSplitSeed = 0x76616c73706c6974ULL;

}  // namespace

HeldOutSplit hold_out_balanced(const SampleSource& source, int64_t num_classes, int64_t count) {
  const int64_t n = source.size();
  if (count >= n) {
    // Not describe(0): an empty source has no first image to name.
    throw DataError("data.val_split = " + std::to_string(count) +
                    " leaves no training image: the training split has " + std::to_string(n) +
                    " images");
  }
  std::vector<int64_t> quota(static_cast<size_t>(num_classes), count / num_classes);
  for (int64_t c = 0; c < count % num_classes; ++c) ++quota[static_cast<size_t>(c)];
  std::vector<int64_t> taken(static_cast<size_t>(num_classes), 0);
  std::vector<bool> held(static_cast<size_t>(n), false);
  for (int64_t index : permutation(n, kValSplitSeed)) {
    const int64_t label = source.label(index);
    if (label < 0 || label >= num_classes) continue;
    auto& done = taken[static_cast<size_t>(label)];
    if (done < quota[static_cast<size_t>(label)]) {
      ++done;
      held[static_cast<size_t>(index)] = true;
    }
  }
  for (int64_t c = 0; c < num_classes; ++c) {
    if (taken[static_cast<size_t>(c)] < quota[static_cast<size_t>(c)]) {
      throw DataError("data.val_split = " + std::to_string(count) + " needs " +
                      std::to_string(quota[static_cast<size_t>(c)]) + " images of class " +
                      std::to_string(c) + ", but the training split has only " +
                      std::to_string(taken[static_cast<size_t>(c)]));
    }
  }
  HeldOutSplit split;
  split.held_out.reserve(static_cast<size_t>(count));
  split.kept.reserve(static_cast<size_t>(n - count));
  for (int64_t i = 0; i < n; ++i)
    (held[static_cast<size_t>(i)] ? split.held_out : split.kept).push_back(i);
  return split;
}

}  // namespace ctmq::data
