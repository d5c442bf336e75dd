#include "ctmq/data/data_check.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "ctmq/core/errors.h"
#include "ctmq/data/image_decode.h"
#include "ctmq/data/jpeg_data_check.h"
#include "ctmq/data/sample_source.h"
#include "ctmq/data/small_datasets.h"

namespace ctmq {
namespace {

namespace fs = std::filesystem;

/// Decodes every indexed image; the ones that fail move to the bad files.
void decode_all(const data::ImageFolderIndex& index, int64_t threads, DataCheckSplit& split) {
  const size_t n = index.images.size();
  std::vector<std::string> reasons(n);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < n;) {
      try {
        const auto bytes = data::read_file_bytes(index.path(i));
        std::string reason = data::check_image_bytes(bytes);
        if (reason.empty() &&
            data::sniff_image_kind(bytes.data(), bytes.size()) == data::ImageKind::kJpeg) {
          reason = data::jpeg_data_problem(bytes);
        }
        if (reason.empty() && data::decode_image(bytes).empty()) reason = "cannot be decoded";
        reasons[i] = reason;
      } catch (const data::BadSampleError& e) {
        reasons[i] = e.reason();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  split.images_per_class.assign(index.classes.size(), 0);
  for (size_t i = 0; i < n; ++i) {
    if (reasons[i].empty()) {
      ++split.images;
      ++split.images_per_class[index.images[i].label];
    } else {
      split.bad_files.push_back({index.path(i), reasons[i]});
    }
  }
}

void check_imagenet(DataCheckReport& report, const std::string& val_labels, int64_t threads) {
  std::vector<std::string> classes;
  for (const std::string name : {"train", "val"}) {
    DataCheckSplit split;
    split.name = name;
    try {
      if (name == "train") classes = data::imagenet_classes(report.root);
      data::ScanOptions options;
      options.val_labels = val_labels;
      options.use_cache = false;
      options.threads = static_cast<int>(threads);
      options.collect_problems = true;
      const auto index = data::scan_image_folder(report.root, name, classes, options);
      if (classes.empty()) classes = index.classes;
      split.errors = index.problems;
      split.bad_files = index.bad_files;
      decode_all(index, threads, split);
    } catch (const DataError& e) {
      split.errors.push_back(e.what());
    }
    report.splits.push_back(std::move(split));
  }
  report.num_classes = static_cast<int64_t>(classes.size());
}

/// For a folder that is not in ImageNet layout: the --format its files suggest.
std::string format_hint(const std::string& root) {
  const fs::path dir(root);
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || fs::exists(dir / "train", ec) || fs::exists(dir / "val", ec)) {
    return "";
  }
  auto has = [&](std::initializer_list<const char*> names) {
    for (const char* name : names) {
      if (fs::exists(dir / name, ec)) return true;
    }
    return false;
  };
  const std::string layout = root +
                             " is not in ImageNet layout (train/<class>/<image> and "
                             "val/<class>/<image>)";
  if (has({"train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"})) {
    return layout + "; it holds Fashion-MNIST files: pass --format fashion-mnist";
  }
  if (has({"cifar-10-batches-bin", "data_batch_1.bin"})) {
    return layout + "; it holds CIFAR-10 files: pass --format cifar10";
  }
  if (has({"cifar-100-binary", "train.bin"})) {
    return layout + "; it holds CIFAR-100 files: pass --format cifar100";
  }
  return layout + "; for another dataset pass --format (fashion-mnist, cifar10, cifar100)";
}

void check_small(DataCheckReport& report) {
  const bool fmnist = report.format == DataFormat::kFashionMnist;
  for (const std::string name : {"train", "val"}) {
    DataCheckSplit split;
    split.name = name;
    try {
      const bool train = name == "train";
      const auto set =
          fmnist ? data::read_fashion_mnist(report.root, train)
                 : data::read_cifar(report.root, report.format == DataFormat::kCifar100, train);
      report.num_classes = set.num_classes;
      split.images = set.labels.size(0);
      const auto counts = torch::bincount(set.labels, {}, set.num_classes);
      for (int64_t c = 0; c < set.num_classes; ++c) {
        split.images_per_class.push_back(counts[c].item<int64_t>());
      }
    } catch (const DataError& e) {
      split.errors.push_back(e.what());
    }
    report.splits.push_back(std::move(split));
  }
}

}  // namespace

bool DataCheckReport::ok() const {
  return std::all_of(splits.begin(), splits.end(),
                     [](const auto& s) { return s.errors.empty() && s.bad_files.empty(); });
}

DataCheckReport check_dataset(const std::string& root, DataFormat format,
                              const std::string& val_labels, int64_t threads) {
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  DataCheckReport report;
  report.root = root;
  report.format = format;
  if (format == DataFormat::kImageNet) {
    check_imagenet(report, val_labels, threads);
    report.hint = format_hint(root);
  } else {
    check_small(report);
  }
  return report;
}

nlohmann::json to_json(const DataCheckReport& report) {
  nlohmann::json j;
  j["root"] = report.root;
  j["format"] = choice_name(report.format);
  j["num_classes"] = report.num_classes;
  j["ok"] = report.ok();
  if (!report.hint.empty()) j["hint"] = report.hint;
  j["splits"] = nlohmann::json::array();
  for (const auto& split : report.splits) {
    nlohmann::json s;
    s["name"] = split.name;
    s["images"] = split.images;
    s["images_per_class"] = split.images_per_class;
    s["bad_files"] = nlohmann::json::array();
    for (const auto& bad : split.bad_files) {
      s["bad_files"].push_back({{"path", bad.path}, {"reason", bad.reason}});
    }
    if (!split.errors.empty()) s["errors"] = split.errors;
    j["splits"].push_back(s);
  }
  return j;
}

void print_data_check(std::ostream& out, const DataCheckReport& report) {
  out << choice_name(report.format) << " at " << report.root << ": " << report.num_classes
      << " classes\n";
  for (const auto& split : report.splits) {
    for (const auto& error : split.errors) out << "  " << split.name << ": ERROR " << error << "\n";
    out << "  " << split.name << ": " << split.images << " images, " << split.bad_files.size()
        << " bad\n";
    for (const auto& bad : split.bad_files)
      out << "    bad: " << bad.path << ": " << bad.reason << "\n";
  }
  if (!report.hint.empty()) out << "  hint: " << report.hint << "\n";
  out << (report.ok() ? "OK\n" : "PROBLEMS FOUND\n");
}

}  // namespace ctmq
