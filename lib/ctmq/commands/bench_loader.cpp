#include "ctmq/commands/bench_loader.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ctmq/core/errors.h"
#include "ctmq/data/data_loader.h"
#include "ctmq/data/dataset_factory.h"
#include "ctmq/data/rng.h"

namespace ctmq {

nlohmann::json bench_loader(const DataSpec& spec, int64_t threads, int64_t images) {
  const auto sources = data::open_sources(spec, /*with_val=*/false);
  LoaderOptions options;
  options.batch_size = spec.batch_size;
  options.workers = threads;
  options.prefetch = spec.prefetch;
  options.skip_bad = spec.on_bad_image != BadImagePolicy::kFail;
  DataLoader loader(sources.train, options, sources.bad_train);

  int64_t seen = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t epoch = 0; seen < images; ++epoch) {
    loader.start_epoch(epoch);
    while (seen < images) {
      auto batch = loader.next();
      if (!batch) break;
      seen += batch->images.size(0);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {{"format", choice_name(spec.format)},
          {"threads", threads},
          {"images", seen},
          {"seconds", seconds},
          {"images_per_s", seen / seconds},
          {"batch_size", spec.batch_size},
          {"image_size", sources.train->height()}};
}

void make_fake_imagenet(const std::string& root, int64_t classes, int64_t train_per_class,
                        int64_t val_per_class, int width, int height, uint64_t seed) {
  namespace fs = std::filesystem;
  const std::vector<int> params = {cv::IMWRITE_JPEG_QUALITY, 90};
  for (const auto& [split, per_class] :
       {std::pair<std::string, int64_t>{"train", train_per_class}, {"val", val_per_class}}) {
    for (int64_t c = 0; c < classes; ++c) {
      char wnid[32];
      std::snprintf(wnid, sizeof(wnid), "n%08lld", static_cast<long long>(1000000 + c));
      const fs::path dir = fs::path(root) / split / wnid;
      fs::create_directories(dir);
      for (int64_t i = 0; i < per_class; ++i) {
        data::SampleRng rng(data::mix_seed(seed, c * 1000003 + i, split == "train"));
        cv::RNG cv_rng(rng.next_u64());
        // A coarse random colour field blown up smoothly, a few shapes, then noise.
        cv::Mat coarse(6, 8, CV_8UC3), image;
        cv_rng.fill(coarse, cv::RNG::UNIFORM, 0, 256);
        cv::resize(coarse, image, cv::Size(width, height), 0, 0, cv::INTER_CUBIC);
        for (int s = 0; s < 12; ++s) {
          const cv::Scalar colour(cv_rng.uniform(0, 256), cv_rng.uniform(0, 256),
                                  cv_rng.uniform(0, 256));
          const cv::Point centre(cv_rng.uniform(0, width), cv_rng.uniform(0, height));
          cv::circle(image, centre, cv_rng.uniform(5, height / 3), colour, -1, cv::LINE_AA);
        }
        cv::Mat noise(image.size(), CV_16SC3), noisy;
        cv_rng.fill(noise, cv::RNG::NORMAL, 0, 14);
        cv::GaussianBlur(noise, noise, cv::Size(3, 3), 0.8);
        image.convertTo(noisy, CV_16SC3);
        noisy += noise;
        noisy.convertTo(image, CV_8UC3);
        char name[64];
        std::snprintf(name, sizeof(name), "%s_%lld.JPEG", wnid, static_cast<long long>(i));
        if (!cv::imwrite((dir / name).string(), image, params)) {
          throw IoError("cannot write " + (dir / name).string());
        }
      }
    }
  }
}

}  // namespace ctmq
