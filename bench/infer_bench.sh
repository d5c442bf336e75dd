#!/usr/bin/env bash
# Inference throughput of the XNOR engine against LibTorch float (`ctmq bench infer`): Bi-Real
# resnet18 at 224x224 with random binary weights, and a trained W1A1 resnet20 export on
# Fashion-MNIST's 28x28 shape, at batch 1 and 16, one thread and two. JSON lines out, also kept
# in docs/performance/infer-<commit>-<time>.jsonl (first line: the build), preceded by a line
# with the CPU model, its flags and the load average before each run.
#   bench/infer_bench.sh [BUILD_DIR] [RESNET20_EXPORT]
# Without RESNET20_EXPORT the resnet20 rows use a random W1A1 Bi-Real resnet20 instead.
set -euo pipefail
cd "$(dirname "$0")/.."  # BUILD_DIR is relative to the repository root
BUILD=${1:-build}
EXPORT=${2:-}
SECONDS_PER_ENGINE=${CTMQ_BENCH_SECONDS:-3}
. bench/raw_output.sh
raw=$(raw_output infer "$BUILD")
printf '{"cpu": "%s", "flags": "%s"}\n' "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)" \
  "$(sed -n 's/^flags\s*: //p' /proc/cpuinfo | head -1)" >> "$raw"
run() {
  printf '{"load_average": "%s", "args": "%s"}\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$*"
  "$BUILD/ctmq" --log-level warn bench infer "$@" --seconds "$SECONDS_PER_ENGINE" | tr -d '\n '
  echo
}
{
  for threads in 1 2; do
    for batch in 1 16; do
      run --random resnet18 --block bireal --batch "$batch" --threads "$threads"
      if [ -n "$EXPORT" ]; then
        run --exported "$EXPORT" --batch "$batch" --threads "$threads"
      else
        run --random resnet20 --block bireal --in-channels 1 --classes 10 --batch "$batch" \
          --threads "$threads"
      fi
    done
  done
} | tee -a "$raw"
echo "raw output: $raw" >&2
