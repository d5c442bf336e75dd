#include "ctmq/data/dataset_info.h"

#include "ctmq/data/image_folder_index.h"

namespace ctmq::data {

std::vector<std::string> dataset_class_names(const DataSpec& spec) {
  if (spec.format == DataFormat::kImageNet) return imagenet_classes(spec.root);
  return builtin_class_names(spec.format);
}

}  // namespace ctmq::data
