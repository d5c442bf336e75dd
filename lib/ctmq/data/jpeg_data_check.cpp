#include "ctmq/data/jpeg_data_check.h"

#ifdef CTMQ_HAVE_LIBJPEG_TURBO

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t declared first

#include <jpeglib.h>
// jerror.h's message codes; after jpeglib.h, which it needs.
#include <jerror.h>

namespace ctmq::data {
namespace {

struct WarningCollector {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  int corrupt_warnings = 0;
  char first[JMSG_LENGTH_MAX] = {};
};

[[noreturn]] void jump_on_jpeg_error(j_common_ptr info) {
  std::longjmp(reinterpret_cast<WarningCollector*>(info->err)->jump, 1);
}

// The warnings that mean damaged entropy-coded data. The others (an unknown JFIF revision, an
// unknown Adobe colour transform, a bad ICC profile) describe files that still decode right.
bool is_corrupt_data_warning(int code) {
  switch (code) {
    case JWRN_ARITH_BAD_CODE:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_EXTRANEOUS_DATA:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_JPEG_EOF:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
      return true;
    default:
      return false;
  }
}

// libjpeg calls emit_message with level -1 for a warning and >= 0 for trace lines; the default
// one prints the first warning to stderr. This one keeps it instead, and prints nothing.
void collect_jpeg_message(j_common_ptr info, int level) {
  auto* collector = reinterpret_cast<WarningCollector*>(info->err);
  if (level >= 0 || !is_corrupt_data_warning(info->err->msg_code)) return;
  if (collector->corrupt_warnings++ == 0) info->err->format_message(info, collector->first);
}

// Every libjpeg call, in a frame that owns no object with a destructor (a libjpeg error
// longjmps back to the setjmp here). jpeg_read_coefficients decodes all the entropy-coded data
// without the inverse DCT; jpeg_finish_decompress reads on to the EOI marker.
bool read_all_coefficients(const std::vector<uint8_t>& bytes, WarningCollector& collector) {
  jpeg_decompress_struct info;
  info.err = jpeg_std_error(&collector.base);
  collector.base.error_exit = jump_on_jpeg_error;
  collector.base.emit_message = collect_jpeg_message;
  if (setjmp(collector.jump) != 0) {
    jpeg_destroy_decompress(&info);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&info, TRUE);
  jpeg_read_coefficients(&info);
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return true;
}

}  // namespace

std::string jpeg_data_problem(const std::vector<uint8_t>& bytes) {
  WarningCollector collector;
  // A file libjpeg gives up on is the caller's decode's to report.
  if (!read_all_coefficients(bytes, collector) || collector.corrupt_warnings == 0) return "";
  std::string reason = std::string("libjpeg: ") + collector.first;
  if (collector.corrupt_warnings > 1) {
    reason += " (" + std::to_string(collector.corrupt_warnings) + " warnings)";
  }
  return reason;
}

}  // namespace ctmq::data

#else  // no libjpeg-turbo headers: cv::imdecode's libjpeg prints its warnings to stderr

namespace ctmq::data {

std::string jpeg_data_problem(const std::vector<uint8_t>&) {
  return "";
}

}  // namespace ctmq::data

#endif
