#pragma once
// The file index of an ImageNet-style tree: ROOT/<split>/<wnid>/<image>, or a flat ROOT/val/
// with a label file. Class indices follow the sorted wnid folder names of ROOT/train, as
// torchvision's ImageFolder numbers them.
//
// Cheap checks run at scan time, once per file: a dangling symlink, a directory or other
// non-file with an image name, an empty or unreadable file, an unknown header, a JPEG without
// its EOI marker, a PNG without IEND. Files that decode badly are found later, by the loader.
//
// Index cache: walking 1.28M files takes minutes on a cold disk, so the result is cached as a
// text file, ROOT/.ctmq-index-<split>.txt when ROOT is writable, else
// <cache dir>/<hash of ROOT>-<split>.txt, where the cache dir is ScanOptions::cache_dir, or
// $CTMQ_CACHE_DIR, or $XDG_CACHE_HOME/ctmq, or ~/.cache/ctmq. The cache is keyed by ROOT, the
// split, and the modification times of the split folder, of every class folder and of the
// label file: adding, removing or renaming a file changes its folder's mtime and so
// invalidates the cache; rewriting a file in place does not (`ctmq data check` still sees it).

#include <cstdint>
#include <string>
#include <vector>

namespace ctmq::data {

struct BadFile {
  std::string path;
  std::string reason;
};

struct ImageEntry {
  std::string relative_path;  ///< below the split folder
  int64_t label = 0;
};

struct ImageFolderIndex {
  std::string split_dir;             ///< ROOT/<split>
  std::vector<std::string> classes;  ///< wnids, sorted; index = class label
  std::vector<ImageEntry> images;    ///< good files, in class then file-name order
  std::vector<BadFile> bad_files;    ///< left out by the scan-time checks
  /// Structural problems (an empty or unknown class folder, a missing label file...), one line
  /// each naming the path; only filled with ScanOptions::collect_problems, else they throw.
  std::vector<std::string> problems;
  bool from_cache = false;
  std::string path(int64_t i) const { return split_dir + "/" + images[i].relative_path; }
};

struct ScanOptions {
  std::string val_labels;  ///< label file for a flat val/; relative paths are tried below ROOT
  std::string cache_dir;   ///< "" = $CTMQ_CACHE_DIR, $XDG_CACHE_HOME/ctmq or ~/.cache/ctmq
  bool use_cache = true;
  int threads = 8;  ///< file checks run in parallel over class folders
  /// `ctmq data check`: record structural problems in ImageFolderIndex::problems and go on
  /// scanning, so that one pass reports everything; a missing root or split still throws.
  bool collect_problems = false;
};

/// Sorted class folder names of ROOT/train; throws DataError naming the path when ROOT or
/// ROOT/train is missing or holds no class folder.
std::vector<std::string> imagenet_classes(const std::string& root);

/// Scans ROOT/<split>. `classes` fixes the labels (pass imagenet_classes(root)); an empty list
/// takes this split's own folder names. Throws DataError naming the path for a missing split,
/// an empty class folder, a split without images, a flat val/ without a label file, or a
/// malformed label file (with ScanOptions::collect_problems, all but the first are recorded).
ImageFolderIndex scan_image_folder(const std::string& root, const std::string& split,
                                   const std::vector<std::string>& classes,
                                   const ScanOptions& options = {});

/// "" when the file passes the scan-time checks, else why not.
std::string check_image_file(const std::string& path);

}  // namespace ctmq::data
