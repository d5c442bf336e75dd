#include "ctmq/report/run_report.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/io/lineage.h"

namespace ctmq {
namespace {

std::string fixed(double value, int digits = 2) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.*f", digits, value);
  return buffer;
}

std::string cell(std::optional<double> value) {
  return value ? fixed(*value) : "-";
}

/// "val Top-1 | val Top-5 | best Top-1" cells of a stage ("-" where nothing was recorded).
std::string metric_cells(const StageRecord& record) {
  const auto& final_metrics = record.final_metrics;
  const auto& best = record.best_metrics;
  return cell(final_metrics ? std::optional<double>(final_metrics->val_top1) : std::nullopt) +
         " | " +
         cell(final_metrics ? std::optional<double>(final_metrics->val_top5) : std::nullopt) +
         " | " + cell(best ? std::optional<double>(best->val_top1) : std::nullopt);
}

/// " test Top-1 | test Top-5 |" cells (data.val_split runs).
std::string test_cells(const StageRecord& record) {
  const auto& test = record.test_metrics;
  return " " + cell(test ? std::optional<double>(test->top1) : std::nullopt) + " | " +
         cell(test ? std::optional<double>(test->top5) : std::nullopt) + " |";
}

bool has_test_metrics(const Manifest& manifest) {
  for (const auto& record : manifest.stages) {
    if (record.test_metrics) return true;
  }
  return false;
}

}  // namespace

std::string stage_table_markdown(const Manifest& manifest,
                                 const std::map<std::string, std::string>& stale) {
  const bool test = has_test_metrics(manifest);
  std::ostringstream out;
  out << "| stage | bits (w/a) | epochs | status | val Top-1 | val Top-5 | best Top-1 |"
      << (test ? " test Top-1 | test Top-5 |" : "") << "\n";
  out << "| --- | --- | --- | --- | --- | --- | --- |" << (test ? " --- | --- |" : "") << "\n";
  for (const auto& record : manifest.stages) {
    const Stage& s = record.stage;
    out << "| " << s.id << " | " << s.w_bits << "/" << s.a_bits << " | " << record.epochs_done
        << "/" << s.epochs << " | "
        << (stale.count(s.id) ? "stale (" + stale.at(s.id) + ")" : status_name(record.status))
        << " | " << metric_cells(record) << " |" << (test ? test_cells(record) : "") << "\n";
  }
  return out.str();
}

void write_accuracy_plot(const Manifest& manifest, const std::string& path) {
  const int width = 1000, height = 520, left = 70, right = 20, top = 50, bottom = 60;
  cv::Mat image(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  int64_t total_epochs = 0;
  double lowest = 100.0, highest = 0.0;
  for (const auto& record : manifest.stages) {
    total_epochs += record.stage.epochs;
    for (const auto& entry : record.history) {
      lowest = std::min(lowest, entry.val_top1);
      highest = std::max(highest, entry.val_top1);
    }
  }
  total_epochs = std::max<int64_t>(1, total_epochs);
  if (lowest > highest) lowest = 0.0, highest = 100.0;
  lowest = std::max(0.0, std::floor(lowest / 5.0) * 5.0 - 5.0);
  highest = std::min(100.0, std::ceil(highest / 5.0) * 5.0 + 5.0);
  auto x_of = [&](double epoch) {
    return left + static_cast<int>((width - left - right) * epoch / total_epochs);
  };
  auto y_of = [&](double top1) {
    return top + static_cast<int>((height - top - bottom) * (highest - top1) /
                                  std::max(1e-9, highest - lowest));
  };
  const auto black = cv::Scalar(0, 0, 0), grey = cv::Scalar(200, 200, 200);
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  for (double v = lowest; v <= highest + 1e-9; v += 5.0) {
    cv::line(image, {left, y_of(v)}, {width - right, y_of(v)}, cv::Scalar(235, 235, 235));
    cv::putText(image, fixed(v, 0), {left - 40, y_of(v) + 5}, font, 0.45, black);
  }
  cv::rectangle(image, {left, top}, {width - right, height - bottom}, black);
  cv::putText(image, "validation Top-1 (%) of " + manifest.name, {left, 30}, font, 0.6, black, 1,
              cv::LINE_AA);
  cv::putText(image, "cumulative epoch", {width / 2 - 70, height - 15}, font, 0.5, black);
  int64_t offset = 0;
  for (const auto& record : manifest.stages) {
    const Stage& s = record.stage;
    const bool fp = s.w_bits >= kFullPrecisionBits;
    const auto colour = fp ? cv::Scalar(180, 90, 30) : cv::Scalar(40, 40, 200);
    cv::line(image, {x_of(offset), top}, {x_of(offset), height - bottom}, grey);
    const std::string label = fp ? "fp" : std::to_string(s.w_bits) + "b";
    cv::putText(image, label, {x_of(offset) + 3, height - bottom + 18}, font, 0.4, colour);
    cv::Point previous(-1, -1);
    for (const auto& entry : record.history) {
      cv::Point point(x_of(static_cast<double>(entry.cumulative_epoch)), y_of(entry.val_top1));
      if (previous.x >= 0) cv::line(image, previous, point, colour, 2, cv::LINE_AA);
      cv::circle(image, point, 3, colour, cv::FILLED, cv::LINE_AA);
      previous = point;
    }
    offset += s.epochs;
  }
  std::vector<uchar> png;
  if (!cv::imencode(".png", image, png)) throw IoError(path + ": cannot encode PNG");
  write_file_atomic(path, std::string(png.begin(), png.end()));
}

std::string report_run(const std::string& run_dir) {
  RunPaths paths{run_dir};
  Manifest manifest = load_manifest(paths);
  std::string table = stage_table_markdown(manifest, stale_stages(manifest));
  std::ostringstream md;
  md << "# " << manifest.name << "\n\n"
     << "Run directory `" << run_dir << "`, spec hash `" << manifest.spec_hash << "`, ctmq "
     << manifest.ctmq_version << ".\n\n"
     << table << "\n![validation Top-1 per epoch](report.png)\n";
  write_file_atomic(run_dir + "/report.md", md.str());
  write_accuracy_plot(manifest, run_dir + "/report.png");
  return table + "\nwrote " + run_dir + "/report.md and " + run_dir + "/report.png\n";
}

std::string report_runs(const std::vector<std::string>& run_dirs) {
  std::vector<Manifest> manifests;
  bool test = false;
  for (const auto& dir : run_dirs) {
    manifests.push_back(load_manifest(RunPaths{dir}));
    test = test || has_test_metrics(manifests.back());
  }
  std::ostringstream out;
  out << "| run | last stage | bits (w/a) | val Top-1 | val Top-5 | best Top-1 | epochs | stages |"
      << (test ? " test Top-1 | test Top-5 |" : "") << "\n";
  out << "| --- | --- | --- | --- | --- | --- | --- | --- |" << (test ? " --- | --- |" : "")
      << "\n";
  // Runs of one spec (seeds, say) share its name: the directory then tells the rows apart.
  std::map<std::string, int> name_count;
  for (const auto& manifest : manifests) ++name_count[manifest.name];
  for (size_t i = 0; i < manifests.size(); ++i) {
    const Manifest& manifest = manifests[i];
    const std::string label =
        name_count[manifest.name] > 1 ? manifest.name + " (" + run_dirs[i] + ")" : manifest.name;
    const StageRecord* last = nullptr;
    int64_t epochs = 0;
    size_t done = 0;
    // A stale stage is finished but no longer the run's result: it counts as left to train.
    const std::map<std::string, std::string> stale = stale_stages(manifest);
    for (const auto& record : manifest.stages) {
      epochs += record.epochs_done;
      if (record.status == StageStatus::kDone && stale.count(record.stage.id) == 0) {
        last = &record;
        ++done;
      }
    }
    // The last finished stage of a run that stopped halfway is not its result: say so.
    const std::string stages =
        std::to_string(done) + "/" + std::to_string(manifest.stages.size()) +
        (done == manifest.stages.size() ? "" : " unfinished") +
        (stale.empty() ? "" : ", " + std::to_string(stale.size()) + " stale");
    if (!last) {
      out << "| " << label << " | - | - | - | - | - | " << epochs << " | " << stages << " |"
          << (test ? " - | - |" : "") << "\n";
      continue;
    }
    out << "| " << label << " | " << last->stage.id << " | " << last->stage.w_bits << "/"
        << last->stage.a_bits << " | " << metric_cells(*last) << " | " << epochs << " | " << stages
        << " |" << (test ? test_cells(*last) : "") << "\n";
  }
  return out.str();
}

}  // namespace ctmq
