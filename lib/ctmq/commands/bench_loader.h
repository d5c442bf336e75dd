#pragma once
// `ctmq bench loader`: train-transform throughput of the loader, and a fake ImageNet tree to
// measure it on (bench/loader_bench.sh runs it beside torchvision's ImageFolder).

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ctmq/spec/spec.h"

namespace ctmq {

/// Loads at least `images` train images of `spec` (several epochs if needed) with `threads`
/// decoding threads and returns {"format", "threads", "images", "seconds", "images_per_s",
/// "batch_size", "image_size"}. The index scan is not timed.
nlohmann::json bench_loader(const DataSpec& spec, int64_t threads, int64_t images);

/// Writes an ImageNet-like tree: ROOT/{train,val}/nXXXXXXXX/*.JPEG, `classes` folders with
/// `train_per_class` and `val_per_class` photos-like JPEGs of `width` x `height`, quality 90
/// (smooth colour fields, shapes and sensor-like noise, so file sizes resemble ImageNet's).
void make_fake_imagenet(const std::string& root, int64_t classes, int64_t train_per_class,
                        int64_t val_per_class, int width = 500, int height = 375,
                        uint64_t seed = 0);

}  // namespace ctmq
