# Finding LibTorch the same way for Debian's packages (1.13 in bookworm, 2.6 in trixie, CPU or
# CUDA) and for the official LibTorch 2.x archives, and failing at configure time, with the
# reason, where a combination cannot link or would break at run time. See docs/cluster.md.

# CUDA archives: TorchConfig.cmake calls find_package(CUDAToolkit) and, when it finds no NVTX3
# headers of its own, links CUDA::nvToolsExt, which CUDA 12.9 removed (NVTX3 is header-only).
# The usual alias keeps such a LibTorch configurable on a new toolkit. A machine without a CUDA
# toolkit finds nothing here and is unaffected.
find_package(CUDAToolkit QUIET)
if(CUDAToolkit_FOUND AND NOT TARGET CUDA::nvToolsExt AND TARGET CUDA::nvtx3)
  message(STATUS "CUDA ${CUDAToolkit_VERSION} has no nvToolsExt: CUDA::nvToolsExt -> CUDA::nvtx3")
  add_library(CUDA::nvToolsExt INTERFACE IMPORTED)
  target_link_libraries(CUDA::nvToolsExt INTERFACE CUDA::nvtx3)
endif()

find_package(Torch REQUIRED)
message(STATUS "LibTorch ${Torch_VERSION} (${TORCH_INSTALL_PREFIX})")

# The pre-cxx11-ABI archives (libtorch-shared-with-deps-*.zip without "cxx11-abi") use the old
# std::string: OpenCV, spdlog, CLI11's and GTest's Debian packages use the new one, so the link
# would fail on every std::string in an API (or, worse, mix them). Stop here instead.
if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=0")
  message(FATAL_ERROR
    "LibTorch at ${TORCH_INSTALL_PREFIX} is built with the pre-C++11 ABI "
    "(TORCH_CXX_FLAGS: ${TORCH_CXX_FLAGS}), which cannot link with the system's OpenCV, spdlog "
    "and GTest. Download the cxx11-ABI archive instead (libtorch-cxx11-abi-shared-with-deps-*.zip "
    "from pytorch.org; the only kind from LibTorch 2.7 on).")
endif()

# c10d's ProcessGroupGloo.hpp includes <gloo/...>. Debian's libtorch-dev pulls in libgloo-dev;
# the official archives ship Gloo compiled into libtorch_cpu but not its headers.
find_path(CTMQ_GLOO_INCLUDE_DIR gloo/config.h HINTS ${TORCH_INCLUDE_DIRS})
if(NOT CTMQ_GLOO_INCLUDE_DIR)
  message(FATAL_ERROR
    "Gloo's headers (gloo/config.h) not found, needed for the Gloo process group. Debian: "
    "apt install libgloo-dev (libgloo-cuda-dev with libtorch-cuda-dev). The official LibTorch "
    "archives do not ship them: check out pytorch/pytorch's third_party/gloo at the commit of "
    "your LibTorch, configure it with CMake (it generates gloo/config.h) and pass "
    "-DCTMQ_GLOO_INCLUDE_DIR=<dir holding gloo/ and the generated config.h>.")
endif()

# NCCL: ProcessGroupNCCL::Options holds members under NCCL_HAS_* macros that torch/csrc/cuda/
# nccl.h derives from NCCL_MAJOR/NCCL_MINOR in the nccl.h ctmq compiles against. If that is
# another NCCL release than the one LibTorch was built with, the struct's layout differs
# between ctmq and libtorch_cuda: memory corruption, not an error. Check the versions match.
function(ctmq_check_nccl)
  find_path(CTMQ_NCCL_INCLUDE_DIR nccl.h
            HINTS ${TORCH_INCLUDE_DIRS} ${CUDAToolkit_INCLUDE_DIRS} ENV NCCL_ROOT ENV NCCL_HOME
            PATH_SUFFIXES include)
  if(NOT CTMQ_NCCL_INCLUDE_DIR)
    message(FATAL_ERROR "CTMQ_WITH_NCCL=ON but nccl.h was not found (Debian: apt install "
            "libnccl-dev; else -DCTMQ_NCCL_INCLUDE_DIR=<dir of nccl.h> or NCCL_ROOT)")
  endif()
  if(NOT TORCH_CUDA_LIBRARIES AND NOT TARGET torch_cuda)
    message(FATAL_ERROR "CTMQ_WITH_NCCL=ON but LibTorch at ${TORCH_INSTALL_PREFIX} has no CUDA")
  endif()
  file(STRINGS ${CTMQ_NCCL_INCLUDE_DIR}/nccl.h defines REGEX "#define NCCL_(MAJOR|MINOR|PATCH) ")
  string(REGEX REPLACE ".*NCCL_MAJOR ([0-9]+).*NCCL_MINOR ([0-9]+).*NCCL_PATCH ([0-9]+).*"
         "\\1.\\2.\\3" header_version "${defines}")
  # LibTorch records the NCCL it was built with only as NCCL's own banner string: inside
  # libtorch_cuda.so where NCCL is linked statically (official archives), inside the libnccl.so
  # it links where NCCL is shared (Debian, whose libnccl-dev matches its libnccl2 by packaging).
  set(built_version "")
  file(GLOB candidates ${TORCH_INSTALL_PREFIX}/lib/libtorch_cuda.so
       ${TORCH_INSTALL_PREFIX}/lib/libnccl.so.2)
  find_library(CTMQ_NCCL_LIBRARY NAMES nccl libnccl.so.2
               HINTS ${TORCH_INSTALL_PREFIX}/lib ENV NCCL_ROOT PATH_SUFFIXES lib lib64)
  if(CTMQ_NCCL_LIBRARY)
    list(APPEND candidates ${CTMQ_NCCL_LIBRARY})
  endif()
  foreach(library IN LISTS candidates)
    file(STRINGS ${library} banner REGEX "^NCCL version [0-9]+\\.[0-9]+\\.[0-9]+" LIMIT_COUNT 1)
    if(banner)
      string(REGEX REPLACE "^NCCL version ([0-9]+\\.[0-9]+\\.[0-9]+).*" "\\1" built_version
             "${banner}")
      set(built_from ${library})
      break()
    endif()
  endforeach()
  if(NOT built_version)
    message(WARNING "nccl.h is NCCL ${header_version}; the NCCL that LibTorch was built with "
            "could not be read from its libraries, so the match is unchecked: use the nccl.h "
            "of that release (torch.cuda.nccl.version() in the matching PyTorch says which)")
  else()
    string(REGEX MATCH "^[0-9]+\\.[0-9]+" header_minor ${header_version})
    string(REGEX MATCH "^[0-9]+\\.[0-9]+" built_minor ${built_version})
    if(NOT header_minor VERSION_EQUAL built_minor)
      message(FATAL_ERROR "nccl.h in ${CTMQ_NCCL_INCLUDE_DIR} is NCCL ${header_version}, but "
              "LibTorch uses NCCL ${built_version} (${built_from}): ProcessGroupNCCL::Options "
              "would be laid out differently in ctmq and in LibTorch. Point "
              "-DCTMQ_NCCL_INCLUDE_DIR at the nccl.h of NCCL ${built_minor}.")
    endif()
    message(STATUS "NCCL ${header_version} headers match LibTorch's NCCL ${built_version}")
  endif()
endfunction()
if(CTMQ_WITH_NCCL)
  ctmq_check_nccl()
endif()

# LibTorch's official builds from 2.4 on (wheels and archives) export their statically linked
# copy of libstdc++'s filesystem iterators (pytorch/pytorch#133437; made weak in 2.9, which does
# not change which copy the dynamic linker picks). An executable whose libstdc++.so.6 comes
# after libtorch in its needed-library list binds its own calls to that copy, compiled against
# other headers. Seen with the 2.11 cu130 wheel and GCC 13: every torch-linked test that cleans
# its temporary folder (std::filesystem::recursive_directory_iterator) crashed, the non-torch
# tests doing the same did not. Naming libstdc++ before everything else puts it first.
function(ctmq_libstdcxx_first target)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(${target} BEFORE PRIVATE
                        "SHELL:-Wl,--push-state,--no-as-needed -lstdc++ -Wl,--pop-state")
  endif()
endfunction()

# A toolchain that links libstdc++ statically (the /opt/gcc g++ 13.3 of the GPU machine, say)
# puts no libstdc++.so.6 among an executable's needed libraries, so naming it first above
# cannot act. Worse, the linker then binds each std::filesystem call to the first definition it
# meets, LibTorch's exported copy, before it reaches libstdc++.a at the end of the line: seen
# there, std::filesystem::remove_all jumped to address 0 inside the 2.11 wheel's libtorch.so.
# With such a toolchain libstdc++.a is named right after ctmq's own libraries (ctmq_core) and
# before LibTorch's, so ctmq's calls take the toolchain's copy. CTMQ_STATIC_LIBSTDCXX (the
# archive, or OFF) overrides the probe.
function(ctmq_probe_static_libstdcxx)
  if(DEFINED CTMQ_STATIC_LIBSTDCXX OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU" OR
     NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
    return()
  endif()
  set(dir ${CMAKE_BINARY_DIR}/libstdcxx-probe)
  file(WRITE ${dir}/probe.cpp "#include <iostream>\nint main() { std::cout << 1; }\n")
  try_compile(built ${dir}/build SOURCES ${dir}/probe.cpp COPY_FILE ${dir}/probe)
  set(archive OFF)
  if(built)
    file(STRINGS ${dir}/probe shared REGEX "libstdc\\+\\+\\.so" LIMIT_COUNT 1)
    if(NOT shared)
      execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++.a
                      OUTPUT_VARIABLE archive OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(IS_ABSOLUTE "${archive}" AND EXISTS "${archive}")
        string(CONCAT remedy "${archive} is named before LibTorch so that ctmq's "
               "std::filesystem calls take the toolchain's copy")
      else()
        set(archive OFF)
        string(CONCAT remedy "its libstdc++.a was not found, so std::filesystem calls may "
               "bind to LibTorch's copies")
      endif()
      message(WARNING "${CMAKE_CXX_COMPILER} links libstdc++ statically, while LibTorch, OpenCV "
              "and spdlog use the shared one: two copies in one process. ${remedy}. Prefer a "
              "compiler that links libstdc++ shared (-DCMAKE_CXX_COMPILER=...; on the GPU "
              "machine of docs/cluster.md, /usr/bin/g++).")
    endif()
  endif()
  set(CTMQ_STATIC_LIBSTDCXX ${archive} CACHE FILEPATH
      "libstdc++.a to link before LibTorch (a toolchain that links libstdc++ statically), or OFF")
endfunction()
ctmq_probe_static_libstdcxx()
