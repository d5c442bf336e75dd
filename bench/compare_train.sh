#!/usr/bin/env bash
# Side-by-side training throughput: `ctmq bench train` against bench/train_pytorch.py, at full
# precision, W4A4 and W1A1, interleaved so that both see the same machine load. JSON lines out,
# also kept in docs/performance/compare_train-<commit>-<time>.jsonl (first line: the build).
#   bench/compare_train.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-2}
bench/install_peers.sh
. bench/raw_output.sh
raw=$(raw_output compare_train "$build")
for round in $(seq "$rounds"); do
  for bits in 32 4 1; do
    "$build/ctmq" --threads 2 --log-level warn bench train --bits "$bits" --steps 30 \
      --set data.train_limit=0 --set data.batch_size=128 --set data.augment=true \
      | tr -d '\n '; echo
    /usr/bin/python3 bench/train_pytorch.py --bits "$bits" --steps 30 --threads 2
  done
done | tee -a "$raw"
echo "raw output: $raw" >&2
