#!/usr/bin/env bash
# The Fashion-MNIST study of docs/results.md: direct binarization vs quantization steps vs CTMQ
# on the full 60,000 / 10,000 split with resnet20, equal epoch budgets after a shared
# full-precision pretraining, for each seed given.
#
#   scripts/reproduce_fmnist.sh OUT_DIR SEED [SEED ...]
#
# Per seed: OUT/seed<s>/pretrain, then OUT/seed<s>/{direct,steps,ctmq}, each started from the
# pretrained checkpoint (pretrain.checkpoint). Budget after pretraining: 28 epochs each
#   direct: W1A1 for 28 epochs;  steps: 4 -> 3 -> 2 -> 1 bits, 7 epochs each;
#   ctmq:   4 -> 3 -> 2 -> 1 (2 epochs each), then 2 cycles of fp + the ladder (2 epochs each).
# Interrupted runs resume when the script is run again.
set -euo pipefail
out=${1:?usage: reproduce_fmnist.sh OUT_DIR SEED...}; shift
CTMQ=${CTMQ:-build/ctmq}
spec=data/specs/fmnist-resnet20-w1a1.json
for seed in "$@"; do
  base="$out/seed$seed"
  "$CTMQ" pretrain --config "$spec" --set seed="$seed" --set output_dir="$base/pretrain" \
    --set name="pretrain-seed$seed"
  fp="$base/pretrain/checkpoints/pretrain.pt"
  common=(--config "$spec" --set seed="$seed" --set pretrain.checkpoint="$fp")
  "$CTMQ" train "${common[@]}" --set output_dir="$base/direct" --set name="direct-seed$seed" \
    --set steps.bits=[1] --set steps.epochs=28 --set cycles.count=0
  "$CTMQ" train "${common[@]}" --set output_dir="$base/steps" --set name="steps-seed$seed" \
    --set steps.bits=[4,3,2,1] --set steps.epochs=7 --set cycles.count=0
  "$CTMQ" train "${common[@]}" --set output_dir="$base/ctmq" --set name="ctmq-seed$seed" \
    --set steps.bits=[4,3,2,1] --set steps.epochs=2 --set cycles.count=2 \
    --set cycles.accurate_epochs=2
done
"$CTMQ" report --runs $(find "$out" -name manifest.json -not -path '*/pretrain/*' -exec dirname {} \; | sort)
