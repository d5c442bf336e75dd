# Bookworm's OpenCV 4.6 libraries, carried (codec libraries beyond PNG/JPEG/WebP are stubs whose functions return 0).
get_filename_component(_p "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(OpenCV_VERSION 4.6.0)
set(OpenCV_INCLUDE_DIRS ${_p}/include/opencv4)
foreach(m core imgproc imgcodecs)
  if(NOT TARGET opencv_${m})
    add_library(opencv_${m} SHARED IMPORTED)
    set_target_properties(opencv_${m} PROPERTIES IMPORTED_LOCATION ${_p}/lib/libopencv_${m}.so.406
      INTERFACE_INCLUDE_DIRECTORIES ${_p}/include/opencv4)
  endif()
endforeach()
set(OpenCV_LIBS opencv_core opencv_imgproc opencv_imgcodecs)
set(OpenCV_FOUND TRUE)
