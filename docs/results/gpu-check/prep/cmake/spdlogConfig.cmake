get_filename_component(_p "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(NOT TARGET spdlog::spdlog)
  add_library(fmt::fmt SHARED IMPORTED)
  set_target_properties(fmt::fmt PROPERTIES IMPORTED_LOCATION ${_p}/lib/libfmt.so.9
    INTERFACE_INCLUDE_DIRECTORIES ${_p}/include INTERFACE_COMPILE_DEFINITIONS FMT_SHARED)
  add_library(spdlog::spdlog SHARED IMPORTED)
  set_target_properties(spdlog::spdlog PROPERTIES IMPORTED_LOCATION ${_p}/lib/libspdlog.so.1.10
    INTERFACE_INCLUDE_DIRECTORIES ${_p}/include
    INTERFACE_COMPILE_DEFINITIONS "SPDLOG_SHARED_LIB;SPDLOG_COMPILED_LIB;SPDLOG_FMT_EXTERNAL"
    INTERFACE_LINK_LIBRARIES fmt::fmt)
endif()
set(spdlog_FOUND TRUE)
