#include "ctmq/data/image_folder_index.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/directory.h"
#include "ctmq/core/errors.h"
#include "ctmq/data/image_decode.h"
#include "ctmq/data/val_label_file.h"

namespace fs = std::filesystem;

namespace ctmq::data {
namespace {

constexpr const char* kCacheMagic = "ctmq-image-index 1";

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

/// The entries of `dir`; a folder that cannot be read is a DataError naming it.
std::vector<std::string> folder_entries(const fs::path& dir) {
  try {
    return directory_entries(dir.string());
  } catch (const std::system_error& e) {
    throw DataError("cannot list " + dir.string() + ": " + e.code().message());
  }
}

std::vector<std::string> subdirectories(const fs::path& dir) {
  std::vector<std::string> names;
  for (std::string& name : folder_entries(dir)) {
    if (is_dir(dir / name)) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// Image-named entries of a folder, sorted (directories and broken links included: the checks
/// report them).
std::vector<std::string> image_names(const fs::path& dir) {
  std::vector<std::string> names;
  for (std::string& name : folder_entries(dir)) {
    if (has_image_extension(name)) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

int64_t mtime_ns(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::string hex(uint64_t v) {
  std::ostringstream out;
  out << std::hex << v;
  return out.str();
}

std::string default_cache_dir() {
  if (const char* dir = std::getenv("CTMQ_CACHE_DIR"); dir && *dir) return dir;
  if (const char* dir = std::getenv("XDG_CACHE_HOME"); dir && *dir)
    return std::string(dir) + "/ctmq";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/ctmq";
  return "";
}

std::string resolve_label_file(const std::string& root, const std::string& val_labels) {
  if (val_labels.empty() || fs::path(val_labels).is_absolute()) return val_labels;
  std::error_code ec;
  if (fs::exists(val_labels, ec)) return val_labels;
  return (fs::path(root) / val_labels).string();
}

/// Everything whose change must invalidate the cache, as one string.
std::string cache_key(const std::string& root, const std::string& split, const fs::path& split_dir,
                      const std::vector<std::string>& folders, const std::string& label_file,
                      const std::vector<std::string>& classes) {
  std::ostringstream key;
  key << root << '\n' << split << '\n' << mtime_ns(split_dir.string()) << '\n';
  for (const auto& f : folders) key << f << ' ' << mtime_ns((split_dir / f).string()) << '\n';
  if (!label_file.empty()) key << label_file << ' ' << mtime_ns(label_file) << '\n';
  for (const auto& c : classes) key << c << ',';
  return hex(fnv1a(key.str()));
}

bool read_cache_lines(const std::string& path, const std::string& key, ImageFolderIndex& index) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line != kCacheMagic) return false;
  if (!std::getline(in, line) || line != "key\t" + key) return false;
  std::vector<std::string> classes;
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    const auto tab2 = line.find('\t', tab + 1);
    if (tab == std::string::npos) return false;
    const std::string kind = line.substr(0, tab);
    if (kind == "img" && tab2 != std::string::npos) {
      index.images.push_back(
          {line.substr(tab2 + 1), std::stoll(line.substr(tab + 1, tab2 - tab - 1))});
    } else if (kind == "bad" && tab2 != std::string::npos) {
      index.bad_files.push_back(
          {index.split_dir + "/" + line.substr(tab + 1, tab2 - tab - 1), line.substr(tab2 + 1)});
    } else if (kind == "class") {
      classes.push_back(line.substr(tab + 1));
    } else if (kind == "end") {
      index.classes = classes;
      index.from_cache = true;
      return true;
    }
  }
  return false;  // no end line: a partial file
}

/// False for a missing, stale or damaged cache.
bool read_cache(const std::string& path, const std::string& key, ImageFolderIndex& index) {
  try {
    return read_cache_lines(path, key, index);
  } catch (const std::exception&) {  // a damaged number: rescan
    return false;
  }
}

void write_cache(const std::vector<std::string>& candidates, const std::string& key,
                 const ImageFolderIndex& index) {
  const size_t prefix = index.split_dir.size() + 1;
  for (const auto& path : candidates) {
    try {
      fs::create_directories(fs::path(path).parent_path());
      write_file_atomic(path, [&](std::ostream& out) {
        out << kCacheMagic << "\nkey\t" << key << '\n';
        for (const auto& c : index.classes) out << "class\t" << c << '\n';
        for (const auto& e : index.images)
          out << "img\t" << e.label << '\t' << e.relative_path << '\n';
        for (const auto& b : index.bad_files) {
          out << "bad\t" << b.path.substr(prefix) << '\t' << b.reason << '\n';
        }
        out << "end\t\n";
      });
      return;
    } catch (const std::exception&) {
      // Not writable: try the next place; without any, every start rescans.
    }
  }
}

}  // namespace

std::string check_image_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    struct stat lst {};
    if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) return "dangling symlink";
    return std::string("cannot stat: ") + std::strerror(errno);
  }
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (st.st_size == 0) return "empty file";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string("unreadable: ") + std::strerror(errno);
  uint8_t head[32] = {};
  uint8_t tail[256] = {};
  const ssize_t head_n = ::pread(fd, head, sizeof(head), 0);
  const off_t tail_at = std::max<off_t>(0, st.st_size - static_cast<off_t>(sizeof(tail)));
  const ssize_t tail_n = ::pread(fd, tail, sizeof(tail), tail_at);
  ::close(fd);
  if (head_n <= 0 || tail_n <= 0) return "unreadable: read error";
  switch (sniff_image_kind(head, static_cast<size_t>(head_n))) {
    case ImageKind::kUnknown:
      return "not an image (unrecognised header)";
    case ImageKind::kJpeg:
      return jpeg_has_eoi(tail, static_cast<size_t>(tail_n)) ? ""
                                                             : "truncated JPEG (no EOI marker)";
    case ImageKind::kPng:
      return png_has_iend(tail, static_cast<size_t>(tail_n)) ? "" : "truncated PNG (no IEND chunk)";
    default:
      return "";
  }
}

std::vector<std::string> imagenet_classes(const std::string& root) {
  if (!is_dir(root))
    throw DataError("imagenet root " + root + " does not exist or is not a folder");
  const fs::path train = fs::path(root) / "train";
  if (!is_dir(train)) throw DataError("missing split: " + train.string() + " does not exist");
  auto classes = subdirectories(train);
  if (classes.empty()) throw DataError("no class folders in " + train.string());
  return classes;
}

ImageFolderIndex scan_image_folder(const std::string& root, const std::string& split,
                                   const std::vector<std::string>& classes,
                                   const ScanOptions& options) {
  if (!is_dir(root))
    throw DataError("imagenet root " + root + " does not exist or is not a folder");
  std::error_code ec;
  const std::string canonical_root = fs::canonical(root, ec).string();
  const fs::path split_dir = fs::path(canonical_root) / split;
  if (!is_dir(split_dir))
    throw DataError("missing split: " + split_dir.string() + " does not exist");

  ImageFolderIndex index;
  index.split_dir = split_dir.string();
  index.classes = classes;
  auto problem = [&](const std::string& message) {
    if (!options.collect_problems) throw DataError(message);
    index.problems.push_back(message);
  };
  std::vector<std::string> folders = subdirectories(split_dir);
  std::string label_file;
  // Folder names that look like images (x.jpg/) are bad files of a flat split, not classes.
  const bool flat =
      split != "train" && std::all_of(folders.begin(), folders.end(), has_image_extension);
  if (flat) {
    folders.clear();
    if (options.val_labels.empty()) {
      if (image_names(split_dir).empty()) {
        problem("no images in " + split_dir.string());
        return index;
      }
      problem(split_dir.string() +
              " holds images but no class folders; name its label file in data.val_labels");
    }
    label_file = resolve_label_file(canonical_root, options.val_labels);
  } else if (index.classes.empty()) {
    index.classes = folders;
  }

  const std::string key =
      cache_key(canonical_root, split, split_dir, folders, label_file, index.classes);
  const std::string cache_dir = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  std::vector<std::string> cache_paths = {canonical_root + "/.ctmq-index-" + split + ".txt"};
  if (!cache_dir.empty()) {
    cache_paths.push_back(cache_dir + "/" + hex(fnv1a(canonical_root)) + "-" + split + ".txt");
  }
  if (options.use_cache) {
    for (const auto& path : cache_paths) {
      ImageFolderIndex cached = index;
      if (read_cache(path, key, cached)) return cached;
    }
  }

  // (folder, label) work items; a flat split is one folder with per-file labels.
  std::unordered_map<std::string, int64_t> file_labels;
  // Without usable labels a flat split's files are still checked, so that their problems show.
  bool labels_known = !flat || !options.val_labels.empty();
  std::vector<std::pair<std::string, int64_t>> work;
  if (flat) {
    if (labels_known) {
      try {
        file_labels = read_val_labels(label_file, index.classes);
      } catch (const DataError& e) {
        problem(e.what());
        labels_known = false;
      }
    }
    work.emplace_back("", -1);
  } else {
    std::unordered_map<std::string, int64_t> class_index;
    for (size_t c = 0; c < index.classes.size(); ++c) class_index[index.classes[c]] = c;
    for (const auto& f : folders) {
      const auto it = class_index.find(f);
      if (it == class_index.end()) {
        problem("class folder " + (split_dir / f).string() + " is not a class of train/");
        continue;
      }
      work.emplace_back(f, it->second);
    }
  }

  std::vector<std::vector<ImageEntry>> good(work.size());
  std::vector<std::vector<BadFile>> bad(work.size());
  std::vector<std::string> errors(work.size());
  std::atomic<size_t> next{0};
  auto scan_worker = [&] {
    for (size_t w; (w = next++) < work.size();) {
      try {
        const auto& [folder, label] = work[w];
        const fs::path dir = folder.empty() ? split_dir : split_dir / folder;
        for (const auto& name : image_names(dir)) {
          const std::string relative = folder.empty() ? name : folder + "/" + name;
          const std::string path = (dir / name).string();
          int64_t file_label = label;
          if (!labels_known) {
            if (std::string reason = check_image_file(path); !reason.empty()) {
              bad[w].push_back({path, reason});
            }
            continue;
          }
          if (flat) {
            auto it = file_labels.find(name);
            if (it == file_labels.end()) it = file_labels.find(fs::path(name).stem().string());
            if (it == file_labels.end()) {
              bad[w].push_back({path, "no label in " + label_file});
              continue;
            }
            file_label = it->second;
          }
          const std::string reason = check_image_file(path);
          if (reason.empty()) {
            good[w].push_back({relative, file_label});
          } else {
            bad[w].push_back({path, reason});
          }
        }
      } catch (const std::exception& e) {
        errors[w] = e.what();
      }
    }
  };
  const int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(work.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(scan_worker);
  scan_worker();
  for (auto& t : pool) t.join();

  for (size_t w = 0; w < work.size(); ++w) {
    if (!errors[w].empty()) problem(errors[w]);
    if (good[w].empty() && !flat && errors[w].empty()) {
      problem("empty class folder " + (split_dir / work[w].first).string() +
              (bad[w].empty() ? "" : " (all of its images are bad)"));
    }
    index.images.insert(index.images.end(), good[w].begin(), good[w].end());
    index.bad_files.insert(index.bad_files.end(), bad[w].begin(), bad[w].end());
  }
  if (index.images.empty() && index.problems.empty()) {
    problem("no images in " + split_dir.string());
  }
  if (options.use_cache && index.problems.empty()) write_cache(cache_paths, key, index);
  return index;
}

}  // namespace ctmq::data
