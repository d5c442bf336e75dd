#!/usr/bin/env bash
# The Fashion-MNIST study of docs/results.md: direct binarization vs quantization steps vs CTMQ
# on the full 60,000 / 10,000 split with resnet20 (Bi-Real blocks, DoReFa weights, PACT
# activations, first and last layer in float), after a full-precision pretraining shared by the
# three variants of a seed. Every variant spends the same 16 epochs after pretraining:
#   direct:       pretrained -> W1A1 for 16 epochs (and direct-short: W1A1 for 1 epoch, the
#                 epochs CTMQ gives its last stage)
#   steps:        pretrained -> W4A4 -> W3A3 -> W2A2 -> W1A1, 4 epochs each
#   ctmq:         pretrained -> 4 -> 3 -> 2 -> 1 (1 epoch each), then 2 cycles of
#                 fp (2 epochs) -> 4 -> 3 -> 2 -> 1 (1 epoch each)
# About 55 minutes per seed on 2 cores. Interrupted runs resume when the script is run again.
#
#   scripts/reproduce_fmnist.sh OUT_DIR SEED [SEED ...]
#   VARIANTS="ctmq steps" scripts/reproduce_fmnist.sh OUT_DIR SEED...   # only these, in this order
#   scripts/results_fmnist.py OUT_DIR docs/results     # table, plot and copies of the run logs
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: reproduce_fmnist.sh OUT_DIR SEED...}; shift
CTMQ=${CTMQ:-build/ctmq}
threads=${CTMQ_THREADS:-2}
spec=data/specs/fmnist-resnet20-w1a1.json
budget=16
for seed in "$@"; do
  base="$out/seed$seed"
  run() {  # run NAME SUBCOMMAND --set ...: one variant, timed, into $base/NAME
    local name=$1 command=$2; shift 2
    local start=$SECONDS
    "$CTMQ" --threads "$threads" "$command" --config "$spec" --set seed="$seed" \
      --set output_dir="$base/$name" --set name="$name-seed$seed" "$@"
    echo "{\"variant\": \"$name\", \"seed\": $seed, \"wall_seconds\": $((SECONDS - start))}" \
      > "$base/$name/wall.json"
    "$CTMQ" report --run "$base/$name" > /dev/null
  }
  [ -f "$base/pretrain/wall.json" ] || run pretrain pretrain --set pretrain.epochs=4
  from=(--set pretrain.checkpoint="$base/pretrain/checkpoints/pretrain.pt" --set cycles.count=0)
  for variant in ${VARIANTS:-direct steps ctmq direct-short}; do
    [ -f "$base/$variant/wall.json" ] && continue
    case $variant in
      direct) run direct train "${from[@]}" --set steps.bits=[1] --set steps.epochs=$budget ;;
      steps) run steps train "${from[@]}" --set steps.bits=[4,3,2,1] --set steps.epochs=4 ;;
      ctmq) run ctmq train "${from[@]}" --set steps.bits=[4,3,2,1] --set steps.epochs=1 \
              --set cycles.count=2 --set cycles.accurate_epochs=2 ;;
      direct-short) run direct-short train "${from[@]}" --set steps.bits=[1] --set steps.epochs=1 ;;
    esac
  done
done
