#!/usr/bin/env bash
# Loader throughput, ctmq against torchvision's PIL ImageFolder, on one fake ImageNet tree
# (500x375 JPEGs, quality 90), the train transform (RandomResizedCrop(224) + flip + normalise).
# The tree (10 classes x 40 train images) is written on first use by the data tests' disabled
# benchmark entry, which calls make_fake_imagenet. JSON lines out, also kept in
# docs/performance/loader-<commit>-<time>.jsonl (first line: the build).
#   bench/loader_bench.sh [BUILD_DIR] [ROOT]
set -euo pipefail
cd "$(dirname "$0")/.."  # BUILD_DIR is relative to the repository root
BUILD=${1:-build}
ROOT=${2:-/tmp/ctmq-fake-imagenet}
bench/install_peers.sh
. bench/raw_output.sh
raw=$(raw_output loader "$BUILD")
if [ ! -d "$ROOT/train" ]; then
  CTMQ_BENCH_ROOT=$ROOT CTMQ_BENCH_MAKE=10,40 CTMQ_BENCH_THREADS=1 CTMQ_BENCH_IMAGES=10 \
    "$BUILD/tests/test_data" --gtest_also_run_disabled_tests \
    --gtest_filter='BenchLoader.DISABLED_Measure' > /dev/null
fi
{
  for threads in 1 2; do
    "$BUILD/ctmq" --log-level warn bench loader --config data/specs/imagenet-resnet18-w1a1.json \
      --set data.root="$ROOT" --threads "$threads" --images 1500 | tr -d '\n '
    echo
  done
  /usr/bin/python3 bench/imagefolder_pil.py "$ROOT/train" --images 1000
} | tee -a "$raw"
echo "raw output: $raw" >&2
