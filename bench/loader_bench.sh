#!/bin/sh
# Loader throughput, ctmq against torchvision's PIL ImageFolder, on one fake ImageNet tree
# (500x375 JPEGs, quality 90). Until `ctmq bench loader` is wired, ctmq's side runs through
# the disabled benchmark test of test_data.
#   bench/loader_bench.sh [BUILD_DIR] [ROOT]
set -eu
BUILD=${1:-build}
ROOT=${2:-/tmp/ctmq-fake-imagenet}
MAKE=""
[ -d "$ROOT/train" ] || MAKE="10,40"  # 10 classes x 40 train images (+ 1 val each)
CTMQ_BENCH_ROOT=$ROOT CTMQ_BENCH_MAKE=$MAKE CTMQ_BENCH_THREADS=1,2 CTMQ_BENCH_IMAGES=400 \
  "$BUILD/tests/test_data" --gtest_also_run_disabled_tests \
  --gtest_filter='BenchLoader.DISABLED_Measure' | grep images_per_s
/usr/bin/python3 "$(dirname "$0")/imagefolder_pil.py" "$ROOT/train" --images 400
