#include "ctmq/data/small_datasets.h"

#include <zlib.h>

#include <cstring>
#include <filesystem>

#include "ctmq/core/errors.h"

namespace fs = std::filesystem;

namespace ctmq::data {
namespace {

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

/// `base` or `base`.gz, whichever exists.
std::string find_file(const std::string& root, const std::string& base) {
  for (const std::string& name : {base, base + ".gz"}) {
    const fs::path p = fs::path(root) / name;
    std::error_code ec;
    if (fs::exists(p, ec)) return p.string();
  }
  throw DataError("missing file: " + (fs::path(root) / base).string() + "[.gz] does not exist");
}

void check_labels(const torch::Tensor& labels, int64_t num_classes, const std::string& path) {
  if (labels.numel() == 0) return;
  const int64_t max = labels.max().item<int64_t>();
  if (max >= num_classes) {
    throw DataError(path + ": label " + std::to_string(max) + " is out of range (" +
                    std::to_string(num_classes) + " classes)");
  }
}

}  // namespace

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw DataError("cannot open " + path);
  gzbuffer(file, 1 << 17);
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  int n;
  while ((n = gzread(file, chunk, sizeof(chunk))) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
  int code = Z_OK;
  const char* message = gzerror(file, &code);
  const std::string reason = message ? message : "";
  gzclose(file);
  if (n < 0 || (code != Z_OK && code != Z_STREAM_END)) {
    throw DataError(path + ": corrupt or truncated gzip data (" + reason + ")");
  }
  return bytes;
}

ImageTensorSet read_idx(const std::string& images_path, const std::string& labels_path,
                        int64_t num_classes) {
  const auto images = read_maybe_gzip(images_path);
  const auto labels = read_maybe_gzip(labels_path);
  if (images.size() < 16 || big_endian_u32(images.data()) != 0x00000803) {
    throw DataError(images_path + ": not an IDX image file (expected magic 0x00000803)");
  }
  if (labels.size() < 8 || big_endian_u32(labels.data()) != 0x00000801) {
    throw DataError(labels_path + ": not an IDX label file (expected magic 0x00000801)");
  }
  const int64_t n = big_endian_u32(images.data() + 4);
  const int64_t rows = big_endian_u32(images.data() + 8);
  const int64_t cols = big_endian_u32(images.data() + 12);
  if (static_cast<int64_t>(images.size()) != 16 + n * rows * cols) {
    throw DataError(images_path + ": size " + std::to_string(images.size()) +
                    " bytes does not match its header (" + std::to_string(n) + " images of " +
                    std::to_string(rows) + "x" + std::to_string(cols) + ")");
  }
  const int64_t n_labels = big_endian_u32(labels.data() + 4);
  if (static_cast<int64_t>(labels.size()) != 8 + n_labels) {
    throw DataError(labels_path + ": size " + std::to_string(labels.size()) +
                    " bytes does not match its header (" + std::to_string(n_labels) + " labels)");
  }
  if (n_labels != n) {
    throw DataError(labels_path + " holds " + std::to_string(n_labels) + " labels but " +
                    images_path + " holds " + std::to_string(n) + " images");
  }
  ImageTensorSet set;
  set.num_classes = num_classes;
  set.images = torch::empty({n, 1, rows, cols}, torch::kUInt8);
  std::memcpy(set.images.data_ptr<uint8_t>(), images.data() + 16, images.size() - 16);
  set.labels = torch::empty({n}, torch::kUInt8);
  std::memcpy(set.labels.data_ptr<uint8_t>(), labels.data() + 8, labels.size() - 8);
  set.labels = set.labels.to(torch::kInt64);
  check_labels(set.labels, num_classes, labels_path);
  return set;
}

ImageTensorSet read_fashion_mnist(const std::string& root, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  return read_idx(find_file(root, prefix + "-images-idx3-ubyte"),
                  find_file(root, prefix + "-labels-idx1-ubyte"), 10);
}

ImageTensorSet read_cifar(const std::string& root, bool cifar100, bool train) {
  std::string dir = root;
  const char* sub = cifar100 ? "cifar-100-binary" : "cifar-10-batches-bin";
  std::error_code ec;
  if (fs::is_directory(fs::path(root) / sub, ec)) dir = (fs::path(root) / sub).string();
  std::vector<std::string> files;
  if (cifar100) {
    files.push_back(train ? "train.bin" : "test.bin");
  } else if (train) {
    for (int b = 1; b <= 5; ++b) files.push_back("data_batch_" + std::to_string(b) + ".bin");
  } else {
    files.push_back("test_batch.bin");
  }
  const int64_t label_bytes = cifar100 ? 2 : 1;
  const int64_t record = label_bytes + 3 * 32 * 32;
  const int64_t num_classes = cifar100 ? 100 : 10;

  std::vector<std::vector<uint8_t>> contents;
  int64_t total = 0;
  for (const auto& name : files) {
    const std::string path = find_file(dir, name);
    contents.push_back(read_maybe_gzip(path));
    const auto size = static_cast<int64_t>(contents.back().size());
    if (size == 0 || size % record != 0) {
      throw DataError(path + ": size " + std::to_string(size) + " bytes is not a multiple of the " +
                      std::to_string(record) + "-byte CIFAR record; is this the binary version?");
    }
    for (int64_t r = 0; r < size / record; ++r) {
      const int64_t label = contents.back()[r * record + label_bytes - 1];
      if (label >= num_classes) {
        throw DataError(path + ": record " + std::to_string(r) + " has label " +
                        std::to_string(label) + ", out of range (" + std::to_string(num_classes) +
                        " classes)");
      }
    }
    total += size / record;
  }
  ImageTensorSet set;
  set.num_classes = num_classes;
  set.images = torch::empty({total, 3, 32, 32}, torch::kUInt8);
  set.labels = torch::empty({total}, torch::kInt64);
  uint8_t* pixels = set.images.data_ptr<uint8_t>();
  int64_t* labels = set.labels.data_ptr<int64_t>();
  int64_t i = 0;
  for (const auto& bytes : contents) {
    for (size_t at = 0; at < bytes.size(); at += record, ++i) {
      labels[i] = bytes[at + label_bytes - 1];
      std::memcpy(pixels + i * 3072, bytes.data() + at + label_bytes, 3072);
    }
  }
  return set;
}

}  // namespace ctmq::data
