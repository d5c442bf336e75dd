#include "ctmq/data/jpeg_region_decode.h"

#ifdef CTMQ_HAVE_LIBJPEG_TURBO

#include <algorithm>
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t declared first

#include <jpeglib.h>

namespace ctmq::data {
namespace {

// libjpeg reports fatal errors through error_exit, which by default calls exit(); this one jumps
// back to the decoder, which gives up and lets OpenCV try.
struct JumpingErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
};

[[noreturn]] void jump_on_jpeg_error(j_common_ptr info) {
  std::longjmp(reinterpret_cast<JumpingErrorManager*>(info->err)->jump, 1);
}

// Warnings (such as "premature end of data segment") are not printed: OpenCV does not print them
// either, and the loader reports truncated files itself.
void ignore_jpeg_message(j_common_ptr) {}

// Fancy (smooth) chroma upsampling reads one neighbouring chroma sample on each side, so
// pixels at the edge of a cropped decode differ from a full decode. Decoding this many extra
// pixels around the region (one 4:2:0 MCU) and cutting them off afterwards keeps them equal.
constexpr int kRegionMargin = 16;

// Every libjpeg call of one decode, in a frame that owns no object with a destructor: a libjpeg
// error longjmps back to the setjmp here, and no destructor can be skipped on the way. Writes
// the decoded rows and columns to `rows` and where `region` lies in them to `within`.
bool decode_rows(const std::vector<uint8_t>& bytes, int reduction, cv::Rect region, cv::Mat& rows,
                 cv::Rect& within) {
  jpeg_decompress_struct info;
  JumpingErrorManager errors;
  info.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = jump_on_jpeg_error;
  errors.base.output_message = ignore_jpeg_message;
  if (setjmp(errors.jump) != 0) {
    jpeg_destroy_decompress(&info);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&info, TRUE);
  // CMYK and YCCK JPEGs need OpenCV's inverted-CMYK conversion.
  if (info.num_components != 1 && info.num_components != 3) {
    jpeg_destroy_decompress(&info);
    return false;
  }
  info.out_color_space = JCS_EXT_BGR;
  info.scale_num = 1;
  info.scale_denom = static_cast<unsigned int>(reduction);
  jpeg_start_decompress(&info);
  const int width = static_cast<int>(info.output_width);
  const int height = static_cast<int>(info.output_height);
  if (region.x < 0 || region.y < 0 || region.width <= 0 || region.height <= 0 ||
      region.x + region.width > width || region.y + region.height > height) {
    jpeg_destroy_decompress(&info);
    return false;
  }
  const int top = std::max(0, region.y - kRegionMargin);
  const int bottom = std::min(height, region.y + region.height + kRegionMargin);
  // jpeg_crop_scanline widens the columns to whole iMCUs and says where they start.
  JDIMENSION left = static_cast<JDIMENSION>(std::max(0, region.x - kRegionMargin));
  JDIMENSION columns =
      static_cast<JDIMENSION>(std::min(width, region.x + region.width + kRegionMargin)) - left;
  jpeg_crop_scanline(&info, &left, &columns);
  jpeg_skip_scanlines(&info, static_cast<JDIMENSION>(top));
  rows.create(bottom - top, static_cast<int>(columns), CV_8UC3);
  for (int row = 0; row < rows.rows; ++row) {
    JSAMPROW pointer = rows.ptr<JSAMPLE>(row);
    jpeg_read_scanlines(&info, &pointer, 1);
  }
  // The rows below the region are never decoded: abort rather than finish.
  jpeg_abort_decompress(&info);
  jpeg_destroy_decompress(&info);
  within = cv::Rect(region.x - static_cast<int>(left), region.y - top, region.width, region.height);
  return true;
}

}  // namespace

bool jpeg_region_decoding_available() {
  return true;
}

cv::Mat decode_jpeg_region(const std::vector<uint8_t>& bytes, int reduction, cv::Rect region) {
  cv::Mat rows;
  cv::Rect within;
  if (!decode_rows(bytes, reduction, region, rows, within)) return cv::Mat();
  return rows(within);
}

}  // namespace ctmq::data

#else  // no libjpeg-turbo headers: every JPEG goes through cv::imdecode

namespace ctmq::data {

bool jpeg_region_decoding_available() {
  return false;
}

cv::Mat decode_jpeg_region(const std::vector<uint8_t>&, int, cv::Rect) {
  return cv::Mat();
}

}  // namespace ctmq::data

#endif
