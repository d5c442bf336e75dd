#pragma once
// What a dataset format fixes for a deployment: the normalisation its loaders apply and, for
// the built-in datasets, the class names in label order. The ImageNet layout's class names are
// its sorted class folders (image_folder_index.h), read by dataset_class_names.
//
// normalization_of and builtin_class_names are header-only, so that code recording them (the
// checkpoint metadata in io/) needs no link to the data loaders.

#include <string>
#include <vector>

#include "ctmq/data/sample_source.h"
#include "ctmq/data/tensor_source.h"
#include "ctmq/spec/spec.h"

namespace ctmq::data {

/// The normalisation the loaders apply to images of `format`.
inline Normalization normalization_of(DataFormat format) {
  switch (format) {
    case DataFormat::kImageNet:
      return kImageNetNormalization;
    case DataFormat::kFashionMnist:
      return kFashionMnistNormalization;
    case DataFormat::kCifar10:
      return kCifar10Normalization;
    case DataFormat::kCifar100:
      return kCifar100Normalization;
  }
  return {};
}

/// The class names a built-in dataset ships with, in label order (the names its own
/// documentation gives); empty for the ImageNet layout, whose names are its folders.
inline const std::vector<std::string>& builtin_class_names(DataFormat format) {
  static const std::vector<std::string> kNone;
  static const std::vector<std::string> kFashionMnist = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  static const std::vector<std::string> kCifar10 = {
      "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  // The fine labels, in the order of CIFAR-100's fine_label_names.txt.
  static const std::vector<std::string> kCifar100 = {
      "apple",       "aquarium_fish", "baby",      "bear",       "beaver",       "bed",
      "bee",         "beetle",        "bicycle",   "bottle",     "bowl",         "boy",
      "bridge",      "bus",           "butterfly", "camel",      "can",          "castle",
      "caterpillar", "cattle",        "chair",     "chimpanzee", "clock",        "cloud",
      "cockroach",   "couch",         "crab",      "crocodile",  "cup",          "dinosaur",
      "dolphin",     "elephant",      "flatfish",  "forest",     "fox",          "girl",
      "hamster",     "house",         "kangaroo",  "keyboard",   "lamp",         "lawn_mower",
      "leopard",     "lion",          "lizard",    "lobster",    "man",          "maple_tree",
      "motorcycle",  "mountain",      "mouse",     "mushroom",   "oak_tree",     "orange",
      "orchid",      "otter",         "palm_tree", "pear",       "pickup_truck", "pine_tree",
      "plain",       "plate",         "poppy",     "porcupine",  "possum",       "rabbit",
      "raccoon",     "ray",           "road",      "rocket",     "rose",         "sea",
      "seal",        "shark",         "shrew",     "skunk",      "skyscraper",   "snail",
      "snake",       "spider",        "squirrel",  "streetcar",  "sunflower",    "sweet_pepper",
      "table",       "tank",          "telephone", "television", "tiger",        "tractor",
      "train",       "tulip",         "turtle",    "wardrobe",   "whale",        "willow_tree",
      "wolf",        "woman",         "worm"};
  switch (format) {
    case DataFormat::kFashionMnist:
      return kFashionMnist;
    case DataFormat::kCifar10:
      return kCifar10;
    case DataFormat::kCifar100:
      return kCifar100;
    case DataFormat::kImageNet:
      break;
  }
  return kNone;
}

/// The class names of the data `spec` names, in label order: the sorted class folders of
/// ROOT/train for the ImageNet layout (a directory listing, no image is read), else the
/// built-in names. Throws DataError naming the path where ROOT/train is missing or empty.
std::vector<std::string> dataset_class_names(const DataSpec& spec);

}  // namespace ctmq::data
