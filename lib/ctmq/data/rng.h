#pragma once
// Deterministic, platform-independent randomness for the data pipeline. std::shuffle and the
// std:: distributions differ between standard libraries, so orders and augmentations are
// derived here from splitmix64 (Steele et al., "Fast splittable pseudorandom number
// generators", 2014): the same (seed, epoch, sample) gives the same bytes everywhere.

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace ctmq::data {

/// One splitmix64 step: a well-mixed 64-bit value from any 64-bit state.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// A seed derived from several integers, e.g. (seed, epoch, sample index).
inline uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c = 0) {
  return splitmix64(splitmix64(splitmix64(a) ^ b) ^ c);
}

/// A small generator for per-sample augmentation; cheap to create for every sample.
class SampleRng {
 public:
  explicit SampleRng(uint64_t seed) : state_(seed) {}
  uint64_t next_u64() {
    state_ += 0x9E3779B97F4A7C15ULL;
    return splitmix64(state_);
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [0, n); n > 0. The modulo bias is below 2^-40 for any n we use.
  int64_t below(int64_t n) { return static_cast<int64_t>(next_u64() % static_cast<uint64_t>(n)); }
  bool coin() { return (next_u64() >> 63) != 0; }

 private:
  uint64_t state_;
};

/// 0..n-1 shuffled by Fisher-Yates with `seed` (identity when shuffle is false).
inline std::vector<int64_t> permutation(int64_t n, uint64_t seed, bool shuffle = true) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!shuffle) return order;
  SampleRng rng(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  return order;
}

}  // namespace ctmq::data
