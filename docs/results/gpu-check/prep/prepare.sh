#!/usr/bin/env bash
# Usage: prepare.sh [DEST] (default ./.gpu). Builds DEST: a prefix of Debian bookworm's OpenCV,
# spdlog, fmt, CLI11, nlohmann-json, libjpeg and zlib (with stubs, whose functions return 0, for
# the OpenCV codec libraries ctmq never calls), Gloo headers from the gloo mirror, and
# Fashion-MNIST, so that ctmq builds on a GPU machine that has only PyTorch's wheel, CMake, ninja
# and g++. Workplace scaffolding for docs/results/gpu-check, not part of ctmq.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dst=$(realpath -m "${1:-.gpu}")  # the folder carried to the GPU machine
rm -rf $dst; mkdir -p $dst/deps/{include,lib,cmake} $dst/data
L=/usr/lib/x86_64-linux-gnu
cp -a /usr/include/opencv4 /usr/include/CLI /usr/include/nlohmann /usr/include/spdlog /usr/include/fmt \
      /usr/include/zlib.h /usr/include/zconf.h $dst/deps/include/
real=(libopencv_core.so.406 libopencv_imgproc.so.406 libopencv_imgcodecs.so.406 libtbb.so.12 libjpeg.so.62 libpng16.so.16 libwebp.so.7 libspdlog.so.1.10 libfmt.so.9)
for r in "${real[@]}"; do cp -L $L/$r $dst/deps/lib/; done
for m in core imgproc imgcodecs; do ln -s libopencv_$m.so.406 $dst/deps/lib/libopencv_$m.so; done
cp /usr/include/jpeglib.h /usr/include/jmorecfg.h /usr/include/jerror.h /usr/include/x86_64-linux-gnu/jconfig.h $dst/deps/include/
ln -s libjpeg.so.62 $dst/deps/lib/libjpeg.so
ln -s libspdlog.so.1.10 $dst/deps/lib/libspdlog.so; ln -s libfmt.so.9 $dst/deps/lib/libfmt.so
cp $L/libz.a $dst/deps/lib/
stubs=(libGLX.so.0 liblapack.so.3 libblas.so.3 libgdcmMSFF.so.3.0 libtiff.so.6 libopenjp2.so.7 libOpenEXR-3_1.so.30 libgdal.so.32 libgdcmDSED.so.3.0)
python3 "$here/stubs.py" $dst/deps/lib $(printf "$L/%s " "${real[@]}") -- $(printf "$L/%s " "${stubs[@]}")
# Gloo headers: gloo's current master (the wheel pins a recent commit), config.h written by hand.
mkdir -p $dst/deps/include-gloo
git --git-dir=GLOO_GIT_DIR archive HEAD gloo | tar -x -C $dst/deps/include-gloo --wildcards 'gloo/*.h' 'gloo/*/*.h' 'gloo/*/*/*.h' 'gloo/config.h.in' 2>/dev/null || true
sed -E 's/#cmakedefine01 ([A-Z_0-9]+)/#define \1 0/; s/@GLOO_VERSION_MAJOR@/0/; s/@GLOO_VERSION_MINOR@/5/; s/@GLOO_VERSION_PATCH@/0/' \
  $dst/deps/include-gloo/gloo/config.h.in > $dst/deps/include-gloo/gloo/config.h
sed -i 's/#define GLOO_USE_CUDA 0/#define GLOO_USE_CUDA 1/; s/#define GLOO_HAVE_TRANSPORT_TCP 0/#define GLOO_HAVE_TRANSPORT_TCP 1/' $dst/deps/include-gloo/gloo/config.h
cp "$here"/cmake/*.cmake $dst/deps/cmake/
cp /usr/share/datasets/fashion-mnist/* $dst/data/ 2>/dev/null || cp -r /usr/share/datasets/fashion-mnist/. $dst/data/
du -sh $dst $dst/*/ 
