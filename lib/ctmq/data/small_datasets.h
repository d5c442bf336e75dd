#pragma once
// Fashion-MNIST (IDX files, gzipped or not) and CIFAR-10/100 (binary versions), loaded whole
// into uint8 tensors. Every header, size and label problem is a DataError naming the file.

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace ctmq::data {

/// A whole split in memory.
struct ImageTensorSet {
  torch::Tensor images;  ///< uint8 [N, C, H, W]
  torch::Tensor labels;  ///< int64 [N]
  int64_t num_classes = 0;
};

/// A file's bytes, inflated when it is gzip (zlib reads plain files unchanged).
std::vector<uint8_t> read_maybe_gzip(const std::string& path);

/// An IDX image file (magic 0x00000803) and label file (0x00000801) of the same length.
ImageTensorSet read_idx(const std::string& images_path, const std::string& labels_path,
                        int64_t num_classes);

/// ROOT/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].
ImageTensorSet read_fashion_mnist(const std::string& root, bool train);

/// CIFAR-10: ROOT/data_batch_{1..5}.bin or ROOT/test_batch.bin (records: label, 3072 pixels).
/// CIFAR-100: ROOT/train.bin or ROOT/test.bin (coarse label, fine label, 3072 pixels); the
/// label is the fine one. ROOT may also be the folder above cifar-10-batches-bin/ or
/// cifar-100-binary/.
ImageTensorSet read_cifar(const std::string& root, bool cifar100, bool train);

}  // namespace ctmq::data
